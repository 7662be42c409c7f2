#include "xds/server.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <map>

#include "common/cpu_count.h"
#include "common/strings.h"
#include "spdlog/spdlog.h"
#include "xds/ads_service.h"
#include "xds/server_metrics.h"
#include "xds/snapshot_cache.h"

namespace causeway::xds {
namespace {

nlohmann::json ResourceList(const ResourceMap& resources) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [name, resource] : resources) out.push_back(ResourceToJson(*resource));
  return out;
}

}  // namespace

XdsServer::XdsServer(catalog::Catalog* catalog, const TimeSource* time, Options options)
    : owned_source_(std::make_unique<CatalogConfigSource>(catalog)),
      source_(owned_source_.get()),
      time_(time),
      options_(options),
      metrics_(std::make_unique<ServerMetrics>()) {
  Init();
}

XdsServer::XdsServer(ConfigSource* source, const TimeSource* time, Options options)
    : source_(source), time_(time), options_(options), metrics_(std::make_unique<ServerMetrics>()) {
  Init();
}

void XdsServer::Init() {
  metrics_->SetStreamChangeListener(options_.on_stream_change);
  cache_ = std::make_unique<SnapshotCache>(
      source_, time_, SnapshotCache::Options{options_.debounce, options_.max_delay},
      [this](const std::shared_ptr<const ZoneSnapshot>& snapshot) { service_->Publish(snapshot); });
  int threads = options_.threads > 0 ? options_.threads : UsableCpuCount() / 2;
  service_ =
      std::make_unique<AdsService>(cache_.get(), time_, metrics_.get(), std::clamp(threads, 1, 64),
                                   options_.authenticator, options_.max_streams);
}

XdsServer::~XdsServer() { Stop(); }

absl::Status XdsServer::Start(const std::string& listen_addr) {
  auto credentials = MakeServerCredentials(options_.tls, options_.tls_refresh);
  if (!credentials.ok()) return credentials.status();
  if (options_.authenticator != nullptr && !options_.tls.enabled() &&
      !IsLoopbackListenAddress(listen_addr)) {
    spdlog::warn(
        "xds: tokens are required on {} but it serves plaintext: they cross the network in clear "
        "text (add --tls-cert/--tls-key)",
        listen_addr);
  }
  grpc::ServerBuilder builder;
  int selected = 0;
  builder.AddListeningPort(listen_addr, *credentials, &selected);
  service_->AddTo(&builder);
  // Proxies keep their streams for days; detect dead peers without waiting
  // for TCP to notice.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20 * 1000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // No BDP probing: it only sizes the hub's receive windows, and requests
  // (ACKs) are small, but it answers every incoming message with a PING
  // round trip and a timer, per stream, which doubled the cost of a push.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || selected == 0) {
    server_.reset();
    return absl::FailedPreconditionError(StrCat("xds: cannot listen on ", listen_addr));
  }
  port_ = selected;
  service_->Start();
  cache_->Start();
  if (options_.authenticator != nullptr) {
    recheck_thread_ = std::thread([this] { RecheckTokens(); });
  }
  return absl::OkStatus();
}

void XdsServer::RecheckTokens() {
  recheck_mu_.Lock();
  while (!recheck_mu_.AwaitWithTimeout(absl::Condition(&recheck_stop_),
                                       absl::FromChrono(options_.auth_recheck))) {
    recheck_mu_.Unlock();
    service_->RecheckTokens();
    recheck_mu_.Lock();
  }
  recheck_mu_.Unlock();
}

void XdsServer::Stop() {
  if (recheck_thread_.joinable()) {
    {
      absl::MutexLock lock(&recheck_mu_);
      recheck_stop_ = true;
    }
    recheck_thread_.join();
  }
  if (cache_) cache_->Stop();
  if (server_) {
    // Streams never end on their own; cancel them after a short grace.
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
    server_->Wait();
    // The queues outlive the server's shutdown, which completes every
    // stream's operations on them.
    service_->Shutdown();
    server_.reset();
  }
}

nlohmann::json XdsServer::ZoneStatus(const std::string& zone) const {
  auto snapshot = cache_->Peek(zone);
  nlohmann::json proxies = nlohmann::json::array();
  std::map<std::string, int> streams_of;
  for (const auto& stream : service_->StreamsOf(zone)) {
    nlohmann::json status = stream->Status();
    streams_of[status.value("proxy", "")]++;
    proxies.push_back(std::move(status));
  }
  nlohmann::json registered = nlohmann::json::array();
  nlohmann::json errors = nlohmann::json::array();
  if (snapshot) {
    for (const auto& [name, entry] : snapshot->proxies()) {
      registered.push_back({{"name", name},
                            {"streams", streams_of.count(name) ? streams_of[name] : 0},
                            {"error", entry.error}});
    }
    for (const auto& error : snapshot->errors()) errors.push_back(error);
  }
  return {
      {"zone", zone},
      {"revision", snapshot ? snapshot->revision() : 0},
      {"proxies", std::move(proxies)},
      {"registered_proxies", std::move(registered)},
      {"errors", std::move(errors)},
  };
}

absl::StatusOr<nlohmann::json> XdsServer::ProxyConfig(const std::string& zone,
                                                      const std::string& proxy) const {
  // Snapshots are built for zones that exist or have streams, never for
  // whatever name a page was asked for.
  if (cache_->Peek(zone) == nullptr && !source_->HasZone(zone)) {
    return absl::NotFoundError(StrCat("zone \"", zone, "\" not found"));
  }
  auto snapshot = cache_->Get(zone);
  const ZoneSnapshot::ProxyEntry* entry = snapshot->FindProxy(proxy);
  nlohmann::json instances = nlohmann::json::array();
  for (const auto& stream : service_->StreamsOf(zone)) {
    if (stream->proxy() != proxy) continue;
    nlohmann::json status = stream->Status();
    instances.push_back({{"node_id", status["node_id"]},
                         {"peer", status["peer"]},
                         {"acked", stream->AckedResources()}});
  }
  if (entry == nullptr && instances.empty()) {
    return absl::NotFoundError(StrCat("proxy \"", proxy, "\" not found in zone \"", zone, "\""));
  }
  nlohmann::json out = {{"zone", zone},
                        {"proxy", proxy},
                        {"revision", snapshot->revision()},
                        {"registered", entry != nullptr},
                        {"error", entry ? entry->error : ""}};
  ResourceMap clusters, endpoints;
  if (entry != nullptr) {
    for (const std::string& name : entry->clusters) {
      if (auto c = snapshot->FindCluster(name)) clusters.emplace(name, c);
      if (auto e = snapshot->FindEndpoints(name)) endpoints.emplace(name, e);
    }
  }
  out["listeners"] = entry ? ResourceList(entry->listeners) : nlohmann::json::array();
  out["routes"] = entry ? ResourceList(entry->routes) : nlohmann::json::array();
  out["clusters"] = ResourceList(clusters);
  out["endpoints"] = ResourceList(endpoints);
  out["instances"] = std::move(instances);
  return out;
}

std::string XdsServer::PrometheusMetrics() const { return metrics_->Prometheus(); }

}  // namespace causeway::xds
