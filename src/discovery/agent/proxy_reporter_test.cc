#include "discovery/agent/proxy_reporter.h"

#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "support/process.h"
#include "xds/relay_report.h"

namespace causeway::discovery {
namespace {

using causeway::testing::WaitFor;
using nlohmann::json;
using std::chrono::milliseconds;

json Stream(const std::string& proxy, const std::string& node, const std::string& nack = "") {
  json lds = {{"type_url", "type.googleapis.com/envoy.config.listener.v3.Listener"},
              {"version_sent", "7"},
              {"version_acked", "7"},
              {"pending", false},
              {"wildcard", false},
              {"resource_names", {"a", "b"}},
              {"last_ack_time", "2026-11-27T10:00:00.123Z"},
              {"last_nack", nullptr}};
  if (!nack.empty()) {
    lds["last_nack"] = {{"message", nack}, {"version", "7"}, {"time", "2026-11-27T10:00:01.000Z"}};
  }
  return {{"node_id", node},
          {"proxy", proxy},
          {"zone", "staging"},
          {"peer", "ipv4:127.0.0.1:4000"},
          {"variant", "sotw"},
          {"registered", true},
          {"connected_at", "2026-11-27T09:00:00.000Z"},
          {"snapshot_revision", 5},
          {"types", {{"lds", lds}}}};
}

json Status(std::vector<json> streams) {
  return {{"zone", "staging"}, {"revision", 5}, {"proxies", streams}};
}

TEST(BuildProxyReportTest, TheHubAcceptsWhatTheXdsServerReports) {
  const std::string nack(10000, 'x');  // longer than the hub takes
  const std::string body =
      BuildProxyReport(Status({Stream("edge", "b"), Stream("edge", "a", nack), Stream("api", "z")}),
                       milliseconds(2000), 1 << 20);
  const json parsed = json::parse(body);
  EXPECT_EQ(parsed["interval_ms"], 2000);
  EXPECT_EQ(parsed["revision"], 5);
  EXPECT_EQ(parsed["omitted"], 0);
  ASSERT_EQ(parsed["proxies"].size(), 3u);
  // Sorted by proxy, then node; without the subscriptions' names.
  EXPECT_EQ(parsed["proxies"][0]["node_id"], "z");
  EXPECT_EQ(parsed["proxies"][1]["node_id"], "a");
  EXPECT_EQ(parsed["proxies"][2]["node_id"], "b");
  EXPECT_FALSE(parsed["proxies"][0]["types"]["lds"].contains("resource_names"));
  EXPECT_EQ(parsed["proxies"][1]["types"]["lds"]["last_nack"]["message"].get<std::string>().size(),
            xds::kMaxReportMessageLength);

  auto report = xds::ParseRelayReport(parsed, "staging");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->proxies.size(), 3u);
}

TEST(BuildProxyReportTest, CutsOnACharacterBoundary) {
  // "é" is two bytes; a cut through the middle of one would not be UTF-8.
  std::string nack;
  while (nack.size() < xds::kMaxReportMessageLength + 10) nack += "\xc3\xa9";
  nack = "x" + nack;
  const json parsed = json::parse(
      BuildProxyReport(Status({Stream("edge", "a", nack)}), milliseconds(1000), 1 << 20));
  const std::string cut = parsed["proxies"][0]["types"]["lds"]["last_nack"]["message"];
  EXPECT_EQ(cut.size(), xds::kMaxReportMessageLength - 1);
  EXPECT_EQ(cut.back(), '\xa9');
}

TEST(BuildProxyReportTest, KeepsWithinTheBoundAndCountsTheRest) {
  std::vector<json> streams;
  for (int i = 0; i < 100; ++i)
    streams.push_back(Stream("edge", "node-" + std::to_string(1000 + i)));
  const std::string body = BuildProxyReport(Status(streams), milliseconds(1000), 20000);
  EXPECT_LE(body.size(), 20000u);
  const json parsed = json::parse(body);
  EXPECT_GT(parsed["proxies"].size(), 0u);
  EXPECT_LT(parsed["proxies"].size(), 100u);
  EXPECT_EQ(parsed["proxies"].size() + parsed["omitted"].get<size_t>(), 100u);
  EXPECT_EQ(parsed["proxies"][0]["node_id"], "node-1000");
}

TEST(BuildProxyReportTest, NoStreamsIsAnEmptyReport) {
  const json parsed = json::parse(BuildProxyReport(json::object(), milliseconds(1000), 1 << 20));
  EXPECT_TRUE(parsed["proxies"].empty());
  EXPECT_TRUE(xds::ParseRelayReport(parsed, "staging").ok());
}

// Records what the reporter sends.
class FakeHub {
 public:
  ProxyReporter::Sender Sender() {
    return [this](std::string_view method, const std::string& target,
                  const std::string& body) -> absl::StatusOr<HttpResponse> {
      std::lock_guard lock(mu_);
      requests_.push_back({std::string(method), target, body});
      if (down_) return absl::UnavailableError("connection refused");
      return HttpResponse{.status = 200};
    };
  }
  struct Sent {
    std::string method, target, body;
  };
  std::vector<Sent> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  size_t count() { return requests().size(); }
  void set_down(bool down) {
    std::lock_guard lock(mu_);
    down_ = down;
  }

 private:
  std::mutex mu_;
  std::vector<Sent> requests_;
  bool down_ = false;
};

ProxyReporter::Options Fast(milliseconds interval) {
  ProxyReporter::Options options;
  options.zone = "staging";
  options.agent = "agent-a";
  options.interval = interval;
  options.quiet = milliseconds(20);
  options.max_delay = milliseconds(100);
  options.min_gap = milliseconds(50);
  return options;
}

TEST(ProxyReporterTest, ReportsAtOnceThenEveryIntervalAndWithdrawsOnStop) {
  FakeHub hub;
  ProxyReporter reporter(
      Fast(milliseconds(100)), [] { return Status({Stream("edge", "a")}); }, hub.Sender());
  reporter.Start();
  ASSERT_TRUE(WaitFor([&] { return hub.count() >= 3; }, std::chrono::seconds(5)));
  reporter.Stop();
  auto sent = hub.requests();
  EXPECT_EQ(sent.front().method, "PUT");
  EXPECT_EQ(sent.front().target, "/v1/zones/staging/agents/agent-a/proxies");
  EXPECT_EQ(json::parse(sent.front().body)["proxies"][0]["node_id"], "a");
  EXPECT_EQ(sent.back().method, "DELETE");
  EXPECT_EQ(sent.back().target, "/v1/zones/staging/agents/agent-a/proxies");
  EXPECT_GE(reporter.reports_ok(), 2u);
}

TEST(ProxyReporterTest, AChangeIsReportedSoonAndABurstOnce) {
  FakeHub hub;
  std::mutex mu;
  std::vector<json> streams;
  ProxyReporter reporter(
      Fast(std::chrono::minutes(5)),
      [&] {
        std::lock_guard lock(mu);
        return Status(streams);
      },
      hub.Sender());
  reporter.Start();
  ASSERT_TRUE(WaitFor([&] { return hub.count() == 1; }));
  EXPECT_TRUE(json::parse(hub.requests()[0].body)["proxies"].empty());

  // A burst of changes: reported once it goes quiet (or max_delay after it
  // began), with the state at that time.
  {
    std::lock_guard lock(mu);
    streams = {Stream("edge", "a")};
  }
  for (int i = 0; i < 5; ++i) reporter.Changed();
  ASSERT_TRUE(WaitFor([&] { return hub.count() == 2; }, std::chrono::seconds(5)));
  EXPECT_EQ(json::parse(hub.requests()[1].body)["proxies"].size(), 1u);

  // A failed report is retried on the next change.
  hub.set_down(true);
  reporter.Changed();
  ASSERT_TRUE(WaitFor([&] { return hub.count() == 3; }, std::chrono::seconds(5)));
  EXPECT_EQ(reporter.reports_failed(), 1u);
  hub.set_down(false);
  reporter.Changed();
  ASSERT_TRUE(WaitFor([&] { return hub.count() == 4; }, std::chrono::seconds(5)));
  reporter.Stop();
  EXPECT_EQ(reporter.reports_ok(), 3u);
}

}  // namespace
}  // namespace causeway::discovery
