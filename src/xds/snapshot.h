// ZoneSnapshot: every xDS resource one zone can serve, translated once per
// zone revision and shared read-only by all of the zone's ADS streams.
//
// Resources are held pre-packed (deterministic Any bytes) with their content
// version, so a stream only compares versions and copies bytes. Per proxy the
// snapshot keeps what a wildcard subscriber is served (listeners, route
// configurations and the names of the clusters they use); clusters,
// endpoints and proxyless gRPC api_listeners are zone-wide and looked up by
// name.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "google/protobuf/any.pb.h"
#include "model/objects.h"
#include "nlohmann/json.hpp"
#include "xds/config_source.h"
#include "xds/translate.h"

namespace causeway::xds {

// The four resource types served, in make-before-break push order.
enum class ResourceType { kCluster = 0, kEndpoint = 1, kListener = 2, kRoute = 3 };
inline constexpr ResourceType kPushOrder[] = {ResourceType::kCluster, ResourceType::kEndpoint,
                                              ResourceType::kListener, ResourceType::kRoute};
inline constexpr int kResourceTypeCount = 4;

std::string_view TypeUrl(ResourceType type);
std::string_view TypeShortName(ResourceType type);  // "cds" | "eds" | "lds" | "rds"

enum class TypeUrlKind { kServed, kV2, kUnknown };
// Classifies a request's type_url; `type` is set when kServed.
TypeUrlKind ClassifyTypeUrl(std::string_view type_url, ResourceType* type);

struct Resource {
  std::string name;
  std::string version;  // content hash (xds::ResourceVersion)
  google::protobuf::Any any;
};
using ResourcePtr = std::shared_ptr<const Resource>;
using ResourceMap = std::map<std::string, ResourcePtr, std::less<>>;

// {"name", "version", "resource": <protobuf JSON of the resource>}.
nlohmann::json ResourceToJson(const Resource& resource);

// Values derived from a snapshot by its readers (ZoneSnapshot::Derived). A
// copy starts empty: what was derived from one snapshot is not the next
// one's.
class DerivedValues {
 public:
  DerivedValues() = default;
  DerivedValues(const DerivedValues&) {}
  DerivedValues& operator=(const DerivedValues&) {
    std::lock_guard lock(mu_);
    values_.clear();
    return *this;
  }

  // Values kept per snapshot at most (a zone's streams share a handful of
  // subscriptions; thousands of distinct ones are a client playing games).
  static constexpr size_t kMaxValues = 4096;

  std::shared_ptr<const void> Get(const std::string& key,
                                  const std::function<std::shared_ptr<const void>()>& compute);
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const void>> values_;
};

class ZoneSnapshot {
 public:
  struct ProxyEntry {
    ResourceMap listeners;  // "PROXY:PORT"
    // The same listeners with the routing-key guard, for edge nodes
    // (xds/translate_edge.h).
    ResourceMap edge_listeners;
    ResourceMap routes;                 // "PROXY:PORT"
    std::vector<std::string> clusters;  // names, sorted
    std::string error;                  // last translation error ("" = none)
  };

  // Translates `objects` (one zone's, as from Catalog::ZoneObjects). When a
  // proxy fails to translate, its entry from `previous` (if any) is kept, so
  // one bad write does not wipe a running proxy's configuration.
  static std::shared_ptr<const ZoneSnapshot> Build(
      std::string zone, int64_t revision, uint64_t sequence,
      std::chrono::steady_clock::time_point change_time, const std::vector<model::Object>& objects,
      const ZoneSnapshot* previous);

  // Reads the zone from `source` and translates it. With `previous` (the
  // zone's last snapshot read from the same source), an update that moved
  // only existing clusters fetches and translates just those (discovery's
  // steady churn); any other change (a proxy, domain, route group or route,
  // a cluster created or deleted) rebuilds the whole zone as Build does.
  static std::shared_ptr<const ZoneSnapshot> Read(std::string zone, int64_t revision,
                                                  uint64_t sequence,
                                                  std::chrono::steady_clock::time_point change_time,
                                                  const ConfigSource& source,
                                                  const ZoneSnapshot* previous);

  const std::string& zone() const { return zone_; }
  int64_t revision() const { return revision_; }
  // Increases with every snapshot of the zone built by this process.
  uint64_t sequence() const { return sequence_; }
  // When the earliest change folded into this snapshot was seen.
  std::chrono::steady_clock::time_point change_time() const { return change_time_; }
  bool zone_exists() const { return zone_exists_; }

  // nullptr when the proxy is not registered in the zone.
  const ProxyEntry* FindProxy(std::string_view proxy) const;
  const std::map<std::string, ProxyEntry, std::less<>>& proxies() const { return proxies_; }

  const ResourceMap& clusters() const { return clusters_; }
  const ResourceMap& endpoints() const { return endpoints_; }
  ResourcePtr FindCluster(std::string_view name) const;
  ResourcePtr FindEndpoints(std::string_view name) const;
  ResourcePtr FindApiListener(std::string_view domain) const;
  // Clusters a domain's routes need (sorted); empty when unknown.
  const std::vector<std::string>& ClustersOfDomain(std::string_view domain) const;
  // Zone-level translation problems (domains that failed), for status.
  const std::vector<std::string>& errors() const { return errors_; }
  // Clusters fetched and translated by the Read that made this snapshot
  // (all of them for a whole-zone build).
  size_t clusters_translated() const { return clusters_translated_; }

  // The value of `key` for this snapshot: computed by the first caller,
  // shared with every later one. What a subscription covers is the same for
  // every stream subscribed alike (1,000 replicas of one proxy), so each
  // snapshot works it out once rather than once per stream. Thread-safe.
  std::shared_ptr<const void> Derived(
      const std::string& key, const std::function<std::shared_ptr<const void>()>& compute) const {
    return derived_.Get(key, compute);
  }

 private:
  static std::shared_ptr<ZoneSnapshot> BuildAll(std::string zone, int64_t revision,
                                                uint64_t sequence,
                                                std::chrono::steady_clock::time_point change_time,
                                                const std::vector<model::Object>& objects,
                                                const ZoneSnapshot* previous);
  // Translates every cluster of `index` into clusters_/endpoints_.
  void TranslateClusters(const ZoneIndex& index, const ZoneSnapshot* previous);
  // errors_ from the per-cluster and the other errors.
  void CollectErrors();

  std::string zone_;
  int64_t revision_ = 0;
  uint64_t sequence_ = 0;
  std::chrono::steady_clock::time_point change_time_;
  bool zone_exists_ = false;
  std::map<std::string, ProxyEntry, std::less<>> proxies_;
  ResourceMap clusters_;
  ResourceMap endpoints_;
  ResourceMap api_listeners_;
  std::map<std::string, std::vector<std::string>, std::less<>> domain_clusters_;
  std::vector<std::string> errors_;
  std::map<std::string, std::string, std::less<>> cluster_errors_;  // by cluster
  std::vector<std::string> other_errors_;
  size_t clusters_translated_ = 0;
  // Set by Read: each object's stamp, and the index of the last whole-zone
  // build (its routes give the subset keys of clusters rebuilt alone).
  std::map<model::ObjectKey, int64_t> stamps_;
  std::shared_ptr<const ZoneIndex> index_;
  bool failed_ = false;  // the objects did not index: previous content kept
  mutable DerivedValues derived_;
};

}  // namespace causeway::xds
