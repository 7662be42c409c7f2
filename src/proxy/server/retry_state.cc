#include "proxy/server/retry_state.h"

#include <algorithm>

namespace causeway::proxy {

bool RetryState::Use(bool condition) {
  if (!condition || retries_left_ == 0 || body_streamed_) return false;
  if (breaker_cluster_ != nullptr) {
    retry_slot_.Release();  // the previous retry has had its answer
    bool overflow = false;
    retry_slot_ = TakeCircuitBreakerSlot(breaker_cluster_, breaker_limits_,
                                         CircuitBreakerResource::kRetries, &overflow);
    if (overflow) return false;
  }
  --retries_left_;
  return true;
}

bool RetryState::ShouldRetry(Failure failure) {
  switch (failure) {
    case Failure::kConnectFailure:
      return Use(policy_.on_connect_failure || policy_.on_reset);
    case Failure::kReset:
      return Use(policy_.on_reset);
    case Failure::kPerTryTimeout:
      // Envoy retries a per-try timeout under the conditions that cover it.
      return Use(policy_.on_5xx || policy_.on_gateway_error || policy_.on_reset);
  }
  return false;
}

bool RetryState::ShouldRetryStatus(int status) {
  const bool retriable = (policy_.on_5xx && status >= 500) ||
                         (policy_.on_gateway_error && status >= 502 && status <= 504);
  return Use(retriable);
}

bool RetryState::TakeStaleRetry() {
  if (!stale_retry_available()) return false;
  stale_retry_used_ = true;
  return true;
}

RetryState::TryDeadline RetryState::OnRequestSent(Clock::time_point now) {
  if (!route_deadline_ && route_timeout_.count() > 0) route_deadline_ = now + route_timeout_;
  TryDeadline d{route_deadline_, false};
  if (policy_.per_try_timeout.count() > 0 && (!d.at || now + policy_.per_try_timeout < *d.at)) {
    d.at = now + policy_.per_try_timeout;
    d.per_try = true;
  }
  return d;
}

std::chrono::milliseconds RetryState::NextBackoff(uint64_t random) {
  const uint64_t base = std::max<int64_t>(backoff_.base.count(), 1);
  const uint64_t max = std::max<int64_t>(backoff_.max.count(), 1);
  // (2^n - 1) * base for the n-th retry, capped at max (Envoy's
  // JitteredExponentialBackOffStrategy); n stops growing once capped.
  const uint64_t multiplier = (uint64_t{1} << std::min<uint32_t>(backoffs_ + 1, 62)) - 1;
  uint64_t ceiling = max;
  if (multiplier <= max / base) {
    ceiling = multiplier * base;
    ++backoffs_;
  }
  return std::chrono::milliseconds(std::min(random % ceiling, max));
}

}  // namespace causeway::proxy
