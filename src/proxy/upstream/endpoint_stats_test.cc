// Endpoint counters: dropped for endpoints that left the configuration and
// have nothing open, and worker caches that follow the drop.
#include "proxy/upstream/endpoint_stats.h"

#include <string>

#include "gtest/gtest.h"

namespace causeway::proxy {
namespace {

ProxyConfig ConfigWith(const std::string& cluster, int endpoints) {
  auto c = std::make_shared<ClusterConfig>();
  c->name = cluster;
  for (int i = 0; i < endpoints; ++i) {
    Endpoint e;
    e.address = "10.0.0.1";
    e.port = static_cast<uint16_t>(10000 + i);
    c->endpoints.push_back(e);
  }
  ProxyConfig config;
  config.clusters[cluster] = c;
  return config;
}

std::string EndpointKey(int i) { return "10.0.0.1:" + std::to_string(10000 + i); }

TEST(EndpointStatsTest, RetainDropsIdleEndpointsOutsideTheSet) {
  EndpointStatsRegistry registry;
  registry.Get("web", EndpointKey(0))->requests = 5;
  registry.Get("web", EndpointKey(1))->active_connections = 1;  // still open
  registry.Get("web", EndpointKey(2))->active_requests = 1;     // in flight
  registry.Get("web", EndpointKey(3));
  registry.Get("api", EndpointKey(0));
  const uint64_t before = registry.generation();

  EXPECT_EQ(registry.Retain({{"web", EndpointKey(0)}}), 2u);  // web :3 and api :0
  auto left = registry.Snapshot();
  EXPECT_EQ(left.size(), 3u);
  EXPECT_EQ((left.count({"web", EndpointKey(0)})), 1u);
  EXPECT_EQ((left[{"web", EndpointKey(0)}].requests), 5u);
  EXPECT_EQ((left.count({"web", EndpointKey(1)})), 1u);
  EXPECT_EQ((left.count({"web", EndpointKey(2)})), 1u);
  EXPECT_NE(registry.generation(), before);

  // Nothing to drop: the generation stays, so caches stay.
  const uint64_t after = registry.generation();
  EXPECT_EQ(
      registry.Retain({{"web", EndpointKey(0)}, {"web", EndpointKey(1)}, {"web", EndpointKey(2)}}),
      0u);
  EXPECT_EQ(registry.generation(), after);
}

TEST(EndpointStatsTest, CachesFollowADrop) {
  EndpointStatsRegistry registry;
  EndpointStatsCache cache(&registry);
  std::shared_ptr<EndpointStats> old = cache.Get("web", EndpointKey(0));
  old->requests = 7;
  ASSERT_EQ(registry.Retain({}), 1u);
  // The endpoint comes back: the cache must hand out the registry's new
  // entry (the one pages show), not the dropped one it still held.
  std::shared_ptr<EndpointStats> fresh = cache.Get("web", EndpointKey(0));
  EXPECT_NE(fresh, old);
  fresh->requests.fetch_add(1);
  EXPECT_EQ((registry.Snapshot()[{"web", EndpointKey(0)}].requests), 1u);
}

TEST(EndpointStatsTest, ChurnIsPrunedOnceItOutgrowsTheConfiguration) {
  EndpointStatsRegistry registry;
  // A cluster of 10 endpoints whose instances moved to new ports over and
  // over: 10 + 10/2 + margin entries are tolerated, more are pruned.
  const ProxyConfig config = ConfigWith("web", 10);
  const size_t tolerated = 10 + 5 + EndpointStatsRegistry::kRetainMargin;
  for (size_t i = 0; i < tolerated; ++i) registry.Get("web", EndpointKey(static_cast<int>(i)));
  EXPECT_EQ(registry.RetainConfigured(config), 0u);
  EXPECT_EQ(registry.size(), tolerated);

  registry.Get("web", EndpointKey(static_cast<int>(tolerated)));
  EXPECT_EQ(registry.RetainConfigured(config), tolerated + 1 - 10);
  EXPECT_EQ(registry.size(), 10u);  // exactly the configured endpoints
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ((registry.Snapshot().count({"web", EndpointKey(i)})), 1u);
  }
}

}  // namespace
}  // namespace causeway::proxy
