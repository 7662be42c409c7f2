#include "proxy/upstream/load_balancer.h"

#include <map>

#include "gtest/gtest.h"

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
  c.endpoints[0].healthy = c.endpoints[1].healthy = c.endpoints[2].healthy = false;
  EXPECT_EQ(lb.Choose(c, {}), nullptr);
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

}  // namespace
}  // namespace causeway::proxy
