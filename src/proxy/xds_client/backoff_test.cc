#include "proxy/xds_client/backoff.h"

#include <gtest/gtest.h>

namespace causeway::proxy {
namespace {

using std::chrono::milliseconds;

TEST(BackoffTest, GrowsWithJitterUpToTheMaximumAndResets) {
  Backoff backoff({milliseconds(100), milliseconds(1000), 2.0, 0.2}, /*seed=*/7);
  const int64_t bases[] = {100, 200, 400, 800, 1000, 1000};
  for (int64_t base : bases) {
    int64_t delay = backoff.Next().count();
    EXPECT_GE(delay, base * 8 / 10);
    EXPECT_LE(delay, std::min<int64_t>(base * 12 / 10, 1000));
  }
  backoff.Reset();
  EXPECT_LE(backoff.Next().count(), 120);
}

TEST(BackoffTest, JitterSpreadsDelays) {
  Backoff a({}, 1), b({}, 2);
  bool differ = false;
  for (int i = 0; i < 5; ++i) differ |= a.Next() != b.Next();
  EXPECT_TRUE(differ);
}

}  // namespace
}  // namespace causeway::proxy
