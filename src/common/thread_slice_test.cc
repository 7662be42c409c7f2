#include "common/thread_slice.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <thread>

namespace causeway {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

// Per-thread slices arrived in Linux 6.12; the tests check the kernel they
// run on does what its version promises, either way.
bool KernelHasSlices() {
  utsname u{};
  if (uname(&u) != 0) return false;
  int major = 0, minor = 0;
  if (std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
  return major > 6 || (major == 6 && minor >= 12);
}

pid_t Tid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

// Each test changes a thread of its own, which ends with the test.
template <typename F>
void OnThread(F f) {
  std::thread t(f);
  t.join();
}

TEST(ThreadSliceTest, SetsTheCallingThreadsSliceOnly) {
  const pid_t test_thread = Tid();
  OnThread([test_thread] {
    auto before = ThreadSlice();
    ASSERT_TRUE(before.ok()) << before.status();
    auto set = SetThreadSlice(microseconds(300));
    if (!KernelHasSlices()) {
      EXPECT_EQ(*before, nanoseconds(0));
      EXPECT_EQ(set.status().code(), absl::StatusCode::kFailedPrecondition) << set.status();
      return;
    }
    EXPECT_GT(*before, nanoseconds(0));
    ASSERT_TRUE(set.ok()) << set.status();
    EXPECT_EQ(*set, microseconds(300));
    EXPECT_EQ(*ThreadSlice(), microseconds(300));
    EXPECT_EQ(*ThreadSlice(Tid()), microseconds(300));

    // The thread that started this one keeps its slice; a thread started
    // from this one inherits this one's.
    EXPECT_EQ(*ThreadSlice(test_thread), *before);
    nanoseconds child{};
    OnThread([&] { child = *ThreadSlice(); });
    EXPECT_EQ(child, microseconds(300));
  });
}

TEST(ThreadSliceTest, KeepsTheNiceValue) {
  if (!KernelHasSlices()) GTEST_SKIP() << "kernel before 6.12: nothing is changed";
  OnThread([] {
    // Raising one's own nice value needs no privilege.
    ASSERT_EQ(setpriority(PRIO_PROCESS, static_cast<id_t>(Tid()), 7), 0);
    ASSERT_TRUE(SetThreadSlice(microseconds(500)).ok());
    errno = 0;
    EXPECT_EQ(getpriority(PRIO_PROCESS, static_cast<id_t>(Tid())), 7);
    EXPECT_EQ(errno, 0);
  });
}

TEST(ThreadSliceTest, TheKernelClampsToItsRange) {
  if (!KernelHasSlices()) GTEST_SKIP() << "kernel before 6.12: nothing is changed";
  OnThread([] {
    auto tiny = SetThreadSlice(microseconds(1));
    ASSERT_TRUE(tiny.ok()) << tiny.status();
    EXPECT_EQ(*tiny, microseconds(100));
    auto huge = SetThreadSlice(milliseconds(1000));
    ASSERT_TRUE(huge.ok()) << huge.status();
    EXPECT_EQ(*huge, milliseconds(100));
  });
}

TEST(ThreadSliceTest, RefusesThreadsOutsideTheFairScheduler) {
  OnThread([] {
    sched_param param{};
    ASSERT_EQ(sched_setscheduler(0, SCHED_IDLE, &param), 0);
    auto set = SetThreadSlice(microseconds(300));
    EXPECT_EQ(set.status().code(), absl::StatusCode::kFailedPrecondition) << set.status();
    EXPECT_EQ(sched_getscheduler(0), SCHED_IDLE);
  });
}

}  // namespace
}  // namespace causeway
