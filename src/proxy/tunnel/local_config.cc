#include "proxy/tunnel/local_config.h"

#include <cctype>
#include <chrono>
#include <memory>

#include "absl/strings/numbers.h"
#include "common/strings.h"

namespace causeway::proxy::tunnel {
namespace {

std::shared_ptr<const ClusterConfig> LocalCluster(const std::string& name, const Endpoint& to,
                                                  ClusterConfig::Protocol protocol) {
  auto c = std::make_shared<ClusterConfig>();
  c->name = name;
  c->endpoints = {to};
  c->protocol = protocol;
  c->connect_timeout = std::chrono::milliseconds(2000);
  // The local service not running: staging serves the request instead.
  c->connect_failure_fallback = true;
  // A host name is resolved when connecting.
  if (!to.address.empty() && !std::isdigit(static_cast<unsigned char>(to.address[0]))) {
    c->discovery = ClusterConfig::Discovery::kLogicalDns;
  }
  return c;
}

Route ToCluster(const std::string& name, const std::string& cluster) {
  Route r;
  r.name = name;
  r.path = "/";
  r.clusters = {ClusterTarget{cluster}};
  r.total_weight = 1;
  // The holder bounds the wait for a response head; a stream (gRPC, a
  // download) may last as long as it needs.
  r.timeout = std::chrono::milliseconds(0);
  return r;
}

}  // namespace

absl::Status SplitHostPort(const std::string& what, const std::string& value, std::string* host,
                           uint16_t* port, bool allow_zero) {
  const size_t colon = value.rfind(':');
  uint32_t p = 0;
  if (colon == std::string::npos || colon == 0 || !absl::SimpleAtoi(value.substr(colon + 1), &p) ||
      (p == 0 && !allow_zero) || p > 65535) {
    return absl::InvalidArgumentError(
        StrCat(what, ": \"", value, "\" is not host:port (a port from 1 to 65535)"));
  }
  *host = value.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  *port = static_cast<uint16_t>(p);
  return absl::OkStatus();
}

absl::StatusOr<ProxyConfigSnapshot> BuildLaptopConfig(const std::string& to, bool http2_always) {
  Endpoint endpoint;
  absl::Status split = SplitHostPort("to", to, &endpoint.address, &endpoint.port);
  if (!split.ok()) return split;
  auto config = std::make_shared<ProxyConfig>();
  config->clusters["local"] = LocalCluster("local", endpoint, ClusterConfig::Protocol::kHttp1);
  config->clusters["local-h2"] =
      LocalCluster("local-h2", endpoint, ClusterConfig::Protocol::kHttp2);

  VirtualHost vhost;
  vhost.name = "local";
  vhost.domains = {"*"};
  if (!http2_always) {
    Route grpc = ToCluster("grpc", "local-h2");
    HeaderMatch content_type;
    content_type.name = "content-type";
    content_type.string.kind = StringMatch::Kind::kPrefix;
    content_type.string.value = "application/grpc";
    grpc.headers.push_back(content_type);
    vhost.routes.push_back(std::move(grpc));
  }
  vhost.routes.push_back(ToCluster("all", http2_always ? "local-h2" : "local"));
  auto table = std::make_shared<RouteTable>();
  table->name = "tunnel";
  table->virtual_hosts.push_back(std::move(vhost));
  table->any = 0;

  ListenerConfig listener;
  listener.name = kLaptopListener;
  listener.address = "127.0.0.1";
  listener.inline_routes = table;
  // The holder keeps the tunnel alive with PINGs; a tunnel without
  // requests is not idle.
  listener.idle_timeout = std::chrono::hours(24 * 365);
  config->listeners.push_back(std::move(listener));
  return ProxyConfigSnapshot(std::move(config));
}

}  // namespace causeway::proxy::tunnel
