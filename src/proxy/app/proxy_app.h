// causeway-proxy as a program: the data plane, its configuration source (the
// hub over xDS, or a static file of causeway objects) and the admin endpoint,
// until SIGTERM/SIGINT, then a graceful drain. SIGHUP reloads a static file.
#pragma once

#include <chrono>
#include <string>

#include "CLI/CLI.hpp"
#include "proxy/app/routing_key_flags.h"
#include "proxy/app/tunnel_flags.h"
#include "proxy/server/proxy_server.h"

namespace causeway::proxy {

struct ProxyAppOptions {
  std::string xds;             // control plane host:port (xDS mode)
  bool xds_tls = false;        // TLS to the control plane
  std::string xds_ca;          // PEM roots for it ("" = the system's); implies xds_tls
  std::string xds_token;       // bearer token for xDS streams
  std::string xds_token_file;  // ...or a file holding it, read again at every connection
  std::string config_file;     // static mode: YAML/JSON causeway objects
  int config_check_ms = 1000;  // static mode: how often the file is checked
  std::string proxy;           // node.cluster
  std::string zone;            // node.locality.zone
  std::string node_id;         // node.id; default proxy name + host + pid
  // --edge / CAUSEWAY_EDGE: routing keys from outside must carry their proof
  // (server/routing_key_guard.h).
  bool edge = false;
  std::string admin = "127.0.0.1:9901";
  std::string listen_address;  // overrides the listeners' 0.0.0.0 (e.g. a pod or host IP)
  int workers = 0;             // 0: one per usable CPU
  // Downstream connections open at once (0: no limit but file descriptors).
  int64_t max_connections = 0;
  int64_t max_connections_per_listener = 0;
  // Overload actions by memory in use (bytes; 0: off).
  uint64_t overload_disable_keepalive_at = 0;
  uint64_t overload_stop_accepting_at = 0;
  // Scheduling slice of the worker threads; 0: the kernel's.
  int worker_slice_us = static_cast<int>(kDefaultWorkerSlice.count());
  // STRICT_DNS clusters' DNS server, "IPv4:PORT"; empty: the system's resolver.
  std::string dns_server;
  std::string access_log = "-";  // "-" stdout, "off", or a file path
  std::string log_level = "info";
  std::string log_format = "text";
  int drain_seconds = 10;
  RoutingKeyFlags routing_key;  // stamping the routing key (routing_key_flags.h)
  TunnelFlags tunnel;           // holding laptops' tunnels (tunnel_flags.h)
};

// Adds every flag (with its environment variable) to `app`.
void AddProxyFlags(CLI::App& app, ProxyAppOptions* options);

// Runs until a termination signal; returns the process exit code.
int RunProxy(const ProxyAppOptions& options);

}  // namespace causeway::proxy
