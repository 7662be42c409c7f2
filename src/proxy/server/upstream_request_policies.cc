// The upstream request's part in the cluster's outlier detection and
// circuit breakers (upstream/outlier_detector.h, upstream/circuit_breaker.h).
#include "proxy/server/upstream_request.h"
#include "proxy/upstream/outlier_detector.h"

namespace causeway::proxy {

void UpstreamRequest::RecordOutcome(int status) {
  if (!cluster_.outlier_detection) return;
  RecordOutlierOutcome(cluster_, stats_, status, OutlierNowMs(worker_.time()));
}

// The attempt's max_requests slot, held until it ends; retries count
// against max_retries from here on.
bool UpstreamRequest::TakeRequestSlot() {
  if (stats_ == nullptr) return true;
  retry_.SetCircuitBreaker(stats_->cluster, cluster_.circuit_breakers);
  bool overflow = false;
  request_slot_ = TakeCircuitBreakerSlot(stats_->cluster, cluster_.circuit_breakers,
                                         CircuitBreakerResource::kRequests, &overflow);
  return !overflow;
}

// A connection new to the cluster's count (freshly opened). It is counted
// even when over max_connections, since it is open; the request then fails
// and the connection closes with it. The pool opens connections per
// endpoint and cannot see the cluster's total before connecting.
bool UpstreamRequest::CountNewConnection() {
  if (stats_ == nullptr || stats_->cluster == nullptr) return true;
  ClusterStats& cluster = *stats_->cluster;
  const int64_t open = cluster.open_connections.fetch_add(1, std::memory_order_relaxed) + 1;
  if (open <= static_cast<int64_t>(cluster_.circuit_breakers.max_connections)) return true;
  CountCircuitBreakerOverflow(cluster, CircuitBreakerResource::kConnections);
  return false;
}

}  // namespace causeway::proxy
