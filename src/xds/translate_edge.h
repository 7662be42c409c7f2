// Edge proxies: listeners that carry the zone's routing-key proof table
// (docs/two-way-routing.md, "Keys at the edge").
//
// A proxy that says in its node metadata that it is an edge
// ("causeway.edge": true) is served its listeners with one more HTTP filter
// before the router: causeway's routing-key guard, a TypedStruct holding for
// each routing key of the zone's intercepts the SHA-256 of its proof (never
// the proof). causeway-proxy implements it; Envoy knows no such filter and
// NACKs the listener, which fails closed: an edge that cannot check keys
// must not pass them.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "envoy/config/listener/v3/listener.pb.h"
#include "model/objects.h"

namespace causeway::xds {

inline constexpr std::string_view kRoutingKeyGuardFilterName =
    "causeway.filters.http.routing_key_guard";
// The TypedStruct's type_url: what the proxy recognises the filter by.
inline constexpr std::string_view kRoutingKeyGuardTypeUrl =
    "type.googleapis.com/causeway.filters.http.RoutingKeyGuard";
// The node metadata field that makes a proxy an edge.
inline constexpr std::string_view kEdgeNodeMetadataField = "causeway.edge";

// Routing key -> the proof hashes (lowercase hex SHA-256) that unlock it,
// sorted. One key normally has one hash (one owner per key); two while an
// expired intercept of a former owner waits for the sweep.
using EdgeKeyTable = std::map<std::string, std::vector<std::string>, std::less<>>;

// The table of a zone's intercepts (objects of other kinds are skipped, as
// are intercepts the hub has not stamped with a proof hash).
EdgeKeyTable EdgeKeysOf(const std::vector<model::Object>& objects);

// `listener` with the guard filter holding `table` inserted before the last
// (router) filter of each of its HTTP connection managers.
envoy::config::listener::v3::Listener WithRoutingKeyGuard(
    const envoy::config::listener::v3::Listener& listener, const EdgeKeyTable& table);

}  // namespace causeway::xds
