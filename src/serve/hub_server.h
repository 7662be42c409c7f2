// The hub process minus its command line: opens the store, loads the
// catalog, makes sure an admin token exists, and serves the REST API.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "catalog/catalog.h"
#include "common/time_source.h"
#include "discovery/agent/collector_spec.h"
#include "hub/api/context.h"
#include "hub/api/metrics.h"
#include "hub/auth/authenticator.h"
#include "net/http_server.h"
#include "serve/intercept_sweeper.h"
#include "serve/xds_stream_authenticator.h"
#include "store/history_compactor.h"
#include "store/store.h"
#include "xds/server.h"

namespace spdlog {
class logger;
}

namespace causeway::discovery {
class Agent;
}

namespace causeway::serve {

struct HubOptions {
  std::string api_address = "127.0.0.1:8380";
  std::string xds_address = "127.0.0.1:50000";
  std::string data_dir;    // must exist
  std::string store_spec;  // "" = SQLite in data_dir
  int io_threads = 2;
  int worker_threads = 32;
  int xds_threads = 0;          // 0: half the usable CPUs, at least one
  int max_connections = 10000;  // REST (http::HttpServer::Options::max_connections)
  int xds_max_streams = 20000;  // xds::XdsServer::Options::max_streams
  // In-process collectors (`--collector`, src/discovery/README.md): their
  // clusters are written through the catalog into `collector_zone`, recorded
  // in the change log as made by "collector".
  std::vector<std::string> collectors;
  std::string collector_zone;
  bool collector_delete_missing = false;
  discovery::CollectorEnvironment collector_environment;  // dns server, kubeconfig
  // TLS from PEM files (re-read while serving), for the REST API and xDS;
  // `client_ca` makes xDS clients present a certificate it signed.
  std::string tls_cert;
  std::string tls_key;
  std::string client_ca;
  // xDS authentication: "token", "none", or "" for the default (token unless
  // `xds_address` is loopback); xds/stream_auth.h has the rules.
  std::string xds_auth;
  // The change log's retention (`--history-retention`; Retention{} keeps
  // everything) and how often the compactor wakes to enforce it.
  store::Retention history_retention{.max_age_ms = int64_t{7} * 24 * 3600 * 1000};
  std::chrono::milliseconds compaction_interval = std::chrono::minutes(1);
  // How often expired intercepts are looked for: leases are seconds long,
  // and the look is a walk over the intercepts in memory.
  std::chrono::milliseconds intercept_sweep_interval = std::chrono::milliseconds(500);
};

class HubServer {
 public:
  explicit HubServer(HubOptions options);
  ~HubServer();
  HubServer(const HubServer&) = delete;
  HubServer& operator=(const HubServer&) = delete;

  absl::Status Start();
  // Stops accepting, finishes in-flight requests, ends watch streams, then
  // closes the catalog and the store. Idempotent.
  void Shutdown();

  int api_port() const { return http_ ? http_->port() : 0; }
  int xds_port() const { return xds_ ? xds_->port() : 0; }
  catalog::Catalog* catalog() const { return catalog_.get(); }

 private:
  absl::Status StartCollectors();
  void LogRequest(const http::Request& req, int status, std::string_view route,
                  std::chrono::steady_clock::duration elapsed);

  const HubOptions options_;
  const TimeSource* time_ = &RealTime::Instance();
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<store::HistoryCompactor> compactor_;
  std::unique_ptr<InterceptSweeper> intercept_sweeper_;
  std::unique_ptr<hub::auth::Authenticator> authenticator_;
  hub::api::RequestMetrics metrics_;
  std::atomic<int> watch_streams_{0};
  hub::api::WatchSlots watch_slots_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> follow_store_{false};  // external-change callback active
  hub::api::ApiContext ctx_;
  std::unique_ptr<XdsStreamAuthenticator> xds_authenticator_;  // outlives xds_
  std::unique_ptr<xds::XdsServer> xds_;
  // Agents' reports of the proxies on their relay xDS servers (in memory).
  std::unique_ptr<hub::api::RelayReports> relay_reports_;
  std::unique_ptr<discovery::Agent> collectors_;
  std::unique_ptr<http::HttpServer> http_;
  std::shared_ptr<spdlog::logger> access_log_;
};

}  // namespace causeway::serve
