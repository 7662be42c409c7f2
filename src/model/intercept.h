// Intercept: one developer's claim on a staging service's traffic that
// carries their routing key (docs/two-way-routing.md).
//
// The client writes `cluster`, `key` and `lease_ms`; the hub writes `owner`
// (the token's name) and `expires_at` (now + lease, on every write), and a
// later part of the capability writes `tunnel` once a proxy holds the
// developer's tunnel. All of them live in the stored spec, so reads, the
// change log and watches show them as any other field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace causeway::model {

struct Object;

// Where the developer's requests go: the proxy holding the tunnel and the
// address ("host:port") the zone's other proxies reach it at; `state` and
// `connected_at` say how the tunnel is doing (written by the hub when the
// holder reports the tunnel; empty and 0 when not given).
struct InterceptTunnel {
  std::string proxy;
  std::string address;
  std::string state;            // "", "connected" or "reconnecting"
  int64_t connected_at_ms = 0;  // Unix ms; 0 = not given
  bool operator==(const InterceptTunnel&) const = default;
};

struct Intercept {
  std::string name;
  std::string cluster;  // the staging service's cluster
  std::string key;      // the routing key
  uint32_t lease_ms = 0;
  std::string owner;          // set by the hub: the creating token's name
  int64_t expires_at_ms = 0;  // set by the hub; 0 = not yet
  std::optional<InterceptTunnel> tunnel;
  // Set by the hub: lowercase hex SHA-256 of the routing-key proof of (zone,
  // key, owner), what edge proxies check a `KEY~PROOF` carrier against
  // (docs/two-way-routing.md, "Keys at the edge"). Never the proof itself.
  std::string proof_sha256;
};

inline constexpr uint32_t kDefaultLeaseMs = 30000;
inline constexpr uint32_t kMinLeaseMs = 1000;
inline constexpr uint32_t kMaxLeaseMs = 600000;
// 32: the key goes into the baggage and cookie regexes of the routes, and
// Envoy refuses a regex whose RE2 program is over 100 by default (the
// baggage one measures 59 plus the key's length).
inline constexpr size_t kMaxRoutingKeyLength = 32;

// The carriers of the routing key: a header, a W3C baggage entry, a cookie.
inline constexpr std::string_view kRoutingKeyHeader = "x-causeway-key";
inline constexpr std::string_view kRoutingKeyBaggage = "causeway-key";
inline constexpr std::string_view kRoutingKeyCookie = "causeway-key";

// [A-Za-z0-9._-]{1,32}: safe in a header, a baggage value and a cookie
// without quoting or escaping.
bool IsValidRoutingKey(std::string_view key);

// 64 lowercase hex digits: the form of `proof_sha256`.
bool IsValidProofSha256(std::string_view text);

// Reads an intercept document strictly (errors name the field and value).
// With `allow_metadata`, the object metadata fields are accepted too.
absl::StatusOr<Intercept> ParseIntercept(const nlohmann::json& j, bool allow_metadata);
absl::StatusOr<Intercept> InterceptFromObject(const Object& o);

// Canonical spec: cluster, key, lease_ms, owner, expires_at (RFC 3339 or
// null) and, when set, tunnel and proof_sha256.
nlohmann::json ToSpec(const Intercept& v);

}  // namespace causeway::model
