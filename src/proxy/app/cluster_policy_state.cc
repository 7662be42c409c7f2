#include "proxy/app/cluster_policy_state.h"

#include "common/strings.h"
#include "proxy/config/build_config.h"
#include "proxy/upstream/outlier_detector.h"

namespace causeway::proxy {
namespace {

double PolicyValue(const std::atomic<uint64_t>& v) { return static_cast<double>(v.load()); }
double PolicyValue(const std::atomic<int64_t>& v) { return static_cast<double>(v.load()); }

// Each counter of `c` with its Envoy name (relative to "cluster.<name>.").
template <typename F>
void ForEachPolicyCounter(const ClusterStats& c, F&& f) {
  f("outlier_detection.ejections_active", PolicyValue(c.ejections_active));
  f("outlier_detection.ejections_total", PolicyValue(c.ejections_total));
  f("outlier_detection.ejections_enforced_total", PolicyValue(c.ejections_enforced_total));
  f("outlier_detection.ejections_overflow", PolicyValue(c.ejections_overflow));
  f("outlier_detection.ejections_detected_consecutive_5xx",
    PolicyValue(c.ejections_detected_consecutive_5xx));
  f("outlier_detection.ejections_enforced_consecutive_5xx",
    PolicyValue(c.ejections_enforced_consecutive_5xx));
  f("outlier_detection.ejections_detected_consecutive_gateway_failure",
    PolicyValue(c.ejections_detected_consecutive_gateway_failure));
  f("outlier_detection.ejections_enforced_consecutive_gateway_failure",
    PolicyValue(c.ejections_enforced_consecutive_gateway_failure));
  f("upstream_cx_overflow", PolicyValue(c.upstream_cx_overflow));
  f("upstream_rq_pending_overflow", PolicyValue(c.upstream_rq_pending_overflow));
  f("upstream_rq_retry_overflow", PolicyValue(c.upstream_rq_retry_overflow));
  f("upstream_cx_tls_handshake_failed", PolicyValue(c.upstream_cx_tls_handshake_failed));
  f("upstream_cx_active", PolicyValue(c.open_connections));
  f("upstream_rq_active", PolicyValue(c.active_requests));
  f("upstream_rq_pending_active", PolicyValue(c.pending_requests));
  f("upstream_rq_retry_active", PolicyValue(c.active_retries));
}

}  // namespace

void AddPolicyConfig(const envoy::config::cluster::v3::Cluster& cluster, nlohmann::json& out) {
  // The configuration as the workers have it (the proto was accepted, so
  // it builds); endpoints are not needed here.
  auto built = BuildCluster(cluster, nullptr);
  if (!built.ok()) return;
  const CircuitBreakerConfig& cb = (*built)->circuit_breakers;
  out["circuit_breakers"] = {{"max_connections", cb.max_connections},
                             {"max_pending_requests", cb.max_pending_requests},
                             {"max_requests", cb.max_requests},
                             {"max_retries", cb.max_retries}};
  if (cb.retry_budget) {
    out["circuit_breakers"]["retry_budget"] = {
        {"budget_percent", cb.retry_budget->budget_percent},
        {"min_retry_concurrency", cb.retry_budget->min_retry_concurrency}};
  }
  if (const auto& od = (*built)->outlier_detection) {
    out["outlier_detection"] = {{"consecutive_5xx", od->consecutive_5xx},
                                {"consecutive_gateway_failure", od->consecutive_gateway_failure},
                                {"base_ejection_ms", od->base_ejection_time.count()},
                                {"max_ejection_ms", od->max_ejection_time.count()},
                                {"max_ejection_percent", od->max_ejection_percent}};
  }
}

void AddPolicyState(
    const std::map<std::string, std::shared_ptr<ClusterStats>>& clusters,
    const std::map<std::pair<std::string, std::string>, EndpointStatsRegistry::Values>& endpoints,
    int64_t now_ms, nlohmann::json& out) {
  for (nlohmann::json& cluster : out) {
    const std::string name = cluster.value("name", "");
    if (auto it = clusters.find(name); it != clusters.end()) {
      SweepEjections(*it->second, now_ms);
      nlohmann::json counts = nlohmann::json::object();
      ForEachPolicyCounter(*it->second, [&](std::string_view key, double v) {
        counts[std::string(key)] = static_cast<int64_t>(v);
      });
      cluster["counters"] = std::move(counts);
    }
    if (!cluster.contains("endpoints")) continue;
    for (nlohmann::json& endpoint : cluster["endpoints"]) {
      auto it = endpoints.find({name, endpoint.value("address", "")});
      const bool ejected = it != endpoints.end() && it->second.ejected_until_ms > now_ms;
      endpoint["ejected"] = ejected;
      if (!ejected) continue;
      endpoint["ejected_for_ms"] = it->second.ejected_until_ms - now_ms;
      endpoint["times_ejected"] = it->second.times_ejected;
    }
  }
}

void AddPolicyStats(const std::map<std::string, std::shared_ptr<ClusterStats>>& clusters,
                    int64_t now_ms, std::map<std::string, double>& stats) {
  for (const auto& [name, cluster] : clusters) {
    SweepEjections(*cluster, now_ms);
    const std::string prefix = StrCat("cluster.", name, ".");
    ForEachPolicyCounter(*cluster,
                         [&](std::string_view key, double v) { stats[StrCat(prefix, key)] = v; });
  }
}

}  // namespace causeway::proxy
