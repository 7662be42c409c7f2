// Validates Envoy v3 resources and turns them into a ProxyConfigSnapshot.
// Errors name the resource and the field path so they can travel back to the
// control plane as a NACK's error_detail.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "proxy/config/proxy_config.h"

namespace causeway::proxy {

// The resources a snapshot is built from, by reference: the caller keeps them
// alive for the call, and nothing is copied.
struct ConfigInput {
  std::vector<const envoy::config::listener::v3::Listener*> listeners;
  std::vector<const envoy::config::route::v3::RouteConfiguration*> routes;
  std::vector<const envoy::config::cluster::v3::Cluster*> clusters;
  std::vector<const envoy::config::endpoint::v3::ClusterLoadAssignment*> endpoints;
};

// Builds a snapshot from complete state-of-the-world resource sets. An EDS
// cluster takes its endpoints from the ClusterLoadAssignment named by its
// eds_cluster_config.service_name (or its own name); a missing assignment
// leaves it without endpoints (503), as Envoy does while EDS is pending.
absl::StatusOr<ProxyConfigSnapshot> BuildConfig(const ConfigInput& input);
// The same from values (tests, one-off callers).
absl::StatusOr<ProxyConfigSnapshot> BuildConfig(
    const std::vector<envoy::config::listener::v3::Listener>& listeners,
    const std::vector<envoy::config::route::v3::RouteConfiguration>& routes,
    const std::vector<envoy::config::cluster::v3::Cluster>& clusters,
    const std::vector<envoy::config::endpoint::v3::ClusterLoadAssignment>& endpoints);

// Single-resource translations, exposed for tests and for incremental updates.
absl::StatusOr<std::shared_ptr<const RouteTable>> BuildRouteTable(
    const envoy::config::route::v3::RouteConfiguration& config);
absl::StatusOr<std::shared_ptr<const ClusterConfig>> BuildCluster(
    const envoy::config::cluster::v3::Cluster& cluster,
    const envoy::config::endpoint::v3::ClusterLoadAssignment* assignment);
absl::StatusOr<ListenerConfig> BuildListener(const envoy::config::listener::v3::Listener& listener);

}  // namespace causeway::proxy
