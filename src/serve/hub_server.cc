#include "serve/hub_server.h"

#include "common/logging.h"
#include "common/status.h"
#include "discovery/agent/agent.h"
#include "discovery/sync/catalog_hub_api.h"
#include "hub/auth/bootstrap.h"
#include "serve/hub_routes.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace causeway::serve {

HubServer::HubServer(HubOptions options) : options_(std::move(options)) {}

HubServer::~HubServer() { Shutdown(); }

absl::Status HubServer::Start() {
  // Bad collector flags fail before anything listens or opens the store.
  if (!options_.collectors.empty() && options_.collector_zone.empty()) {
    return absl::InvalidArgumentError("--collector needs --collector-zone");
  }
  if (options_.collectors.empty() && !options_.collector_zone.empty()) {
    return absl::InvalidArgumentError("--collector-zone needs at least one --collector");
  }
  for (const std::string& spec : options_.collectors) {
    auto collector = discovery::MakeCollector(spec, options_.collector_environment);
    if (!collector.ok()) {
      return absl::InvalidArgumentError(
          StrCat("--collector ", spec, ": ", FromAbsl(collector.status().message())));
    }
  }
  auto xds_auth = xds::ResolveXdsAuth(options_.xds_auth, options_.xds_address);
  if (!xds_auth.ok()) return xds_auth.status();
  access_log_ = spdlog::get("access");
  if (access_log_ == nullptr) {
    // Access lines are complete JSON objects, written as they are.
    access_log_ = spdlog::stderr_logger_mt("access");
    access_log_->set_pattern("%v");
    access_log_->set_level(spdlog::default_logger()->level());
  }

  CW_ASSIGN_OR_RETURN(store_, store::OpenStore(options_.store_spec, options_.data_dir));
  catalog_ = std::make_unique<catalog::Catalog>(store_.get(), time_);
  CW_RETURN_IF_ERROR(catalog_->Open());
  // Other hubs sharing the store (PostgreSQL) commit too; catch up when told.
  store_->SetExternalChangeCallback([this] {
    if (!follow_store_.load()) return;
    absl::Status refreshed = catalog_->Refresh();
    if (!refreshed.ok())
      spdlog::warn("catching up with the store failed: {}", refreshed.ToString());
  });
  follow_store_.store(true);
  spdlog::info("change log retention: {} (checked every {} ms)",
               store::RetentionString(options_.history_retention),
               options_.compaction_interval.count());
  compactor_ = std::make_unique<store::HistoryCompactor>(
      store_.get(), time_, options_.history_retention, options_.compaction_interval);
  intercept_sweeper_ = std::make_unique<InterceptSweeper>(catalog_.get(), time_);
  intercept_sweeper_->Start(options_.intercept_sweep_interval);
  CW_RETURN_IF_ERROR(hub::auth::EnsureAdminToken(store_.get(), options_.data_dir, time_));
  authenticator_ = std::make_unique<hub::auth::Authenticator>(store_.get(), time_);

  xds::XdsServer::Options xds_options;
  xds_options.threads = options_.xds_threads;
  xds_options.max_streams = options_.xds_max_streams;
  xds_options.tls = {options_.tls_cert, options_.tls_key, options_.client_ca};
  if (*xds_auth == xds::XdsAuth::kToken) {
    xds_authenticator_ = std::make_unique<XdsStreamAuthenticator>(authenticator_.get());
    xds_options.authenticator = xds_authenticator_.get();
  }
  xds_ = std::make_unique<xds::XdsServer>(catalog_.get(), time_, xds_options);
  CW_RETURN_IF_ERROR(xds_->Start(options_.xds_address));
  spdlog::info("serving xDS (ADS) on {} (port {}, {}, {})", options_.xds_address, xds_->port(),
               xds_options.tls.enabled() ? "TLS" : "plaintext",
               xds_options.authenticator ? "tokens required" : "no authentication");
  ctx_.zone_status = [this](const std::string& zone) { return xds_->ZoneStatus(zone); };
  ctx_.proxy_config = [this](const std::string& zone, const std::string& proxy) {
    return xds_->ProxyConfig(zone, proxy);
  };
  relay_reports_ = std::make_unique<hub::api::RelayReports>(time_);
  ctx_.relay_reports = relay_reports_.get();

  ctx_.catalog = catalog_.get();
  ctx_.store = store_.get();
  ctx_.authenticator = authenticator_.get();
  ctx_.time = time_;
  ctx_.metrics = &metrics_;
  ctx_.watch_streams = &watch_streams_;
  ctx_.watch_slots = &watch_slots_;
  ctx_.ready = &ready_;
  ctx_.extra_metrics = [this](std::string* out) {
    if (!http_) return;
    *out += "# HELP causeway_http_connections Open HTTP connections.\n";
    *out += "# TYPE causeway_http_connections gauge\n";
    *out += StrCat("causeway_http_connections ", http_->active_connections(), "\n");
    *out +=
        "# HELP causeway_http_connections_refused_total Connections answered 503 at "
        "--max-connections.\n"
        "# TYPE causeway_http_connections_refused_total counter\n";
    *out += StrCat("causeway_http_connections_refused_total ", http_->refused_connections(), "\n");
    *out +=
        "# HELP causeway_http_idle_connections_closed_total Idle connections closed to make room "
        "at --max-connections.\n"
        "# TYPE causeway_http_idle_connections_closed_total counter\n";
    *out += StrCat("causeway_http_idle_connections_closed_total ",
                   http_->evicted_idle_connections(), "\n");
    if (xds_) *out += xds_->PrometheusMetrics();
  };

  http::HttpServer::Options http_options;
  http_options.address = options_.api_address;
  http_options.io_threads = options_.io_threads;
  http_options.worker_threads = options_.worker_threads;
  http_options.max_connections = options_.max_connections;
  http_options.before_body = [this](const http::Request& head) {
    return hub::api::RefuseBeforeBody(ctx_, head);
  };
  if (!options_.tls_cert.empty() || !options_.tls_key.empty()) {
    if (options_.tls_cert.empty() || options_.tls_key.empty()) {
      return absl::InvalidArgumentError("--tls-cert and --tls-key must be given together");
    }
    CW_ASSIGN_OR_RETURN(http_options.tls,
                        http::TlsServerContext::Load(options_.tls_cert, options_.tls_key));
  }
  http::Router router = BuildHubRouter(ctx_);
  http_ = std::make_unique<http::HttpServer>(
      http_options, std::move(router),
      [](int status, std::string_view code, std::string_view message) {
        return hub::api::ErrorResponse(status, code, message);
      },
      [this](const http::Request& req, int status, std::string_view route,
             std::chrono::steady_clock::duration elapsed) {
        LogRequest(req, status, route, elapsed);
      });
  CW_RETURN_IF_ERROR(http_->Start());
  CW_RETURN_IF_ERROR(StartCollectors());
  ready_.store(true);
  spdlog::info("serving the API on {} (port {}, {}), revision {}", options_.api_address,
               http_->port(), http_options.tls ? "https" : "http", catalog_->Revision());
  return absl::OkStatus();
}

// The same collectors and Syncer as `causeway agent` (batching, versions,
// --delete-missing), writing through the catalog instead of over HTTP.
absl::Status HubServer::StartCollectors() {
  if (options_.collectors.empty()) return absl::OkStatus();
  discovery::AgentOptions agent;
  agent.collectors = options_.collectors;
  agent.environment = options_.collector_environment;
  agent.sync.zone = options_.collector_zone;
  agent.sync.delete_missing = options_.collector_delete_missing;
  auto created = discovery::Agent::Create(
      std::move(agent), std::make_unique<discovery::CatalogHubApi>(
                            catalog_.get(), options_.collector_zone, "collector"));
  if (!created.ok()) return created.status();
  collectors_ = *std::move(created);
  return collectors_->Start();
}

void HubServer::LogRequest(const http::Request& req, int status, std::string_view route,
                           std::chrono::steady_clock::duration elapsed) {
  metrics_.Observe(req.method, route, status, elapsed);
  if (!access_log_->should_log(spdlog::level::info)) return;
  model::Json line = {
      {"time", FormatRfc3339(time_->Now())},
      {"level", "info"},
      {"msg", "request"},
      {"remote", req.remote},
      {"method", req.method},
      {"path", req.path.empty() ? req.target : req.path},
      {"route", route},
      {"status", status},
      {"duration_ms", std::chrono::duration<double, std::milli>(elapsed).count()},
  };
  if (!req.actor.empty()) line["actor"] = req.actor;
  access_log_->info(line.dump(-1, ' ', false, model::Json::error_handler_t::replace));
}

void HubServer::Shutdown() {
  ready_.store(false);
  // Collectors write through the catalog: stop them while it is still open.
  if (collectors_) {
    collectors_->Stop();
    collectors_.reset();
  }
  if (http_) {
    http_->Shutdown();
    http_.reset();
  }
  follow_store_.store(false);
  if (xds_) {
    xds_->Stop();
    xds_.reset();
  }
  // It writes through the catalog: stopped while the catalog is open.
  intercept_sweeper_.reset();
  // Writes the pending last-used times while the store is still open.
  authenticator_.reset();
  if (catalog_) catalog_->Close();
  compactor_.reset();
  // The store goes first: it stops its notification thread, which may still
  // be inside the callback above using the catalog.
  store_.reset();
  catalog_.reset();
}

}  // namespace causeway::serve
