#include "hub/auth/authenticator.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "common/strings.h"
#include "hub/auth/secrets.h"

namespace causeway::hub::auth {

namespace {
// How stale a table StillValid accepts: half the 1 s promise, the other
// half is the streams' re-check period.
constexpr std::chrono::milliseconds kStreamRecheckAge(500);
}  // namespace

Authenticator::Authenticator(store::Store* store, const TimeSource* time,
                             std::chrono::milliseconds ttl)
    : store_(store), time_(time), ttl_(ttl), last_used_(store, time) {}

Authenticator::~Authenticator() = default;

int Authenticator::table_reads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return table_reads_;
}

absl::Status Authenticator::Reload() {
  const auto started = time_->Monotonic();
  uint64_t generation = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    generation = generation_;
  }
  auto records = store_->ListTokens();
  if (!records.ok()) {
    return absl::UnavailableError(StrCat("cannot check the token: ", records.status().message()));
  }
  std::map<std::string, Principal> tokens;
  for (const store::TokenRecord& r : *records) {
    Principal p;
    p.name = r.name;
    p.zone = r.zone;
    // An unknown stored role is treated as the weakest, never as admin.
    p.role = ParseRole(r.role).value_or(Role::kViewer);
    p.expires_at_ms = r.expires_at_ms;
    p.token_id = r.secret_sha256_hex;
    tokens.emplace(r.secret_sha256_hex, std::move(p));
  }
  std::lock_guard<std::mutex> lock(mu_);
  tokens_ = std::move(tokens);
  // Stamped with the time the read began: a revocation committed while it
  // ran may be missing, so the table is no fresher than that.
  loaded_ = started;
  table_generation_ = generation;
  have_table_ = true;
  ++table_reads_;
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Principal>> Authenticator::Lookup(const std::string& hash,
                                                               std::chrono::milliseconds max_age) {
  // Holding mu_: the table has every token created or revoked through this
  // hub (it was read after the last Invalidate()) ...
  auto current = [&] { return have_table_ && table_generation_ == generation_; };
  // ... and is young enough for this caller.
  auto fresh_enough = [&] { return current() && time_->Monotonic() - loaded_ < max_age; };
  bool answer_from_table = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    answer_from_table = fresh_enough();
  }
  if (!answer_from_table) {
    std::unique_lock<std::mutex> reload(reload_mu_, std::try_to_lock);
    if (!reload.owns_lock()) {
      // Another caller is reading the table: answer from the one there is
      // if only its age is against it; wait for the read otherwise.
      std::lock_guard<std::mutex> lock(mu_);
      answer_from_table = current();
    }
    if (!answer_from_table) {
      if (!reload.owns_lock()) reload.lock();
      bool still_stale = false;
      {
        std::lock_guard<std::mutex> lock(mu_);
        still_stale = !fresh_enough();
      }
      if (still_stale) {
        absl::Status read = Reload();
        std::lock_guard<std::mutex> lock(mu_);
        // A store that cannot be asked: the last table still answers.
        if (!read.ok() && !have_table_) return read;
      }
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tokens_.find(hash);
  if (it == tokens_.end()) return std::optional<Principal>();
  return std::optional<Principal>(it->second);
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
  ++generation_;
}

}  // namespace causeway::hub::auth
