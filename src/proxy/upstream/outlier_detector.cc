#include "proxy/upstream/outlier_detector.h"

#include <algorithm>
#include <mutex>

namespace causeway::proxy {
namespace {

void BumpOutlierCounter(std::atomic<uint64_t>& counter) {
  counter.fetch_add(1, std::memory_order_relaxed);
}

// Under the cluster's lock.
void SweepLocked(ClusterStats& cluster, int64_t now_ms) {
  auto& ejected = cluster.ejected;
  for (auto it = ejected.begin(); it != ejected.end();) {
    const std::shared_ptr<EndpointStats> held = it->lock();
    if (held == nullptr) {  // the endpoint is gone from every configuration
      it = ejected.erase(it);
      continue;
    }
    EndpointStats& e = *held;
    if (IsEjected(e, now_ms)) {
      ++it;
      continue;
    }
    e.unejected_at_ms.store(e.ejected_until_ms.load(std::memory_order_relaxed),
                            std::memory_order_relaxed);
    e.ejected_until_ms.store(0, std::memory_order_relaxed);
    it = ejected.erase(it);
  }
  cluster.ejections_active.store(ejected.size(), std::memory_order_relaxed);
}

// The multiplier for the next ejection: the last one's, less one for each
// whole interval spent in the load balancing set since (Envoy's decay).
uint32_t NextMultiplier(const EndpointStats& e, const OutlierDetectionConfig& od, int64_t now_ms) {
  uint32_t times = e.times_ejected.load(std::memory_order_relaxed);
  const int64_t back_at = e.unejected_at_ms.load(std::memory_order_relaxed);
  if (times > 0 && back_at > 0 && now_ms > back_at) {
    const int64_t earned = (now_ms - back_at) / std::max<int64_t>(od.interval.count(), 1);
    times = earned >= times ? 0 : times - static_cast<uint32_t>(earned);
  }
  return times + 1;
}

enum class Detector { k5xx, kGatewayFailure };

void Eject(const ClusterConfig& config, const std::shared_ptr<EndpointStats>& endpoint,
           Detector detector, int64_t now_ms) {
  const OutlierDetectionConfig& od = *config.outlier_detection;
  ClusterStats& cluster = *endpoint->cluster;
  const bool enforcing = detector == Detector::k5xx ? od.enforcing_consecutive_5xx
                                                    : od.enforcing_consecutive_gateway_failure;
  BumpOutlierCounter(detector == Detector::k5xx
                         ? cluster.ejections_detected_consecutive_5xx
                         : cluster.ejections_detected_consecutive_gateway_failure);
  // The count starts over whatever comes of it (as in Envoy), so a next
  // bout of failures is detected again even with no success in between.
  (detector == Detector::k5xx ? endpoint->consecutive_5xx : endpoint->consecutive_gateway_failures)
      .store(0, std::memory_order_relaxed);
  if (!enforcing) return;
  std::lock_guard lock(cluster.outlier_mu);
  SweepLocked(cluster, now_ms);
  if (IsEjected(*endpoint, now_ms)) return;  // another worker was first
  const uint64_t active = cluster.ejected.size();
  const uint64_t hosts = std::max<size_t>(config.endpoints.size(), 1);
  const bool within = (active + 1) * 100 <= uint64_t{od.max_ejection_percent} * hosts;
  if (!within && !(od.always_eject_one_host && active == 0)) {
    BumpOutlierCounter(cluster.ejections_overflow);
    return;
  }
  const uint32_t times = NextMultiplier(*endpoint, od, now_ms);
  const int64_t base = od.base_ejection_time.count();
  const int64_t cap = std::max(od.max_ejection_time.count(), base);
  endpoint->times_ejected.store(times, std::memory_order_relaxed);
  endpoint->ejected_until_ms.store(now_ms + std::min(base * times, cap), std::memory_order_relaxed);
  endpoint->consecutive_5xx.store(0, std::memory_order_relaxed);
  endpoint->consecutive_gateway_failures.store(0, std::memory_order_relaxed);
  cluster.ejected.push_back(endpoint);
  cluster.ejections_active.store(cluster.ejected.size(), std::memory_order_relaxed);
  BumpOutlierCounter(cluster.ejections_total);
  BumpOutlierCounter(cluster.ejections_enforced_total);
  BumpOutlierCounter(detector == Detector::k5xx
                         ? cluster.ejections_enforced_consecutive_5xx
                         : cluster.ejections_enforced_consecutive_gateway_failure);
}

}  // namespace

int64_t OutlierNowMs(const TimeSource& time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.Monotonic().time_since_epoch())
      .count();
}

void RecordOutlierOutcome(const ClusterConfig& cluster,
                          const std::shared_ptr<EndpointStats>& endpoint, int status,
                          int64_t now_ms) {
  if (!cluster.outlier_detection || endpoint == nullptr || endpoint->cluster == nullptr) return;
  const OutlierDetectionConfig& od = *cluster.outlier_detection;
  if (status > 0 && status < 500) {
    // Loads first: a success on a busy endpoint writes nothing shared.
    if (endpoint->consecutive_5xx.load(std::memory_order_relaxed) != 0) {
      endpoint->consecutive_5xx.store(0, std::memory_order_relaxed);
    }
    if (endpoint->consecutive_gateway_failures.load(std::memory_order_relaxed) != 0) {
      endpoint->consecutive_gateway_failures.store(0, std::memory_order_relaxed);
    }
    return;
  }
  const bool gateway = status == 0 || status == 502 || status == 503 || status == 504;
  // Exactly at the threshold, so concurrent failures eject once.
  if (endpoint->consecutive_5xx.fetch_add(1, std::memory_order_relaxed) + 1 == od.consecutive_5xx) {
    Eject(cluster, endpoint, Detector::k5xx, now_ms);
  }
  if (!gateway) {
    endpoint->consecutive_gateway_failures.store(0, std::memory_order_relaxed);
  } else if (endpoint->consecutive_gateway_failures.fetch_add(1, std::memory_order_relaxed) + 1 ==
             od.consecutive_gateway_failure) {
    Eject(cluster, endpoint, Detector::kGatewayFailure, now_ms);
  }
}

void SweepEjections(ClusterStats& cluster, int64_t now_ms) {
  std::lock_guard lock(cluster.outlier_mu);
  SweepLocked(cluster, now_ms);
}

}  // namespace causeway::proxy
