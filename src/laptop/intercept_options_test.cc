#include "laptop/intercept_options.h"

#include <string>

#include "cli/output.h"
#include "gtest/gtest.h"
#include "model/objects.h"

namespace causeway::laptop {
namespace {

InterceptFlags GoodInterceptFlags() {
  InterceptFlags flags;
  flags.cluster = "color";
  flags.key = "ana";
  flags.to = "127.0.0.1:8080";
  return flags;
}

// The error of PlanIntercept for `flags`, which must be a usage error.
std::string OptionsPlanError(const InterceptFlags& flags) {
  absl::StatusOr<InterceptPlan> plan = PlanIntercept(flags, "staging");
  EXPECT_FALSE(plan.ok());
  if (plan.ok()) return "";
  EXPECT_EQ(cli::ExitCodeFor(plan.status()), cli::kExitUsage) << plan.status();
  return std::string(plan.status().message());
}

TEST(InterceptOptionsTest, DefaultNameIsKeyDashClusterMadeValid) {
  EXPECT_EQ(DefaultInterceptName("ana", "color"), "ana-color");
  EXPECT_EQ(DefaultInterceptName("Ana_X", "color"), "ana-x-color");
  EXPECT_EQ(DefaultInterceptName("__", "api"), "api");
  EXPECT_EQ(DefaultInterceptName("a.b", "api"), "a.b-api");
  std::string long_cluster(250, 'c');
  std::string name = DefaultInterceptName("key", long_cluster);
  EXPECT_EQ(name.size(), 253u);
  EXPECT_TRUE(model::IsValidName(name)) << name;
  // Cut where a '-' would end it: the '-' goes too.
  name = DefaultInterceptName(std::string(252, 'k'), "api");
  EXPECT_EQ(name, std::string(252, 'k'));
}

TEST(InterceptOptionsTest, GoodFlagsMakeAPlan) {
  InterceptFlags flags = GoodInterceptFlags();
  flags.tunnel = "edge.staging.example:9443";
  flags.to_protocol = "http2";
  absl::StatusOr<InterceptPlan> plan = PlanIntercept(flags, "staging");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->name, "ana-color");
  EXPECT_EQ(plan->zone, "staging");
  EXPECT_EQ(plan->lease_ms, 30000u);
  EXPECT_TRUE(plan->to_http2);
  flags.name = "mine";
  flags.to = "[::1]:8080";
  plan = PlanIntercept(flags, "staging");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->name, "mine");
}

TEST(InterceptOptionsTest, BadFlagsNameTheFlagAndValue) {
  InterceptFlags flags = GoodInterceptFlags();
  flags.key = "a b";
  EXPECT_NE(OptionsPlanError(flags).find("--key \"a b\""), std::string::npos);
  flags = GoodInterceptFlags();
  flags.key = std::string(33, 'k');
  EXPECT_NE(OptionsPlanError(flags).find("1 to 32"), std::string::npos);
  flags = GoodInterceptFlags();
  flags.to = "localhost";
  EXPECT_NE(OptionsPlanError(flags).find("--to \"localhost\": no port"), std::string::npos);
  flags.to = "localhost:0";
  EXPECT_NE(OptionsPlanError(flags).find("--to \"localhost:0\""), std::string::npos);
  flags.to = ":8080";
  EXPECT_NE(OptionsPlanError(flags).find("no host"), std::string::npos);
  flags.to = "::1:8080";
  EXPECT_NE(OptionsPlanError(flags).find("[ and ]"), std::string::npos);
  flags = GoodInterceptFlags();
  flags.lease_ms = 999;
  EXPECT_NE(OptionsPlanError(flags).find("--lease-ms 999"), std::string::npos);
  flags.lease_ms = 600001;
  EXPECT_NE(OptionsPlanError(flags).find("--lease-ms 600001"), std::string::npos);
  flags = GoodInterceptFlags();
  flags.name = "Bad_Name";
  EXPECT_NE(OptionsPlanError(flags).find("--name \"Bad_Name\""), std::string::npos);
  flags = GoodInterceptFlags();
  flags.cluster = "Color";
  EXPECT_NE(OptionsPlanError(flags).find("CLUSTER \"Color\""), std::string::npos);
  flags = GoodInterceptFlags();
  flags.tunnel = "edge";
  EXPECT_NE(OptionsPlanError(flags).find("--tunnel \"edge\""), std::string::npos);
  flags.tunnel = "edge:9443";
  flags.tunnel_ca = "/nonexistent/ca.crt";
  EXPECT_NE(OptionsPlanError(flags).find("--tunnel-ca \"/nonexistent/ca.crt\": cannot read"),
            std::string::npos);
  flags = GoodInterceptFlags();
  flags.to_protocol = "grpc";
  EXPECT_NE(OptionsPlanError(flags).find("--to-protocol \"grpc\""), std::string::npos);
  absl::StatusOr<InterceptPlan> no_zone = PlanIntercept(GoodInterceptFlags(), "");
  ASSERT_FALSE(no_zone.ok());
  EXPECT_NE(no_zone.status().message().find("--zone"), std::string::npos);
}

}  // namespace
}  // namespace causeway::laptop
