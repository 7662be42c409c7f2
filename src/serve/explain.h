// Route explain: where one request would go on one proxy, worked out with the
// code the real paths run. The zone's objects are translated for the proxy by
// xds::TranslateProxy (what the xDS server sends it), the proxy's own
// BuildConfig turns those resources into its routing table, and the proxy's
// router (SelectVirtualHost, SelectRoute) picks the virtual host and route.
// The chosen Envoy route is mapped back to the causeway Route and rule through
// the translation's route names ("ROUTE/rules/I", "ROUTE/GROUP/rules/I",
// "ROUTE/default", see xds/translate.h).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "model/objects.h"

namespace causeway::serve {

struct ExplainRequest {
  std::string host;  // the Host header, "name" or "name:port"
  std::string path;  // path with query string, starts with '/'
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;  // in order
  std::map<std::string, std::string> cookies;                // sent as one Cookie header
};

// Reads {"host", "path", "method"?, "headers"?: {k: v}, "cookies"?: {k: v}}
// or {"curl": "curl ..."} (explain_curl.h). InvalidArgument naming the field.
absl::StatusOr<ExplainRequest> ParseExplainRequest(const model::Json& body);

// The answer (docs/api.md, "Route explain"): {"listener", "domain",
// "virtual_host", "route", "route_group", "rule", "rule_of", "envoy_route",
// "cluster", "clusters": [{name, weight, metadata, instances}], "instances",
// "reason"}. NotFound says what did not match (listener, domain or route);
// FailedPrecondition when the proxy's configuration does not translate or
// build (the message is the translation's or the proxy's error).
absl::StatusOr<model::Json> Explain(const std::vector<model::Object>& zone_objects,
                                    std::string_view proxy, const ExplainRequest& request);

}  // namespace causeway::serve
