#include "proxy/upstream/circuit_breaker.h"

#include <algorithm>

namespace causeway::proxy {

CircuitBreakerSlot& CircuitBreakerSlot::operator=(CircuitBreakerSlot&& other) noexcept {
  if (this != &other) {
    Release();
    cluster_ = std::move(other.cluster_);
    gauge_ = other.gauge_;
    other.gauge_ = nullptr;
  }
  return *this;
}

void CircuitBreakerSlot::Release() {
  if (gauge_ == nullptr) return;
  gauge_->fetch_sub(1, std::memory_order_relaxed);
  gauge_ = nullptr;
  cluster_.reset();
}

std::atomic<int64_t>& CircuitBreakerGauge(ClusterStats& cluster, CircuitBreakerResource resource) {
  switch (resource) {
    case CircuitBreakerResource::kConnections:
      return cluster.open_connections;
    case CircuitBreakerResource::kPendingRequests:
      return cluster.pending_requests;
    case CircuitBreakerResource::kRequests:
      return cluster.active_requests;
    case CircuitBreakerResource::kRetries:
      break;
  }
  return cluster.active_retries;
}

uint32_t RetryBudgetLimit(const CircuitBreakerConfig::RetryBudget& budget,
                          const ClusterStats& cluster) {
  const int64_t outstanding = cluster.active_requests.load(std::memory_order_relaxed) +
                              cluster.pending_requests.load(std::memory_order_relaxed);
  const auto share = static_cast<uint32_t>(static_cast<double>(std::max<int64_t>(outstanding, 0)) *
                                           budget.budget_percent / 100.0);
  return std::max(share, budget.min_retry_concurrency);
}

uint32_t CircuitBreakerLimit(const CircuitBreakerConfig& limits, CircuitBreakerResource resource) {
  switch (resource) {
    case CircuitBreakerResource::kConnections:
      return limits.max_connections;
    case CircuitBreakerResource::kPendingRequests:
      return limits.max_pending_requests;
    case CircuitBreakerResource::kRequests:
      return limits.max_requests;
    case CircuitBreakerResource::kRetries:
      break;
  }
  return limits.max_retries;
}

void CountCircuitBreakerOverflow(ClusterStats& cluster, CircuitBreakerResource resource) {
  std::atomic<uint64_t>& counter =
      resource == CircuitBreakerResource::kConnections ? cluster.upstream_cx_overflow
      : resource == CircuitBreakerResource::kRetries   ? cluster.upstream_rq_retry_overflow
                                                       : cluster.upstream_rq_pending_overflow;
  counter.fetch_add(1, std::memory_order_relaxed);
}

CircuitBreakerSlot TakeCircuitBreakerSlot(const std::shared_ptr<ClusterStats>& cluster,
                                          const CircuitBreakerConfig& limits,
                                          CircuitBreakerResource resource, bool* overflow) {
  *overflow = false;
  if (cluster == nullptr) return {};
  std::atomic<int64_t>& gauge = CircuitBreakerGauge(*cluster, resource);
  // Taken first and given back if over: two workers racing for the last
  // unit cannot both have it.
  const uint32_t limit = resource == CircuitBreakerResource::kRetries && limits.retry_budget
                             ? RetryBudgetLimit(*limits.retry_budget, *cluster)
                             : CircuitBreakerLimit(limits, resource);
  const int64_t before = gauge.fetch_add(1, std::memory_order_relaxed);
  if (before >= static_cast<int64_t>(limit)) {
    gauge.fetch_sub(1, std::memory_order_relaxed);
    CountCircuitBreakerOverflow(*cluster, resource);
    *overflow = true;
    return {};
  }
  return CircuitBreakerSlot(cluster, &gauge);
}

}  // namespace causeway::proxy
