#include "common/cpu_count.h"

#include <gtest/gtest.h>
#include <sched.h>

namespace causeway {
namespace {

// sched_getaffinity(0) answers for the calling thread, so the test can narrow
// its own mask and put it back.
class CpuCountTest : public testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(sched_getaffinity(0, sizeof(saved_), &saved_), 0); }
  void TearDown() override { sched_setaffinity(0, sizeof(saved_), &saved_); }
  cpu_set_t saved_;
};

TEST_F(CpuCountTest, CountsTheAffinityMask) { EXPECT_EQ(UsableCpuCount(), CPU_COUNT(&saved_)); }

TEST_F(CpuCountTest, FollowsANarrowedMask) {
  int first = -1;
  for (int cpu = 0; cpu < CPU_SETSIZE && first < 0; ++cpu)
    if (CPU_ISSET(cpu, &saved_)) first = cpu;
  ASSERT_GE(first, 0);
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  EXPECT_EQ(UsableCpuCount(), 1);
}

}  // namespace
}  // namespace causeway
