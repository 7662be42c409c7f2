// The causeway object model: zones and the routing objects inside them.
//
// Objects travel as JSON (REST) or YAML (CLI). The hub stores each object as
// its canonical JSON `spec` (the kind-specific fields, defaults filled in) plus
// metadata. The typed structs below are parsed from that spec when code needs
// to reason about an object (references, xDS translation).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "model/cluster_policies.h"
#include "model/intercept.h"
#include "model/tls_settings.h"
#include "nlohmann/json.hpp"

namespace causeway::model {

using Json = nlohmann::json;

// Clusters stay last: a zone is read kind by kind, clusters last
// (xds/config_source.h), and intercepts are ordered among the routing kinds.
enum class Kind { kZone, kProxy, kDomain, kRouteGroup, kRoute, kIntercept, kCluster };
inline constexpr Kind kAllKinds[] = {Kind::kZone,       Kind::kProxy, Kind::kDomain,
                                     Kind::kRouteGroup, Kind::kRoute, Kind::kIntercept,
                                     Kind::kCluster};

// "RouteGroup"
std::string_view KindName(Kind kind);
// "route-groups" (the REST collection segment)
std::string_view KindPath(Kind kind);
// Accepts "RouteGroup", "route-group", "route-groups", "routegroup", "rg"-style
// aliases used by the CLI: kind names, singular/plural paths, case-insensitive.
std::optional<Kind> ParseKind(std::string_view text);

// Identity of an object. Zone objects have zone == name.
struct ObjectKey {
  Kind kind = Kind::kZone;
  std::string zone;
  std::string name;
  auto operator<=>(const ObjectKey&) const = default;
  bool operator==(const ObjectKey&) const = default;
};
std::string KeyString(const ObjectKey& key);  // "Route dev-local/api"

// An object as stored: metadata plus the canonical spec.
struct Object {
  ObjectKey key;
  int64_t version = 0;  // revision of the last write; rendered as a string
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  Json spec = Json::object();  // kind-specific fields only, canonical
};

// The REST/CLI JSON form: {"kind", "name", "zone"?, "version", "created_at",
// "updated_at", ...spec}.
Json ToApiJson(const Object& object);

// --- typed views -----------------------------------------------------------

// A match on one request attribute.
struct Match {
  std::string kind;  // header | cookie | query
  std::string key;
  std::string value;     // unused for behavior "present"
  std::string behavior;  // exact (default) | prefix | suffix | regex | present
};

// A weighted destination; metadata selects a subset of the cluster's instances.
struct Target {
  std::string cluster;
  uint32_t weight = 1;
  std::map<std::string, std::string> metadata;
};

struct Rule {
  std::vector<std::string> methods;  // empty = any
  std::vector<Match> matches;        // all must hold
  std::vector<Target> targets;
};

struct RetryPolicy {
  uint32_t num_retries = 0;
  uint32_t per_try_timeout_ms = 0;  // 0 = none
  uint32_t timeout_ms = 0;          // 0 = none
};

struct Zone {
  std::string name;
  std::string description;
};

struct Proxy {
  std::string name;
  std::vector<std::string> domains;  // "host:port" domain names
};

struct Domain {
  std::string host;
  uint32_t port = 0;
  std::vector<std::string> aliases;  // "*.x", "x.*", exact
  // The proxy terminates TLS for this domain (absent: clear text only).
  std::optional<DownstreamTls> tls;
  std::string Name() const { return host + ":" + std::to_string(port); }
};

struct RouteGroup {
  std::string name;
  std::vector<Target> default_targets;  // JSON field "default"
  std::vector<Rule> rules;
  std::optional<RetryPolicy> retry_policy;
};

struct Route {
  std::string name;
  std::string domain;  // "host:port"
  std::string path;    // prefix, starts with "/"
  std::string route_group;
  std::vector<Rule> rules;  // tried before the group's rules
  std::optional<RetryPolicy> retry_policy;
  uint32_t timeout_ms = 0;  // 0 = none
};

inline constexpr uint32_t kMaxInstanceWeight = 128;

struct Instance {
  std::string host;
  uint32_t port = 0;
  std::map<std::string, std::string> metadata;
  // Share of the cluster's traffic relative to the other instances (Envoy's
  // LbEndpoint.load_balancing_weight): 1..kMaxInstanceWeight, default 1.
  uint32_t weight = 1;
  auto operator<=>(const Instance&) const = default;
  bool operator==(const Instance&) const = default;
};

struct Cluster {
  std::string name;
  std::vector<Instance> instances;
  // Absent unless the spec says them (then they are omitted when serialized).
  std::optional<HealthCheck> health_check;
  std::optional<OutlierDetection> outlier_detection;
  std::optional<CircuitBreakers> circuit_breakers;
  // How the proxy speaks to the instances; kAuto requires tls.
  ClusterProtocol protocol = ClusterProtocol::kHttp1;
  std::optional<UpstreamTls> tls;
};

// Typed views of a stored object (spec assumed canonical; errors name the field).
absl::StatusOr<Zone> ZoneFromObject(const Object& o);
absl::StatusOr<Proxy> ProxyFromObject(const Object& o);
absl::StatusOr<Domain> DomainFromObject(const Object& o);
absl::StatusOr<RouteGroup> RouteGroupFromObject(const Object& o);
absl::StatusOr<Route> RouteFromObject(const Object& o);
absl::StatusOr<Cluster> ClusterFromObject(const Object& o);

// Typed → canonical spec JSON.
Json ToSpec(const Zone& v);
Json ToSpec(const Proxy& v);
Json ToSpec(const Domain& v);
Json ToSpec(const RouteGroup& v);
Json ToSpec(const Route& v);
Json ToSpec(const Cluster& v);
Json InstancesToJson(const std::vector<Instance>& instances);
absl::StatusOr<std::vector<Instance>> InstancesFromJson(
    const Json& j);  // field errors "instances[i].x"

// --- parsing user input ----------------------------------------------------

// The result of parsing a user-supplied document of a known kind.
struct ParsedObject {
  ObjectKey key;
  Json spec;                       // canonical
  std::optional<int64_t> version;  // "version" if given (string or integer)
};

// Parses and validates an API/CLI document for `kind`. Metadata fields
// ("kind", "name", "zone", "version", "created_at", "updated_at") are
// accepted; any other unknown field, a wrong type, a bad name or a bad value
// is an InvalidArgument naming the field (see common/status.h FieldError).
// `zone`/`name`, when non-empty, come from the URL and must agree with the
// body when the body also says them.
absl::StatusOr<ParsedObject> ParseObject(Kind kind, const Json& body, std::string_view zone,
                                         std::string_view name);

// Like ParseObject, but the kind comes from the document's "kind" field.
absl::StatusOr<ParsedObject> ParseAnyObject(const Json& body);

// Object names: [a-z0-9]([a-z0-9.-]*[a-z0-9])?, at most 253 characters.
bool IsValidName(std::string_view name);
// Domain names "host:port" (host is a DNS name, possibly with a leading "*."
// or trailing ".*" in aliases only; port 1..65535).
bool IsValidDomainName(std::string_view name);
// A host name: lowercase DNS labels separated by dots, or an IPv4 address.
bool IsValidHost(std::string_view host);

// A reference from one object to another in the same zone.
struct Reference {
  ObjectKey target;
  std::string field;  // e.g. "rules[0].targets[1].cluster"
};
// Every object `spec` (of `key.kind`) refers to; all in key.zone. A zone's
// children are not references (they are checked separately).
std::vector<Reference> ReferencesOf(const ObjectKey& key, const Json& spec);

}  // namespace causeway::model
