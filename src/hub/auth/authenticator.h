// Resolves `Authorization: Bearer <secret>` to a Principal.
//
// Lookups go to the Store by the secret's SHA-256 and are cached briefly in
// memory, both hits and misses, so a busy client costs one hash and one map
// lookup. Invalidate() (called when this hub creates or revokes a token)
// drops the cache at once; revocations made through another hub sharing the
// store take effect within the cache TTL.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/time_source.h"
#include "hub/auth/principal.h"
#include "store/store.h"

namespace causeway::hub::auth {

class Authenticator {
 public:
  Authenticator(store::Store* store, const TimeSource* time,
                std::chrono::milliseconds ttl = std::chrono::seconds(2));

  // UNAUTHENTICATED when the header is missing, malformed or names no token;
  // UNAVAILABLE when the store cannot be asked.
  absl::StatusOr<Principal> Authenticate(std::string_view authorization_header);

  void Invalidate();

 private:
  struct Entry {
    std::optional<Principal> principal;  // nullopt: no such token
    std::chrono::steady_clock::time_point expires;
  };

  store::Store* const store_;
  const TimeSource* const time_;
  const std::chrono::milliseconds ttl_;
  std::mutex mu_;
  std::map<std::string, Entry> cache_;  // by secret hash
};

}  // namespace causeway::hub::auth
