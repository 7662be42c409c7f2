// The routing-key guard's configuration (docs/two-way-routing.md, "Keys at
// the edge"): an HTTP filter of the listener's connection manager, a
// TypedStruct the hub sends edge proxies, holding for each routing key the
// SHA-256 (lowercase hex) of the proofs that unlock it.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"

namespace causeway::proxy {

// The TypedStruct's type_url (the hub's xds/translate_edge.h says the same;
// proxy_config_test checks that they agree).
inline constexpr std::string_view kRoutingKeyGuardTypeUrl =
    "type.googleapis.com/causeway.filters.http.RoutingKeyGuard";

struct RoutingKeyTable {
  // routing key -> proof hashes
  absl::flat_hash_map<std::string, std::vector<std::string>> hashes;
};

// Whether `filter` is the guard (its typed_config a TypedStruct of the
// guard's type_url).
bool IsRoutingKeyGuardFilter(
    const envoy::extensions::filters::network::http_connection_manager::v3::HttpFilter& filter);

// The table of the connection manager's guard filter, nullptr when it has
// none. Errors name `where` and the field: {"keys": {KEY: [HASH, ...]}},
// keys routing keys, hashes 64 lowercase hex digits, nothing else.
absl::StatusOr<std::shared_ptr<const RoutingKeyTable>> BuildRoutingKeyGuard(
    const envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager&
        hcm,
    const std::string& where);

}  // namespace causeway::proxy
