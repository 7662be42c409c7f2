// The proxy's admin endpoint (--admin, default 127.0.0.1:9901), in Envoy's
// spirit: /ready, /server_info, /stats, /stats/prometheus, /config_dump,
// /clusters (each endpoint with its requests, errors, open connections and
// requests in flight). Read-only; bind it to loopback.
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
};

class AdminServer {
 public:
  AdminServer(std::string address, AdminSources sources);
  absl::Status Start();
  int port() const;
  void Shutdown();

 private:
  AdminSources sources_;
  std::unique_ptr<http::HttpServer> server_;
};

// Prometheus text for `stats` (names are sanitised to [a-zA-Z0-9_] and
// prefixed "causeway_proxy_").
std::string PrometheusText(const std::map<std::string, double>& stats);

}  // namespace causeway::proxy
