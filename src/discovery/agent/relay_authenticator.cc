#include "discovery/agent/relay_authenticator.h"

#include "common/status.h"
#include "common/strings.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace causeway::discovery {
namespace {

// After a failed hub request, others are not tried for this long: a hub
// that is down costs each new stream an immediate UNAVAILABLE rather than
// a connect timeout.
constexpr std::chrono::seconds kHubRetryGap{1};

absl::StatusOr<IntrospectAnswer> ParseIntrospection(const std::string& body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("active") || !j["active"].is_boolean()) {
    return absl::UnavailableError("token introspection: the hub's answer has no \"active\"");
  }
  if (!j["active"].get<bool>()) return IntrospectAnswer();
  IntrospectedToken token;
  if (!j.value("name", nlohmann::json()).is_string() ||
      !j.value("role", nlohmann::json()).is_string() ||
      !j.value("zone", nlohmann::json()).is_string()) {
    return absl::UnavailableError(
        "token introspection: the hub's answer lacks the token's name, role or zone");
  }
  token.identity = {j["name"].get<std::string>(), j["role"].get<std::string>(),
                    j["zone"].get<std::string>()};
  if (j.contains("exp") && j["exp"].is_number_integer()) {
    token.expires_at_ms = j["exp"].get<int64_t>() * 1000;
  }
  return IntrospectAnswer(std::move(token));
}

}  // namespace

absl::StatusOr<IntrospectAnswer> IntrospectOnHub(const ProxyReporter::Sender& sender,
                                                 const std::string& secret) {
  const std::string body = nlohmann::json{{"token", secret}}.dump();
  auto response = sender("POST", "/v1/tokens/introspect", body);
  if (!response.ok()) {
    return absl::UnavailableError(ToAbsl(StrCat("token introspection: the hub cannot be reached: ",
                                                std::string(response.status().message()))));
  }
  if (response->status != 200) {
    // 401/403: the agent's own token is refused; 5xx: the hub is unwell.
    // Either way nothing is known about the proxy's token.
    return absl::UnavailableError(ToAbsl(StrCat("token introspection: the hub answered HTTP ",
                                                response->status, ": ", response->body)));
  }
  return ParseIntrospection(response->body);
}

RelayAuthenticator::RelayAuthenticator(Introspect introspect, const TimeSource* time,
                                       Options options)
    : introspect_(std::move(introspect)), time_(time), options_(options) {}

bool RelayAuthenticator::Fresh(const Entry& entry) const {
  const auto ttl = entry.answer ? options_.positive_ttl : options_.negative_ttl;
  return time_->Monotonic() - entry.fetched < ttl;
}

void RelayAuthenticator::Store(const std::string& secret, IntrospectAnswer answer) {
  absl::MutexLock lock(&mu_);
  if (cache_.size() >= options_.max_entries) {
    std::erase_if(cache_, [&](const auto& kv) { return !Fresh(kv.second); });
  }
  if (cache_.size() >= options_.max_entries) {
    std::erase_if(cache_, [](const auto& kv) { return !kv.second.answer.has_value(); });
  }
  if (cache_.size() >= options_.max_entries) cache_.clear();
  cache_[secret] = Entry{std::move(answer), time_->Monotonic()};
}

absl::StatusOr<IntrospectAnswer> RelayAuthenticator::Lookup(const std::string& secret) {
  auto cached = [&]() -> std::optional<IntrospectAnswer> {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(secret);
    if (it != cache_.end() && Fresh(it->second)) return it->second.answer;
    return std::nullopt;
  };
  if (auto answer = cached()) return *answer;
  absl::MutexLock ask(&ask_mu_);
  if (auto answer = cached()) return *answer;  // asked while this call waited
  const auto now = time_->Monotonic();
  if (last_failure_ && now - *last_failure_ < kHubRetryGap) {
    return absl::UnavailableError(
        ToAbsl(StrCat("the hub cannot check the token now (", last_failure_message_, ")")));
  }
  absl::StatusOr<IntrospectAnswer> answer = introspect_(secret);
  if (!answer.ok()) {
    if (!last_failure_)
      spdlog::warn("xds: relay cannot check tokens: {}", std::string(answer.status().message()));
    last_failure_ = now;
    last_failure_message_ = std::string(answer.status().message());
    return absl::UnavailableError(
        ToAbsl(StrCat("the hub cannot check the token now (", last_failure_message_, ")")));
  }
  if (last_failure_) spdlog::info("xds: relay checks tokens on the hub again");
  last_failure_.reset();
  Store(secret, *answer);
  return answer;
}

absl::StatusOr<xds::StreamIdentity> RelayAuthenticator::Verdict(
    const IntrospectAnswer& answer) const {
  if (!answer) {
    return absl::UnauthenticatedError(
        "the hub knows no valid token of this agent's zone with this secret (unknown, revoked, "
        "expired, or of another zone)");
  }
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(time_->Now().time_since_epoch())
          .count();
  if (answer->expires_at_ms != 0 && answer->expires_at_ms <= now_ms) {
    return absl::UnauthenticatedError(
        ToAbsl(StrCat("token \"", answer->identity.token, "\" has expired")));
  }
  return answer->identity;
}

absl::StatusOr<xds::StreamIdentity> RelayAuthenticator::Authenticate(const std::string& secret) {
  CW_ASSIGN_OR_RETURN(IntrospectAnswer answer, Lookup(secret));
  return Verdict(answer);
}

absl::Status RelayAuthenticator::Recheck(const std::string& secret, const xds::StreamIdentity&) {
  CW_ASSIGN_OR_RETURN(IntrospectAnswer answer, Lookup(secret));
  return Verdict(answer).status();
}

}  // namespace causeway::discovery
