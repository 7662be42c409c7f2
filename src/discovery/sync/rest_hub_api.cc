#include "discovery/sync/rest_hub_api.h"

#include "common/strings.h"

namespace causeway::discovery {

using model::Json;

absl::StatusOr<std::pair<std::string, HubCluster>> HubClusterFromJson(const Json& j) {
  if (!j.is_object() || !j.contains("name") || !j["name"].is_string()) {
    return absl::InvalidArgumentError("hub: cluster without a name");
  }
  HubCluster cluster;
  if (j.contains("version")) {
    const Json& v = j["version"];
    cluster.version = v.is_string() ? v.get<std::string>() : v.dump();
  }
  if (j.contains("instances")) {
    auto instances = model::InstancesFromJson(j["instances"]);
    if (!instances.ok()) return instances.status();
    cluster.instances = *std::move(instances);
  }
  Normalize(cluster.instances);
  return std::make_pair(j["name"].get<std::string>(), std::move(cluster));
}

absl::Status HttpError(const HttpResponse& response, std::string_view what) {
  std::string message = response.body;
  const Json body = Json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_object() && body.contains("error") && body["error"].is_object() &&
      body["error"].contains("message") && body["error"]["message"].is_string()) {
    message = body["error"]["message"].get<std::string>();
  }
  const std::string text = StrCat(what, ": HTTP ", response.status, ": ", message);
  switch (response.status) {
    case 400:
      return absl::InvalidArgumentError(ToAbsl(text));
    case 401:
      return absl::UnauthenticatedError(ToAbsl(text));
    case 403:
      return absl::PermissionDeniedError(ToAbsl(text));
    case 404:
      return absl::NotFoundError(ToAbsl(text));
    case 409:
    case 412:
      return absl::AbortedError(ToAbsl(text));
    default:
      return absl::UnavailableError(ToAbsl(text));
  }
}

RestHubApi::RestHubApi(std::string hub_url, std::string token, std::string zone,
                       std::string ca_file)
    : hub_url_(std::move(hub_url)),
      token_(std::move(token)),
      zone_(std::move(zone)),
      ca_file_(std::move(ca_file)) {}

std::string RestHubApi::ClusterPath(const std::string& name) const {
  return StrCat("/v1/zones/", zone_, "/clusters/", name);
}

absl::StatusOr<HttpResponse> RestHubApi::Send(std::string_view method, const std::string& target,
                                              const std::string& body,
                                              HttpClient::Headers headers) {
  std::unique_ptr<HttpClient> client;
  {
    absl::MutexLock lock(&mu_);
    if (!idle_.empty()) {
      client = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (client == nullptr) {
    HttpClient::Options options;
    options.timeout = std::chrono::seconds(10);
    options.ca_file = ca_file_;
    auto created = HttpClient::Create(hub_url_, options);
    if (!created.ok()) return created.status();
    client = *std::move(created);
  }
  if (!token_.empty()) headers["Authorization"] = "Bearer " + token_;
  if (!body.empty()) headers["Content-Type"] = "application/json";
  auto response = client->Send(method, target, body, headers);
  if (response.ok()) {  // a failed connection is dropped, not pooled
    absl::MutexLock lock(&mu_);
    idle_.push_back(std::move(client));
  }
  return response;
}

absl::StatusOr<std::map<std::string, HubCluster>> RestHubApi::ListClusters() {
  auto response = Send("GET", StrCat("/v1/zones/", zone_, "/clusters"), "", {});
  if (!response.ok()) return response.status();
  if (response->status != 200) return HttpError(*response, "list clusters");
  const Json body = Json::parse(response->body, nullptr, false);
  // A bare list, or a list under "items" (the usual collection envelope).
  const Json* items = &body;
  if (body.is_object()) {
    for (const char* key : {"items", "clusters"}) {
      if (body.contains(key)) items = &body[key];
    }
  }
  if (!items->is_array()) return absl::UnavailableError("list clusters: unexpected response");
  std::map<std::string, HubCluster> out;
  for (const Json& item : *items) {
    auto cluster = HubClusterFromJson(item);
    if (!cluster.ok()) return cluster.status();
    out.insert(*std::move(cluster));
  }
  return out;
}

absl::StatusOr<HubCluster> RestHubApi::GetCluster(const std::string& name) {
  auto response = Send("GET", ClusterPath(name), "", {});
  if (!response.ok()) return response.status();
  if (response->status != 200) return HttpError(*response, StrCat("get cluster ", name));
  auto cluster = HubClusterFromJson(Json::parse(response->body, nullptr, false));
  if (!cluster.ok()) return cluster.status();
  return std::move(cluster->second);
}

absl::StatusOr<HubCluster> RestHubApi::PutInstances(const std::string& name,
                                                    const Instances& instances,
                                                    const std::string& expected_version) {
  const Json body = {{"instances", model::InstancesToJson(instances)}};
  HttpClient::Headers headers;
  if (!expected_version.empty()) headers["If-Match"] = StrCat("\"", expected_version, "\"");
  auto response = Send("PUT", ClusterPath(name) + "/instances", body.dump(), headers);
  if (!response.ok()) return response.status();
  if (response->status != 200 && response->status != 201) {
    return HttpError(*response, StrCat("set instances of ", name));
  }
  auto cluster = HubClusterFromJson(Json::parse(response->body, nullptr, false));
  if (!cluster.ok() || cluster->second.version.empty()) {
    // The write went through; the response just did not carry the cluster.
    return GetCluster(name);
  }
  return std::move(cluster->second);
}

absl::Status RestHubApi::DeleteCluster(const std::string& name,
                                       const std::string& expected_version) {
  auto response =
      Send("DELETE", ClusterPath(name), "", {{"If-Match", StrCat("\"", expected_version, "\"")}});
  if (!response.ok()) return response.status();
  if (response->status == 200 || response->status == 204 || response->status == 404) {
    return absl::OkStatus();
  }
  absl::Status error = HttpError(*response, StrCat("delete cluster ", name));
  if (response->status == 409) {
    // 409 means a stale version or referrers; the current version tells which.
    auto current = GetCluster(name);
    if (current.ok() && current->version == expected_version) {
      return absl::FailedPreconditionError(error.message());
    }
  }
  return error;
}

}  // namespace causeway::discovery
