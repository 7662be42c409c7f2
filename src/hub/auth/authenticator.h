// Resolves `Authorization: Bearer <secret>` to a Principal.
//
// Lookups are by the secret's SHA-256 in an in-memory copy of the whole
// token table, read from the Store in one query when it is older than the
// caller accepts (at most one reader at a time; the others answer from the
// copy they have). A token nobody has therefore costs one hash and one map
// lookup, however many different ones a client sprays: no store query per
// unknown secret, no cache that grows with them. Invalidate() (called when
// this hub creates or revokes a token) makes the next lookup read the table
// again; revocations made through another hub sharing the store take effect
// within the table's age limit.
//
// Expiry (a token created with a ttl) is checked on every call, cached or
// not. When a token was last used is noted here and written to the store in
// the background (LastUsedRecorder), at most once a minute per token.
//
// Long streams (REST watch, xDS) authenticate once when they open and then
// call StillValid(principal) periodically (the watch stream every 250 ms):
// it answers from the cache when the entry is younger than half a second and
// asks the store otherwise, so a stream ends within a second of the token's
// revocation or expiry, and a thousand streams of one token cost one store
// lookup per half second.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/time_source.h"
#include "hub/auth/last_used.h"
#include "hub/auth/principal.h"
#include "store/store.h"

namespace causeway::hub::auth {

class Authenticator {
 public:
  Authenticator(store::Store* store, const TimeSource* time,
                std::chrono::milliseconds ttl = std::chrono::seconds(2));
  // Writes the last-used times still pending.
  ~Authenticator();

  // UNAUTHENTICATED when the header is missing, malformed, names no token or
  // an expired one; UNAVAILABLE when the store cannot be asked.
  absl::StatusOr<Principal> Authenticate(std::string_view authorization_header);

  // For a stream opened with `principal` (from Authenticate): OK while its
  // token exists and has not expired; UNAUTHENTICATED (saying "revoked" or
  // "expired") once not; UNAVAILABLE when the store cannot be asked (callers
  // may keep the stream up then). Thread-safe; a map lookup when cached.
  absl::Status StillValid(const Principal& principal);

  void Invalidate();

  // How many times the token table was read from the store (for tests).
  int table_reads() const;

 private:
  // The token with this secret hash, from the table if it is younger than
  // `max_age`, else after reading the table again.
  absl::StatusOr<std::optional<Principal>> Lookup(const std::string& hash,
                                                  std::chrono::milliseconds max_age);
  // Reads every token from the store into a new table.
  absl::Status Reload();
  absl::Status CheckExpiry(const Principal& p) const;

  store::Store* const store_;
  const TimeSource* const time_;
  const std::chrono::milliseconds ttl_;
  // The table, when its read began, and which Invalidate() it followed.
  mutable std::mutex mu_;
  std::map<std::string, Principal> tokens_;  // by secret hash
  std::chrono::steady_clock::time_point loaded_;
  bool have_table_ = false;  // a table was read at least once
  uint64_t generation_ = 0;  // bumped by Invalidate()
  uint64_t table_generation_ = 0;
  int table_reads_ = 0;
  std::mutex reload_mu_;  // one reader of the store at a time
  LastUsedRecorder last_used_;
};

}  // namespace causeway::hub::auth
