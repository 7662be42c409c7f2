// HubApi straight onto the hub's Catalog, for collectors that run inside
// `causeway serve --collector-zone Z --collector SPEC`: the same sync rules
// (versions, conflicts, --delete-missing) without going through HTTP.
#pragma once

#include <string>

#include "catalog/catalog.h"
#include "discovery/sync/hub_api.h"

namespace causeway::discovery {

class CatalogHubApi final : public HubApi {
 public:
  // Writes are recorded in the change log as made by `actor`.
  CatalogHubApi(catalog::Catalog* catalog, std::string zone, std::string actor = "collector");

  absl::StatusOr<std::map<std::string, HubCluster>> ListClusters() override;
  absl::StatusOr<HubCluster> GetCluster(const std::string& name) override;
  absl::StatusOr<HubCluster> PutInstances(const std::string& name, const Instances& instances,
                                          const std::string& expected_version) override;
  absl::Status DeleteCluster(const std::string& name, const std::string& expected_version) override;

 private:
  absl::StatusOr<HubCluster> FromObject(const model::Object& object) const;

  catalog::Catalog* const catalog_;
  const std::string zone_;
  const std::string actor_;
};

}  // namespace causeway::discovery
