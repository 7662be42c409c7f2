#include "proxy/xds_client/resources.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/proxy/test_resources.h"

namespace causeway::proxy {
namespace {

using ::testing::ElementsAre;
using namespace ::causeway::proxy::testing;  // NOLINT(google-build-using-namespace)

TEST(ResourcesTest, ReferencesAndMissingNames) {
  XdsResources set;
  set.listeners["l"] = Share(Listener("l", 80, "r"));
  set.routes["r"] = Share(RouteConfig("r", "web"));
  auto weighted = RouteConfig("w", "");
  auto* action = weighted.mutable_virtual_hosts(0)->mutable_routes(0)->mutable_route();
  action->clear_cluster();
  action->mutable_weighted_clusters()->add_clusters()->set_name("blue");
  action->mutable_weighted_clusters()->add_clusters()->set_name("green");
  set.routes["w"] = Share(weighted);
  set.clusters["web"] = Share(Cluster("web"));
  auto named = Cluster("api");
  named.mutable_eds_cluster_config()->set_service_name("api-eds");
  set.clusters["api"] = Share(named);
  set.clusters["static"] = Share(Cluster("static", false));

  EXPECT_THAT(RouteNamesOf(set.listeners), ElementsAre("r"));
  EXPECT_THAT(EndpointNamesOf(set.clusters), ElementsAre("api-eds", "web"));
  EXPECT_THAT(ClusterNamesOf(set.routes), ElementsAre("blue", "green", "web"));

  MissingResources missing = FindMissing(set);
  EXPECT_THAT(missing.endpoints, ElementsAre("api-eds", "web"));
  EXPECT_THAT(missing.clusters, ElementsAre("blue", "green"));
  EXPECT_TRUE(missing.routes.empty());

  PruneUnreferenced(set);
  EXPECT_FALSE(set.routes.contains("w"));
}

TEST(ResourcesTest, ReferenceMemoLooksAgainOnlyAtChangedResources) {
  ReferenceMemo<envoy::config::listener::v3::Listener> memo;
  ListenerMap listeners;
  listeners["l"] = Share(Listener("l", 80, "r1"));
  listeners["m"] = Share(Listener("m", 81, "r2"));
  EXPECT_THAT(memo.Of(listeners), ElementsAre("r1", "r2"));
  EXPECT_EQ(memo.computed(), 2u);

  // The same resources, in the same map or a copy of it: nothing unpacked.
  EXPECT_THAT(memo.Of(listeners), ElementsAre("r1", "r2"));
  ListenerMap copy = listeners;
  EXPECT_THAT(memo.Of(copy), ElementsAre("r1", "r2"));
  EXPECT_EQ(memo.computed(), 2u);

  // A changed listener is unpacked again and its new RDS name picked up;
  // the unchanged one is not.
  listeners["m"] = Share(Listener("m", 81, "r3"));
  EXPECT_THAT(memo.Of(listeners), ElementsAre("r1", "r3"));
  EXPECT_EQ(memo.computed(), 3u);
  ASSERT_NE(memo.NamesOf("m"), nullptr);
  EXPECT_THAT(*memo.NamesOf("m"), ElementsAre("r3"));

  // Equal content under a new pointer counts as changed (no comparing messages).
  listeners["l"] = Share(Listener("l", 80, "r1"));
  EXPECT_THAT(memo.Of(listeners), ElementsAre("r1", "r3"));
  EXPECT_EQ(memo.computed(), 4u);

  // Gone and added listeners.
  listeners.erase("l");
  EXPECT_THAT(memo.Of(listeners), ElementsAre("r3"));
  EXPECT_EQ(memo.NamesOf("l"), nullptr);
  listeners["a"] = Share(Listener("a", 82, "r0"));
  EXPECT_THAT(memo.Of(listeners), ElementsAre("r0", "r3"));
  EXPECT_EQ(memo.computed(), 5u);
  EXPECT_THAT(memo.Of(ListenerMap{}), ElementsAre());
}

TEST(ResourcesTest, ReferenceMemoUsesTheKeyItIsHeldUnder) {
  ReferenceMemo<envoy::config::cluster::v3::Cluster> memo;
  auto web = Share(Cluster("web"));
  ClusterMap clusters{{"web", web}};
  EXPECT_THAT(memo.Of(clusters), ElementsAre("web"));
  // The same pointer under another key: EDS names default to the key.
  ClusterMap renamed{{"www", web}};
  EXPECT_THAT(memo.Of(renamed), ElementsAre("www"));
  EXPECT_THAT(memo.Of(renamed), EndpointNamesOf(renamed));
}

TEST(ResourcesTest, JsonDumpUsesProtoFieldNames) {
  XdsResources set;
  set.listeners["l"] = Share(Listener("l", 8080, "r"));
  set.endpoints["e"] = Share(Assignment("e", 9000));
  nlohmann::json json = ResourcesToJson(set);
  EXPECT_EQ(json["listeners"][0]["name"], "l");
  EXPECT_EQ(json["listeners"][0]["address"]["socket_address"]["port_value"], 8080);
  EXPECT_EQ(json["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]["rds"]
                ["route_config_name"],
            "r");
  EXPECT_EQ(json["endpoints"][0]["cluster_name"], "e");
  EXPECT_TRUE(json["routes"].empty());
}

}  // namespace
}  // namespace causeway::proxy
