// Cluster -> EDS Cluster; instances -> ClusterLoadAssignment.
#include <algorithm>

#include "common/strings.h"
#include "google/protobuf/util/time_util.h"
#include "xds/translate_internal.h"

namespace causeway::xds {
namespace {

using envoy::config::cluster::v3::Cluster;
using envoy::config::endpoint::v3::ClusterLoadAssignment;

// Long enough for a laptop reaching staging over a VPN or a WAN link.
constexpr int64_t kConnectTimeoutMs = 5000;

absl::StatusOr<const model::Cluster*> Lookup(const ZoneIndex& zone, std::string_view name) {
  const model::Cluster* cluster = zone.FindCluster(name);
  if (cluster == nullptr) {
    return absl::NotFoundError(StrCat("Cluster \"", name, "\" not found"));
  }
  return cluster;
}

google::protobuf::Duration Millis(uint32_t ms) {
  return google::protobuf::util::TimeUtil::MillisecondsToDuration(ms);
}

void AddHealthCheck(const model::HealthCheck& hc, Cluster* out) {
  auto* check = out->add_health_checks();
  *check->mutable_interval() = Millis(hc.interval_ms);
  *check->mutable_timeout() = Millis(hc.timeout_ms);
  check->mutable_healthy_threshold()->set_value(hc.healthy_threshold);
  check->mutable_unhealthy_threshold()->set_value(hc.unhealthy_threshold);
  check->mutable_http_health_check()->set_path(hc.path);
}

void AddOutlierDetection(const model::OutlierDetection& od, Cluster* out) {
  auto* detection = out->mutable_outlier_detection();
  detection->mutable_consecutive_5xx()->set_value(od.consecutive_5xx);
  *detection->mutable_base_ejection_time() = Millis(od.base_ejection_ms);
  detection->mutable_max_ejection_percent()->set_value(od.max_ejection_percent);
}

void AddCircuitBreakers(const model::CircuitBreakers& cb, Cluster* out) {
  auto* thresholds = out->mutable_circuit_breakers()->add_thresholds();
  thresholds->set_priority(envoy::config::core::v3::DEFAULT);
  thresholds->mutable_max_connections()->set_value(cb.max_connections);
  thresholds->mutable_max_pending_requests()->set_value(cb.max_pending_requests);
  thresholds->mutable_max_requests()->set_value(cb.max_requests);
  thresholds->mutable_max_retries()->set_value(cb.max_retries);
  if (cb.retry_budget) {
    auto* budget = thresholds->mutable_retry_budget();
    budget->mutable_budget_percent()->set_value(cb.retry_budget->budget_percent);
    budget->mutable_min_retry_concurrency()->set_value(cb.retry_budget->min_retry_concurrency);
  }
}

}  // namespace

absl::StatusOr<Cluster> TranslateCluster(const ZoneIndex& zone, std::string_view name) {
  CW_ASSIGN_OR_RETURN(const model::Cluster* cluster, Lookup(zone, name));
  return TranslateCluster(zone, *cluster);
}

absl::StatusOr<ClusterLoadAssignment> TranslateEndpoints(const ZoneIndex& zone,
                                                         std::string_view name) {
  CW_ASSIGN_OR_RETURN(const model::Cluster* cluster, Lookup(zone, name));
  return TranslateEndpoints(*cluster);
}

Cluster TranslateCluster(const ZoneIndex& zone, const model::Cluster& model_cluster) {
  const model::Cluster* cluster = &model_cluster;
  Cluster out;
  out.set_name(cluster->name);
  out.set_type(Cluster::EDS);
  auto* eds_config = out.mutable_eds_cluster_config()->mutable_eds_config();
  eds_config->mutable_ads();
  eds_config->set_resource_api_version(envoy::config::core::v3::V3);
  out.set_lb_policy(Cluster::ROUND_ROBIN);
  *out.mutable_connect_timeout() =
      google::protobuf::util::TimeUtil::MillisecondsToDuration(kConnectTimeoutMs);
  const std::vector<std::vector<std::string>>& key_sets = zone.SubsetKeysOf(cluster->name);
  if (!key_sets.empty()) {
    auto* subsets = out.mutable_lb_subset_config();
    // A target that names a subset means exactly those instances: when none
    // match, failing is clearer than silently sending traffic elsewhere.
    subsets->set_fallback_policy(Cluster::LbSubsetConfig::NO_FALLBACK);
    for (const std::vector<std::string>& keys : key_sets) {
      auto* selector = subsets->add_subset_selectors();
      for (const std::string& key : keys) selector->add_keys(key);
    }
  }
  if (cluster->health_check) AddHealthCheck(*cluster->health_check, &out);
  if (cluster->outlier_detection) AddOutlierDetection(*cluster->outlier_detection, &out);
  if (cluster->circuit_breakers) AddCircuitBreakers(*cluster->circuit_breakers, &out);
  internal::AddUpstreamTls(*cluster, &out);
  internal::AddProtocolOptions(*cluster, &out);
  return out;
}

ClusterLoadAssignment TranslateEndpoints(const model::Cluster& model_cluster) {
  const model::Cluster* cluster = &model_cluster;
  ClusterLoadAssignment out;
  out.set_cluster_name(cluster->name);
  if (cluster->instances.empty()) return out;  // no locality: no endpoints at all
  std::vector<const model::Instance*> instances;
  for (const model::Instance& instance : cluster->instances) instances.push_back(&instance);
  std::sort(instances.begin(), instances.end(),
            [](const model::Instance* a, const model::Instance* b) { return *a < *b; });
  instances.erase(
      std::unique(instances.begin(), instances.end(),
                  [](const model::Instance* a, const model::Instance* b) { return *a == *b; }),
      instances.end());
  auto* locality = out.add_endpoints();
  locality->mutable_locality();  // present but empty: one anonymous locality
  // gRPC skips a locality without a weight.
  locality->mutable_load_balancing_weight()->set_value(1);
  locality->set_priority(0);
  for (const model::Instance* instance : instances) {
    auto* lb_endpoint = locality->add_lb_endpoints();
    auto* address = lb_endpoint->mutable_endpoint()->mutable_address()->mutable_socket_address();
    address->set_address(instance->host);
    address->set_port_value(instance->port);
    // Unset means 1 to Envoy and gRPC alike; left out then, so clusters
    // without weights translate to the same bytes as before weights existed.
    if (instance->weight != 1) {
      lb_endpoint->mutable_load_balancing_weight()->set_value(instance->weight);
    }
    if (!instance->metadata.empty()) {
      *lb_endpoint->mutable_metadata() = internal::LbMetadata(instance->metadata);
    }
  }
  return out;
}

}  // namespace causeway::xds
