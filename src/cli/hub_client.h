// The CLI's view of the hub's REST API (src/hub/api/README.md): JSON in,
// JSON out, hub errors turned into absl::Status with the hub's message.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/config.h"
#include "model/objects.h"
#include "model/yaml_json.h"
#include "net/http_client.h"

namespace causeway::cli {

using Json = nlohmann::json;

// Payload on a 409 status: the hub's current object (JSON text), when sent.
inline constexpr std::string_view kCurrentObjectPayload = "causeway.dev/cli-current";

// Maps an HTTP status and the hub's error body to a Status:
// 400 InvalidArgument (with the field), 401 Unauthenticated, 403
// PermissionDenied, 404 NotFound, 409 FailedPrecondition (with the current
// object), 5xx Unavailable/Internal.
absl::Status HubError(int http_status, const std::string& body);

class HubClient {
 public:
  static absl::StatusOr<std::unique_ptr<HubClient>> Create(const Connection& connection);

  absl::StatusOr<Json> Get(const std::string& path);
  absl::StatusOr<Json> Post(const std::string& path, const Json& body);
  absl::StatusOr<Json> Put(const std::string& path, const Json& body);
  absl::StatusOr<Json> Delete(const std::string& path);

  // --- object helpers over the REST paths -------------------------------
  // "/v1/zones/dev-local/routes/api"; "/v1/zones/dev-local" for a Zone.
  static std::string ObjectPath(const model::ObjectKey& key);
  // "/v1/zones/dev-local/routes" ("/v1/zones" for Zone).
  static std::string CollectionPath(model::Kind kind, const std::string& zone);

  absl::StatusOr<Json> GetObject(const model::ObjectKey& key);
  // Objects of `kind` in `zone`; every zone's when `zone` is empty.
  absl::StatusOr<std::vector<Json>> List(model::Kind kind, const std::string& zone);
  absl::StatusOr<std::vector<std::string>> ZoneNames();

  // POST /v1/apply with `documents` (one atomic write; with `dry_run` the hub
  // only predicts each outcome). The answer: {"revision", "results": [{kind,
  // zone, name, outcome, version}]}.
  // POST /v1/apply: one atomic write. `op` is "apply" (create or update),
  // "create" (none may exist) or "delete" (all must exist).
  absl::StatusOr<Json> Apply(const std::vector<Json>& documents, bool dry_run = false,
                             std::string_view op = "apply");

  const Connection& connection() const { return connection_; }

 private:
  HubClient(Connection connection, std::unique_ptr<HttpClient> http);
  absl::StatusOr<Json> Send(std::string_view method, const std::string& path,
                            const std::optional<Json>& body);

  Connection connection_;
  std::unique_ptr<HttpClient> http_;
};

// The items of a list response: a bare array, or the first array found
// under "items"/the collection name.
std::vector<Json> ListItems(const Json& response);

}  // namespace causeway::cli
