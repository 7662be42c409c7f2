// Circuit breakers: per cluster and across all workers, at most
// max_connections upstream connections open, max_pending_requests requests
// waiting for a connection, max_requests requests in flight and
// max_retries retries in flight (Envoy's DEFAULT-priority thresholds). A
// request that would go over a limit is not queued: it fails at once with
// 503 and the access-log flag UO (Envoy's upstream overflow), and the
// cluster's overflow counter moves, named as Envoy names it:
//   max_connections       upstream_cx_overflow
//   max_pending_requests  upstream_rq_pending_overflow
//   max_requests          upstream_rq_pending_overflow (Envoy counts both there)
//   max_retries           upstream_rq_retry_overflow; the retry is not made
//                         and the last answer stands, as in Envoy
//
// The gauges are the shared ClusterStats' atomics (endpoint_stats.h): taking
// a slot is one fetch_add, and one fetch_sub when it is given back.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "proxy/config/proxy_config.h"
#include "proxy/upstream/endpoint_stats.h"

namespace causeway::proxy {

enum class CircuitBreakerResource { kConnections, kPendingRequests, kRequests, kRetries };

// One unit of a cluster's resource, given back when destroyed or Released.
// Empty when the limit was reached (or there was no cluster to count in).
class CircuitBreakerSlot {
 public:
  CircuitBreakerSlot() = default;
  CircuitBreakerSlot(std::shared_ptr<ClusterStats> cluster, std::atomic<int64_t>* gauge)
      : cluster_(std::move(cluster)), gauge_(gauge) {}
  CircuitBreakerSlot(CircuitBreakerSlot&& other) noexcept { *this = std::move(other); }
  CircuitBreakerSlot& operator=(CircuitBreakerSlot&& other) noexcept;
  CircuitBreakerSlot(const CircuitBreakerSlot&) = delete;
  CircuitBreakerSlot& operator=(const CircuitBreakerSlot&) = delete;
  ~CircuitBreakerSlot() { Release(); }

  bool held() const { return gauge_ != nullptr; }
  void Release();

 private:
  std::shared_ptr<ClusterStats> cluster_;  // keeps the gauge alive
  std::atomic<int64_t>* gauge_ = nullptr;
};

// With a retry budget (Envoy's retry_budget) the retries' limit moves with
// the load: budget_percent of the requests in flight and pending, at least
// min_retry_concurrency.
uint32_t RetryBudgetLimit(const CircuitBreakerConfig::RetryBudget& budget,
                          const ClusterStats& cluster);

// The gauge of `resource` in `cluster` and its limit in `limits`.
std::atomic<int64_t>& CircuitBreakerGauge(ClusterStats& cluster, CircuitBreakerResource resource);
uint32_t CircuitBreakerLimit(const CircuitBreakerConfig& limits, CircuitBreakerResource resource);

// A slot of `resource` if the cluster is below its limit; otherwise an
// empty slot, with the overflow counted. A null `cluster` (a server without
// shared stats) has no limits: the slot is empty and `*overflow` false.
CircuitBreakerSlot TakeCircuitBreakerSlot(const std::shared_ptr<ClusterStats>& cluster,
                                          const CircuitBreakerConfig& limits,
                                          CircuitBreakerResource resource, bool* overflow);

// Counts the overflow of `resource` (for a limit found exceeded elsewhere).
void CountCircuitBreakerOverflow(ClusterStats& cluster, CircuitBreakerResource resource);

}  // namespace causeway::proxy
