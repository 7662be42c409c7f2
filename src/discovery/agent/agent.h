// The zone agent: collectors → Syncer → the hub's REST API.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "discovery/agent/collector_spec.h"
#include "discovery/agent/hub_list.h"
#include "discovery/agent/proxy_reporter.h"
#include "discovery/agent/relay_authenticator.h"
#include "discovery/collector_group.h"
#include "discovery/replica/zone_replica.h"
#include "discovery/replica/zone_watcher.h"
#include "discovery/sync/rest_hub_api.h"
#include "discovery/sync/syncer.h"
#include "net/http_server.h"
#include "xds/server_tls.h"

namespace causeway::xds {
class XdsServer;
}

namespace causeway::discovery {

struct AgentOptions {
  // Base URLs of the hubs' REST APIs, used one at a time in this order
  // (HubList; unused with an explicit HubApi).
  std::vector<std::string> hubs;
  std::string token;    // an agent token limited to `sync.zone`
  std::string ca_file;  // PEM roots for an https:// hub ("" = the system's)
  std::vector<std::string> collectors;
  CollectorEnvironment environment;
  SyncOptions sync;  // zone, delete_missing, batching
  // host:port for /metrics, /healthz and /readyz (in sync with the hub); "" = none.
  std::string metrics_address;
  // host:port of an xDS (ADS) server for the zone's proxies, fed from a copy
  // of the zone (hub watch + the collectors' own changes); "" = none.
  std::string xds_address;
  // With --xds: TLS of the relay's xDS server, and its authentication
  // ("token", "none", or "" for the default: token unless on loopback; none
  // off loopback is refused). With token, proxies' tokens are checked on the
  // hub (RelayAuthenticator) and its answers trusted for `xds_auth_cache`
  // (1 to 30 s): the bound within which a revocation ends a relayed stream.
  xds::ServerTlsFiles xds_tls;
  std::string xds_auth;
  std::chrono::milliseconds xds_auth_cache{30000};
  bool xds_token_auth = false;  // resolved from xds_auth by Create
  // With --xds: this agent's name on the hub, under which it reports the
  // proxies connected to its xDS server ("" = the host name), and how often.
  std::string name;
  std::chrono::milliseconds status_interval{10000};
};

class Agent {
 public:
  // Validates the options and builds the collectors (nothing runs yet).
  // Writes go to `api`, or to the hubs' REST APIs at options.hubs when null
  // (`causeway serve --collector` passes a CatalogHubApi instead).
  static absl::StatusOr<std::unique_ptr<Agent>> Create(AgentOptions options,
                                                       std::unique_ptr<HubApi> api = nullptr);
  ~Agent();

  absl::Status Start();
  void Stop();

  const Syncer& syncer() const { return *syncer_; }
  // The bound port of the metrics server (after Start), or 0.
  int metrics_port() const;
  // The bound port of the xDS server (after Start), or 0.
  int xds_port() const;

 private:
  explicit Agent(AgentOptions options);
  // Start's parts: the relay (zone copy, its watch, xDS server, reports) and
  // the /metrics, /healthz and /readyz server.
  absl::Status StartRelay();
  absl::Status StartMetrics();
  std::string MetricsText() const;

  AgentOptions options_;
  std::shared_ptr<HubList> hubs_;  // null with an explicit HubApi
  std::unique_ptr<HubApi> api_;
  std::unique_ptr<Syncer> syncer_;
  CollectorGroup collectors_;
  std::unique_ptr<http::HttpServer> metrics_server_;
  // With --xds: the zone's copy, what keeps it current from the hub, and the
  // server the zone's proxies connect to.
  std::unique_ptr<ZoneReplica> replica_;
  std::unique_ptr<ZoneWatcher> watcher_;
  // Reports the xDS server's streams to the hub; declared before xds_, so
  // it outlives the server's last change callback.
  std::unique_ptr<ProxyReporter> reporter_;
  // With --xds-auth token; declared before xds_, so it outlives the server.
  std::unique_ptr<RelayAuthenticator> relay_auth_;
  std::unique_ptr<xds::XdsServer> xds_;
  bool started_ = false;
};

}  // namespace causeway::discovery
