// A Cluster's traffic policies: active health checking, outlier detection
// and circuit breakers. Each is optional; when given, fields left out take
// the defaults below (Envoy's, where Envoy has one), so the canonical spec
// always says every value the proxy will use.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace causeway::model {

// Periodic HTTP GET of `path` on each instance (Envoy's http_health_check).
struct HealthCheck {
  std::string path;
  uint32_t interval_ms = 5000;
  uint32_t timeout_ms = 1000;
  uint32_t healthy_threshold = 2;
  uint32_t unhealthy_threshold = 3;
  auto operator<=>(const HealthCheck&) const = default;
};

// Passive ejection of instances that keep failing (Envoy's outlier_detection).
struct OutlierDetection {
  uint32_t consecutive_5xx = 5;
  uint32_t base_ejection_ms = 30000;
  uint32_t max_ejection_percent = 10;
  auto operator<=>(const OutlierDetection&) const = default;
};

// Retries in flight as a share of the requests in flight (Envoy's
// retry_budget): at most budget_percent of the active and pending requests,
// but always min_retry_concurrency. When given it replaces max_retries.
struct RetryBudget {
  uint32_t budget_percent = 20;
  uint32_t min_retry_concurrency = 3;
  auto operator<=>(const RetryBudget&) const = default;
};

// Limits on the cluster's concurrency (Envoy's DEFAULT-priority thresholds).
struct CircuitBreakers {
  uint32_t max_connections = 1024;
  uint32_t max_pending_requests = 1024;
  uint32_t max_requests = 1024;
  uint32_t max_retries = 3;
  std::optional<RetryBudget> retry_budget;
  auto operator<=>(const CircuitBreakers&) const = default;
};

// Ranges of the fields; values outside are refused with the field's path.
inline constexpr uint32_t kMinPolicyMs = 1;
inline constexpr uint32_t kMaxPolicyMs = 3600000;
inline constexpr uint32_t kMaxPolicyThreshold = 100;
inline constexpr uint32_t kMaxPolicyCount = 1000000;

// Parse the JSON value of the field `path` ("health_check", ...) into `out`.
// Unknown fields, wrong types and values out of range are InvalidArgument
// naming the sub-field, e.g. "outlier_detection.max_ejection_percent".
absl::Status ParseHealthCheck(const nlohmann::json& j, std::string_view path, HealthCheck* out);
absl::Status ParseOutlierDetection(const nlohmann::json& j, std::string_view path,
                                   OutlierDetection* out);
absl::Status ParseCircuitBreakers(const nlohmann::json& j, std::string_view path,
                                  CircuitBreakers* out);

// Canonical JSON: every field, defaults filled in.
nlohmann::json ToJson(const HealthCheck& v);
nlohmann::json ToJson(const OutlierDetection& v);
nlohmann::json ToJson(const CircuitBreakers& v);

}  // namespace causeway::model
