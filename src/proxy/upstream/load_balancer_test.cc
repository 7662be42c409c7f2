#include "proxy/upstream/load_balancer.h"

#include <atomic>
#include <cstdlib>
#include <map>
#include <new>

#include "gtest/gtest.h"

// Allocations of this test binary, counted while `counting` is on: a pick
// must not allocate.
namespace {
std::atomic<bool> counting{false};
std::atomic<int> allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace causeway::proxy {
namespace {

ClusterConfig MakeCluster(ClusterConfig::LbPolicy policy) {
  ClusterConfig c;
  c.name = "c";
  c.lb_policy = policy;
  for (int i = 0; i < 3; ++i) {
    Endpoint e;
    e.address = "10.0.0." + std::to_string(i);
    e.port = 80;
    e.metadata = {{"stage", i == 2 ? "canary" : "prod"}};
    c.endpoints.push_back(e);
  }
  return c;
}

// Endpoints named A, B, C, ... with these weights.
ClusterConfig Weighted(std::vector<uint32_t> weights,
                       ClusterConfig::LbPolicy policy = ClusterConfig::LbPolicy::kRoundRobin) {
  ClusterConfig c;
  c.name = "weighted";
  c.lb_policy = policy;
  for (size_t i = 0; i < weights.size(); ++i) {
    Endpoint e;
    e.address = std::string(1, static_cast<char>('A' + i));
    e.port = 80;
    e.weight = weights[i];
    c.endpoints.push_back(e);
  }
  return c;
}

std::string Sequence(LoadBalancer& lb, const ClusterConfig& c, int picks,
                     const LbMetadata& subset = {}) {
  std::string out;
  for (int i = 0; i < picks; ++i) {
    const Endpoint* e = lb.Choose(c, subset);
    out += e == nullptr ? "-" : e->address;
  }
  return out;
}

std::map<std::string, int> Count(LoadBalancer& lb, const ClusterConfig& c, int picks) {
  std::map<std::string, int> seen;
  for (int i = 0; i < picks; ++i) ++seen[lb.Choose(c, {})->address];
  return seen;
}

TEST(LoadBalancerTest, RoundRobinCyclesHealthyEndpoints) {
  ClusterConfig c = MakeCluster(ClusterConfig::LbPolicy::kRoundRobin);
  c.endpoints[1].healthy = false;
  LoadBalancer lb(1);
  std::map<std::string, int> seen;
  for (int i = 0; i < 10; ++i) ++seen[lb.Choose(c, {})->address];
  EXPECT_EQ(seen["10.0.0.0"], 5);
  EXPECT_EQ(seen["10.0.0.2"], 5);
  EXPECT_EQ(seen.count("10.0.0.1"), 0u);
}

TEST(LoadBalancerTest, SubsetAndAvoid) {
  ClusterConfig c = MakeCluster(ClusterConfig::LbPolicy::kRoundRobin);
  LoadBalancer lb(1);
  EXPECT_EQ(lb.Choose(c, {{"stage", "canary"}})->address, "10.0.0.2");
  EXPECT_EQ(lb.Choose(c, {{"stage", "none"}}), nullptr);
  const Endpoint* first = &c.endpoints[0];
  for (int i = 0; i < 5; ++i) {
    EXPECT_NE(lb.Choose(c, {{"stage", "prod"}}, first), first);
  }
  // A changed cluster is a new ClusterConfig (a copy has its own id).
  ClusterConfig down = c;
  down.endpoints[0].healthy = down.endpoints[1].healthy = down.endpoints[2].healthy = false;
  EXPECT_EQ(lb.Choose(down, {}), nullptr);
}

TEST(LoadBalancerTest, LeastRequestPrefersIdle) {
  ClusterConfig c = MakeCluster(ClusterConfig::LbPolicy::kLeastRequest);
  c.least_request_choices = 8;  // with many choices the idle endpoint is found
  LoadBalancer lb(7);
  for (int i = 0; i < 5; ++i) {
    lb.OnRequestStart(c.endpoints[0]);
    lb.OnRequestStart(c.endpoints[1]);
  }
  int idle = 0;
  for (int i = 0; i < 100; ++i) idle += lb.Choose(c, {})->address == "10.0.0.2";
  EXPECT_GT(idle, 95);
  lb.OnRequestEnd(c.endpoints[0]);
  EXPECT_EQ(lb.Active(c.endpoints[0]), 4u);
}

TEST(LoadBalancerTest, EqualWeightsAreRoundRobin) {
  LoadBalancer lb(1);
  EXPECT_EQ(Sequence(lb, Weighted({5, 5, 5}), 7), "ABCABCA");
}

// Exact EDF sequences: deadlines k/weight, ties to the one scheduled
// longest ago (configuration order at first).
TEST(LoadBalancerTest, WeightedRoundRobinExactSequences) {
  LoadBalancer lb(1);
  // 3:1. Deadlines A 1/3, 2/3, 1, 4/3 ...; B 1, 2 ...; at 1 B waited longer.
  EXPECT_EQ(Sequence(lb, Weighted({3, 1}), 12), "AABAAABAAABA");
  // 1:2:3: C 1/3, B 1/2, C 2/3, then A, B, C all at 1 in order, ...
  EXPECT_EQ(Sequence(lb, Weighted({1, 2, 3}), 12), "CBCABCCBCABC");
  // 1:1:2 spreads the heavy one out rather than bunching it.
  EXPECT_EQ(Sequence(lb, Weighted({1, 1, 2}), 8), "CABCCABC");
}

TEST(LoadBalancerTest, WeightedProportionsOverManyPicks) {
  ClusterConfig c = Weighted({1, 5, 10, 20});
  LoadBalancer lb(1);
  // After k times the weight sum, each endpoint has had exactly k times its
  // weight (every deadline up to k, and none beyond, has come up).
  std::map<std::string, int> seen = Count(lb, c, 36 * 1000);
  EXPECT_EQ(seen["A"], 1000);
  EXPECT_EQ(seen["B"], 5000);
  EXPECT_EQ(seen["C"], 10000);
  EXPECT_EQ(seen["D"], 20000);
  // And at any point in between within a pick or two of the exact share.
  LoadBalancer lb2(1);
  std::map<std::string, int> partial = Count(lb2, c, 36 * 7 + 17);
  const double picks = 36 * 7 + 17;
  for (auto [name, weight] : std::map<std::string, int>{{"A", 1}, {"B", 5}, {"C", 10}, {"D", 20}}) {
    EXPECT_NEAR(partial[name], picks * weight / 36, 2.0) << name;
  }
}

TEST(LoadBalancerTest, WeightsOnlyAmongHealthyAndSubset) {
  ClusterConfig c = Weighted({3, 1, 4});
  c.endpoints[2].healthy = false;
  c.endpoints[0].metadata = {{"stage", "prod"}};
  c.endpoints[1].metadata = {{"stage", "prod"}};
  LoadBalancer lb(1);
  EXPECT_EQ(Sequence(lb, c, 8, {{"stage", "prod"}}), "AABAAABA");
  std::map<std::string, int> seen = Count(lb, c, 400);
  EXPECT_EQ(seen["A"], 300);
  EXPECT_EQ(seen["B"], 100);
  EXPECT_EQ(seen.count("C"), 0u);
}

TEST(LoadBalancerTest, WeightedAvoidTakesTheNextEarliest) {
  ClusterConfig c = Weighted({10, 1, 1});
  LoadBalancer lb(1);
  const Endpoint* heavy = &c.endpoints[0];
  for (int i = 0; i < 50; ++i) {
    const Endpoint* e = lb.Choose(c, {}, heavy);
    ASSERT_NE(e, nullptr);
    EXPECT_NE(e, heavy);
  }
  // Alone, the avoided endpoint is still the answer.
  ClusterConfig single = Weighted({2});
  EXPECT_EQ(lb.Choose(single, {}, &single.endpoints[0]), &single.endpoints[0]);
}

TEST(LoadBalancerTest, NewSnapshotOfAClusterRebuildsItsSchedule) {
  LoadBalancer lb(1);
  ClusterConfig c = Weighted({3, 1});
  EXPECT_EQ(Sequence(lb, c, 4), "AABA");
  ClusterConfig next = c;  // what a configuration update delivers
  next.endpoints[0].weight = 1;
  next.endpoints[1].weight = 3;
  EXPECT_EQ(Sequence(lb, next, 4), "BBAB");
  // Back to equal weights: round robin again, over the new endpoints only.
  ClusterConfig three = Weighted({1, 1, 1});
  three.name = c.name;
  EXPECT_EQ(Sequence(lb, three, 6).size(), 6u);
  std::map<std::string, int> seen = Count(lb, three, 300);
  EXPECT_EQ(seen["A"], 100);
  EXPECT_EQ(seen["B"], 100);
  EXPECT_EQ(seen["C"], 100);
}

TEST(LoadBalancerTest, WeightedLeastRequestFollowsWeightsAndLoad) {
  ClusterConfig c = Weighted({3, 1}, ClusterConfig::LbPolicy::kLeastRequest);
  LoadBalancer lb(1);
  // Idle endpoints: the weights alone.
  std::map<std::string, int> seen = Count(lb, c, 400);
  EXPECT_EQ(seen["A"], 300);
  EXPECT_EQ(seen["B"], 100);
  // A with 5 requests in flight counts as weight 3/6 against B's 1/1.
  for (int i = 0; i < 5; ++i) lb.OnRequestStart(c.endpoints[0]);
  seen = Count(lb, c, 300);
  EXPECT_NEAR(seen["A"], 100, 3);
  EXPECT_NEAR(seen["B"], 200, 3);
}

TEST(LoadBalancerTest, PicksDoNotAllocate) {
  ClusterConfig weighted = Weighted({3, 1, 2, 7});
  ClusterConfig equal = Weighted({1, 1, 1, 1});
  equal.name = "equal";
  ClusterConfig least = Weighted({1, 1, 1, 1}, ClusterConfig::LbPolicy::kLeastRequest);
  least.name = "least";
  LoadBalancer lb(1);
  // The first pick of each builds its schedule.
  lb.Choose(weighted, {});
  lb.Choose(equal, {});
  lb.Choose(least, {});
  allocations = 0;
  counting = true;
  for (int i = 0; i < 1000; ++i) {
    lb.Choose(weighted, {}, &weighted.endpoints[0]);
    lb.Choose(equal, {}, &equal.endpoints[1]);
    lb.Choose(least, {});
  }
  counting = false;
  EXPECT_EQ(allocations.load(), 0);
}

}  // namespace
}  // namespace causeway::proxy
