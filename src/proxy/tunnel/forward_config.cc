#include "proxy/tunnel/forward_config.h"

#include <memory>

#include "proxy/tunnel/upgrade.h"

namespace causeway::proxy::tunnel {
namespace {

Route TunnelRoute(const std::string& name) {
  Route r;
  r.name = "tunnel/" + name;
  r.path = "/";
  HeaderMatch match;
  match.name = std::string(kInterceptHeader);
  match.string.value = name;
  r.headers.push_back(match);
  r.clusters = {ClusterTarget{"tunnel:" + name}};
  r.total_weight = 1;
  r.timeout = std::chrono::milliseconds(0);  // streams (gRPC) last as long as they need
  r.request_headers.remove.push_back(std::string(kInterceptHeader));
  return r;
}

Route NoTunnelRoute() {
  Route r;
  r.name = "no-tunnel";
  r.path = "/";
  r.action = Route::Action::kDirectResponse;
  r.direct_status = 503;
  HeaderMutation::Add fallback;
  fallback.name = std::string(kFallbackHeader);
  fallback.value = "no-tunnel";
  fallback.action = HeaderMutation::Add::Action::kOverwrite;
  r.response_headers.add.push_back(fallback);
  return r;
}

std::shared_ptr<const ClusterConfig> TunnelCluster(const std::string& name,
                                                   const Endpoint& endpoint) {
  auto c = std::make_shared<ClusterConfig>();
  c->name = "tunnel:" + name;
  c->endpoints = {endpoint};
  c->protocol = ClusterConfig::Protocol::kHttp2;
  c->connect_timeout = std::chrono::milliseconds(1000);
  // A tunnel lost (the laptop's process killed) is noticed at the next PING
  // tick; until then a request finds no connection to the laptop. Answered
  // with a fallback signal rather than a plain 503, it goes to staging.
  c->connect_failure_fallback = true;
  return c;
}

}  // namespace

ProxyConfigSnapshot BuildForwardConfig(const ListenerConfig& listener,
                                       const std::map<std::string, Endpoint>& tunnels) {
  auto config = std::make_shared<ProxyConfig>();
  VirtualHost vhost;
  vhost.name = "tunnels";
  vhost.domains = {"*"};
  for (const auto& [name, endpoint] : tunnels) {
    vhost.routes.push_back(TunnelRoute(name));
    config->clusters["tunnel:" + name] = TunnelCluster(name, endpoint);
  }
  vhost.routes.push_back(NoTunnelRoute());
  auto table = std::make_shared<RouteTable>();
  table->name = kForwardListener;
  table->virtual_hosts.push_back(std::move(vhost));
  table->any = 0;
  ListenerConfig l = listener;
  l.name = kForwardListener;
  l.inline_routes = table;
  config->listeners.push_back(std::move(l));
  return config;
}

}  // namespace causeway::proxy::tunnel
