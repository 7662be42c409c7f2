#include "proxy/xds_client/resources.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "proxy/xds_client/test_resources.h"

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
