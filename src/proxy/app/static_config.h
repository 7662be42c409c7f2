// Static mode: a file of causeway objects (the same YAML `causeway apply`
// takes), translated into Envoy resources with the hub's own translation, so a
// proxy can run with no hub at all.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "proxy/xds_client/resources.h"

namespace causeway::proxy {

// Reads `path` and returns what proxy `proxy_name` in the file's zone would
// be served. Errors name the file, the document and the field.
absl::StatusOr<XdsResources> LoadStaticConfig(const std::string& path,
                                              const std::string& proxy_name);

}  // namespace causeway::proxy
