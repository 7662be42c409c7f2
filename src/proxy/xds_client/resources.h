// The four Envoy v3 resource types the proxy consumes over ADS, the set the
// xDS client hands to the data plane, and the references between them that
// decide what to subscribe to and when a set is complete enough to apply.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "nlohmann/json.hpp"

namespace causeway::proxy {

// Resource types in make-before-break order (CDS, EDS, LDS, RDS): initial
// requests go out in this order so a server answering in request order never
// sends a route before the cluster it names.
enum class XdsType { kCluster = 0, kEndpoint = 1, kListener = 2, kRoute = 3 };
inline constexpr int kXdsTypeCount = 4;
inline constexpr XdsType kAllXdsTypes[] = {XdsType::kCluster, XdsType::kEndpoint,
                                           XdsType::kListener, XdsType::kRoute};

std::string_view TypeUrl(XdsType type);
// "CDS", "EDS", "LDS", "RDS" for logs and stats.
std::string_view ShortName(XdsType type);
// False for a type URL the proxy does not consume.
bool TypeFromUrl(std::string_view type_url, XdsType* type);

// Resources by name, each held shared and immutable. The client keeps several
// sets (received, ACKed, applied) and the admin pages one more; they copy
// maps of pointers, never messages, so an update costs what it changed rather
// than the whole set (500 clusters of 20 endpoints took ~90% of an xDS
// update's CPU in message copies when the maps held values).
template <typename Message>
using ResourceMap = std::map<std::string, std::shared_ptr<const Message>>;
using ListenerMap = ResourceMap<envoy::config::listener::v3::Listener>;
using RouteMap = ResourceMap<envoy::config::route::v3::RouteConfiguration>;
using ClusterMap = ResourceMap<envoy::config::cluster::v3::Cluster>;
using EndpointMap = ResourceMap<envoy::config::endpoint::v3::ClusterLoadAssignment>;

template <typename Message>
std::shared_ptr<const Message> Share(Message message) {
  return std::make_shared<const Message>(std::move(message));
}

// The complete, consistent set of resources the client holds.
struct XdsResources {
  ListenerMap listeners;
  RouteMap routes;
  ClusterMap clusters;
  EndpointMap endpoints;

  // Number of resources of `type`.
  size_t Count(XdsType type) const;
  // Replaces the resources of `type` with those of `from`.
  void CopyType(XdsType type, const XdsResources& from);
};

// RDS names the listeners' HTTP connection managers (filter chains and
// api_listener) load over RDS.
std::set<std::string> RouteNamesOf(const ListenerMap& listeners);
// EDS service names of the EDS clusters (eds_cluster_config.service_name, or
// the cluster's own name).
std::set<std::string> EndpointNamesOf(const ClusterMap& clusters);
// Clusters the route configurations send traffic to (cluster and
// weighted_clusters actions).
std::set<std::string> ClusterNamesOf(const RouteMap& routes);

// Names `set` references but does not hold, per kind.
struct MissingResources {
  std::set<std::string> routes;     // RDS names referenced by listeners
  std::set<std::string> endpoints;  // EDS names referenced by clusters
  std::set<std::string> clusters;   // clusters referenced by routes
  bool empty() const { return routes.empty() && endpoints.empty() && clusters.empty(); }
  std::string ToString() const;
};
MissingResources FindMissing(const XdsResources& set);

// Drops route configurations and assignments nothing references any more (a
// server may answer RDS/EDS with more than asked; Envoy ignores those too).
void PruneUnreferenced(XdsResources& set);

// The resources as JSON (proto3 JSON, snake_case field names), one array per
// type, for the admin /config_dump.
nlohmann::json ResourcesToJson(const XdsResources& set);

}  // namespace causeway::proxy
