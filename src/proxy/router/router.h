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
};

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
