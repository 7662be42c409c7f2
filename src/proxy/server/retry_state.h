// The retry state of one request: whether another attempt follows a failed
// one, when it may start, and the deadlines each attempt waits under. Pure
// bookkeeping over times it is given (no clock, no I/O), so it is tested
// with any times at all; the caller reads the clock from its TimeSource.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "proxy/config/proxy_config.h"
#include "proxy/upstream/circuit_breaker.h"

namespace causeway::proxy {

class RetryState {
 public:
  using Clock = std::chrono::steady_clock;
  // Envoy's retry back-off when a route sets none: 25 ms base, 10x that at
  // most (route.v3.RetryPolicy.retry_back_off).
  struct Backoff {
    std::chrono::milliseconds base{25};
    std::chrono::milliseconds max{250};
  };

  RetryState(const RetryPolicy& policy, std::chrono::milliseconds route_timeout)
      : RetryState(policy, route_timeout, Backoff{}) {}
  RetryState(const RetryPolicy& policy, std::chrono::milliseconds route_timeout, Backoff backoff)
      : policy_(policy),
        route_timeout_(route_timeout),
        backoff_(backoff),
        retries_left_(policy.num_retries) {}

  // How an attempt failed before any response went downstream.
  enum class Failure {
    kConnectFailure,  // no connection to the endpoint (refused, timed out)
    kReset,           // the connection failed before a response head
    kPerTryTimeout,   // no response head within per_try_timeout
  };
  // Whether the failure is retriable under the policy and a retry is left;
  // if so, the retry is used up. Never once the body has been streamed.
  bool ShouldRetry(Failure failure);
  // Likewise for a response status (retry_on 5xx, gateway-error).
  bool ShouldRetryStatus(int status);
  // A pooled connection turned out closed by the upstream before answering:
  // the request is replayed once on a fresh connection, outside the policy
  // (no retry used, no back-off), unless the body was already streamed.
  bool stale_retry_available() const { return !stale_retry_used_ && !body_streamed_; }
  bool TakeStaleRetry();
  // The request body is being streamed from the client: it cannot be sent
  // again, so no further attempt is possible.
  void OnBodyStreamed() { body_streamed_ = true; }
  bool body_streamed() const { return body_streamed_; }

  // The deadline an attempt sent at `now` waits for its response head
  // under: the route's overall deadline (which starts with the first
  // attempt) or the per-try timeout, whichever is earlier.
  struct TryDeadline {
    std::optional<Clock::time_point> at;  // none: wait indefinitely
    bool per_try = false;                 // `at` is the per-try deadline
  };
  TryDeadline OnRequestSent(Clock::time_point now);
  // The delay before the next retry, Envoy's fully jittered exponential
  // back-off: retry n waits random % ((2^n - 1) * base), at most max.
  std::chrono::milliseconds NextBackoff(uint64_t random);
  // Whether the route's overall deadline has passed (never before the
  // first attempt was sent, nor without a route timeout).
  bool Expired(Clock::time_point now) const { return route_deadline_ && now >= *route_deadline_; }
  std::optional<Clock::time_point> route_deadline() const { return route_deadline_; }
  uint32_t retries_left() const { return retries_left_; }
  // Retries from now on count against `cluster`'s max_retries: one over it
  // is not made (upstream/circuit_breaker.h). Set by the first attempt.
  void SetCircuitBreaker(std::shared_ptr<ClusterStats> cluster,
                         const CircuitBreakerConfig& limits) {
    if (breaker_cluster_ == nullptr) breaker_cluster_ = std::move(cluster);
    breaker_limits_ = limits;
  }

 private:
  bool Use(bool condition);

  const RetryPolicy policy_;  // a copy: small, and tests pass temporaries
  const std::chrono::milliseconds route_timeout_;
  const Backoff backoff_;
  uint32_t retries_left_;
  uint32_t backoffs_ = 0;
  bool stale_retry_used_ = false;
  bool body_streamed_ = false;
  std::optional<Clock::time_point> route_deadline_;
  std::shared_ptr<ClusterStats> breaker_cluster_;
  CircuitBreakerConfig breaker_limits_;
  CircuitBreakerSlot retry_slot_;  // the retry in flight, if any
};

}  // namespace causeway::proxy
