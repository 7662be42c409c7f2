// The four Envoy v3 resource types the proxy consumes over ADS, the set the
// xDS client hands to the data plane, and the references between them that
// decide what to subscribe to and when a set is complete enough to apply.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

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

// The names one resource, held under `name`, references (the per-resource
// parts of the three functions above), appended to `out` (may repeat).
// A listener's HTTP connection managers are unpacked from their Any here.
void AddReferencedNames(const std::string& name,
                        const envoy::config::listener::v3::Listener& listener,
                        std::vector<std::string>& out);
void AddReferencedNames(const std::string& name, const envoy::config::cluster::v3::Cluster& cluster,
                        std::vector<std::string>& out);
void AddReferencedNames(const std::string& name,
                        const envoy::config::route::v3::RouteConfiguration& config,
                        std::vector<std::string>& out);

// RouteNamesOf / EndpointNamesOf / ClusterNamesOf kept between calls: a
// resource is looked at again only when the map holds another pointer for it
// than the memo saw last. Resources are immutable, and the memo holds every
// pointer it remembers, so an address it compares with cannot be reused by a
// different resource. Checking that nothing changed costs a walk over the
// map comparing keys and pointers; nothing is parsed or allocated.
template <typename Message>
class ReferenceMemo {
 public:
  // The union of the names the resources of `map` reference. The reference
  // stays valid (the same object) for the memo's lifetime; its contents
  // change on a later call with a different map.
  const std::set<std::string>& Of(const ResourceMap<Message>& map) {
    if (!Matches(map)) Rebuild(map);
    return all_;
  }
  // The names the resource held under `name` references, as of the last Of()
  // (which must have seen it); null when that map did not hold `name`.
  const std::vector<std::string>* NamesOf(const std::string& name) const {
    auto it = std::lower_bound(entries_.begin(), entries_.end(), name,
                               [](const Entry& e, const std::string& n) { return e.key < n; });
    return it != entries_.end() && it->key == name ? &it->names : nullptr;
  }
  // How many resources have been looked at (AddReferencedNames calls), for tests.
  uint64_t computed() const { return computed_; }

 private:
  struct Entry {
    std::string key;
    std::shared_ptr<const Message> held;
    std::vector<std::string> names;
  };

  bool Matches(const ResourceMap<Message>& map) const {
    if (map.size() != entries_.size()) return false;
    auto entry = entries_.begin();
    for (const auto& [key, held] : map) {
      if (entry->held != held || entry->key != key) return false;
      ++entry;
    }
    return true;
  }
  void Rebuild(const ResourceMap<Message>& map) {
    std::vector<Entry> next;
    next.reserve(map.size());
    auto old = entries_.begin();  // both in key order: one merge walk
    for (const auto& [key, held] : map) {
      while (old != entries_.end() && old->key < key) ++old;
      Entry entry{key, held, {}};
      if (old != entries_.end() && old->key == key && old->held == held) {
        entry.names = std::move(old->names);
      } else {
        AddReferencedNames(key, *held, entry.names);
        ++computed_;
      }
      next.push_back(std::move(entry));
    }
    entries_ = std::move(next);
    all_.clear();
    for (const auto& entry : entries_) all_.insert(entry.names.begin(), entry.names.end());
  }

  std::vector<Entry> entries_;  // in the map's (key) order
  std::set<std::string> all_;
  uint64_t computed_ = 0;
};

// Names `set` references but does not hold, per kind.
struct MissingResources {
  std::set<std::string> routes;     // RDS names referenced by listeners
  std::set<std::string> endpoints;  // EDS names referenced by clusters
  std::set<std::string> clusters;   // clusters referenced by routes
  bool empty() const { return routes.empty() && endpoints.empty() && clusters.empty(); }
  std::string ToString() const;
};
MissingResources FindMissing(const XdsResources& set);
// The same with the referenced names already known (e.g. from ReferenceMemo):
// the names of `route_names`, `endpoint_names` and `cluster_names` that `set`
// does not hold.
MissingResources FindMissing(const XdsResources& set, const std::set<std::string>& route_names,
                             const std::set<std::string>& endpoint_names,
                             const std::set<std::string>& cluster_names);

// Drops route configurations and assignments nothing references any more (a
// server may answer RDS/EDS with more than asked; Envoy ignores those too).
void PruneUnreferenced(XdsResources& set);

// The resources as JSON (proto3 JSON, snake_case field names), one array per
// type, for the admin /config_dump.
nlohmann::json ResourcesToJson(const XdsResources& set);

}  // namespace causeway::proxy
