#include "support/process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <string>

namespace causeway::testing {
namespace {

// True once `pid` has exited (gone, or a zombie nobody reaped yet).
bool Exited(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

TEST(FreePort, NeverGivesTheSamePortTwice) {
  // 2,000 random draws from about 20,000 ports repeat many times over (as
  // the kernel's own picks repeated within a few hundred).
  std::set<int> seen;
  for (int i = 0; i < 2000; ++i) {
    int port = FreePort();
    ASSERT_TRUE(seen.insert(port).second) << "port " << port << " given twice, at pick " << i;
  }
}

TEST(FreePort, PicksBelowTheKernelsEphemeralRange) {
  // A port from the ephemeral range could be handed by the kernel to
  // another test process's bind to 0 before this one's server binds it.
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0;
  ASSERT_TRUE(range >> low);
  for (int i = 0; i < 200; ++i) {
    int port = FreePort();
    ASSERT_LT(port, low) << "at pick " << i;
    ASSERT_GT(port, 0);
  }
}

TEST(Subprocess, DiesWithATestKilledBeforeItsDestructor) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  // A stand-in for a test process: it starts a child and is then killed
  // with SIGKILL, so no destructor of its runs.
  pid_t test_process = ::fork();
  ASSERT_GE(test_process, 0);
  if (test_process == 0) {
    ::close(fds[0]);
    Subprocess child(Subprocess::Options{{"/bin/sleep", "600"}, {}, "", ""});
    pid_t pid = child.pid();
    if (::write(fds[1], &pid, sizeof(pid)) != sizeof(pid)) _exit(1);
    ::pause();
    _exit(0);
  }
  ::close(fds[1]);
  pid_t child = -1;
  ASSERT_EQ(::read(fds[0], &child, sizeof(child)), static_cast<ssize_t>(sizeof(child)));
  ::close(fds[0]);
  ASSERT_GT(child, 0);
  EXPECT_FALSE(Exited(child));

  ::kill(test_process, SIGKILL);
  ::waitpid(test_process, nullptr, 0);
  EXPECT_TRUE(WaitFor([&] { return Exited(child); }))
      << "the child outlived the process that started it";
  if (!Exited(child)) ::kill(child, SIGKILL);
}

}  // namespace
}  // namespace causeway::testing
