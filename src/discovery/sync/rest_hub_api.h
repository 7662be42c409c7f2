// HubApi over the hub's REST API with an agent token:
//   GET    /v1/zones/{z}/clusters
//   GET    /v1/zones/{z}/clusters/{name}
//   PUT    /v1/zones/{z}/clusters/{name}/instances  {"instances": [...]}, If-Match: "V"
//   DELETE /v1/zones/{z}/clusters/{name}            If-Match: "V"
// (the expected version travels as an ETag in If-Match, which the hub checks
// for both).
// Keeps a small pool of keep-alive connections (HttpClient is one connection
// and not thread-safe) so that concurrent writes do not queue on one socket.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "discovery/sync/hub_api.h"
#include "model/objects.h"
#include "net/http_client.h"

namespace causeway::discovery {

class RestHubApi final : public HubApi {
 public:
  // `ca_file`: PEM roots for an https:// hub ("" = the system's).
  RestHubApi(std::string hub_url, std::string token, std::string zone, std::string ca_file = "");

  absl::StatusOr<std::map<std::string, HubCluster>> ListClusters() override;
  absl::StatusOr<HubCluster> GetCluster(const std::string& name) override;
  absl::StatusOr<HubCluster> PutInstances(const std::string& name, const Instances& instances,
                                          const std::string& expected_version) override;
  absl::Status DeleteCluster(const std::string& name, const std::string& expected_version) override;

 private:
  absl::StatusOr<HttpResponse> Send(std::string_view method, const std::string& target,
                                    const std::string& body, HttpClient::Headers headers);
  std::string ClusterPath(const std::string& name) const;

  const std::string hub_url_;
  const std::string token_;
  const std::string zone_;
  const std::string ca_file_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<HttpClient>> idle_ ABSL_GUARDED_BY(mu_);  // connections not in use
};

// Parses a cluster as the REST API renders it ({"name", "version",
// "instances", ...}); `version` may be a string or an integer.
absl::StatusOr<std::pair<std::string, HubCluster>> HubClusterFromJson(const model::Json& j);

// An error status for a non-2xx response: the code follows the HTTP status,
// the message is the body's error.message when it has one.
absl::Status HttpError(const HttpResponse& response, std::string_view what);

}  // namespace causeway::discovery
