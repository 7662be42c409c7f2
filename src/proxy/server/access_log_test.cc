#include "proxy/server/access_log.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace causeway::proxy {
namespace {

TEST(AccessLogTest, FormatsOneJsonObject) {
  AccessLogEntry e;
  e.start_time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000123));
  e.method = "GET";
  e.authority = "a.com";
  e.path = "/x?\"q\"";
  e.status = 200;
  e.route = "r";
  e.cluster = "c";
  e.upstream_address = "127.0.0.1:80";
  e.bytes_sent = 10;
  e.duration = std::chrono::microseconds(1500);
  e.upstream_time = std::chrono::microseconds(1000);
  auto j = nlohmann::json::parse(FormatAccessLogJson(e));
  EXPECT_EQ(j["start_time"], "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(j["path"], "/x?\"q\"");
  EXPECT_EQ(j["status"], 200);
  EXPECT_EQ(j["bytes_sent"], 10);
  EXPECT_DOUBLE_EQ(j["duration_ms"].get<double>(), 1.5);
  EXPECT_DOUBLE_EQ(j["upstream_time_ms"].get<double>(), 1.0);
}

TEST(AccessLogTest, ProtocolOfEachEntry) {
  AccessLogEntry e;
  EXPECT_EQ(nlohmann::json::parse(FormatAccessLogJson(e))["protocol"], "HTTP/1.1");
  e.protocol_minor = 0;
  EXPECT_EQ(nlohmann::json::parse(FormatAccessLogJson(e))["protocol"], "HTTP/1.0");
  e.protocol_major = 2;
  EXPECT_EQ(nlohmann::json::parse(FormatAccessLogJson(e))["protocol"], "HTTP/2");
}

TEST(AccessLogTest, InterceptFieldOnlyForKeyRoutedRequests) {
  AccessLogEntry e;
  EXPECT_FALSE(nlohmann::json::parse(FormatAccessLogJson(e)).contains("intercept"));
  e.intercept = "staging; fallback=no-tunnel";
  EXPECT_EQ(nlohmann::json::parse(FormatAccessLogJson(e))["intercept"],
            "staging; fallback=no-tunnel");
}

}  // namespace
}  // namespace causeway::proxy
