#include "cli/init_zone.h"

#include "gtest/gtest.h"

namespace causeway::cli {
namespace {

using model::Kind;

TEST(InitZoneTest, RouteNames) {
  EXPECT_EQ(RouteName("demo.turbinelabs.io:8888", "/api"), "demo.turbinelabs.io-8888-api");
  EXPECT_EQ(RouteName("a.b:80", "/"), "a.b-80");
  EXPECT_EQ(RouteName("a.b:80", "/v1/Users_x/"), "a.b-80-v1-users-x");
}

TEST(InitZoneTest, SeedSetup) {
  InitZoneSpec spec{"dev-local",
                    {"dev-proxy=demo.turbinelabs.io:8888"},
                    {"demo.turbinelabs.io:8888/api=envoy-simple"},
                    "default"};
  auto plan = PlanInitZone(spec);
  ASSERT_TRUE(plan.ok()) << plan.status();
  std::vector<std::pair<Kind, std::string>> keys;
  for (const auto& o : *plan) keys.push_back({o.key.kind, o.key.name});
  EXPECT_EQ(keys, (std::vector<std::pair<Kind, std::string>>{
                      {Kind::kZone, "dev-local"},
                      {Kind::kCluster, "envoy-simple"},
                      {Kind::kDomain, "demo.turbinelabs.io:8888"},
                      {Kind::kRouteGroup, "default"},
                      {Kind::kProxy, "dev-proxy"},
                      {Kind::kRoute, "demo.turbinelabs.io-8888-api"},
                  }));
  const auto& group = (*plan)[3];
  EXPECT_EQ(group.spec["default"][0]["cluster"], "envoy-simple");
  const auto& route = (*plan)[5];
  EXPECT_EQ(route.spec["route_group"], "default");
  EXPECT_EQ(route.spec["path"], "/api");
  EXPECT_EQ((*plan)[4].spec["domains"], model::Json::array({"demo.turbinelabs.io:8888"}));
}

TEST(InitZoneTest, GroupPerClusterByDefault) {
  InitZoneSpec spec{
      "z", {"p=a.b:80", "p=c.d:81"}, {"a.b:80/x=one", "c.d:81/y=two", "a.b:80/=one"}, ""};
  auto plan = PlanInitZone(spec);
  ASSERT_TRUE(plan.ok()) << plan.status();
  int groups = 0;
  for (const auto& o : *plan) {
    if (o.key.kind == Kind::kRouteGroup) ++groups;
    if (o.key.kind == Kind::kProxy) {
      EXPECT_EQ(o.spec["domains"].size(), 2u);
    }
    if (o.key.kind == Kind::kRoute && o.key.name == "c.d-81-y") {
      EXPECT_EQ(o.spec["route_group"], "two");
    }
  }
  EXPECT_EQ(groups, 2);
}

TEST(InitZoneTest, BadFlagsAreNamed) {
  auto plan = PlanInitZone({"z", {}, {"nodomain/api=c"}, ""});
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(std::string(plan.status().message()).find("--route nodomain/api=c"), std::string::npos);
  plan = PlanInitZone({"z", {}, {"a.b:80/x=one", "c.d:81/y=two"}, "default"});
  EXPECT_FALSE(plan.ok());
  plan = PlanInitZone({"Bad Zone", {}, {}, ""});
  EXPECT_FALSE(plan.ok());
  plan = PlanInitZone({"z", {}, {"a.b:80/x y=one"}, ""});
  EXPECT_FALSE(plan.ok());
}

}  // namespace
}  // namespace causeway::cli
