// Translation of a zone's objects into Envoy v3 xDS resources.
//
// A pure library: no I/O, no threads, no clocks. The hub's ADS server and the
// proxy's static `--config` mode both call it. Output is deterministic: equal
// input gives equal resources in equal order, and ResourceVersion() of equal
// resources is equal, so versions can be derived from content.
//
// Naming (docs/xds.md, "The naming contract"):
//   Listener / RouteConfiguration   "PROXY:PORT", one per distinct port of a proxy
//   VirtualHost                      the domain name "host:port"
//   Cluster / ClusterLoadAssignment  the cluster name
//   proxyless gRPC Listener          the domain name "host:port" (api_listener)
//   Envoy route                      "ROUTE/rules/I", "ROUTE/GROUP/rules/I", "ROUTE/default"
//
// Decisions where the contract is silent:
//   - Match order inside one path prefix: the route's rules, its group's
//     rules, then the group's default. A group without a default adds no
//     catch-all, so unmatched requests fall through to shorter prefixes.
//   - Routes with equal prefixes on one domain: by route name.
//   - Methods: one `:method` header matcher (exact, or an RE2 alternation).
//   - Cookies: a full-match RE2 regex on the `cookie` header, since neither
//     Envoy nor gRPC has a cookie matcher.
//   - An empty prefix/suffix value, or behaviour "present": present_match.
//   - Retry policy: the route's replaces its group's; retry_on is
//     "connect-failure,reset,5xx"; num_retries is always explicit (Envoy
//     reads unset as 1). Route timeout: the route's timeout_ms, else the
//     retry policy's timeout_ms, else none (Envoy's default applies).
//   - Subsets: one selector per distinct key set used by targets of the
//     cluster anywhere in the zone; fallback NO_FALLBACK (a target naming a
//     subset with no instances fails instead of silently going elsewhere).
//   - connect_timeout 5 s. A cluster without instances gets an assignment
//     with no locality.
//   - Instance hosts are copied as given; Envoy and gRPC need IP addresses in
//     EDS, so collectors are expected to resolve names.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "google/protobuf/any.pb.h"
#include "model/objects.h"

namespace causeway::xds {

// Every object of one zone, of any kind, in any order. Objects of other zones
// must not be mixed in (the zone field is not consulted).
struct ZoneView {
  std::vector<model::Object> objects;
};

// The typed, indexed form of a zone. Parsing is done once here, so the ADS
// server builds one ZoneIndex per zone revision and translates every proxy of
// the zone from it.
class ZoneIndex {
 public:
  // Fails when an object's spec does not parse (error names the object).
  static absl::StatusOr<ZoneIndex> Build(const ZoneView& zone);

  // nullptr when absent.
  const model::Proxy* FindProxy(std::string_view name) const;
  const model::Domain* FindDomain(std::string_view name) const;
  const model::RouteGroup* FindRouteGroup(std::string_view name) const;
  const model::Cluster* FindCluster(std::string_view name) const;

  // The routes attached to a domain, most specific first: longer paths before
  // shorter ones, then by path, then by route name.
  const std::vector<model::Route>& RoutesOfDomain(std::string_view domain) const;

  // Every metadata key set used by a target of `cluster` anywhere in the zone
  // (sorted). Zone-wide rather than per proxy, so that a cluster's resource is
  // the same for every proxy that is served it.
  const std::vector<std::vector<std::string>>& SubsetKeysOf(std::string_view cluster) const;

  // The intercepts of `cluster` that have a tunnel to send to, by name. Each
  // also has its cluster ("intercept:NAME") among clusters().
  const std::vector<model::Intercept>& InterceptsOfCluster(std::string_view cluster) const;

  const std::map<std::string, model::Proxy, std::less<>>& proxies() const { return proxies_; }
  const std::map<std::string, model::Domain, std::less<>>& domains() const { return domains_; }
  const std::map<std::string, model::Cluster, std::less<>>& clusters() const { return clusters_; }

 private:
  std::map<std::string, model::Proxy, std::less<>> proxies_;
  std::map<std::string, model::Domain, std::less<>> domains_;
  std::map<std::string, model::RouteGroup, std::less<>> route_groups_;
  std::map<std::string, model::Cluster, std::less<>> clusters_;
  // Derived once in Build(): every proxy of the zone needs them.
  std::map<std::string, std::vector<model::Route>, std::less<>> routes_by_domain_;
  std::map<std::string, std::vector<std::vector<std::string>>, std::less<>> subset_keys_;
  std::map<std::string, std::vector<model::Intercept>, std::less<>> intercepts_by_cluster_;
};

// What one proxy is served. Each vector is sorted by resource name.
struct ProxyResources {
  std::vector<envoy::config::listener::v3::Listener> listeners;
  std::vector<envoy::config::route::v3::RouteConfiguration> routes;
  // The clusters its routes refer to, and one assignment for each.
  std::vector<envoy::config::cluster::v3::Cluster> clusters;
  std::vector<envoy::config::endpoint::v3::ClusterLoadAssignment> endpoints;
};

// The resources of proxy `proxy_name`. NotFound when the proxy does not exist;
// FailedPrecondition when an object it depends on is missing or two of its
// domains claim the same host name on one port (Envoy would reject that).
absl::StatusOr<ProxyResources> TranslateProxy(const ZoneIndex& zone, std::string_view proxy_name);
absl::StatusOr<ProxyResources> TranslateProxy(const ZoneView& zone, std::string_view proxy_name);

// Proxyless gRPC: the Listener named `domain_name` ("host:port") holding an
// api_listener whose HttpConnectionManager carries the domain's routes inline
// (so a gRPC client needs no RDS, and no route configuration name can collide
// with a proxy's "PROXY:PORT"). NotFound when the domain does not exist.
absl::StatusOr<envoy::config::listener::v3::Listener> TranslateApiListener(
    const ZoneIndex& zone, std::string_view domain_name);
absl::StatusOr<envoy::config::listener::v3::Listener> TranslateApiListener(
    const ZoneView& zone, std::string_view domain_name);

// The names of the clusters the domain's routes refer to (sorted): what a
// client of TranslateApiListener needs next over CDS/EDS.
absl::StatusOr<std::vector<std::string>> ClustersOfDomain(const ZoneIndex& zone,
                                                          std::string_view domain_name);

// One cluster and its endpoints, for named CDS/EDS subscriptions.
// NotFound when the cluster does not exist.
absl::StatusOr<envoy::config::cluster::v3::Cluster> TranslateCluster(const ZoneIndex& zone,
                                                                     std::string_view name);
absl::StatusOr<envoy::config::endpoint::v3::ClusterLoadAssignment> TranslateEndpoints(
    const ZoneIndex& zone, std::string_view name);
// The same for a cluster given directly; `zone` supplies the subset keys its
// routes use (the cluster need not be in it). For rebuilding one changed
// cluster without indexing the zone again.
envoy::config::cluster::v3::Cluster TranslateCluster(const ZoneIndex& zone,
                                                     const model::Cluster& cluster);
envoy::config::endpoint::v3::ClusterLoadAssignment TranslateEndpoints(
    const model::Cluster& cluster);

// Serializes `message` deterministically (map entries sorted), so equal
// messages give equal bytes across runs and processes.
std::string SerializeDeterministic(const google::protobuf::Message& message);

// Packs `message` into an Any with deterministic bytes (Any::PackFrom is not
// deterministic for messages holding maps, such as metadata Structs).
google::protobuf::Any PackDeterministic(const google::protobuf::Message& message);

// A stable content version of a resource: 16 hex digits of the SHA-256 of its
// type name and deterministic serialization. Equal resources give equal
// versions in every process.
std::string ResourceVersion(const google::protobuf::Message& message);

}  // namespace causeway::xds
