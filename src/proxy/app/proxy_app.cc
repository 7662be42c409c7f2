#include "proxy/app/proxy_app.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/logging.h"
#include "common/strings.h"
#include "proxy/app/admin.h"
#include "proxy/app/allocator.h"
#include "proxy/app/cluster_policy_state.h"
#include "proxy/app/overload_monitor.h"
#include "proxy/app/static_config_watcher.h"
#include "proxy/config/build_config.h"
#include "proxy/server/access_log.h"
#include "proxy/server/proxy_server.h"
#include "proxy/upstream/dns_lookup.h"
#include "proxy/upstream/outlier_detector.h"
#include "proxy/xds_client/xds_client.h"
#include "spdlog/spdlog.h"

namespace causeway::proxy {

// How often the main thread flushes the access log (under Envoy's 1 s
// file_flush_interval, so tests and `tail -f` see a request sooner) and
// reads the memory in use for the overload actions.
constexpr std::chrono::milliseconds kHousekeepingTick{200};
namespace {

template <typename Map, typename Message>
void AddAll(const Map& map, std::vector<const Message*>& out) {
  out.reserve(map.size());
  for (const auto& [name, held] : map) out.push_back(held.get());
}

// The resources currently serving, for the admin pages.
class Current {
 public:
  void Set(const XdsResources& r) {
    absl::MutexLock lock(&mu_);
    resources_ = r;
    applied_ = true;
  }
  bool applied() const {
    absl::MutexLock lock(&mu_);
    return applied_;
  }
  // Each cluster's endpoints with their counters ("host:port" as in the
  // access log; counters zero for endpoints no request has used yet).
  nlohmann::json Clusters(
      const std::map<std::pair<std::string, std::string>, EndpointStatsRegistry::Values>& stats,
      const std::string& only) const {
    absl::MutexLock lock(&mu_);
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [name, held] : resources_.clusters) {
      if (!only.empty() && name != only) continue;
      const auto& cluster = *held;
      nlohmann::json endpoints = nlohmann::json::array();
      std::string service =
          cluster.has_eds_cluster_config() && !cluster.eds_cluster_config().service_name().empty()
              ? cluster.eds_cluster_config().service_name()
              : name;
      auto it = resources_.endpoints.find(service);
      if (it != resources_.endpoints.end()) {
        for (const auto& locality : it->second->endpoints()) {
          for (const auto& lb : locality.lb_endpoints()) {
            const auto& address = lb.endpoint().address().socket_address();
            const std::string& host = address.address();
            std::string key = host.find(':') != std::string::npos
                                  ? StrCat("[", host, "]:", address.port_value())
                                  : StrCat(host, ":", address.port_value());
            EndpointStatsRegistry::Values v;
            if (auto found = stats.find({name, key}); found != stats.end()) v = found->second;
            endpoints.push_back({{"address", key},
                                 {"requests", v.requests},
                                 {"errors", v.errors},
                                 {"active_connections", v.active_connections},
                                 {"active_requests", v.active_requests}});
          }
        }
      }
      out.push_back({{"name", name}, {"endpoints", endpoints}});
      AddPolicyConfig(cluster, out.back());
    }
    return out;
  }

 private:
  mutable absl::Mutex mu_;
  XdsResources resources_ ABSL_GUARDED_BY(mu_);
  bool applied_ ABSL_GUARDED_BY(mu_) = false;
};

// Each endpoint's active health check on the /clusters page: "pending"
// until its first check, then "healthy" or "unhealthy", with why the last
// failed check failed.
void AddHealthChecks(const std::map<std::pair<std::string, std::string>, EndpointHealth>& health,
                     nlohmann::json& clusters) {
  for (nlohmann::json& cluster : clusters) {
    for (nlohmann::json& endpoint : cluster["endpoints"]) {
      auto it =
          health.find({cluster["name"].get<std::string>(), endpoint["address"].get<std::string>()});
      if (it == health.end()) continue;
      const EndpointHealth& h = it->second;
      endpoint["health_check"] = {{"state", !h.checked  ? "pending"
                                            : h.healthy ? "healthy"
                                                        : "unhealthy"},
                                  {"last_failure", h.last_failure}};
    }
  }
}

std::string DefaultNodeId(const std::string& proxy) {
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  return StrCat(proxy, "-", host, "-", static_cast<int>(::getpid()));
}

}  // namespace

void AddProxyFlags(CLI::App& app, ProxyAppOptions* o) {
  app.add_option("--xds", o->xds, "Control plane (the hub's --xds) host:port")
      ->envname("CAUSEWAY_XDS");
  app.add_flag("--xds-tls", o->xds_tls,
               "Dial the control plane over TLS (verified against --xds-ca, or the system's "
               "roots)")
      ->envname("CAUSEWAY_XDS_TLS");
  app.add_flag("--edge", o->edge,
               "This proxy is staging's edge: a routing key from outside (x-causeway-key, "
               "baggage causeway-key, cookie causeway-key) counts only as KEY~PROOF with the "
               "proof its owner got from the hub, and is removed otherwise")
      ->envname("CAUSEWAY_EDGE");
  app.add_option("--xds-ca", o->xds_ca,
                 "PEM file of the CA that signed the control plane's certificate (implies "
                 "--xds-tls)")
      ->envname("CAUSEWAY_XDS_CA");
  app.add_option("--xds-token", o->xds_token,
                 "Token sent as \"authorization: Bearer TOKEN\" on xDS streams (a proxy or agent "
                 "token of this zone); prefer the environment variable or --xds-token-file, since "
                 "a command line is visible to other users")
      ->envname("CAUSEWAY_XDS_TOKEN");
  app.add_option("--xds-token-file", o->xds_token_file,
                 "File holding the xDS token, read before every connection and checked every "
                 "second: a new token in it replaces the stream at once")
      ->envname("CAUSEWAY_XDS_TOKEN_FILE");
  app.add_option("--config", o->config_file,
                 "Static mode: a YAML/JSON file of causeway objects instead of a control plane")
      ->envname("CAUSEWAY_CONFIG");
  app.add_option("--config-check-ms", o->config_check_ms,
                 "Static mode: how often the --config file is checked for a change (SIGHUP "
                 "reloads at once)")
      ->envname("CAUSEWAY_CONFIG_CHECK_MS")
      ->check(CLI::Range(10, 3600000))
      ->capture_default_str();
  app.add_option("--proxy", o->proxy, "This proxy's name (node.cluster)")
      ->envname("CAUSEWAY_PROXY");
  app.add_option("--zone", o->zone, "This proxy's zone (node.locality.zone)")
      ->envname("CAUSEWAY_ZONE");
  app.add_option("--node-id", o->node_id, "This instance's id (node.id); default NAME-HOST-PID")
      ->envname("CAUSEWAY_NODE_ID");
  app.add_option("--admin", o->admin, "Admin endpoint address")
      ->envname("CAUSEWAY_ADMIN")
      ->capture_default_str();
  app.add_option(
         "--listen-address", o->listen_address,
         "Bind listeners to this IP instead of the configured 0.0.0.0 (a pod or host address)")
      ->envname("CAUSEWAY_LISTEN_ADDRESS");
  app.add_option(
         "--workers", o->workers,
         "Worker threads, each with its own event loop (0 = one per CPU this process may run on)")
      ->envname("CAUSEWAY_WORKERS")
      ->capture_default_str();
  app.add_option("--max-connections", o->max_connections,
                 "Downstream connections open at once in the whole proxy; beyond, a new "
                 "connection is reset as soon as it is accepted and the open ones are served on "
                 "(0: no limit but file descriptors)")
      ->envname("CAUSEWAY_MAX_CONNECTIONS")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--max-connections-per-listener", o->max_connections_per_listener,
                 "The same limit for each listener (0: none)")
      ->envname("CAUSEWAY_MAX_CONNECTIONS_PER_LISTENER")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--overload-disable-keepalive-at", o->overload_disable_keepalive_at,
                 "Memory in use (bytes: the allocator's figure, else the resident set) at which "
                 "responses close their connections, so idle keep-alive connections stop holding "
                 "memory (Envoy's disable_http_keepalive overload action; 0: off)")
      ->envname("CAUSEWAY_OVERLOAD_DISABLE_KEEPALIVE_AT")
      ->capture_default_str();
  app.add_option("--overload-stop-accepting-at", o->overload_stop_accepting_at,
                 "Memory in use (bytes) at which new connections are no longer accepted; they "
                 "wait in the kernel's queue while the open ones are served "
                 "(stop_accepting_connections; 0: off)")
      ->envname("CAUSEWAY_OVERLOAD_STOP_ACCEPTING_AT")
      ->capture_default_str();
  app.add_option("--worker-slice-us", o->worker_slice_us,
                 "Scheduling slice the worker threads ask for, in microseconds (Linux 6.12 and "
                 "later): a short one lets a worker woken by a request run before busier "
                 "processes; 0 keeps the kernel's")
      ->envname("CAUSEWAY_WORKER_SLICE_US")
      ->check(CLI::Validator(
          [](const std::string& value) -> std::string {
            int us = std::atoi(value.c_str());
            if (us == 0 || (us >= 100 && us <= 100000)) return {};
            return "must be 0 or between 100 and 100000 (the kernel's range), got " + value;
          },
          "0 or 100..100000"))
      ->capture_default_str();
  app.add_option("--dns-server", o->dns_server,
                 "IPv4:PORT of the DNS server that STRICT_DNS clusters' host names are looked up "
                 "on (A and AAAA, again every dns_refresh_rate); default: the system's resolver")
      ->envname("CAUSEWAY_DNS_SERVER")
      ->check(CLI::Validator(
          [](const std::string& value) -> std::string {
            std::string ip;
            int port = 0;
            absl::Status s = ParseDnsServer(value, &ip, &port);
            return s.ok() ? std::string() : std::string(s.message());
          },
          "IPv4:PORT"));
  app.add_option("--access-log", o->access_log, "JSON access log: - (stdout), off, or a file path")
      ->envname("CAUSEWAY_ACCESS_LOG")
      ->capture_default_str();
  app.add_option("--log-level", o->log_level, "trace, debug, info, warn, error")
      ->capture_default_str();
  app.add_option("--log-format", o->log_format, "text or json")->capture_default_str();
  app.add_option("--drain-seconds", o->drain_seconds,
                 "On SIGTERM, how long requests in flight may finish")
      ->capture_default_str();
  AddRoutingKeyFlags(app, &o->routing_key);
  AddTunnelFlags(app, &o->tunnel);
}

int RunProxy(const ProxyAppOptions& options) {
  SetupLogging(options.log_format == "json" ? LogFormat::kJson : LogFormat::kText,
               options.log_level);
  if (options.proxy.empty()) {
    std::fprintf(stderr, "causeway-proxy: --proxy (or CAUSEWAY_PROXY) is required\n");
    return 2;
  }
  if (options.xds.empty() == options.config_file.empty()) {
    std::fprintf(stderr, "causeway-proxy: give exactly one of --xds HOST:PORT and --config FILE\n");
    return 2;
  }
  if (!options.xds.empty() && options.zone.empty()) {
    std::fprintf(stderr, "causeway-proxy: --zone (or CAUSEWAY_ZONE) is required with --xds\n");
    return 2;
  }

  std::FILE* log_file = nullptr;
  std::unique_ptr<StreamAccessLog> access_log;
  if (options.access_log == "-") {
    access_log = std::make_unique<StreamAccessLog>(stdout);
  } else if (options.access_log != "off" && !options.access_log.empty()) {
    log_file = std::fopen(options.access_log.c_str(), "a");
    if (log_file == nullptr) {
      std::fprintf(stderr, "causeway-proxy: --access-log %s: cannot open for appending\n",
                   options.access_log.c_str());
      return 2;
    }
    access_log = std::make_unique<StreamAccessLog>(log_file);
  }

  // Termination signals are blocked in every thread (the ones started below
  // inherit the mask) and taken synchronously by sigwait at the end.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGHUP);  // static mode: reload the file
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  RoutingKeyStamper key_stamper(StamperOptions(options.routing_key), RealTime::Instance());
  ProxyServer server({.workers = options.workers,
                      .access_log = access_log.get(),
                      .worker_slice = std::chrono::microseconds(options.worker_slice_us),
                      .dns_server = options.dns_server,
                      .max_connections = options.max_connections,
                      .max_connections_per_listener = options.max_connections_per_listener,
                      .key_stamper = &key_stamper});
  server.set_edge(options.edge);
  if (auto s = server.Start(); !s.ok()) {
    spdlog::error("proxy: cannot start: {}", std::string(s.message()));
    return 1;
  }
  absl::StatusOr<std::unique_ptr<tunnel::TunnelHolder>> tunnel_holder = StartTunnelHolder(
      options.tunnel, options.proxy, options.xds_token, options.xds_token_file, access_log.get());
  if (!tunnel_holder.ok()) {
    spdlog::error("proxy: {}", std::string(tunnel_holder.status().message()));
    server.Stop();
    return 2;
  }
  OverloadMonitor overload({.disable_keepalive_at = options.overload_disable_keepalive_at,
                            .stop_accepting_at = options.overload_stop_accepting_at},
                           &server.overload());
  if (overload.enabled()) overload.Update(OverloadMonitor::MemoryInUse());
  Current current;
  const auto started = std::chrono::steady_clock::now();

  // Applying a set: build the snapshot first (validation), then swap. A
  // failure changes nothing and becomes the NACK's error_detail.
  auto apply = [&](const XdsResources& r) -> absl::Status {
    ConfigInput input;
    std::vector<envoy::config::listener::v3::Listener> rebound;  // --listen-address copies
    if (options.listen_address.empty()) {
      AddAll(r.listeners, input.listeners);
    } else {
      rebound.reserve(r.listeners.size());
      for (const auto& [name, held] : r.listeners) {
        auto& l = rebound.emplace_back(*held);
        if (l.has_address() && l.address().has_socket_address()) {
          l.mutable_address()->mutable_socket_address()->set_address(options.listen_address);
        }
        input.listeners.push_back(&l);
      }
    }
    AddAll(r.routes, input.routes);
    AddAll(r.clusters, input.clusters);
    AddAll(r.endpoints, input.endpoints);
    auto snapshot = BuildConfig(input);
    if (!snapshot.ok()) return snapshot.status();
    if (auto s = server.UpdateConfig(*snapshot); !s.ok()) return s;
    current.Set(r);
    spdlog::info(
        "proxy: configuration applied: {} listeners, {} route configs, {} clusters, {} endpoint "
        "sets",
        r.listeners.size(), r.routes.size(), r.clusters.size(), r.endpoints.size());
    return absl::OkStatus();
  };

  // Decided once: the hub's status and /server_info must name the same node.
  const std::string node_id =
      options.node_id.empty() ? DefaultNodeId(options.proxy) : options.node_id;
  std::unique_ptr<XdsClient> client;
  std::unique_ptr<StaticConfigWatcher> watcher;
  if (!options.config_file.empty()) {
    watcher =
        std::make_unique<StaticConfigWatcher>(options.config_file, options.proxy, apply,
                                              std::chrono::milliseconds(options.config_check_ms));
    if (auto s = watcher->LoadFirst(); !s.ok()) {
      std::fprintf(stderr, "causeway-proxy: %s\n", std::string(s.message()).c_str());
      return 2;
    }
    watcher->Start();
    spdlog::info("proxy: {} from {} (checked every {} ms; SIGHUP reloads)", options.proxy,
                 options.config_file, options.config_check_ms);
  } else {
    XdsClient::Options xo;
    xo.server = options.xds;
    xo.proxy_name = options.proxy;
    xo.zone = options.zone;
    xo.node_id = node_id;
    xo.edge = options.edge;
    xo.tls = options.xds_tls || !options.xds_ca.empty();
    xo.ca_file = options.xds_ca;
    xo.token = options.xds_token;
    xo.token_file = options.xds_token_file;
    if (auto s = XdsClient::CheckOptions(xo); !s.ok()) {
      std::fprintf(stderr, "causeway-proxy: %s\n", std::string(s.message()).c_str());
      return 2;
    }
    if (!xo.tls && (!xo.token.empty() || !xo.token_file.empty())) {
      spdlog::warn("proxy: the xDS token goes to {} without TLS (--xds-tls)", options.xds);
    }
    client = std::make_unique<XdsClient>(xo, apply);
    client->Start();
    spdlog::info("proxy: {} in zone {} (node {}) following {}{}{}", options.proxy, options.zone,
                 xo.node_id, options.xds, xo.tls ? " over TLS" : "",
                 xo.token.empty() && xo.token_file.empty() ? "" : " with a token");
  }

  AdminSources sources;
  sources.ready = [&] { return current.applied(); };
  sources.server_info = [&] {
    return nlohmann::json{
        {"proxy", options.proxy},
        {"zone", options.zone},
        {"node_id", node_id},
        {"mode", options.config_file.empty() ? "xds" : "static"},
        {"state", current.applied() ? "LIVE" : "INITIALIZING"},
        {"uptime_seconds", std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::steady_clock::now() - started)
                               .count()},
        {"workers", server.workers()},
        {"worker_slice_us", options.worker_slice_us},
        {"dns_server", options.dns_server.empty() ? "system" : options.dns_server},
        {"allocator", AllocatorName()}};
  };
  sources.config_dump = [&] {
    if (client) return client->ConfigDump();
    return watcher->Dump();
  };
  sources.clusters = [&](const std::string& name) {
    nlohmann::json clusters = current.Clusters(server.EndpointStats(), name);
    AddHealthChecks(server.health_checker().Endpoints(), clusters);
    AddPolicyState(server.ClusterStatsByName(), server.EndpointStats(),
                   OutlierNowMs(RealTime::Instance()), clusters);
    return clusters;
  };
  sources.stats = [&] {
    std::map<std::string, double> s = AllocatorStats();
    s["downstream_connections_active"] = static_cast<double>(server.ActiveConnections());
    s["downstream_requests_total"] = static_cast<double>(server.RequestsTotal());
    s["downstream_requests_active"] = static_cast<double>(server.RequestsInProgress());
    for (const auto& [name, value] : server.Counters()) s[name] = static_cast<double>(value);
    overload.AddStats(&s);
    AddRoutingKeyStats(key_stamper, &s);
    AddPolicyStats(server.ClusterStatsByName(), OutlierNowMs(RealTime::Instance()), s);
    ProxyServer::DnsCounters dns = server.DnsStats();
    s["dns_lookups_total"] = static_cast<double>(dns.lookups);
    s["dns_failures_total"] = static_cast<double>(dns.failures);
    for (const auto& [cluster, hc] : server.health_checker().ClusterCounters()) {
      const std::string prefix = StrCat("cluster.", cluster, ".health_check.");  // Envoy's names
      s[prefix + "attempt"] = static_cast<double>(hc.attempt);
      s[prefix + "success"] = static_cast<double>(hc.success);
      s[prefix + "failure"] = static_cast<double>(hc.failure);
      s[prefix + "healthy"] = static_cast<double>(hc.healthy);
    }
    if (client) {
      XdsClient::Stats x = client->stats();
      s["xds_connected"] = x.connected ? 1 : 0;
      s["xds_connects_total"] = static_cast<double>(x.connects);
      s["xds_updates_accepted_total"] = static_cast<double>(x.updates_accepted);
      s["xds_updates_rejected_total"] = static_cast<double>(x.updates_rejected);
      s["xds_auth_refusals_total"] = static_cast<double>(x.auth_refusals);
    }
    if (watcher) {
      s["static_config_loads_total"] = static_cast<double>(watcher->loads());
      s["static_config_failures_total"] = static_cast<double>(watcher->failures());
    }
    return s;
  };
  sources.routing_keys = [&] { return RoutingKeysPage(key_stamper); };
  AdminServer admin(options.admin, sources);
  if (auto s = admin.Start(); !s.ok()) {
    spdlog::error("proxy: admin {}: {}", options.admin, std::string(s.message()));
    return 1;
  }
  spdlog::info("proxy: admin on {}", options.admin);

  int signal_number = 0;
  while (true) {
    // Woken every tick to flush the access log and read the memory in use
    // for the overload actions, else by a signal.
    const timespec tick = {0, kHousekeepingTick.count() * 1000000};
    signal_number = sigtimedwait(&stop_signals, nullptr, &tick);
    if (signal_number < 0) {
      if (access_log) access_log->Flush();
      if (overload.enabled()) overload.Update(OverloadMonitor::MemoryInUse());
      continue;
    }
    if (signal_number != SIGHUP) break;
    if (watcher) {
      watcher->Reload();
    } else {
      spdlog::info("proxy: SIGHUP ignored: the configuration comes from {} over xDS", options.xds);
    }
  }
  spdlog::info("proxy: {} received", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");

  spdlog::info("proxy: draining (up to {}s)", options.drain_seconds);
  bool drained = server.Drain(std::chrono::seconds(options.drain_seconds));
  if (client) client->Stop();
  if (watcher) watcher->Stop();
  if (*tunnel_holder) (*tunnel_holder)->Stop();
  admin.Shutdown();
  server.Stop();
  if (access_log) access_log->Flush();  // before the file goes
  if (log_file != nullptr) std::fclose(log_file);
  spdlog::info("proxy: stopped ({})", drained ? "drained" : "drain timed out");
  return 0;
}

}  // namespace causeway::proxy
