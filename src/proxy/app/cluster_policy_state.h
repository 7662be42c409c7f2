// The state of the clusters' outlier detection and circuit breakers on the
// admin pages: /clusters shows each cluster's limits and live counts and
// each endpoint's ejection; /stats (and /stats/prometheus) the counters, by
// Envoy's names:
//   cluster.<name>.outlier_detection.ejections_active, ejections_total,
//     ejections_enforced_total, ejections_overflow,
//     ejections_{detected,enforced}_consecutive_{5xx,gateway_failure}
//   cluster.<name>.upstream_cx_overflow, upstream_rq_pending_overflow,
//     upstream_rq_retry_overflow
//   cluster.<name>.upstream_cx_active, upstream_rq_active,
//     upstream_rq_pending_active, upstream_rq_retry_active (the breakers'
//     gauges, every worker together)
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "nlohmann/json.hpp"
#include "proxy/upstream/endpoint_stats.h"

namespace causeway::proxy {

// Adds `cluster`'s configured limits to its /clusters entry `out`:
// "circuit_breakers" (the four max_*) and, when it has one,
// "outlier_detection" (its settings).
void AddPolicyConfig(const envoy::config::cluster::v3::Cluster& cluster, nlohmann::json& out);

// Adds the live state to the /clusters entries: per cluster the breakers'
// counts and the outlier counters, per endpoint "ejected", and while
// ejected "ejected_for_ms" (what is left of it) and "times_ejected".
// `now_ms`: the request path's clock (upstream/outlier_detector.h).
void AddPolicyState(
    const std::map<std::string, std::shared_ptr<ClusterStats>>& clusters,
    const std::map<std::pair<std::string, std::string>, EndpointStatsRegistry::Values>& endpoints,
    int64_t now_ms, nlohmann::json& out);

// The counters and gauges above into `stats` (name → value).
void AddPolicyStats(const std::map<std::string, std::shared_ptr<ClusterStats>>& clusters,
                    int64_t now_ms, std::map<std::string, double>& stats);

}  // namespace causeway::proxy
