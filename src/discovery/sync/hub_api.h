// What the sync needs from the hub, for one zone: read clusters, set a
// cluster's instances, delete a cluster, all with optimistic concurrency.
// An interface so the sync's diffing and batching are tested without a hub.
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "discovery/collector.h"

namespace causeway::discovery {

// A cluster as the hub holds it.
struct HubCluster {
  std::string version;  // opaque; changes on every write
  Instances instances;  // normalized
  bool operator==(const HubCluster&) const = default;
};

// Implementations are thread-safe: the sync writes several clusters at once.
class HubApi {
 public:
  virtual ~HubApi() = default;

  // Every cluster of the zone.
  virtual absl::StatusOr<std::map<std::string, HubCluster>> ListClusters() = 0;

  // One cluster; NotFound when it does not exist.
  virtual absl::StatusOr<HubCluster> GetCluster(const std::string& name) = 0;

  // Sets the instances of `name`, creating the cluster when
  // `expected_version` is empty. Returns the cluster after the write.
  // ABORTED when `expected_version` is stale (someone else wrote it).
  virtual absl::StatusOr<HubCluster> PutInstances(const std::string& name,
                                                  const Instances& instances,
                                                  const std::string& expected_version) = 0;

  // Deletes `name` if it is still at `expected_version`. ABORTED when the
  // version is stale; FAILED_PRECONDITION when routes still refer to it;
  // OK when it is already gone.
  virtual absl::Status DeleteCluster(const std::string& name,
                                     const std::string& expected_version) = 0;
};

}  // namespace causeway::discovery
