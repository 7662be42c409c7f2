#include "proxy/server/router_stage.h"

#include "proxy/router/router.h"

namespace causeway::proxy {
namespace {
RouteDecision NoRouteReply(int status, std::string_view body, std::string_view flags,
                           Mutations response_mutations = {}) {
  RouteDecision d;
  d.kind = RouteDecision::Kind::kLocalReply;
  d.status = status;
  d.body = body;
  d.flags = flags;
  d.response_mutations = response_mutations;
  return d;
}
}  // namespace

RouteDecision DecideRoute(const ProxyConfig* config, const ListenerConfig& listener,
                          const http1::RequestHead& request, absl::FunctionRef<uint64_t()> random,
                          bool skip_intercept_routes) {
  const RouteTable* table = config != nullptr ? config->RoutesFor(listener) : nullptr;
  if (table == nullptr)
    return NoRouteReply(404, "no route configuration for this listener\n", "NR");
  const VirtualHost* vhost = SelectVirtualHost(*table, request.host);
  if (vhost == nullptr) {
    return NoRouteReply(404, "no virtual host matches the Host header\n", "NR",
                        {&table->response_headers});
  }
  RouteRequest rr{request.method, request.host, request.target, &request.headers,
                  skip_intercept_routes};
  const Route* route = SelectRoute(*vhost, rr);
  if (route == nullptr) {
    return NoRouteReply(404, "no route matches the request\n", "NR",
                        {&vhost->response_headers, &table->response_headers});
  }
  RouteDecision d;
  d.route = route;
  d.request_mutations = {&route->request_headers, &vhost->request_headers, &table->request_headers};
  d.response_mutations = {&route->response_headers, &vhost->response_headers,
                          &table->response_headers};
  if (route->action == Route::Action::kDirectResponse) {
    d.kind = RouteDecision::Kind::kDirectResponse;
    d.status = static_cast<int>(route->direct_status);
    d.body = route->direct_body;
    return d;
  }
  d.target = PickCluster(*route, random());
  if (d.target != nullptr) {
    d.cluster_name = d.target->name;
    d.cluster = config->FindCluster(d.target->name);
  }
  if (d.cluster == nullptr) {
    d.kind = RouteDecision::Kind::kLocalReply;
    d.status = 503;
    d.body = "cluster not found\n";
    d.flags = "NC";
    return d;
  }
  d.kind = RouteDecision::Kind::kForward;
  return d;
}

}  // namespace causeway::proxy
