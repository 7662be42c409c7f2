// XdsServer: the Envoy v3 ADS server of the hub (`causeway serve --xds`) and
// of agents (`causeway agent --xds`).
//
// Serves each connected proxy its zone's configuration, translated from a
// ConfigSource (the hub's catalog, or an agent's copy of its zone) and pushed
// on every change (debounced), over both ADS variants. Also answers the
// hub's status, config and metrics pages.
//
// Wiring (src/serve/serve_command.cc):
//   xds::XdsServer xds(&catalog, &RealTime::Instance());
//   CW_RETURN_IF_ERROR(xds.Start(xds_addr));          // e.g. "127.0.0.1:50000"
//   GET /v1/zones/{z}/status                 -> xds.ZoneStatus(z)
//   GET /v1/zones/{z}/proxies/{name}/config  -> xds.ProxyConfig(z, name) (NotFound -> 404)
//   GET /metrics                             -> append xds.PrometheusMetrics()
//   on shutdown, before catalog.Close():        xds.Stop()
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "catalog/catalog.h"
#include "common/time_source.h"
#include "nlohmann/json.hpp"
#include "xds/config_source.h"
#include "xds/server_tls.h"
#include "xds/stream_auth.h"

namespace grpc {
class Server;
}

namespace causeway::xds {

class AdsService;
class ServerMetrics;
class SnapshotCache;

class XdsServer {
 public:
  struct Options {
    // A zone's snapshot is rebuilt after this long without further changes...
    std::chrono::milliseconds debounce{100};
    // ...but no later than this after its first pending change. Under
    // constant churn (discovery at 100 changes/s never goes quiet) this is
    // the floor of change-to-proxy latency, so it stays well under the 1 s
    // goal; the price is up to 4 rebuilds of a churning zone per second
    // (bench/discovery/run measures both).
    std::chrono::milliseconds max_delay{250};
    // Threads serving the streams, each with its own completion queue; 0:
    // half the CPUs the process may run on, at least one. gRPC's poller
    // reads every queue's connections from whichever thread polls and wakes
    // the queue's own thread for each completion: at 1,000 streams on two
    // CPUs, two queues made about 650 context switches per change where one made
    // 45, and cost the hub 50 ms of CPU per change against 43
    // (bench/xds/run). The other half is left to the REST API, the store and
    // snapshot rebuilds.
    int threads = 0;
    // Streams served at once (`--xds-max-streams`); a stream beyond it ends
    // with RESOURCE_EXHAUSTED at its first request, and the proxy's
    // reconnect backoff (or its next hub) takes it from there.
    int max_streams = 20000;
    // Called on the xDS threads whenever what ZoneStatus reports of a stream
    // may have changed (a stream registered or gone, a push, an ACK, a
    // NACK); must be quick. The agent uses it to report its proxies to the
    // hub soon after a change.
    std::function<void()> on_stream_change;
    // TLS from PEM files (none: plaintext). The files are read again every
    // `tls_refresh`, so replaced files serve new connections while
    // established streams stay up.
    ServerTlsFiles tls;
    std::chrono::seconds tls_refresh{1};
    // With an authenticator every stream needs a bearer token
    // (xds/stream_auth.h has the rules); null: no authentication. Not owned;
    // must outlive Stop().
    StreamAuthenticator* authenticator = nullptr;
    // How often the tokens of live streams are asked about again: a revoked
    // or expired token ends its streams within this (plus the
    // authenticator's own caching).
    std::chrono::milliseconds auth_recheck{250};
  };

  // Serves `source` (not owned), e.g. an agent's copy of its zone.
  XdsServer(ConfigSource* source, const TimeSource* time, Options options);
  // Serves the hub's catalog.
  XdsServer(catalog::Catalog* catalog, const TimeSource* time, Options options);
  XdsServer(catalog::Catalog* catalog, const TimeSource* time)
      : XdsServer(catalog, time, Options{}) {}
  ~XdsServer();
  XdsServer(const XdsServer&) = delete;
  XdsServer& operator=(const XdsServer&) = delete;

  // Listens on `listen_addr` ("host:port"; port 0 picks one, see port()).
  // FailedPrecondition when the address cannot be bound; InvalidArgument
  // naming the flag when a TLS file is unusable.
  absl::Status Start(const std::string& listen_addr);
  // The bound port (after Start).
  int port() const { return port_; }
  // Ends every stream and stops listening. Idempotent.
  void Stop();

  // {"zone", "revision", "proxies": [per connected stream: node_id, proxy,
  //  peer, variant, registered, token (the name of the token it
  //  authenticated with, when the server asks for tokens), types: {cds|eds|lds|rds: {version_sent,
  //  version_acked, last_ack_time, last_nack: {message, version, time}}}],
  //  "registered_proxies": [{name, streams, error}], "errors": [...]}
  nlohmann::json ZoneStatus(const std::string& zone) const;

  // The resources proxy `proxy` of `zone` is served (each {name, version,
  // resource}), and per connected instance what it has ACKed. NotFound when
  // the proxy neither exists nor has a connected stream.
  absl::StatusOr<nlohmann::json> ProxyConfig(const std::string& zone,
                                             const std::string& proxy) const;

  // Prometheus text: causeway_xds_connected_streams, _pushes_total,
  // _acks_total, _nacks_total, _snapshots_total, _change_to_ack_seconds.
  std::string PrometheusMetrics() const;

 private:
  void Init();
  // The re-check thread's loop (with an authenticator).
  void RecheckTokens() ABSL_LOCKS_EXCLUDED(recheck_mu_);

  std::unique_ptr<ConfigSource> owned_source_;
  ConfigSource* const source_;
  const TimeSource* const time_;
  const Options options_;
  std::unique_ptr<ServerMetrics> metrics_;
  std::unique_ptr<SnapshotCache> cache_;
  std::unique_ptr<AdsService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;

  std::thread recheck_thread_;
  absl::Mutex recheck_mu_;
  bool recheck_stop_ ABSL_GUARDED_BY(recheck_mu_) = false;
};

}  // namespace causeway::xds
