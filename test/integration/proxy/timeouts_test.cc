// Every wait of the real causeway-proxy binary has a timeout, so that one
// slow or stalled peer cannot hold a connection (and an upstream connection)
// forever: a head trickled byte by byte (request_headers_timeout), a body
// upload that stalls (stream_idle_timeout) or drags on (request_timeout), a
// client that never reads its answer, an upgrade tunnel left idle. Each is
// cut, its upstream connection freed, its reason in the access log and in
// a counter.
#include <sys/socket.h>

#include <chrono>
#include <string>
#include <thread>

#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "scripted_proxy.h"
#include "support/process.h"
#include "test_origin.h"

namespace causeway::proxy::testing {
namespace {

using causeway::testing::WaitFor;
using google::protobuf::util::TimeUtil;
using std::chrono::seconds;

// What the proxy has sent so far, without waiting.
std::string ReceivedNow(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) out.append(buf, n);
  return out;
}

class TimeoutsTest : public ::testing::Test {
 protected:
  // Starts the proxy with these listener timeouts (milliseconds, 0: unset).
  void StartProxy(int headers_ms, int stream_idle_ms, int request_ms) {
    ScriptedProxy::Options options;
    options.origin_port = origin_.port();
    options.hcm = [=](ScriptedProxy::Hcm& hcm) {
      if (headers_ms > 0) {
        *hcm.mutable_request_headers_timeout() = TimeUtil::MillisecondsToDuration(headers_ms);
      }
      if (stream_idle_ms > 0) {
        *hcm.mutable_stream_idle_timeout() = TimeUtil::MillisecondsToDuration(stream_idle_ms);
      }
      if (request_ms > 0) {
        *hcm.mutable_request_timeout() = TimeUtil::MillisecondsToDuration(request_ms);
      }
    };
    proxy_ = std::make_unique<ScriptedProxy>(options);
    ASSERT_TRUE(proxy_->Start());
  }
  std::string Host() const { return "Host: app.test:" + std::to_string(proxy_->port()) + "\r\n"; }
  nlohmann::json EntryWithDetails(const std::string& details) {
    return proxy_->WaitForEntry(
        [&](const nlohmann::json& e) { return e.value("details", "") == details; });
  }

  TestOrigin origin_{"origin"};
  std::unique_ptr<ScriptedProxy> proxy_;
};

TEST_F(TimeoutsTest, AHeadTrickledByteByByteIsAnswered408) {
  StartProxy(/*headers_ms=*/400, /*stream_idle_ms=*/0, /*request_ms=*/0);
  RawClient client(proxy_->port());
  ASSERT_TRUE(client.Send("GET / HTTP/1.1\r\n" + Host()));
  // A byte every 50 ms keeps the connection busy but never ends the head;
  // without the timeout this loop runs to its end.
  std::string answer;
  for (int i = 0; i < 200 && answer.empty(); ++i) {
    client.Send("X");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the client's pace
    answer += ReceivedNow(client.fd());
  }
  EXPECT_NE(answer.find("408"), std::string::npos) << answer;
  EXPECT_TRUE(client.WaitClosed());
  nlohmann::json e = EntryWithDetails("request_header_timeout");
  ASSERT_FALSE(e.is_null()) << "no access log entry for the header timeout";
  EXPECT_EQ(e["status"], 408);
  EXPECT_GE(proxy_->Stat("downstream_rq_header_timeout"), 1);
  EXPECT_EQ(origin_.requests(), 0);
}

TEST_F(TimeoutsTest, AStalledUploadIsAnswered408AndItsUpstreamFreed) {
  StartProxy(0, /*stream_idle_ms=*/400, 0);
  RawClient client(proxy_->port());
  ASSERT_TRUE(
      client.Send("POST /upload HTTP/1.1\r\n" + Host() + "Content-Length: 1000000000\r\n\r\nx"));
  // The origin gets the head and the first byte, then nothing more comes.
  ASSERT_TRUE(WaitFor([&] { return origin_.open_connections() == 1; }, seconds(10)));
  RawClient::Response r = client.Read();
  EXPECT_EQ(r.status, 408);
  EXPECT_TRUE(client.WaitClosed());
  EXPECT_TRUE(WaitFor([&] { return origin_.open_connections() == 0; }, seconds(10)))
      << "the upstream connection stays open";
  nlohmann::json e = EntryWithDetails("stream_idle_timeout");
  ASSERT_FALSE(e.is_null());
  EXPECT_EQ(e["status"], 408);
  EXPECT_EQ(e["flags"], "SI");
  EXPECT_GE(proxy_->Stat("downstream_rq_idle_timeout"), 1);
}

TEST_F(TimeoutsTest, AnUploadThatDragsOnIsCutByTheRequestTimeout) {
  StartProxy(0, /*stream_idle_ms=*/10000, /*request_ms=*/600);
  RawClient client(proxy_->port());
  ASSERT_TRUE(client.Send("POST /upload HTTP/1.1\r\n" + Host() + "Content-Length: 100000\r\n\r\n"));
  // Progress every 50 ms keeps the idle timeout away; the whole request
  // still has to be in within request_timeout.
  std::string answer;
  for (int i = 0; i < 200 && answer.empty(); ++i) {
    client.Send("y");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the client's pace
    answer += ReceivedNow(client.fd());
  }
  EXPECT_NE(answer.find("408"), std::string::npos) << answer;
  nlohmann::json e = EntryWithDetails("request_overall_timeout");
  ASSERT_FALSE(e.is_null());
  EXPECT_EQ(e["status"], 408);
  EXPECT_GE(proxy_->Stat("downstream_rq_timeout"), 1);
  EXPECT_TRUE(WaitFor([&] { return origin_.open_connections() == 0; }, seconds(10)));
}

TEST_F(TimeoutsTest, AClientThatNeverReadsIsCutAndItsUpstreamFreed) {
  StartProxy(0, /*stream_idle_ms=*/400, 0);
  RawClient client(proxy_->port());
  // 32 MB: on loopback the kernel's socket buffers (the client's receive
  // buffer, the proxy's send buffer, both autotuned to megabytes) take a
  // 2 MB answer whole, and the proxy would have nothing left to wait for.
  ASSERT_TRUE(client.Send("GET /big/32000000 HTTP/1.1\r\n" + Host() + "\r\n"));
  nlohmann::json e = EntryWithDetails("stream_idle_timeout");
  ASSERT_FALSE(e.is_null()) << "no access log entry for the stalled reader";
  EXPECT_EQ(e["status"], 200);
  EXPECT_EQ(e["flags"], "SI");
  EXPECT_LT(e["bytes_sent"].get<uint64_t>(), 32000000u);
  EXPECT_TRUE(WaitFor([&] { return origin_.open_connections() == 0; }, seconds(10)))
      << "the upstream connection stays open";
  EXPECT_TRUE(
      WaitFor([&] { return proxy_->Stat("downstream_connections_active") == 0; }, seconds(10)));
}

TEST_F(TimeoutsTest, AnIdleTunnelIsClosed) {
  StartProxy(0, /*stream_idle_ms=*/400, 0);
  RawClient client(proxy_->port());
  ASSERT_TRUE(client.Send("GET /ws HTTP/1.1\r\n" + Host() +
                          "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n"));
  RawClient::Response r = client.Read();
  ASSERT_EQ(r.status, 101);
  ASSERT_TRUE(client.Send("ping"));
  EXPECT_NE(client.ReadSome().find("ping"), std::string::npos);
  // Then nothing either way.
  EXPECT_TRUE(client.WaitClosed(10000));
  nlohmann::json e = EntryWithDetails("stream_idle_timeout");
  ASSERT_FALSE(e.is_null());
  EXPECT_EQ(e["status"], 101);
  EXPECT_EQ(e["flags"], "SI");
  EXPECT_TRUE(WaitFor([&] { return origin_.open_connections() == 0; }, seconds(10)));
}

TEST_F(TimeoutsTest, UnsetTimeoutsLeaveAQuickRequestAlone) {
  StartProxy(0, 0, 0);
  RawClient::Response r = Request(proxy_->port(), "GET /big/100000 HTTP/1.1\r\n" + Host() + "\r\n");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), 100000u);
  nlohmann::json e = proxy_->WaitForEntry([](const nlohmann::json&) { return true; });
  EXPECT_EQ(e.value("details", "x"), "");
  EXPECT_EQ(e.value("flags", "x"), "");
}

}  // namespace
}  // namespace causeway::proxy::testing
