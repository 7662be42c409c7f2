// The proxy's admin endpoint (--admin, default 127.0.0.1:9901), in Envoy's
// spirit: /ready, /server_info, /stats, /stats/prometheus, /config_dump,
// /clusters (each endpoint with its requests, errors, open connections and
// requests in flight). Read-only; bind it to loopback.
//
// Against DNS rebinding (a web page whose host name is made to resolve to
// 127.0.0.1 reading the config dump from the developer's browser), every
// request must name this server in its Host header: its address as bound,
// the address the connection reached, localhost, 127.0.0.1 or [::1] (with
// or without the port). Anything else gets 403 with a JSON error.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "net/http_server.h"
#include "nlohmann/json.hpp"

namespace causeway::proxy {

// What the admin pages show; each callback is called per request.
struct AdminSources {
  std::function<bool()> ready;                  // a configuration is serving
  std::function<nlohmann::json()> server_info;  // identity, uptime, state
  std::function<nlohmann::json()> config_dump;  // current xDS resources
  // Clusters, their endpoints and counters; only the cluster named `name`
  // when not empty (/clusters?name=NAME).
  std::function<nlohmann::json(const std::string& name)> clusters;
  std::function<std::map<std::string, double>()> stats;  // name → value
  // /routing_keys: the traces whose routing key this proxy remembers
  // (server/trace_key_memory.h); null: no such page.
  std::function<nlohmann::json()> routing_keys;
};

class AdminServer {
 public:
  AdminServer(std::string address, AdminSources sources);
  absl::Status Start();
  int port() const;
  void Shutdown();

 private:
  http::Handler Guarded(http::Handler handler);

  AdminSources sources_;
  std::string address_;  // as given, "host:port"
  std::unique_ptr<http::HttpServer> server_;
};

// Whether `host` (a Host header) names the admin server listening on
// `bound` ("host:port" as given; port 0 until bound) at `port`, reached at
// `local` ("ip:port" / "[ip]:port" of the connection).
bool AdminHostAllowed(std::string_view host, std::string_view bound, int port,
                      std::string_view local);

// Prometheus text for `stats` (names are sanitised to [a-zA-Z0-9_] and
// prefixed "causeway_proxy_").
std::string PrometheusText(const std::map<std::string, double>& stats);

}  // namespace causeway::proxy
