// FailoverHubApi: the Syncer's HubApi over several hubs' REST APIs. Each call
// goes to the hub a HubList names as current; a call that finds that hub
// unavailable tells the list, which moves every part of the agent to the
// next hub, and returns its error, so the Syncer retries after its backoff
// (on the next hub). The hubs share one store, so the versions the Syncer
// holds stay valid across a move.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "discovery/agent/hub_list.h"
#include "discovery/sync/hub_api.h"
#include "discovery/sync/rest_hub_api.h"

namespace causeway::discovery {

class FailoverHubApi final : public HubApi {
 public:
  // `ca_file`: PEM roots for https:// hubs ("" = the system's).
  FailoverHubApi(std::shared_ptr<HubList> hubs, const std::string& token, const std::string& zone,
                 const std::string& ca_file);

  absl::StatusOr<std::map<std::string, HubCluster>> ListClusters() override;
  absl::StatusOr<HubCluster> GetCluster(const std::string& name) override;
  absl::StatusOr<HubCluster> PutInstances(const std::string& name, const Instances& instances,
                                          const std::string& expected_version) override;
  absl::Status DeleteCluster(const std::string& name, const std::string& expected_version) override;

 private:
  // The current hub's URL and its client (each keeps its own connections).
  std::pair<std::string, RestHubApi*> Current();
  void Check(const std::string& url, const absl::Status& status);

  const std::shared_ptr<HubList> hubs_;
  std::map<std::string, std::unique_ptr<RestHubApi>> apis_;  // by URL; fixed after construction
};

}  // namespace causeway::discovery
