#include "hub/auth/authenticator.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "common/strings.h"
#include "hub/auth/secrets.h"

namespace causeway::hub::auth {

namespace {
// Bounds memory against clients spraying random tokens.
constexpr size_t kMaxCacheEntries = 10000;
// How stale a cached entry StillValid accepts: half the 1 s promise, the
// other half is the streams' re-check period.
constexpr std::chrono::milliseconds kStreamRecheckAge(500);
}  // namespace

Authenticator::Authenticator(store::Store* store, const TimeSource* time,
                             std::chrono::milliseconds ttl)
    : store_(store), time_(time), ttl_(ttl), last_used_(store, time) {}

Authenticator::~Authenticator() = default;

absl::StatusOr<std::optional<Principal>> Authenticator::Lookup(const std::string& hash,
                                                               std::chrono::milliseconds max_age) {
  auto now = time_->Monotonic();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(hash);
    if (it != cache_.end() && now - it->second.loaded < max_age) return it->second.principal;
  }
  auto record = store_->FindTokenBySecretHash(hash);
  if (!record.ok()) {
    return absl::UnavailableError(StrCat("cannot check the token: ", record.status().message()));
  }
  Entry entry;
  entry.loaded = now;
  if (record->has_value()) {
    const store::TokenRecord& r = **record;
    Principal p;
    p.name = r.name;
    p.zone = r.zone;
    // An unknown stored role is treated as the weakest, never as admin.
    p.role = ParseRole(r.role).value_or(Role::kViewer);
    p.expires_at_ms = r.expires_at_ms;
    p.token_id = hash;
    entry.principal = p;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cache_.size() >= kMaxCacheEntries) cache_.clear();
    cache_[hash] = entry;
  }
  return entry.principal;
}

absl::Status Authenticator::CheckExpiry(const Principal& p) const {
  if (p.expires_at_ms == 0) return absl::OkStatus();
  auto expires = std::chrono::system_clock::time_point(std::chrono::milliseconds(p.expires_at_ms));
  if (time_->Now() < expires) return absl::OkStatus();
  return absl::UnauthenticatedError(
      StrCat("token \"", p.name, "\" expired at ", FormatRfc3339(expires)));
}

absl::StatusOr<Principal> Authenticator::Authenticate(std::string_view header) {
  if (header.empty()) {
    return absl::UnauthenticatedError("missing Authorization: Bearer <token> header");
  }
  constexpr std::string_view kBearer = "bearer ";
  if (header.size() <= kBearer.size() ||
      absl::AsciiStrToLower(ToAbsl(header.substr(0, kBearer.size()))) != kBearer) {
    return absl::UnauthenticatedError("the Authorization header must be \"Bearer <token>\"");
  }
  std::string_view secret = header.substr(kBearer.size());
  while (!secret.empty() && secret.front() == ' ') secret.remove_prefix(1);
  while (!secret.empty() && secret.back() == ' ') secret.remove_suffix(1);
  auto found = Lookup(Sha256Hex(secret), ttl_);
  if (!found.ok()) return found.status();
  if (!found->has_value()) return absl::UnauthenticatedError("unknown or revoked token");
  const Principal& p = **found;
  if (absl::Status expiry = CheckExpiry(p); !expiry.ok()) return expiry;
  last_used_.Note(p.name);
  return p;
}

absl::Status Authenticator::StillValid(const Principal& principal) {
  if (absl::Status expiry = CheckExpiry(principal); !expiry.ok()) return expiry;
  // A principal not made by Authenticate (tests, internal callers) has
  // nothing to re-check.
  if (principal.token_id.empty()) return absl::OkStatus();
  auto found = Lookup(principal.token_id, std::min(ttl_, kStreamRecheckAge));
  if (!found.ok()) return found.status();
  if (!found->has_value()) {
    return absl::UnauthenticatedError(StrCat("token \"", principal.name, "\" was revoked"));
  }
  // The stored expiry is the truth (the stream's copy is from when it opened).
  if (absl::Status expiry = CheckExpiry(**found); !expiry.ok()) return expiry;
  last_used_.Note(principal.name);
  return absl::OkStatus();
}

void Authenticator::Invalidate() {
  std::lock_guard<std::mutex> lock(mu_);
  cache_.clear();
}

}  // namespace causeway::hub::auth
