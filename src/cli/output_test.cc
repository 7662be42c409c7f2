#include "cli/output.h"

#include "gtest/gtest.h"

namespace causeway::cli {
namespace {

TEST(OutputTest, TableAlignsColumns) {
  EXPECT_EQ(RenderTable({{"NAME", "AGE"}, {"dev-local", "3m"}}),
            "NAME        AGE\ndev-local   3m\n");
}

TEST(OutputTest, Ages) {
  auto now = *ParseTime("2024-05-02T12:00:00Z");
  EXPECT_EQ(FormatAge("2024-05-02T11:59:15.000Z", now), "45s");
  EXPECT_EQ(FormatAge("2024-05-02T11:30:00Z", now), "30m");
  EXPECT_EQ(FormatAge("2024-05-02T02:00:00Z", now), "10h");
  EXPECT_EQ(FormatAge("2024-04-25T12:00:00Z", now), "7d");
  EXPECT_EQ(FormatAge("garbage", now), "");
}

TEST(OutputTest, Since) {
  EXPECT_EQ(ParseSince("90s")->count(), 90);
  EXPECT_EQ(ParseSince("2h30m")->count(), 9000);
  EXPECT_EQ(ParseSince("7d")->count(), 7 * 86400);
  EXPECT_FALSE(ParseSince("soon").ok());
  EXPECT_FALSE(ParseSince("-5m").ok());
}

TEST(OutputTest, ExitCodes) {
  EXPECT_EQ(ExitCodeFor(absl::InvalidArgumentError("x")), kExitInvalid);
  EXPECT_EQ(ExitCodeFor(UsageError("x")), kExitUsage);
  EXPECT_EQ(ExitCodeFor(absl::FailedPreconditionError("x")), kExitConflict);
  EXPECT_EQ(ExitCodeFor(absl::UnavailableError("x")), kExitUnavailable);
  EXPECT_EQ(ExitCodeFor(absl::NotFoundError("x")), kExitNotFound);
  EXPECT_EQ(ExitCodeFor(absl::UnauthenticatedError("x")), kExitAuth);
}

TEST(OutputTest, RouteTable) {
  auto now = *ParseTime("2024-05-02T12:00:00Z");
  Json route = {{"kind", "Route"},
                {"name", "api"},
                {"zone", "dev-local"},
                {"domain", "d:80"},
                {"path", "/api"},
                {"route_group", "default"},
                {"created_at", "2024-05-02T11:00:00Z"},
                {"version", "4"},
                {"rules", Json::array()},
                {"timeout_ms", 0}};
  auto rows = ObjectTable(model::Kind::kRoute, {route}, /*wide=*/true, /*with_zone=*/true, now);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"ZONE", "NAME", "DOMAIN", "PATH", "ROUTE GROUP",
                                               "RULES", "TIMEOUT", "AGE", "VERSION"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"dev-local", "api", "d:80", "/api", "default", "0",
                                               "<none>", "60m", "4"}));
}

TEST(OutputTest, ApplyReportCountsOutcomes) {
  Json response = {{"revision", 12},
                   {"results",
                    {{{"kind", "Zone"}, {"name", "z"}, {"outcome", "unchanged"}},
                     {{"kind", "Route"}, {"zone", "z"}, {"name", "r"}, {"outcome", "created"}}}}};
  EXPECT_EQ(
      ApplyReport(response),
      "Zone z unchanged\nRoute z/r created\n1 created, 0 updated, 1 unchanged; revision 12\n");
}

TEST(OutputTest, FieldDiffIgnoresMetadata) {
  Json a = {{"path", "/api"}, {"version", "1"}, {"rules", Json::array()}};
  Json b = {{"path", "/v2"}, {"version", "2"}, {"rules", Json::array()}};
  EXPECT_EQ(FieldDiff(a, b), "  path: /api → /v2\n");
  EXPECT_EQ(FieldDiff(a, a), "");
}

}  // namespace
}  // namespace causeway::cli

namespace causeway::cli {
namespace {

TEST(CellTextTest, Values) {
  EXPECT_EQ(CellText(nullptr), "");
  EXPECT_EQ(CellText("a b"), "a b");
  EXPECT_EQ(CellText(true), "yes");
  EXPECT_EQ(CellText(false), "no");
  EXPECT_EQ(CellText(42), "42");
  EXPECT_EQ(CellText(Json::array({1, "x"})), "[1,\"x\"]");
}

}  // namespace
}  // namespace causeway::cli

namespace causeway::cli {
namespace {

TEST(InterceptTableTest, LeaseAndTunnelColumns) {
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1796637600));
  Json live = {{"name", "ana-api"},
               {"cluster", "api"},
               {"key", "ana"},
               {"owner", "ana-laptop"},
               {"expires_at", "2026-12-07T10:00:25.000Z"},
               {"created_at", "2026-12-07T09:59:55.000Z"}};
  Json routed = live;
  routed["name"] = "bo-api";
  routed["expires_at"] = "2026-12-07T10:05:00.000Z";
  routed["tunnel"] = {{"proxy", "edge"}, {"address", "10.0.0.7:15001"}};
  Json expired = live;
  expired["name"] = "old";
  expired["expires_at"] = "2026-12-07T09:59:00.000Z";
  auto rows = ObjectTable(model::Kind::kIntercept, {live, routed, expired}, false, false, now);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"NAME", "CLUSTER", "KEY", "OWNER", "EXPIRES IN",
                                               "TUNNEL", "AGE"}));
  EXPECT_EQ(rows[1],
            (std::vector<std::string>{"ana-api", "api", "ana", "ana-laptop", "25s", "none", "5s"}));
  EXPECT_EQ(rows[2][4], "5m");
  EXPECT_EQ(rows[2][5], "via edge (10.0.0.7:15001)");
  EXPECT_EQ(rows[3][4], "expired");
}

}  // namespace
}  // namespace causeway::cli
