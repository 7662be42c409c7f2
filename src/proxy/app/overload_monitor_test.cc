#include "proxy/app/overload_monitor.h"

#include "gtest/gtest.h"

namespace causeway::proxy {
namespace {

TEST(OverloadMonitorTest, EachActionFollowsItsThresholdBothWays) {
  OverloadState state;
  OverloadMonitor monitor({.disable_keepalive_at = 900, .stop_accepting_at = 950}, &state);
  ASSERT_TRUE(monitor.enabled());
  monitor.Update(800);
  EXPECT_FALSE(state.keepalive_disabled());
  EXPECT_FALSE(state.accepting_stopped());
  monitor.Update(900);
  EXPECT_TRUE(state.keepalive_disabled());
  EXPECT_FALSE(state.accepting_stopped());
  monitor.Update(960);
  EXPECT_TRUE(state.keepalive_disabled());
  EXPECT_TRUE(state.accepting_stopped());
  monitor.Update(920);
  EXPECT_TRUE(state.keepalive_disabled());
  EXPECT_FALSE(state.accepting_stopped());
  monitor.Update(100);
  EXPECT_FALSE(state.keepalive_disabled());
  std::map<std::string, double> stats;
  monitor.AddStats(&stats);
  EXPECT_EQ(stats["overload_memory_bytes"], 100);
  EXPECT_EQ(stats["overload_disable_http_keepalive"], 0);
}

TEST(OverloadMonitorTest, ZeroThresholdsLeaveTheActionsOff) {
  OverloadState state;
  OverloadMonitor monitor({}, &state);
  EXPECT_FALSE(monitor.enabled());
  monitor.Update(UINT64_MAX);
  EXPECT_FALSE(state.keepalive_disabled());
  EXPECT_FALSE(state.accepting_stopped());
  std::map<std::string, double> stats;
  monitor.AddStats(&stats);
  EXPECT_TRUE(stats.empty());
}

TEST(OverloadMonitorTest, MemoryInUseIsMeasured) { EXPECT_GT(OverloadMonitor::MemoryInUse(), 0u); }

}  // namespace
}  // namespace causeway::proxy
