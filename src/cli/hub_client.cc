#include "cli/hub_client.h"

#include <utility>

#include "absl/strings/cord.h"
#include "common/status.h"
#include "common/strings.h"

namespace causeway::cli {

absl::Status HubError(int http_status, const std::string& body) {
  std::string message;
  std::string field;
  Json current;
  Json parsed = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object()) {
    const Json& error = parsed.contains("error") ? parsed["error"] : parsed;
    if (error.is_object()) {
      message = error.value("message", "");
      if (error.contains("field") && error["field"].is_string())
        field = error["field"].get<std::string>();
    } else if (error.is_string()) {
      message = error.get<std::string>();
    }
    if (parsed.contains("current")) current = parsed["current"];
  }
  if (message.empty()) {
    message = body.size() > 200 ? body.substr(0, 200) + "…" : body;
    if (message.empty()) message = StrCat("HTTP ", http_status);
  }
  absl::Status status;
  switch (http_status) {
    case 400:
    case 422:
      status = absl::InvalidArgumentError(message);
      break;
    case 401:
      status = absl::UnauthenticatedError(
          StrCat(message, " (pass --token, set CAUSEWAY_TOKEN or run causeway login)"));
      break;
    case 403:
      status = absl::PermissionDeniedError(message);
      break;
    case 404:
      status = absl::NotFoundError(message);
      break;
    case 409:
    case 412:
      status = absl::FailedPreconditionError(message);
      break;
    case 502:
    case 503:
    case 504:
      status = absl::UnavailableError(message);
      break;
    default:
      status = absl::InternalError(StrCat("hub answered ", http_status, ": ", message));
  }
  if (!field.empty()) status.SetPayload(ToAbsl(kFieldPayload), absl::Cord(ToAbsl(field)));
  if (current.is_object()) {
    status.SetPayload(ToAbsl(kCurrentObjectPayload), absl::Cord(current.dump()));
  }
  return status;
}

std::vector<Json> ListItems(const Json& response) {
  if (response.is_array()) return response.get<std::vector<Json>>();
  if (response.is_object()) {
    for (const char* key : {"items", "objects", "results"}) {
      if (response.contains(key) && response[key].is_array())
        return response[key].get<std::vector<Json>>();
    }
    for (auto it = response.begin(); it != response.end(); ++it) {
      if (it->is_array()) return it->get<std::vector<Json>>();
    }
  }
  return {};
}

absl::StatusOr<std::unique_ptr<HubClient>> HubClient::Create(const Connection& connection) {
  HttpClient::Options options;
  // A CA applies to https:// only; one from the environment or a context
  // must not break a plain http:// hub.
  if (connection.hub.starts_with("https://")) options.ca_file = connection.ca;
  CW_ASSIGN_OR_RETURN(std::unique_ptr<HttpClient> http,
                      HttpClient::Create(connection.hub, options));
  return std::unique_ptr<HubClient>(new HubClient(connection, std::move(http)));
}

HubClient::HubClient(Connection connection, std::unique_ptr<HttpClient> http)
    : connection_(std::move(connection)), http_(std::move(http)) {}

absl::StatusOr<Json> HubClient::Send(std::string_view method, const std::string& path,
                                     const std::optional<Json>& body) {
  HttpClient::Headers headers = {{"Accept", "application/json"}};
  if (!connection_.token.empty()) headers["Authorization"] = StrCat("Bearer ", connection_.token);
  std::string payload = body ? body->dump() : std::string();
  absl::StatusOr<HttpResponse> response = http_->Send(method, path, payload, headers);
  if (!response.ok()) {
    return absl::UnavailableError(StrCat("cannot reach the hub at ", connection_.hub, " (",
                                         connection_.hub_source,
                                         "): ", response.status().message()));
  }
  if (response->status < 200 || response->status >= 300) {
    return HubError(response->status, response->body);
  }
  if (response->body.empty()) return Json::object();
  Json parsed = Json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return absl::InternalError(
        StrCat(method, " ", path, ": the hub answered with something other than JSON"));
  }
  return parsed;
}

absl::StatusOr<Json> HubClient::Get(const std::string& path) {
  return Send("GET", path, std::nullopt);
}
absl::StatusOr<Json> HubClient::Post(const std::string& path, const Json& body) {
  return Send("POST", path, body);
}
absl::StatusOr<Json> HubClient::Put(const std::string& path, const Json& body) {
  return Send("PUT", path, body);
}
absl::StatusOr<Json> HubClient::Delete(const std::string& path) {
  return Send("DELETE", path, std::nullopt);
}

std::string HubClient::CollectionPath(model::Kind kind, const std::string& zone) {
  if (kind == model::Kind::kZone) return "/v1/zones";
  return StrCat("/v1/zones/", zone, "/", model::KindPath(kind));
}

std::string HubClient::ObjectPath(const model::ObjectKey& key) {
  if (key.kind == model::Kind::kZone) return StrCat("/v1/zones/", key.name);
  return StrCat(CollectionPath(key.kind, key.zone), "/", key.name);
}

absl::StatusOr<Json> HubClient::GetObject(const model::ObjectKey& key) {
  return Get(ObjectPath(key));
}

absl::StatusOr<std::vector<std::string>> HubClient::ZoneNames() {
  CW_ASSIGN_OR_RETURN(Json zones, Get("/v1/zones"));
  std::vector<std::string> names;
  for (const Json& z : ListItems(zones)) names.push_back(z.value("name", ""));
  return names;
}

absl::StatusOr<std::vector<Json>> HubClient::List(model::Kind kind, const std::string& zone) {
  if (kind == model::Kind::kZone) {
    CW_ASSIGN_OR_RETURN(Json zones, Get("/v1/zones"));
    return ListItems(zones);
  }
  // Every zone's objects of a kind come from one request (GET /v1/{kind}).
  CW_ASSIGN_OR_RETURN(Json list, Get(zone.empty() ? StrCat("/v1/", model::KindPath(kind))
                                                  : CollectionPath(kind, zone)));
  return ListItems(list);
}

absl::StatusOr<Json> HubClient::Apply(const std::vector<Json>& documents, bool dry_run,
                                      std::string_view op) {
  std::string path = "/v1/apply";
  std::string sep = "?";
  if (op != "apply") {
    path += StrCat(sep, "op=", op);
    sep = "&";
  }
  if (dry_run) path += StrCat(sep, "dry_run=true");
  return Post(path, Json(documents));
}

}  // namespace causeway::cli
