// The hub's REST side under connection floods, on the real binary: ten
// thousand idle keep-alive connections (the hub's open-file limit raised
// for them) leave health and an authenticated read answering about as fast
// as an idle hub (read in turn); a --max-connections limit closes idle
// connections to make room, and with none idle sheds new clients with 503
// (the rate printed); a hub out of file descriptors backs off instead of
// spinning and keeps answering. Resident memory per idle connection is
// printed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "overload_hub.h"
#include "support/process.h"

namespace causeway::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Sends `request` on a new loopback connection and returns everything the
// hub answers until it closes the connection (empty if it cannot connect).
std::string RestExchangeToClose(int port, const std::string& request) {
  IdleSocket socket(port);
  if (!socket.ok()) return "";
  timeval timeout{10, 0};
  ::setsockopt(socket.fd(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  if (::send(socket.fd(), request.data(), request.size(), MSG_NOSIGNAL) < 0) return "";
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::recv(socket.fd(), buf, sizeof(buf), 0)) > 0;) out.append(buf, n);
  return out;
}

// Whether a connection is open with nothing to read: an upload the hub is
// still reading. One the hub refused or closed reads as an answer, end of
// stream or a reset.
bool HoldsSlot(const IdleSocket& socket) {
  char byte = 0;
  const ssize_t n = ::recv(socket.fd(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return socket.ok() && n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

// Counts the clients answered 503 by a hub at --max-connections during
// `period`, from `threads` threads each opening one connection after another;
// `unexpected` counts any other answer.
int64_t CountShedRestClients(int port, int threads, std::chrono::milliseconds period,
                             std::atomic<int64_t>* unexpected) {
  std::atomic<int64_t> shed{0};
  const auto end = std::chrono::steady_clock::now() + period;
  std::vector<std::thread> clients;
  for (int t = 0; t < threads; ++t) {
    clients.emplace_back([&] {
      while (std::chrono::steady_clock::now() < end) {
        std::string answer =
            RestExchangeToClose(port, "GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n");
        ++(answer.rfind("HTTP/1.1 503", 0) == 0 ? shed : *unexpected);
      }
    });
  }
  for (auto& client : clients) client.join();
  return shed.load();
}

TEST(OverloadTest, TenThousandIdleConnectionsLeaveTheHubAnswering) {
  constexpr int kIdle = 10000;
  ASSERT_TRUE(RaiseOpenFileLimit(kIdle + 1000)) << "cannot raise the open-file limit";
  // The limit above the flood, so that all of it is held (at the default
  // of 10,000 the hub would close the oldest to make room).
  LimitedHub hub(kIdle + 1000, {"--max-connections", std::to_string(kIdle + 100)});
  ASSERT_TRUE(hub.ready()) << hub.Log();
  LimitedHub twin(4096, {});
  ASSERT_TRUE(twin.ready()) << twin.Log();
  const long rss_before = ResidentKb(hub.pid());

  std::vector<std::unique_ptr<IdleSocket>> idle;
  idle.reserve(kIdle);
  for (int i = 0; i < kIdle; ++i) {
    idle.push_back(std::make_unique<IdleSocket>(hub.port()));
    ASSERT_TRUE(idle.back()->ok()) << "connection " << i;
  }
  // Every one of them accepted and held by the hub.
  ASSERT_TRUE(WaitFor(
      [&] {
        std::string metrics = hub.Body("/metrics");
        return metrics.find("causeway_http_connections " + std::to_string(kIdle + 1)) !=
               std::string::npos;
      },
      seconds(60)))
      << hub.Body("/metrics").substr(0, 2000);
  const long rss_after = ResidentKb(hub.pid());

  EXPECT_EQ(hub.Status("/healthz", ""), 200);
  // Within 3x of an idle twin's, read in turn with it (plus a millisecond
  // of scheduling noise on a shared machine).
  const std::vector<ReadP99Pair> rounds = CompareReadP99(twin, hub, 200);
  std::cout << "authenticated GET p99 (" << DescribeRounds(rounds) << ") with " << kIdle
            << " idle connections; RSS " << rss_before << " kB → " << rss_after << " kB ("
            << (rss_after - rss_before) * 1024 / kIdle << " bytes per idle connection)\n";
  EXPECT_TRUE(rounds.back().WithinBound()) << DescribeRounds(rounds);
}

TEST(OverloadTest, AtTheConnectionLimitIdleConnectionsMakeRoom) {
  LimitedHub hub(4096, {"--max-connections", "50"});
  ASSERT_TRUE(hub.ready()) << hub.Log();
  std::vector<std::unique_ptr<IdleSocket>> idle;
  for (int i = 0; i < 200; ++i) {
    idle.push_back(std::make_unique<IdleSocket>(hub.port()));
    ASSERT_TRUE(idle.back()->ok());
  }
  // Connections give way once they have waited a moment (the hub's idle
  // grace, 100 ms): until then a newcomer is refused, then answered.
  EXPECT_TRUE(WaitFor([&] { return hub.Status("/healthz", "") == 200; }, seconds(30)));
  EXPECT_TRUE(WaitFor([&] { return hub.Status("/v1/zones", hub.token()) == 200; }, seconds(30)));
  std::string metrics = hub.Body("/metrics");
  EXPECT_EQ(metrics.find("causeway_http_idle_connections_closed_total 0\n"), std::string::npos)
      << metrics.substr(0, 3000);
}

TEST(OverloadTest, OutOfFileDescriptorsBacksOffAndKeepsAnswering) {
  // Room for the store, the xDS server and a few dozen connections.
  LimitedHub hub(96, {});
  ASSERT_TRUE(hub.ready()) << hub.Log();
  std::vector<std::unique_ptr<IdleSocket>> idle;
  for (int i = 0; i < 300; ++i) {
    idle.push_back(std::make_unique<IdleSocket>(hub.port()));
  }
  // New clients still get answers: each accept past the limit frees an
  // idle connection's descriptor.
  EXPECT_TRUE(WaitFor([&] { return hub.Status("/healthz", "") == 200; }, seconds(30)));
  EXPECT_TRUE(WaitFor([&] { return hub.Status("/v1/zones", hub.token()) == 200; }, seconds(30)));
  // And the log says so a few times, not once per failed accept.
  std::string log = hub.Log();
  size_t lines = 0;
  for (size_t at = log.find("accept failed"); at != std::string::npos;
       at = log.find("accept failed", at + 1)) {
    ++lines;
  }
  EXPECT_GE(lines, 1u) << "the hub never ran out of descriptors; the test proves nothing";
  EXPECT_LE(lines, 5u) << log.substr(0, 4000);
}

// Every slot held by a request whose body is still on its way (not idle, so
// nothing gives way): each new client is answered 503 and closed. The rate
// at which the hub sheds them is printed.
TEST(OverloadTest, BeyondMaxConnectionsNewClientsAreShedAtOnce) {
  constexpr int kSlots = 20;
  LimitedHub hub(4096, {"--max-connections", std::to_string(kSlots)});
  ASSERT_TRUE(hub.ready()) << hub.Log();
  const std::string slow_upload = "POST /v1/apply HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer " +
                                  hub.token() +
                                  "\r\nContent-Type: application/json\r\nContent-Length: "
                                  "100000\r\n\r\n{";
  // An upload that came while a connection of the readiness checks still
  // held its slot (the hub sees a client's close a moment late, and a
  // connection answered less than the idle grace ago does not give way) is
  // refused; it is replaced until every upload holds a slot and a new client
  // finds none.
  auto open_upload = [&] {
    auto upload = std::make_unique<IdleSocket>(hub.port());
    if (upload->ok()) ::send(upload->fd(), slow_upload.data(), slow_upload.size(), MSG_NOSIGNAL);
    return upload;
  };
  std::vector<std::unique_ptr<IdleSocket>> busy;
  for (int i = 0; i < kSlots; ++i) busy.push_back(open_upload());
  ASSERT_TRUE(WaitFor(
      [&] {
        const bool refused =
            RestExchangeToClose(hub.port(), "GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n")
                .rfind("HTTP/1.1 503", 0) == 0;
        bool all_held = true;
        for (auto& upload : busy) {
          if (!HoldsSlot(*upload)) {
            upload = open_upload();
            all_held = false;
          }
        }
        return refused && all_held;
      },
      seconds(30)));
  std::atomic<int64_t> unexpected{0};
  const auto period = milliseconds(3000);
  const int64_t shed = CountShedRestClients(hub.port(), 2, period, &unexpected);
  std::cout << "REST at --max-connections " << kSlots << ": " << shed << " clients shed in "
            << period.count() << " ms (" << shed * 1000 / period.count() << " per second), "
            << unexpected.load() << " answered otherwise\n";
  EXPECT_GT(shed, 0);
  EXPECT_EQ(unexpected.load(), 0);
  // The uploads still hold their slots: none was closed to make room. Idle
  // keep-alive connections of the probes above may have given way, as they
  // should, so the eviction counter is not asserted.
  for (const auto& upload : busy) {
    EXPECT_TRUE(HoldsSlot(*upload)) << "an upload's connection was answered or closed";
  }
  // Once they go the hub answers again and has counted what it refused.
  busy.clear();
  ASSERT_TRUE(WaitFor([&] { return hub.Status("/healthz", "") == 200; }, seconds(30)));
  const std::string metrics = hub.Body("/metrics");
  const std::string counter = "\ncauseway_http_connections_refused_total ";
  const size_t at = metrics.find(counter);
  ASSERT_NE(at, std::string::npos) << metrics.substr(0, 3000);
  EXPECT_GE(std::stoll(metrics.substr(at + counter.size())), shed);
}

}  // namespace
}  // namespace causeway::testing
