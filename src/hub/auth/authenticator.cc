#include "hub/auth/authenticator.h"

#include "absl/strings/ascii.h"
#include "common/strings.h"
#include "hub/auth/secrets.h"

namespace causeway::hub::auth {

namespace {
// Bounds memory against clients spraying random tokens.
constexpr size_t kMaxCacheEntries = 10000;
}  // namespace

Authenticator::Authenticator(store::Store* store, const TimeSource* time,
                             std::chrono::milliseconds ttl)
    : store_(store), time_(time), ttl_(ttl) {}

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
  std::string hash = Sha256Hex(secret);
  auto now = time_->Monotonic();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(hash);
    if (it != cache_.end() && it->second.expires > now) {
      if (!it->second.principal) return absl::UnauthenticatedError("unknown or revoked token");
      return *it->second.principal;
    }
  }
  auto record = store_->FindTokenBySecretHash(hash);
  if (!record.ok()) {
    return absl::UnavailableError(StrCat("cannot check the token: ", record.status().message()));
  }
  Entry entry;
  entry.expires = now + ttl_;
  if (record->has_value()) {
    const store::TokenRecord& r = **record;
    Principal p;
    p.name = r.name;
    p.zone = r.zone;
    // An unknown stored role is treated as the weakest, never as admin.
    p.role = ParseRole(r.role).value_or(Role::kViewer);
    entry.principal = p;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cache_.size() >= kMaxCacheEntries) cache_.clear();
    cache_[hash] = entry;
  }
  if (!entry.principal) return absl::UnauthenticatedError("unknown or revoked token");
  return *entry.principal;
}

void Authenticator::Invalidate() {
  std::lock_guard<std::mutex> lock(mu_);
  cache_.clear();
}

}  // namespace causeway::hub::auth
