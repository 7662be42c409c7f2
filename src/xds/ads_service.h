// AdsService: the gRPC AggregatedDiscoveryService (callback API, no thread
// per stream). Each stream is a reactor owning an AdsSession; the service
// keeps a registry of streams per zone to fan snapshots out and to report
// status.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/time_source.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "xds/server_metrics.h"
#include "xds/snapshot.h"
#include "xds/snapshot_cache.h"

namespace causeway::xds {

// What the registry knows of a stream (implemented by the reactors).
class AdsStream {
 public:
  virtual ~AdsStream() = default;
  virtual void Deliver(const std::shared_ptr<const ZoneSnapshot>& snapshot) = 0;
  virtual nlohmann::json Status() = 0;
  virtual nlohmann::json AckedResources() = 0;
  virtual std::string proxy() = 0;
};

class AdsService final
    : public envoy::service::discovery::v3::AggregatedDiscoveryService::CallbackService {
 public:
  AdsService(SnapshotCache* cache, const TimeSource* time, ServerMetrics* metrics);

  grpc::ServerBidiReactor<envoy::service::discovery::v3::DiscoveryRequest,
                          envoy::service::discovery::v3::DiscoveryResponse>*
  StreamAggregatedResources(grpc::CallbackServerContext* context) override;
  grpc::ServerBidiReactor<envoy::service::discovery::v3::DeltaDiscoveryRequest,
                          envoy::service::discovery::v3::DeltaDiscoveryResponse>*
  DeltaAggregatedResources(grpc::CallbackServerContext* context) override;

  // Hands a rebuilt snapshot to every stream of its zone.
  void Publish(const std::shared_ptr<const ZoneSnapshot>& snapshot);

  std::vector<std::shared_ptr<AdsStream>> StreamsOf(const std::string& zone) const;

  // Used by the reactors.
  void Register(const std::string& zone, const std::shared_ptr<AdsStream>& stream);
  void Unregister(const std::string& zone, const AdsStream* stream);
  SnapshotCache* cache() const { return cache_; }
  const TimeSource* time() const { return time_; }
  ServerMetrics* metrics() const { return metrics_; }

 private:
  SnapshotCache* const cache_;
  const TimeSource* const time_;
  ServerMetrics* const metrics_;

  mutable std::mutex mu_;
  std::map<std::string, std::map<const AdsStream*, std::shared_ptr<AdsStream>>> streams_;
};

}  // namespace causeway::xds
