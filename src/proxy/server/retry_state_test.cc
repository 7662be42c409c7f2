#include "proxy/server/retry_state.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>

namespace causeway::proxy {
namespace {

using std::chrono::milliseconds;
using Failure = RetryState::Failure;
using Clock = RetryState::Clock;

Clock::time_point At(int ms) { return Clock::time_point(milliseconds(ms)); }

RetryPolicy Policy(uint32_t retries) {
  RetryPolicy p;
  p.num_retries = retries;
  return p;
}

TEST(RetryState, CountsRetriesDownToNone) {
  RetryPolicy p = Policy(2);
  p.on_reset = true;
  RetryState r(p, milliseconds(0));
  EXPECT_EQ(r.retries_left(), 2u);
  EXPECT_TRUE(r.ShouldRetry(Failure::kReset));
  EXPECT_TRUE(r.ShouldRetry(Failure::kReset));
  EXPECT_FALSE(r.ShouldRetry(Failure::kReset));
  EXPECT_EQ(r.retries_left(), 0u);
}

// Retries in flight count against the cluster's max_retries across
// requests; one over is not made and counted as Envoy counts it.
TEST(RetryState, RetriesInFlightHeldToTheClustersMaxRetries) {
  RetryPolicy p = Policy(3);
  p.on_5xx = true;
  auto cluster = std::make_shared<ClusterStats>();
  CircuitBreakerConfig limits;
  limits.max_retries = 1;
  auto first = std::make_unique<RetryState>(p, milliseconds(0));
  RetryState second(p, milliseconds(0));
  first->SetCircuitBreaker(cluster, limits);
  second.SetCircuitBreaker(cluster, limits);
  EXPECT_TRUE(first->ShouldRetryStatus(503));
  EXPECT_TRUE(first->ShouldRetryStatus(503));  // its own next retry replaces the last
  EXPECT_EQ(cluster->active_retries.load(), 1);
  EXPECT_FALSE(second.ShouldRetryStatus(503));
  EXPECT_EQ(second.retries_left(), 3u);  // not spent on a retry not made
  EXPECT_EQ(cluster->upstream_rq_retry_overflow.load(), 1u);
  first.reset();  // its request ended
  EXPECT_EQ(cluster->active_retries.load(), 0);
  EXPECT_TRUE(second.ShouldRetryStatus(503));
}

TEST(RetryState, NoRetriesWithoutAPolicy) {
  RetryPolicy p = Policy(3);  // retries, but no condition
  RetryState r(p, milliseconds(0));
  EXPECT_FALSE(r.ShouldRetry(Failure::kConnectFailure));
  EXPECT_FALSE(r.ShouldRetry(Failure::kReset));
  EXPECT_FALSE(r.ShouldRetry(Failure::kPerTryTimeout));
  EXPECT_FALSE(r.ShouldRetryStatus(503));
  EXPECT_EQ(r.retries_left(), 3u) << "a refused retry uses none up";
}

TEST(RetryState, WhichFailuresEachConditionCovers) {
  struct Case {
    const char* name;
    bool connect, five, gateway, reset;
    bool on_connect, on_reset, on_per_try;
  } cases[] = {
      {"connect-failure", true, false, false, false, true, false, false},
      {"5xx", false, true, false, false, false, false, true},
      {"gateway-error", false, false, true, false, false, false, true},
      {"reset", false, false, false, true, true, true, true},
  };
  for (const Case& c : cases) {
    RetryPolicy p = Policy(1);
    p.on_connect_failure = c.connect;
    p.on_5xx = c.five;
    p.on_gateway_error = c.gateway;
    p.on_reset = c.reset;
    EXPECT_EQ(RetryState(p, milliseconds(0)).ShouldRetry(Failure::kConnectFailure), c.on_connect)
        << c.name;
    EXPECT_EQ(RetryState(p, milliseconds(0)).ShouldRetry(Failure::kReset), c.on_reset) << c.name;
    EXPECT_EQ(RetryState(p, milliseconds(0)).ShouldRetry(Failure::kPerTryTimeout), c.on_per_try)
        << c.name;
  }
}

TEST(RetryState, WhichStatusesRetry) {
  RetryPolicy five = Policy(1);
  five.on_5xx = true;
  RetryPolicy gateway = Policy(1);
  gateway.on_gateway_error = true;
  for (int status : {200, 404, 499}) {
    EXPECT_FALSE(RetryState(five, milliseconds(0)).ShouldRetryStatus(status)) << status;
    EXPECT_FALSE(RetryState(gateway, milliseconds(0)).ShouldRetryStatus(status)) << status;
  }
  for (int status : {500, 501, 502, 503, 504, 599}) {
    EXPECT_TRUE(RetryState(five, milliseconds(0)).ShouldRetryStatus(status)) << status;
    EXPECT_EQ(RetryState(gateway, milliseconds(0)).ShouldRetryStatus(status),
              status >= 502 && status <= 504)
        << status;
  }
}

TEST(RetryState, NothingRetriesOnceTheBodyStreamed) {
  RetryPolicy p = Policy(5);
  p.on_reset = p.on_5xx = p.on_connect_failure = true;
  RetryState r(p, milliseconds(0));
  EXPECT_TRUE(r.stale_retry_available());
  r.OnBodyStreamed();
  EXPECT_FALSE(r.ShouldRetry(Failure::kReset));
  EXPECT_FALSE(r.ShouldRetryStatus(500));
  EXPECT_FALSE(r.stale_retry_available());
  EXPECT_FALSE(r.TakeStaleRetry());
}

TEST(RetryState, OneStaleReplayPerRequestOutsideThePolicy) {
  RetryState r(Policy(0), milliseconds(0));
  EXPECT_TRUE(r.TakeStaleRetry());
  EXPECT_FALSE(r.stale_retry_available());
  EXPECT_FALSE(r.TakeStaleRetry());
  EXPECT_EQ(r.retries_left(), 0u);
}

TEST(RetryState, RouteDeadlineStartsWithTheFirstAttempt) {
  RetryState r(Policy(2), milliseconds(1000));
  EXPECT_FALSE(r.route_deadline().has_value());
  EXPECT_FALSE(r.Expired(At(1000000))) << "no deadline before a request was sent";
  RetryState::TryDeadline first = r.OnRequestSent(At(100));
  ASSERT_TRUE(first.at.has_value());
  EXPECT_EQ(*first.at, At(1100));
  EXPECT_FALSE(first.per_try);
  RetryState::TryDeadline second = r.OnRequestSent(At(600));
  EXPECT_EQ(*second.at, At(1100)) << "later attempts share the first one's deadline";
  EXPECT_FALSE(r.Expired(At(1099)));
  EXPECT_TRUE(r.Expired(At(1100)));
}

TEST(RetryState, PerTryDeadlineWhenEarlierThanTheRoutes) {
  RetryPolicy p = Policy(3);
  p.per_try_timeout = milliseconds(300);
  RetryState r(p, milliseconds(1000));
  RetryState::TryDeadline a = r.OnRequestSent(At(0));
  EXPECT_EQ(*a.at, At(300));
  EXPECT_TRUE(a.per_try);
  RetryState::TryDeadline b = r.OnRequestSent(At(650));
  EXPECT_EQ(*b.at, At(950));
  EXPECT_TRUE(b.per_try);
  RetryState::TryDeadline c = r.OnRequestSent(At(800));
  EXPECT_EQ(*c.at, At(1000)) << "the route's deadline is earlier than 800 + 300";
  EXPECT_FALSE(c.per_try);
}

TEST(RetryState, NoDeadlineWithoutTimeouts) {
  RetryState r(Policy(1), milliseconds(0));
  EXPECT_FALSE(r.OnRequestSent(At(5)).at.has_value());
  RetryPolicy p = Policy(1);
  p.per_try_timeout = milliseconds(40);
  RetryState per_try_only(p, milliseconds(0));
  RetryState::TryDeadline d = per_try_only.OnRequestSent(At(5));
  EXPECT_EQ(*d.at, At(45));
  EXPECT_TRUE(d.per_try);
}

// Envoy's jittered exponential back-off: random % ((2^n - 1) * base),
// capped at max, with the defaults 25 ms and 250 ms.
TEST(RetryState, BackoffGrowsExponentiallyWithJitterUpToTheCap) {
  RetryState r(Policy(10), milliseconds(0));
  const uint64_t big = 1'000'000'007;  // random % ceiling shows the ceiling
  EXPECT_EQ(r.NextBackoff(big).count(), static_cast<int64_t>(big % 25));
  EXPECT_EQ(r.NextBackoff(big).count(), static_cast<int64_t>(big % 75));
  EXPECT_EQ(r.NextBackoff(big).count(), static_cast<int64_t>(big % 175));
  EXPECT_EQ(r.NextBackoff(big).count(), static_cast<int64_t>(big % 250)) << "15 x 25 > 250";
  EXPECT_EQ(r.NextBackoff(big).count(), static_cast<int64_t>(big % 250));
  RetryState ceilings(Policy(10), milliseconds(0));
  EXPECT_EQ(ceilings.NextBackoff(24).count(), 24);
  EXPECT_EQ(ceilings.NextBackoff(74).count(), 74);
  EXPECT_EQ(ceilings.NextBackoff(174).count(), 174);
  EXPECT_EQ(ceilings.NextBackoff(249).count(), 249);
  EXPECT_EQ(ceilings.NextBackoff(0).count(), 0);
}

TEST(RetryState, BackoffWithAnotherBase) {
  RetryState r(Policy(10), milliseconds(0), {milliseconds(10), milliseconds(35)});
  EXPECT_EQ(r.NextBackoff(9).count(), 9);
  EXPECT_EQ(r.NextBackoff(29).count(), 29);
  EXPECT_EQ(r.NextBackoff(34).count(), 34) << "70 capped at 35";
  EXPECT_EQ(r.NextBackoff(1000).count(), 1000 % 35);
}

}  // namespace
}  // namespace causeway::proxy
