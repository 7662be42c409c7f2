// Circuit breaker slots: the limit per resource, the overflow counters as
// Envoy names them, slots given back, and the limit held under races.
#include "proxy/upstream/circuit_breaker.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace causeway::proxy {
namespace {

// Envoy's retry budget: a share of the requests in flight and pending, at
// least min_retry_concurrency; max_retries no longer applies.
TEST(CircuitBreakerTest, RetryBudgetFollowsTheLoad) {
  auto cluster = std::make_shared<ClusterStats>();
  CircuitBreakerConfig limits{1024, 1024, 1024, 1};
  limits.retry_budget = CircuitBreakerConfig::RetryBudget{20.0, 3};
  EXPECT_EQ(RetryBudgetLimit(*limits.retry_budget, *cluster), 3u);  // the floor
  cluster->active_requests = 40;
  cluster->pending_requests = 10;
  EXPECT_EQ(RetryBudgetLimit(*limits.retry_budget, *cluster), 10u);  // 20% of 50
  bool overflow = false;
  std::vector<CircuitBreakerSlot> retries;
  for (int i = 0; i < 10; ++i) {
    retries.push_back(
        TakeCircuitBreakerSlot(cluster, limits, CircuitBreakerResource::kRetries, &overflow));
    EXPECT_TRUE(retries.back().held()) << "retry " << i << " (max_retries 1 does not apply)";
  }
  auto over = TakeCircuitBreakerSlot(cluster, limits, CircuitBreakerResource::kRetries, &overflow);
  EXPECT_FALSE(over.held());
  EXPECT_TRUE(overflow);
  EXPECT_EQ(cluster->upstream_rq_retry_overflow.load(), 1u);
}

TEST(CircuitBreakerTest, LimitPerResourceAndOverflowCounters) {
  auto cluster = std::make_shared<ClusterStats>();
  CircuitBreakerConfig limits{1, 1, 2, 1};
  bool overflow = false;
  auto a = TakeCircuitBreakerSlot(cluster, limits, CircuitBreakerResource::kRequests, &overflow);
  auto b = TakeCircuitBreakerSlot(cluster, limits, CircuitBreakerResource::kRequests, &overflow);
  EXPECT_TRUE(a.held() && b.held());
  EXPECT_FALSE(overflow);
  auto c = TakeCircuitBreakerSlot(cluster, limits, CircuitBreakerResource::kRequests, &overflow);
  EXPECT_FALSE(c.held());
  EXPECT_TRUE(overflow);
  EXPECT_EQ(cluster->active_requests.load(), 2);
  EXPECT_EQ(cluster->upstream_rq_pending_overflow.load(), 1u);

  a.Release();
  auto d = TakeCircuitBreakerSlot(cluster, limits, CircuitBreakerResource::kRequests, &overflow);
  EXPECT_TRUE(d.held());

  auto r1 = TakeCircuitBreakerSlot(cluster, limits, CircuitBreakerResource::kRetries, &overflow);
  auto r2 = TakeCircuitBreakerSlot(cluster, limits, CircuitBreakerResource::kRetries, &overflow);
  EXPECT_TRUE(r1.held());
  EXPECT_FALSE(r2.held());
  EXPECT_EQ(cluster->upstream_rq_retry_overflow.load(), 1u);

  auto x1 =
      TakeCircuitBreakerSlot(cluster, limits, CircuitBreakerResource::kConnections, &overflow);
  auto x2 =
      TakeCircuitBreakerSlot(cluster, limits, CircuitBreakerResource::kConnections, &overflow);
  EXPECT_FALSE(x2.held());
  EXPECT_EQ(cluster->upstream_cx_overflow.load(), 1u);

  auto p1 =
      TakeCircuitBreakerSlot(cluster, limits, CircuitBreakerResource::kPendingRequests, &overflow);
  auto p2 =
      TakeCircuitBreakerSlot(cluster, limits, CircuitBreakerResource::kPendingRequests, &overflow);
  EXPECT_FALSE(p2.held());
  EXPECT_EQ(cluster->upstream_rq_pending_overflow.load(), 2u);
}

TEST(CircuitBreakerTest, SlotsAreGivenBackWhenDestroyedOrMoved) {
  auto cluster = std::make_shared<ClusterStats>();
  CircuitBreakerConfig limits{1, 1, 1, 1};
  bool overflow = false;
  {
    auto a = TakeCircuitBreakerSlot(cluster, limits, CircuitBreakerResource::kRequests, &overflow);
    CircuitBreakerSlot moved = std::move(a);
    EXPECT_FALSE(a.held());  // NOLINT(bugprone-use-after-move): moved-from is empty
    EXPECT_TRUE(moved.held());
    EXPECT_EQ(cluster->active_requests.load(), 1);
  }
  EXPECT_EQ(cluster->active_requests.load(), 0);
  // No cluster: no limit, nothing counted.
  auto none = TakeCircuitBreakerSlot(nullptr, limits, CircuitBreakerResource::kRequests, &overflow);
  EXPECT_FALSE(none.held());
  EXPECT_FALSE(overflow);
}

TEST(CircuitBreakerTest, RacingWorkersNeverHoldMoreThanTheLimit) {
  auto cluster = std::make_shared<ClusterStats>();
  CircuitBreakerConfig limits{1024, 1024, 3, 3};
  // Slots held at once, counted apart from the gauge (which a losing
  // taker moves for an instant).
  std::atomic<int64_t> holding{0}, most{0}, taken{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        bool overflow = false;
        auto slot =
            TakeCircuitBreakerSlot(cluster, limits, CircuitBreakerResource::kRequests, &overflow);
        if (!slot.held()) continue;
        taken.fetch_add(1);
        int64_t now = holding.fetch_add(1) + 1;
        int64_t seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        holding.fetch_sub(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_GT(taken.load(), 0);
  EXPECT_LE(most.load(), 3);
  EXPECT_EQ(cluster->active_requests.load(), 0);
}

}  // namespace
}  // namespace causeway::proxy
