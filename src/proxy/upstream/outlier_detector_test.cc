// Outlier detection: which outcomes count, when an endpoint is ejected, for
// how long, the max_ejection_percent limit, and the load balancer passing
// over ejected endpoints (and picking among them when all are).
#include "proxy/upstream/outlier_detector.h"

#include <set>
#include <string>

#include "gtest/gtest.h"
#include "proxy/upstream/load_balancer.h"

namespace causeway::proxy {
namespace {

using std::chrono::milliseconds;

struct OutlierFixture : ::testing::Test {
  OutlierFixture() {
    cluster.name = "svc";
    for (int i = 0; i < 4; ++i) {
      Endpoint e;
      e.address = "10.0.0." + std::to_string(i + 1);
      e.port = 80;
      cluster.endpoints.push_back(e);
    }
    OutlierDetectionConfig od;
    od.consecutive_5xx = 3;
    od.base_ejection_time = milliseconds(1000);
    od.max_ejection_time = milliseconds(2500);
    od.interval = milliseconds(10000);
    od.max_ejection_percent = 50;
    cluster.outlier_detection = od;
  }
  std::shared_ptr<EndpointStats> Stats(int i) {
    return registry.Get("svc", cluster.endpoints[i].Key());
  }
  int64_t Now() const { return OutlierNowMs(time); }
  void Fail(int i, int times, int status = 503) {
    for (int n = 0; n < times; ++n) RecordOutlierOutcome(cluster, Stats(i), status, Now());
  }
  ClusterStats& Cluster() { return *registry.GetCluster("svc"); }

  SimulatedTime time;
  EndpointStatsRegistry registry;
  ClusterConfig cluster;
};

TEST_F(OutlierFixture, ConsecutiveFailuresEjectAndASuccessStartsOver) {
  Fail(0, 2);
  RecordOutlierOutcome(cluster, Stats(0), 200, Now());
  Fail(0, 2);
  EXPECT_FALSE(IsEjected(*Stats(0), Now()));
  Fail(0, 1, 0);  // a connect failure counts like a 5xx
  EXPECT_TRUE(IsEjected(*Stats(0), Now()));
  EXPECT_EQ(Cluster().ejections_active.load(), 1u);
  EXPECT_EQ(Cluster().ejections_enforced_consecutive_5xx.load(), 1u);
  EXPECT_EQ(Stats(0)->times_ejected.load(), 1u);
}

TEST_F(OutlierFixture, EjectionTimeGrowsWithEachEjectionUpToTheCap) {
  Fail(1, 3);
  EXPECT_EQ(Stats(1)->ejected_until_ms.load() - Now(), 1000);
  time.Advance(milliseconds(1000));
  EXPECT_FALSE(IsEjected(*Stats(1), Now()));
  Fail(1, 3);
  EXPECT_EQ(Stats(1)->ejected_until_ms.load() - Now(), 2000);
  time.Advance(milliseconds(2000));
  Fail(1, 3);
  EXPECT_EQ(Stats(1)->ejected_until_ms.load() - Now(), 2500);  // 3 × 1 s, capped
  SweepEjections(Cluster(), Now());
  EXPECT_EQ(Cluster().ejections_active.load(), 1u);
  time.Advance(milliseconds(2500));
  SweepEjections(Cluster(), Now());
  EXPECT_EQ(Cluster().ejections_active.load(), 0u);
  EXPECT_EQ(Cluster().ejections_total.load(), 3u);
  // Intervals spent back in the set earn ejections back: two intervals
  // take the multiplier from 3 to 1, so the next ejection is 2 × 1 s.
  time.Advance(milliseconds(20000));
  Fail(1, 3);
  EXPECT_EQ(Stats(1)->ejected_until_ms.load() - Now(), 2000);
}

TEST_F(OutlierFixture, MaxEjectionPercentHoldsBackFurtherEjections) {
  Fail(0, 3);
  Fail(1, 3);
  Fail(2, 3);  // a third of four would be 75 % > 50 %
  EXPECT_TRUE(IsEjected(*Stats(0), Now()));
  EXPECT_TRUE(IsEjected(*Stats(1), Now()));
  EXPECT_FALSE(IsEjected(*Stats(2), Now()));
  EXPECT_EQ(Cluster().ejections_overflow.load(), 1u);
  // Once one is back, there is room again.
  time.Advance(milliseconds(1000));
  Fail(2, 3);
  EXPECT_TRUE(IsEjected(*Stats(2), Now()));
}

TEST_F(OutlierFixture, EnvoysPercentRuleAndAlwaysEjectOneHost) {
  cluster.outlier_detection->max_ejection_percent = 10;  // one of four is 25 %
  Fail(0, 3);
  EXPECT_FALSE(IsEjected(*Stats(0), Now()));
  cluster.outlier_detection->always_eject_one_host = true;
  Fail(0, 3);
  EXPECT_TRUE(IsEjected(*Stats(0), Now()));
  Fail(1, 3);
  EXPECT_FALSE(IsEjected(*Stats(1), Now()));
}

TEST_F(OutlierFixture, GatewayFailuresOnlyWhenEnforcing) {
  cluster.outlier_detection->consecutive_5xx = 100;
  cluster.outlier_detection->consecutive_gateway_failure = 2;
  Fail(0, 2, 502);
  EXPECT_FALSE(IsEjected(*Stats(0), Now()));  // Envoy's default: detected, not enforced
  EXPECT_EQ(Cluster().ejections_detected_consecutive_gateway_failure.load(), 1u);
  cluster.outlier_detection->enforcing_consecutive_gateway_failure = true;
  Fail(0, 1, 504);
  Fail(0, 1, 500);  // not a gateway failure: starts the count over
  Fail(0, 1, 0);
  EXPECT_FALSE(IsEjected(*Stats(0), Now()));
  Fail(0, 1, 503);
  EXPECT_TRUE(IsEjected(*Stats(0), Now()));
  EXPECT_EQ(Cluster().ejections_enforced_consecutive_gateway_failure.load(), 1u);
}

TEST_F(OutlierFixture, NothingWithoutOutlierDetection) {
  cluster.outlier_detection.reset();
  Fail(0, 10);
  EXPECT_FALSE(IsEjected(*Stats(0), Now()));
  EXPECT_EQ(Stats(0)->consecutive_5xx.load(), 0u);
}

TEST_F(OutlierFixture, LoadBalancerSkipsEjectedAndPanicsWhenAllAre) {
  LoadBalancer lb(7);
  lb.SetEjectionSource(&registry, &time);
  for (auto policy :
       {ClusterConfig::LbPolicy::kRoundRobin, ClusterConfig::LbPolicy::kLeastRequest}) {
    cluster.lb_policy = policy;
    cluster.id = UniqueId();
    cluster.outlier_detection->max_ejection_percent = 50;
    Fail(1, 3);
    Fail(3, 3);
    std::set<std::string> picked;
    for (int i = 0; i < 200; ++i) picked.insert(lb.Choose(cluster, {})->Key());
    EXPECT_EQ(picked, (std::set<std::string>{"10.0.0.1:80", "10.0.0.3:80"}));
    // All ejected: every pick still finds one.
    cluster.outlier_detection->max_ejection_percent = 100;
    Fail(0, 3);
    Fail(2, 3);
    for (int i = 0; i < 20; ++i) EXPECT_NE(lb.Choose(cluster, {}), nullptr);
    // Their time up, all are picked again.
    time.Advance(milliseconds(10000));
    picked.clear();
    for (int i = 0; i < 200; ++i) picked.insert(lb.Choose(cluster, {})->Key());
    EXPECT_EQ(picked.size(), 4u);
    time.Advance(milliseconds(100000));  // the multipliers decay between policies
  }
}

}  // namespace
}  // namespace causeway::proxy
