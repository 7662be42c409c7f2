// The holder's forward listener, built in memory: a request carrying
// `x-causeway-intercept: NAME` goes, without that header, to the cluster
// of NAME's tunnel (HTTP/2 streams on the laptop's connection); any other
// request, or one for an intercept without a tunnel, is answered 503 with
// `x-causeway-fallback: no-tunnel` and no body, so the forwarding proxy
// sends it to staging.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "proxy/config/proxy_config.h"

namespace causeway::proxy::tunnel {

inline constexpr char kForwardListener[] = "tunnel-forward";

// `tunnels`: the endpoint each live tunnel's connection is pooled under, by
// intercept name.
ProxyConfigSnapshot BuildForwardConfig(const ListenerConfig& listener,
                                       const std::map<std::string, Endpoint>& tunnels);

}  // namespace causeway::proxy::tunnel
