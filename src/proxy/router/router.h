// Route selection over a RouteTable: virtual host by Host, then the first
// route whose path, header and query matchers all match (Envoy semantics).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/codec/http1.h"
#include "proxy/config/proxy_config.h"

namespace causeway::proxy {

// The request attributes routing looks at.
struct RouteRequest {
  std::string_view method;
  std::string_view authority;  // Host header
  std::string_view target;     // path with query string
  const std::vector<http1::Header>* headers = nullptr;
  // Match as if the zone had no intercepts: key routes are passed over, so
  // the request gets what it would have got without a routing key (the
  // fallback of a key-routed request whose laptop cannot answer).
  bool skip_intercept_routes = false;
};

// A key route sends to the cluster "intercept:NAME" (docs/two-way-routing.md).
// Object names cannot hold ':', so no Cluster of a zone is named like that:
// the cluster's name alone marks a key route, and nothing else is needed in
// the configuration to tell one.
inline constexpr std::string_view kInterceptClusterPrefix = "intercept:";

// True if `route` forwards only to intercept clusters.
bool IsInterceptRoute(const Route& route);

// Host lookup precedence (as Envoy): exact, then `*suffix` wildcards longest
// first, then `prefix*` wildcards longest first, then `*`. If nothing matches
// a host carrying a port, the host without its port is tried again.
const VirtualHost* SelectVirtualHost(const RouteTable& table, std::string_view authority);

// The first matching route of `vhost`, or nullptr.
const Route* SelectRoute(const VirtualHost& vhost, const RouteRequest& request);

// Weighted choice among the route's clusters; `random` is any uniform value.
const ClusterTarget* PickCluster(const Route& route, uint64_t random);

// The upstream request target after prefix_rewrite (query string kept).
std::string RewriteTarget(const Route& route, std::string_view target);

// True if `route`'s path specifier matches `target`.
bool PathMatches(const Route& route, std::string_view target);

}  // namespace causeway::proxy
