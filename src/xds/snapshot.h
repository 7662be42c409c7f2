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
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "google/protobuf/any.pb.h"
#include "model/objects.h"
#include "nlohmann/json.hpp"

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

class ZoneSnapshot {
 public:
  struct ProxyEntry {
    ResourceMap listeners;              // "PROXY:PORT"
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

  ResourcePtr FindCluster(std::string_view name) const;
  ResourcePtr FindEndpoints(std::string_view name) const;
  ResourcePtr FindApiListener(std::string_view domain) const;
  // Clusters a domain's routes need (sorted); empty when unknown.
  const std::vector<std::string>& ClustersOfDomain(std::string_view domain) const;
  // Zone-level translation problems (domains that failed), for status.
  const std::vector<std::string>& errors() const { return errors_; }

 private:
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
};

}  // namespace causeway::xds
