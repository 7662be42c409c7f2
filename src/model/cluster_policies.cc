#include "model/cluster_policies.h"

#include <set>
#include <string_view>

#include "common/status.h"

namespace causeway::model {
namespace {

using Json = nlohmann::json;

// Reads one policy object strictly: each field read once, anything left over
// is named as unknown by Finish().
class PolicyReader {
 public:
  PolicyReader(const Json& j, std::string_view path) : j_(j), path_(path) {}

  absl::Status CheckObject() const {
    if (!j_.is_object()) return FieldError(path_, "must be an object");
    return absl::OkStatus();
  }

  std::string Path(std::string_view key) const { return StrCat(path_, ".", key); }

  // An integer in [min, max]; absent or null leaves `out` at its default.
  absl::Status Uint(std::string_view key, uint32_t min, uint32_t max, uint32_t* out) {
    seen_.insert(std::string(key));
    auto it = j_.find(std::string(key));
    if (it == j_.end() || it->is_null()) return absl::OkStatus();
    const std::string range = StrCat("must be an integer between ", min, " and ", max);
    if (!it->is_number_integer()) return FieldError(Path(key), StrCat(range, ", not ", it->dump()));
    const bool in_range = it->is_number_unsigned()
                              ? it->get<uint64_t>() >= min && it->get<uint64_t>() <= max
                              : it->get<int64_t>() >= min && it->get<int64_t>() <= max;
    if (!in_range) return FieldError(Path(key), StrCat(range, ", not ", it->dump()));
    *out = static_cast<uint32_t>(it->get<int64_t>());
    return absl::OkStatus();
  }

  absl::Status String(std::string_view key, std::string* out) {
    seen_.insert(std::string(key));
    auto it = j_.find(std::string(key));
    if (it == j_.end() || it->is_null()) return FieldError(Path(key), "is required");
    if (!it->is_string())
      return FieldError(Path(key), StrCat("must be a string, not ", it->dump()));
    *out = it->get<std::string>();
    return absl::OkStatus();
  }

  // A nested policy object: `parse` reads it under this reader's path.
  template <typename T>
  absl::Status Object(std::string_view key, std::optional<T>* out,
                      absl::Status (*parse)(const Json&, std::string_view, T*)) {
    seen_.insert(std::string(key));
    auto it = j_.find(std::string(key));
    if (it == j_.end() || it->is_null()) return absl::OkStatus();
    T value;
    CW_RETURN_IF_ERROR(parse(*it, Path(key), &value));
    *out = value;
    return absl::OkStatus();
  }

  absl::Status Finish() const {
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      if (!seen_.count(it.key())) return FieldError(Path(it.key()), "unknown field");
    }
    return absl::OkStatus();
  }

 private:
  const Json& j_;
  std::string path_;
  std::set<std::string, std::less<>> seen_;
};

}  // namespace

absl::Status ParseHealthCheck(const Json& j, std::string_view path, HealthCheck* out) {
  PolicyReader r(j, path);
  CW_RETURN_IF_ERROR(r.CheckObject());
  CW_RETURN_IF_ERROR(r.String("path", &out->path));
  // The path goes into an HTTP request line as is.
  if (out->path.empty() || out->path.front() != '/' ||
      out->path.find_first_of(" \t\r\n") != std::string::npos) {
    return FieldError(r.Path("path"),
                      StrCat("must start with / and hold no spaces, not \"", out->path, "\""));
  }
  CW_RETURN_IF_ERROR(r.Uint("interval_ms", kMinPolicyMs, kMaxPolicyMs, &out->interval_ms));
  CW_RETURN_IF_ERROR(r.Uint("timeout_ms", kMinPolicyMs, kMaxPolicyMs, &out->timeout_ms));
  CW_RETURN_IF_ERROR(r.Uint("healthy_threshold", 1, kMaxPolicyThreshold, &out->healthy_threshold));
  CW_RETURN_IF_ERROR(
      r.Uint("unhealthy_threshold", 1, kMaxPolicyThreshold, &out->unhealthy_threshold));
  return r.Finish();
}

absl::Status ParseOutlierDetection(const Json& j, std::string_view path, OutlierDetection* out) {
  PolicyReader r(j, path);
  CW_RETURN_IF_ERROR(r.CheckObject());
  CW_RETURN_IF_ERROR(r.Uint("consecutive_5xx", 1, kMaxPolicyThreshold, &out->consecutive_5xx));
  CW_RETURN_IF_ERROR(
      r.Uint("base_ejection_ms", kMinPolicyMs, kMaxPolicyMs, &out->base_ejection_ms));
  CW_RETURN_IF_ERROR(r.Uint("max_ejection_percent", 0, 100, &out->max_ejection_percent));
  return r.Finish();
}

absl::Status ParseRetryBudget(const Json& j, std::string_view path, RetryBudget* out) {
  PolicyReader r(j, path);
  CW_RETURN_IF_ERROR(r.CheckObject());
  CW_RETURN_IF_ERROR(r.Uint("budget_percent", 1, 100, &out->budget_percent));
  CW_RETURN_IF_ERROR(
      r.Uint("min_retry_concurrency", 1, kMaxPolicyCount, &out->min_retry_concurrency));
  return r.Finish();
}

absl::Status ParseCircuitBreakers(const Json& j, std::string_view path, CircuitBreakers* out) {
  PolicyReader r(j, path);
  CW_RETURN_IF_ERROR(r.CheckObject());
  CW_RETURN_IF_ERROR(r.Uint("max_connections", 1, kMaxPolicyCount, &out->max_connections));
  CW_RETURN_IF_ERROR(
      r.Uint("max_pending_requests", 1, kMaxPolicyCount, &out->max_pending_requests));
  CW_RETURN_IF_ERROR(r.Uint("max_requests", 1, kMaxPolicyCount, &out->max_requests));
  CW_RETURN_IF_ERROR(r.Uint("max_retries", 1, kMaxPolicyCount, &out->max_retries));
  CW_RETURN_IF_ERROR(r.Object("retry_budget", &out->retry_budget, ParseRetryBudget));
  return r.Finish();
}

Json ToJson(const HealthCheck& v) {
  return {{"path", v.path},
          {"interval_ms", v.interval_ms},
          {"timeout_ms", v.timeout_ms},
          {"healthy_threshold", v.healthy_threshold},
          {"unhealthy_threshold", v.unhealthy_threshold}};
}

Json ToJson(const OutlierDetection& v) {
  return {{"consecutive_5xx", v.consecutive_5xx},
          {"base_ejection_ms", v.base_ejection_ms},
          {"max_ejection_percent", v.max_ejection_percent}};
}

Json ToJson(const CircuitBreakers& v) {
  Json out = {{"max_connections", v.max_connections},
              {"max_pending_requests", v.max_pending_requests},
              {"max_requests", v.max_requests},
              {"max_retries", v.max_retries}};
  if (v.retry_budget) {
    out["retry_budget"] = {{"budget_percent", v.retry_budget->budget_percent},
                           {"min_retry_concurrency", v.retry_budget->min_retry_concurrency}};
  }
  return out;
}

}  // namespace causeway::model
