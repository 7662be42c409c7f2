// AdsService: the gRPC AggregatedDiscoveryService on gRPC's asynchronous
// (completion-queue) API.
//
// Streams are spread over a few completion queues, each polled by one thread
// of ours that runs everything of the streams bound to it: their reads,
// their writes, and the fan-out of a new snapshot (posted to each queue as an
// alarm). A push to 1,000 proxies therefore costs no thread hand-off per
// stream; with gRPC's callback API every write completion and every read
// woke one of gRPC's own threads, and those wake-ups (futex calls, context
// switches) were about a third of the hub's CPU per push (bench/xds/run).
//
// The service keeps a registry of streams per zone for status pages.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/time_source.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "xds/server_metrics.h"
#include "xds/snapshot.h"
#include "xds/snapshot_cache.h"
#include "xds/stream_auth.h"

namespace grpc {
class ServerBuilder;
}

namespace causeway::xds {

// What the registry knows of a stream. Status, AckedResources and proxy may
// be called from any thread.
class AdsStream {
 public:
  virtual ~AdsStream() = default;
  virtual nlohmann::json Status() = 0;
  virtual nlohmann::json AckedResources() = 0;
  virtual std::string proxy() = 0;
  // The bearer secret the stream authenticated with ("" without
  // authentication).
  virtual std::string token_secret() = 0;
  // The identity it authenticated as (nullopt without authentication).
  virtual std::optional<StreamIdentity> identity() = 0;
  // Ends the stream with `why` soon, on its own thread (any thread may ask).
  virtual void End(const absl::Status& why) = 0;
};

class AdsPoller;

class AdsService {
 public:
  // `threads`: completion queues, one polling thread each (at least 1).
  // `authenticator` (not owned; null: none) checks every stream's token.
  // `max_streams`: identified streams served at once; beyond it a new
  // stream's first request is answered RESOURCE_EXHAUSTED.
  AdsService(SnapshotCache* cache, const TimeSource* time, ServerMetrics* metrics, int threads,
             StreamAuthenticator* authenticator = nullptr, int max_streams = 20000);
  ~AdsService();
  AdsService(const AdsService&) = delete;
  AdsService& operator=(const AdsService&) = delete;

  // Registers the service and its completion queues; before BuildAndStart.
  void AddTo(grpc::ServerBuilder* builder);
  // After BuildAndStart: starts the polling threads, which accept streams.
  void Start();
  // After grpc::Server::Shutdown (which ends every stream): drains the
  // queues and joins the threads. Idempotent.
  void Shutdown();

  // Hands a rebuilt snapshot to every stream of its zone (asynchronously:
  // each polling thread delivers to its own streams).
  void Publish(const std::shared_ptr<const ZoneSnapshot>& snapshot);

  std::vector<std::shared_ptr<AdsStream>> StreamsOf(const std::string& zone) const;

  // Asks the authenticator about the token of every registered stream (once
  // per distinct token) and ends the streams whose token no longer
  // authenticates. UNAVAILABLE (the store cannot be asked) ends nothing.
  void RecheckTokens();

  // Used by the streams.
  // RESOURCE_EXHAUSTED (and nothing registered) at max_streams.
  absl::Status Register(const std::string& zone, const std::shared_ptr<AdsStream>& stream);
  void Unregister(const std::string& zone, const AdsStream* stream);
  SnapshotCache* cache() const { return cache_; }
  const TimeSource* time() const { return time_; }
  ServerMetrics* metrics() const { return metrics_; }
  StreamAuthenticator* authenticator() const { return authenticator_; }
  // Both methods raw: requests are parsed by the streams, and responses go
  // out as the session serialized them (see AdsSession::WireMessage).
  using GrpcService = envoy::service::discovery::v3::AggregatedDiscoveryService::
      WithRawMethod_StreamAggregatedResources<
          envoy::service::discovery::v3::AggregatedDiscoveryService::
              WithRawMethod_DeltaAggregatedResources<
                  envoy::service::discovery::v3::AggregatedDiscoveryService::Service>>;
  GrpcService* grpc_service() { return &grpc_service_; }

 private:
  SnapshotCache* const cache_;
  const TimeSource* const time_;
  ServerMetrics* const metrics_;
  StreamAuthenticator* const authenticator_;
  const int max_streams_;
  GrpcService grpc_service_;
  std::vector<std::unique_ptr<AdsPoller>> pollers_;

  mutable absl::Mutex mu_;
  std::map<std::string, std::map<const AdsStream*, std::shared_ptr<AdsStream>>> streams_
      ABSL_GUARDED_BY(mu_);
  int registered_ ABSL_GUARDED_BY(mu_) = 0;  // streams in streams_
};

}  // namespace causeway::xds
