#include "hub/api/metrics.h"

#include <string>

#include "gtest/gtest.h"

namespace causeway::hub::api {
namespace {

using std::chrono::milliseconds;

TEST(RequestMetricsTest, ClientChosenMethodsShareOneSeries) {
  RequestMetrics metrics;
  for (int i = 0; i < 1000; ++i) {
    metrics.Observe("M" + std::to_string(i), "", 405, milliseconds(1));
  }
  metrics.Observe("GET", "/v1/zones", 200, milliseconds(1));
  std::string out;
  metrics.Render(&out);
  EXPECT_NE(out.find("route=\"unmatched\",method=\"other\",code=\"405\"} 1000"), std::string::npos)
      << out;
  EXPECT_NE(out.find("route=\"/v1/zones\",method=\"GET\",code=\"200\"} 1"), std::string::npos)
      << out;
  EXPECT_EQ(out.find("M999"), std::string::npos);
}

TEST(RequestMetricsTest, MethodLabels) {
  EXPECT_EQ(MethodLabel("DELETE"), "DELETE");
  EXPECT_EQ(MethodLabel("get"), "other");  // methods are case-sensitive
  EXPECT_EQ(MethodLabel(std::string(10000, 'A')), "other");
}

}  // namespace
}  // namespace causeway::hub::api
