#include "hub/api/relay_status.h"

#include <gtest/gtest.h>

#include "common/status.h"

namespace causeway::hub::api {
namespace {

using xds::kMaxReportedProxies;
using xds::kMaxReportIdLength;
using xds::kMaxReportMessageLength;
using xds::ParseRelayReport;

// One stream as XdsServer::ZoneStatus renders it (AdsSession::Status).
Json Stream(const std::string& node, const std::string& lds_nack = "") {
  Json lds = {{"type_url", "type.googleapis.com/envoy.config.listener.v3.Listener"},
              {"version_sent", "7"},
              {"version_acked", lds_nack.empty() ? "7" : "6"},
              {"pending", false},
              {"wildcard", true},
              {"resource_names", Json::array()},
              {"last_ack_time", "2026-11-27T10:00:00.123Z"},
              {"last_nack", nullptr}};
  if (!lds_nack.empty()) {
    lds["last_nack"] = {
        {"message", lds_nack}, {"version", "7"}, {"time", "2026-11-27T10:00:01.000Z"}};
  }
  return {{"node_id", node},
          {"proxy", "edge"},
          {"zone", "staging"},
          {"peer", "ipv4:127.0.0.1:40000"},
          {"variant", "sotw"},
          {"registered", true},
          {"connected_at", "2026-11-27T09:59:59.000Z"},
          {"snapshot_revision", 12},
          {"types", {{"lds", lds}}}};
}

Json Report(Json proxies, int interval_ms = 1000) {
  return {{"interval_ms", interval_ms}, {"revision", 12}, {"proxies", std::move(proxies)}};
}

// The field a parse failed on, or "" when it succeeded.
std::string FailedField(const Json& body) {
  auto report = ParseRelayReport(body, "staging");
  if (report.ok()) return "";
  EXPECT_TRUE(absl::IsInvalidArgument(report.status())) << report.status();
  return ErrorField(report.status());
}

TEST(RelayStatusTest, ParsesAStreamStatusAsTheXdsServerRendersIt) {
  Json stream = Stream("edge-1", "unknown field");
  stream["a_newer_field"] = 1;
  auto report = ParseRelayReport(Report({stream}), "staging");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->interval.count(), 1000);
  EXPECT_EQ(report->revision, 12);
  ASSERT_EQ(report->proxies.size(), 1u);
  // The same shape back, without the subscription's names or unknown fields.
  Json expected = Stream("edge-1", "unknown field");
  expected["types"]["lds"].erase("resource_names");
  EXPECT_EQ(report->proxies[0], expected);
}

TEST(RelayStatusTest, ErrorsNameTheField) {
  EXPECT_TRUE(absl::IsInvalidArgument(ParseRelayReport(Json::array(), "staging").status()));
  EXPECT_EQ(FailedField({{"proxies", Json::array()}}), "interval_ms");
  EXPECT_EQ(FailedField(Report(Json::array(), 10)), "interval_ms");
  EXPECT_EQ(FailedField(Report(Json::array(), 3600 * 1000)), "interval_ms");
  EXPECT_EQ(FailedField({{"interval_ms", 1000}}), "proxies");
  EXPECT_EQ(FailedField({{"interval_ms", 1000}, {"proxies", Json::object()}}), "proxies");
  EXPECT_EQ(FailedField({{"interval_ms", 1000}, {"revision", -1}, {"proxies", Json::array()}}),
            "revision");
  EXPECT_EQ(FailedField({{"interval_ms", 1000}, {"omitted", "x"}, {"proxies", Json::array()}}),
            "omitted");

  Json s = Stream("edge-1");
  s.erase("node_id");
  EXPECT_EQ(FailedField(Report({Stream("ok"), s})), "proxies[1].node_id");
  s = Stream("edge-1");
  s["zone"] = "production";
  EXPECT_EQ(FailedField(Report({s})), "proxies[0].zone");
  s = Stream("edge-1");
  s["variant"] = "incremental";
  EXPECT_EQ(FailedField(Report({s})), "proxies[0].variant");
  s = Stream("edge-1");
  s["registered"] = "yes";
  EXPECT_EQ(FailedField(Report({s})), "proxies[0].registered");
  s = Stream("edge-1");
  s["connected_at"] = "yesterday";
  EXPECT_EQ(FailedField(Report({s})), "proxies[0].connected_at");
  s = Stream("edge-1");
  s["types"]["sds"] = Json::object();
  EXPECT_EQ(FailedField(Report({s})), "proxies[0].types.sds");
  s = Stream("edge-1");
  s["types"]["lds"]["version_sent"] = 7;
  EXPECT_EQ(FailedField(Report({s})), "proxies[0].types.lds.version_sent");
  s = Stream("edge-1", "bad");
  s["types"]["lds"]["last_nack"]["message"] = std::string(kMaxReportMessageLength + 1, 'x');
  EXPECT_EQ(FailedField(Report({s})), "proxies[0].types.lds.last_nack.message");
  s = Stream("edge-1");
  s["node_id"] = std::string(kMaxReportIdLength + 1, 'n');
  EXPECT_EQ(FailedField(Report({s})), "proxies[0].node_id");
  EXPECT_EQ(FailedField(Report({1})), "proxies[0]");

  Json many = Json::array();
  for (size_t i = 0; i <= kMaxReportedProxies; ++i)
    many.push_back({{"node_id", "n"}, {"types", Json::object()}});
  EXPECT_EQ(FailedField(Report(many)), "proxies");
}

// A status as XdsServer::ZoneStatus renders it, with one stream of its own.
Json HubStatus() {
  Json own = Stream("edge-hub");
  return {{"zone", "staging"},
          {"revision", 12},
          {"proxies", {own}},
          {"registered_proxies", {{{"name", "edge"}, {"streams", 1}, {"error", ""}}}},
          {"errors", Json::array()}};
}

TEST(RelayStatusTest, ReportsAppearBesideTheHubsOwnStreamsUntilTheyExpire) {
  ManualTime time;
  RelayReports reports(&time);
  auto report =
      ParseRelayReport(Report({Stream("edge-1"), Stream("edge-2", "no such cluster")}), "staging");
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_TRUE(reports.Put("staging", "agent-a", *std::move(report)).ok());

  Json status = HubStatus();
  reports.AddTo("staging", &status);
  ASSERT_EQ(status["proxies"].size(), 3u) << status.dump(2);
  EXPECT_EQ(status["proxies"][0]["via"], "hub");
  EXPECT_FALSE(status["proxies"][0].contains("agent"));
  EXPECT_EQ(status["proxies"][1]["via"], "agent");
  EXPECT_EQ(status["proxies"][1]["agent"], "agent-a");
  EXPECT_EQ(status["proxies"][1]["node_id"], "edge-1");
  EXPECT_EQ(status["proxies"][1]["reported_at"], FormatRfc3339(time.Now()));
  EXPECT_EQ(status["proxies"][2]["types"]["lds"]["last_nack"]["message"], "no such cluster");
  ASSERT_EQ(status["agents"].size(), 1u);
  EXPECT_EQ(status["agents"][0]["name"], "agent-a");
  EXPECT_EQ(status["agents"][0]["streams"], 2);
  EXPECT_EQ(status["agents"][0]["revision"], 12);
  EXPECT_EQ(status["agents"][0]["interval_ms"], 1000);
  EXPECT_EQ(status["registered_proxies"][0]["streams"], 1);
  EXPECT_EQ(status["registered_proxies"][0]["relayed_streams"], 2);

  // Other zones see nothing of it.
  Json other = {{"zone", "dev"}, {"proxies", Json::array()}};
  reports.AddTo("dev", &other);
  EXPECT_TRUE(other["proxies"].empty());
  EXPECT_TRUE(other["agents"].empty());

  // Alive until three intervals pass without a report.
  time.Advance(std::chrono::milliseconds(2999));
  status = HubStatus();
  reports.AddTo("staging", &status);
  EXPECT_EQ(status["proxies"].size(), 3u);
  time.Advance(std::chrono::milliseconds(1));
  status = HubStatus();
  reports.AddTo("staging", &status);
  EXPECT_EQ(status["proxies"].size(), 1u) << status.dump(2);
  EXPECT_TRUE(status["agents"].empty());
  EXPECT_EQ(status["registered_proxies"][0]["relayed_streams"], 0);
}

TEST(RelayStatusTest, ANewReportReplacesTheAgentsLastAndRemoveForgetsIt) {
  ManualTime time;
  RelayReports reports(&time);
  ASSERT_TRUE(
      reports.Put("staging", "a", *ParseRelayReport(Report({Stream("1"), Stream("2")}), "staging"))
          .ok());
  ASSERT_TRUE(
      reports.Put("staging", "b", *ParseRelayReport(Report({Stream("3")}), "staging")).ok());
  time.Advance(std::chrono::milliseconds(2000));
  ASSERT_TRUE(
      reports.Put("staging", "a", *ParseRelayReport(Report({Stream("1")}), "staging")).ok());
  time.Advance(std::chrono::milliseconds(1500));  // b expired, a's new report did not

  Json status = {{"proxies", Json::array()}};
  reports.AddTo("staging", &status);
  ASSERT_EQ(status["proxies"].size(), 1u) << status.dump(2);
  EXPECT_EQ(status["proxies"][0]["node_id"], "1");

  EXPECT_TRUE(reports.Remove("staging", "a"));
  EXPECT_FALSE(reports.Remove("staging", "a"));
  status = {{"proxies", Json::array()}};
  reports.AddTo("staging", &status);
  EXPECT_TRUE(status["proxies"].empty());
}

TEST(RelayStatusTest, AgentsPerZoneAreBounded) {
  ManualTime time;
  RelayReports reports(&time);
  for (size_t i = 0; i < kMaxReportingAgents; ++i) {
    ASSERT_TRUE(
        reports.Put("staging", StrCat("a", i), RelayReport{.interval = std::chrono::seconds(1)})
            .ok());
  }
  absl::Status full =
      reports.Put("staging", "one-more", RelayReport{.interval = std::chrono::seconds(1)});
  EXPECT_TRUE(absl::IsResourceExhausted(full)) << full;
  // An agent already reporting may report again, and expired agents make room.
  EXPECT_TRUE(reports.Put("staging", "a0", RelayReport{.interval = std::chrono::seconds(10)}).ok());
  time.Advance(std::chrono::seconds(3));
  EXPECT_TRUE(
      reports.Put("staging", "one-more", RelayReport{.interval = std::chrono::seconds(1)}).ok());
}

}  // namespace
}  // namespace causeway::hub::api
