#include "discovery/agent/failover_hub_api.h"

namespace causeway::discovery {

FailoverHubApi::FailoverHubApi(std::shared_ptr<HubList> hubs, const std::string& token,
                               const std::string& zone, const std::string& ca_file)
    : hubs_(std::move(hubs)) {
  for (const std::string& url : hubs_->urls()) {
    apis_[url] = std::make_unique<RestHubApi>(url, token, zone, ca_file);
  }
}

std::pair<std::string, RestHubApi*> FailoverHubApi::Current() {
  std::string url = hubs_->Current();
  RestHubApi* api = apis_.at(url).get();
  return {std::move(url), api};
}

void FailoverHubApi::Check(const std::string& url, const absl::Status& status) {
  if (!status.ok()) hubs_->Failed(url, status);
}

absl::StatusOr<std::map<std::string, HubCluster>> FailoverHubApi::ListClusters() {
  auto [url, api] = Current();
  auto result = api->ListClusters();
  Check(url, result.status());
  return result;
}

absl::StatusOr<HubCluster> FailoverHubApi::GetCluster(const std::string& name) {
  auto [url, api] = Current();
  auto result = api->GetCluster(name);
  Check(url, result.status());
  return result;
}

absl::StatusOr<HubCluster> FailoverHubApi::PutInstances(const std::string& name,
                                                        const Instances& instances,
                                                        const std::string& expected_version) {
  auto [url, api] = Current();
  auto result = api->PutInstances(name, instances, expected_version);
  Check(url, result.status());
  return result;
}

absl::Status FailoverHubApi::DeleteCluster(const std::string& name,
                                           const std::string& expected_version) {
  auto [url, api] = Current();
  absl::Status result = api->DeleteCluster(name, expected_version);
  Check(url, result);
  return result;
}

}  // namespace causeway::discovery
