// Downstream connection limits, descriptor exhaustion and memory overload
// on the real causeway-proxy binary: beyond --max-connections (or the
// per-listener limit) a new connection is reset at once while the open ones
// are served; when accept() fails for lack of descriptors the listener
// backs off instead of spinning, and accepts again once descriptors are
// free; over the overload thresholds responses close their connections and
// new connections wait.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "scripted_proxy.h"
#include "support/process.h"
#include "test_origin.h"

namespace causeway::proxy::testing {
namespace {

using causeway::testing::WaitFor;
using std::chrono::seconds;

// A connected loopback socket, or -1.
int ConnectTo(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Whether the peer ended the connection (EOF or reset) within `ms`.
bool EndedWithin(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, ms) <= 0) return false;
  char c;
  return ::recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
}

// One request on an open connection; its status (0: none).
int StatusOn(int fd, uint16_t port) {
  const std::string req = "GET / HTTP/1.1\r\nHost: app.test:" + std::to_string(port) + "\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    return 0;
  }
  std::string got;
  char buf[4096];
  while (got.find("\r\n") == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0) return 0;
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return 0;
    got.append(buf, n);
  }
  return got.rfind("HTTP/1.1 ", 0) == 0 ? std::stoi(got.substr(9, 3)) : 0;
}

class Sockets {
 public:
  ~Sockets() { CloseAll(); }
  void Add(int fd) { fds_.push_back(fd); }
  std::vector<int>& fds() { return fds_; }
  void CloseAll() {
    for (int fd : fds_) ::close(fd);
    fds_.clear();
  }

 private:
  std::vector<int> fds_;
};

// Enough descriptors for this process and the proxy it starts, which
// inherits the limit: each holds 10,000 connections and a few more (the
// hard limit is raised only if it is lower, which needs root).
void RaiseDescriptorLimit(rlim_t want) {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur >= want) return;
  if (lim.rlim_max < want) lim.rlim_max = want;
  lim.rlim_cur = want;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lim), 0) << "cannot raise RLIMIT_NOFILE to " << want;
}

TEST(ConnectionLimitsTest, BeyondTheProcessLimitNewConnectionsAreResetAndTheOpenOnesServed) {
  RaiseDescriptorLimit(12000);
  TestOrigin origin("origin");
  ScriptedProxy proxy({.origin_port = origin.port(), .extra_args = {"--max-connections", "10000"}});
  ASSERT_TRUE(proxy.Start());
  Sockets held;
  for (int i = 0; i < 10000; ++i) {
    int fd = ConnectTo(proxy.port());
    ASSERT_GE(fd, 0) << "connection " << i;
    held.Add(fd);
  }
  ASSERT_TRUE(
      WaitFor([&] { return proxy.Stat("downstream_connections_active") == 10000; }, seconds(60)));
  // 10,000 more attempts: each is accepted by the kernel and reset by the proxy.
  int refused = 0;
  for (int i = 0; i < 10000; ++i) {
    int fd = ConnectTo(proxy.port());
    if (fd < 0 || EndedWithin(fd, 10000)) ++refused;
    if (fd >= 0) ::close(fd);
  }
  EXPECT_EQ(refused, 10000);
  EXPECT_EQ(proxy.Stat("downstream_cx_overflow"), 10000);
  EXPECT_EQ(proxy.Stat("downstream_connections_active"), 10000);
  // The open connections are served on.
  for (int i = 0; i < 10000; i += 100) {
    ASSERT_EQ(StatusOn(held.fds()[i], proxy.port()), 200) << "held connection " << i;
  }
}

TEST(ConnectionLimitsTest, TheListenerLimitFreesASlotWhenAConnectionCloses) {
  TestOrigin origin("origin");
  ScriptedProxy proxy(
      {.origin_port = origin.port(), .extra_args = {"--max-connections-per-listener", "3"}});
  ASSERT_TRUE(proxy.Start());
  Sockets held;
  for (int i = 0; i < 3; ++i) held.Add(ConnectTo(proxy.port()));
  ASSERT_TRUE(
      WaitFor([&] { return proxy.Stat("downstream_connections_active") == 3; }, seconds(20)));
  int fourth = ConnectTo(proxy.port());
  EXPECT_TRUE(EndedWithin(fourth, 10000)) << "the fourth connection was not refused";
  ::close(fourth);
  EXPECT_EQ(proxy.Stat("downstream_cx_overflow"), 1);
  ::close(held.fds()[0]);
  held.fds().erase(held.fds().begin());
  ASSERT_TRUE(
      WaitFor([&] { return proxy.Stat("downstream_connections_active") == 2; }, seconds(20)));
  int again = ConnectTo(proxy.port());
  EXPECT_EQ(StatusOn(again, proxy.port()), 200);
  ::close(again);
  EXPECT_EQ(StatusOn(held.fds()[0], proxy.port()), 200);
}

TEST(ConnectionLimitsTest, OutOfDescriptorsTheListenerBacksOffAndRecovers) {
#if defined(__SANITIZE_ADDRESS__)
  // The sanitizer build's UndefinedBehaviorSanitizer checks a polymorphic
  // object's type by probing its memory through a pipe, which a process out
  // of descriptors cannot open: in the proxy under test every such check
  // then reports a bad type. The release run tests this.
  GTEST_SKIP() << "a sanitizer's own checks need descriptors this test takes away";
#endif
  TestOrigin origin("origin");
  // Few descriptors: the connections below exhaust them.
  ScriptedProxy proxy({.origin_port = origin.port(), .shell_prefix = "ulimit -n 128"});
  ASSERT_TRUE(proxy.Start());
  Sockets clients;
  for (int i = 0; i < 200; ++i) {
    int fd = ConnectTo(proxy.port());
    if (fd >= 0) clients.Add(fd);
  }
  ASSERT_TRUE(
      WaitFor([&] { return proxy.Log().find("backing off") != std::string::npos; }, seconds(20)))
      << "accept never failed: the descriptor limit did not bite";
  clients.CloseAll();
  const std::regex again("accepting again after ([0-9]+) failures in ([0-9]+) ms");
  std::smatch m;
  ASSERT_TRUE(WaitFor(
      [&] {
        std::string log = proxy.Log();
        return std::regex_search(log, m, again);
      },
      seconds(30)));
  const long failures = std::stol(m[1]);
  const long ms = std::stol(m[2]);
  // Each failure waits at least 10 ms before the next accept; a listener
  // that retried at once would fail thousands of times a second.
  EXPECT_GE(failures, 1);
  EXPECT_LE(failures, ms / 10 + 2) << failures << " failures in " << ms << " ms";
  int fd = ConnectTo(proxy.port());
  EXPECT_EQ(StatusOn(fd, proxy.port()), 200);
  ::close(fd);
  EXPECT_GE(proxy.Stat("downstream_cx_accept_resource_errors"), 1);
}

// The overload actions with a threshold of one byte: always over it.
TEST(ConnectionLimitsTest, UnderMemoryPressureResponsesCloseTheirConnections) {
  TestOrigin origin("origin");
  ScriptedProxy proxy(
      {.origin_port = origin.port(), .extra_args = {"--overload-disable-keepalive-at", "1"}});
  ASSERT_TRUE(proxy.Start());
  EXPECT_EQ(proxy.Stat("overload_disable_http_keepalive"), 1);
  EXPECT_GT(proxy.Stat("overload_memory_bytes"), 0);
  RawClient client(proxy.port());
  ASSERT_TRUE(client.Send("GET / HTTP/1.1\r\nHost: app.test\r\n\r\n"));
  RawClient::Response r = client.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("connection"), "close");
  EXPECT_TRUE(client.WaitClosed());
}

TEST(ConnectionLimitsTest, UnderMemoryPressureNewConnectionsWaitAndOpenOnesAreServed) {
  TestOrigin origin("origin");
  ScriptedProxy proxy(
      {.origin_port = origin.port(), .extra_args = {"--overload-stop-accepting-at", "1"}});
  ASSERT_TRUE(proxy.Start());
  EXPECT_EQ(proxy.Stat("overload_stop_accepting_connections"), 1);
  // The kernel completes the handshake; the proxy does not take the
  // connection, so the request gets no answer.
  int fd = ConnectTo(proxy.port());
  ASSERT_GE(fd, 0);
  const std::string req = "GET / HTTP/1.1\r\nHost: app.test\r\n\r\n";
  ASSERT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  pollfd p{fd, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 1000), 0) << "a connection was served while accepting is stopped";
  ::close(fd);
  EXPECT_EQ(proxy.Stat("downstream_connections_active"), 0);
  EXPECT_EQ(origin.requests(), 0);
}

}  // namespace
}  // namespace causeway::proxy::testing
