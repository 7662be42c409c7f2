// One upstream attempt against a scripted origin on loopback, with
// simulated time: interim responses, 100-continue, both body pumps, the
// per-try and route deadlines, connect failures and resets.
#include "proxy/server/upstream_request.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <optional>
#include <string>

#include "common/time_source.h"
#include "proxy/server/io_test_util.h"

namespace causeway::proxy {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using std::chrono::milliseconds;
using Result = UpstreamRequest::Result;

using testing::RunIoUntil;

// A worker whose io_context the test runs, a client connected to the
// "downstream" socket an UpstreamRequest writes to, and an origin that
// accepts and then does what the test says.
class UpstreamRequestTest : public ::testing::Test {
 protected:
  UpstreamRequestTest() {
    tcp::acceptor a(io(), tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    client_.emplace(io());
    client_->connect(a.local_endpoint());
    down_.emplace(a.accept(), time_, io());
    down_->socket.non_blocking(true);
    Endpoint e;
    e.address = "127.0.0.1";
    e.port = origin_acceptor_.local_endpoint().port();
    cluster_.name = "origin";
    cluster_.endpoints.push_back(e);
    origin_acceptor_.async_accept(origin_,
                                  [this](boost::system::error_code ec) { accepted_ = !ec; });
  }
  ~UpstreamRequestTest() override {
    attempt_.reset();
    down_.reset();
    client_.reset();
    boost::system::error_code ec;
    origin_.close(ec);
    origin_acceptor_.close(ec);
  }
  asio::io_context& io() { return worker_->io_context(); }

  // Sets the request the client sent: `head` parsed, `buffered` body bytes
  // already read by the session.
  void Request(std::string head, std::string_view buffered = {}) {
    down_->head = std::move(head);
    ASSERT_EQ(http1::ParseRequestHead(down_->head, &down_->req).status, http1::ParseStatus::kOk);
    down_->up_out = down_->head;
    down_->in.Append(buffered);
    down_->body_consumed = down_->req.body == http1::BodyKind::kNone;
  }
  // Starts an attempt; then ForwardResponse if it got a response to forward.
  void Start(const RetryPolicy& policy, milliseconds route_timeout, UpstreamRequest::Body body) {
    retry_.emplace(policy, route_timeout);
    attempt_.emplace(*worker_, *down_, info_, *retry_, cluster_);
    asio::co_spawn(
        io(),
        [this, body]() -> asio::awaitable<void> {
          Result r = co_await attempt_->Run({}, nullptr, body);
          result_ = r;
          if (r == Result::kResponse) ending_ = co_await attempt_->ForwardResponse({}, false);
        },
        asio::detached);
  }
  std::string ReadAtOrigin(size_t n) {
    EXPECT_TRUE(RunIoUntil(io(), [&] { return accepted_; })) << "the proxy never connected";
    return ReadExactly(origin_, n);
  }
  std::string ReadAtClient(size_t n) { return ReadExactly(*client_, n); }
  std::string ReadExactly(tcp::socket& s, size_t n) {
    EXPECT_TRUE(RunIoUntil(io(), [&] { return s.available() >= n; })) << "waiting for " << n;
    std::string out(n, '\0');
    asio::read(s, asio::buffer(out));
    return out;
  }
  void Advance(milliseconds d) {
    time_.Advance(d);
    io().restart();
    io().poll();
  }

  SimulatedTime time_;
  ServerShared shared_;
  std::unique_ptr<Worker> worker_ = [this] {
    shared_.time = &time_;
    return std::make_unique<Worker>(0, &shared_);
  }();
  tcp::acceptor origin_acceptor_{io(), tcp::endpoint(asio::ip::address_v4::loopback(), 0)};
  tcp::socket origin_{io()};
  bool accepted_ = false;
  std::optional<tcp::socket> client_;
  std::optional<Downstream> down_;
  ClusterConfig cluster_;
  StreamInfo info_;
  std::optional<RetryState> retry_;
  std::optional<UpstreamRequest> attempt_;
  std::optional<Result> result_;
  std::optional<UpstreamRequest::Ending> ending_;
};

constexpr std::string_view kGet = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";

TEST_F(UpstreamRequestTest, InterimResponsesAreSkippedAndTheBodyPumped) {
  Request(std::string(kGet));
  Start(RetryPolicy{}, milliseconds(15000), {});
  EXPECT_EQ(ReadAtOrigin(kGet.size()), kGet);
  // Two interim responses, then 64 KiB in pieces: the response body pump
  // carries what the first read did not bring.
  const std::string body(64 * 1024, 'x');
  asio::write(origin_,
              asio::buffer(std::string("HTTP/1.1 100 Continue\r\n\r\n"
                                       "HTTP/1.1 103 Early Hints\r\nlink: </s>\r\n\r\n"
                                       "HTTP/1.1 200 OK\r\ncontent-length: 65536\r\n\r\n")));
  ASSERT_TRUE(RunIoUntil(io(), [&] { return result_.has_value(); }));
  EXPECT_EQ(*result_, Result::kResponse);
  EXPECT_EQ(down_->resp.status, 200);
  for (size_t off = 0; off < body.size(); off += 16 * 1024) {
    asio::write(origin_, asio::buffer(body.data() + off, 16 * 1024));
  }
  std::string head = ReadAtClient(std::string_view("HTTP/1.1 200 OK\r\n").size());
  EXPECT_EQ(head, "HTTP/1.1 200 OK\r\n");
  ASSERT_TRUE(RunIoUntil(io(), [&] { return ending_.has_value(); }));
  EXPECT_TRUE(ending_->keep_alive);
  EXPECT_EQ(info_.status, 200);
  EXPECT_EQ(info_.bytes_sent, body.size());
  EXPECT_EQ(worker_->pool().IdleCount(), 1u) << "the connection went back to the pool";
}

TEST_F(UpstreamRequestTest, StreamedBodyAfterHundredContinue) {
  const std::string head =
      "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n";
  Request(head);
  Start(RetryPolicy{}, milliseconds(15000), {/*replayable=*/false, 0});
  // The proxy answers 100 Continue itself before any body byte is sent.
  EXPECT_EQ(ReadAtClient(25), "HTTP/1.1 100 Continue\r\n\r\n");
  EXPECT_EQ(ReadAtOrigin(head.size()), head);
  asio::write(*client_, asio::buffer(std::string("hello")));
  EXPECT_EQ(ReadAtOrigin(5), "hello");
  asio::write(*client_, asio::buffer(std::string("world")));
  EXPECT_EQ(ReadAtOrigin(5), "world");
  EXPECT_FALSE(retry_->stale_retry_available()) << "a streamed body cannot be replayed";
  asio::write(origin_,
              asio::buffer(std::string("HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n")));
  ASSERT_TRUE(RunIoUntil(io(), [&] { return ending_.has_value(); }));
  EXPECT_EQ(*result_, Result::kResponse);
  EXPECT_EQ(info_.status, 201);
  EXPECT_EQ(info_.bytes_received, 10u);
  EXPECT_TRUE(down_->body_consumed);
}

TEST_F(UpstreamRequestTest, BufferedBodyGoesWithTheHead) {
  const std::string head = "PUT /b HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\n";
  Request(head, "data");
  Start(RetryPolicy{}, milliseconds(15000), {true, 4});
  EXPECT_EQ(ReadAtOrigin(head.size() + 4), head + "data");
  asio::write(origin_, asio::buffer(std::string("HTTP/1.1 204 No Content\r\n\r\n")));
  ASSERT_TRUE(RunIoUntil(io(), [&] { return ending_.has_value(); }));
  EXPECT_EQ(info_.status, 204);
}

TEST_F(UpstreamRequestTest, PerTryTimeoutFiresExactlyAtItsDeadline) {
  Request(std::string(kGet));
  RetryPolicy policy;
  policy.num_retries = 1;
  policy.per_try_timeout = milliseconds(200);
  Start(policy, milliseconds(1000), {});
  EXPECT_EQ(ReadAtOrigin(kGet.size()), kGet);  // and the origin never answers
  // Sent: the attempt now waits for the head under its deadline.
  ASSERT_TRUE(RunIoUntil(io(), [&] { return time_.PendingTimers() == 1; }));
  Advance(milliseconds(199));
  EXPECT_FALSE(result_.has_value());
  Advance(milliseconds(1));
  ASSERT_TRUE(RunIoUntil(io(), [&] { return result_.has_value(); }));
  EXPECT_EQ(*result_, Result::kTimeout);
  EXPECT_TRUE(attempt_->per_try());
  EXPECT_EQ(*retry_->route_deadline(), time_.Monotonic() + milliseconds(800));
}

TEST_F(UpstreamRequestTest, RouteTimeoutWhenEarlierThanPerTry) {
  Request(std::string(kGet));
  RetryPolicy policy;
  policy.per_try_timeout = milliseconds(5000);
  Start(policy, milliseconds(300), {});
  EXPECT_EQ(ReadAtOrigin(kGet.size()), kGet);
  ASSERT_TRUE(RunIoUntil(io(), [&] { return time_.PendingTimers() == 1; }));
  Advance(milliseconds(299));
  EXPECT_FALSE(result_.has_value());
  Advance(milliseconds(1));
  ASSERT_TRUE(RunIoUntil(io(), [&] { return result_.has_value(); }));
  EXPECT_EQ(*result_, Result::kTimeout);
  EXPECT_FALSE(attempt_->per_try());
}

TEST_F(UpstreamRequestTest, ResetBeforeTheHeadOnAFreshConnection) {
  Request(std::string(kGet));
  Start(RetryPolicy{}, milliseconds(15000), {});
  EXPECT_EQ(ReadAtOrigin(kGet.size()), kGet);
  origin_.close();
  ASSERT_TRUE(RunIoUntil(io(), [&] { return result_.has_value(); }));
  EXPECT_EQ(*result_, Result::kReset) << "a fresh connection is not stale";
  auto stats = shared_.endpoint_stats.Get("origin", cluster_.endpoints[0].Key());
  EXPECT_EQ(stats->errors.load(), 1u);
}

TEST_F(UpstreamRequestTest, ConnectFailure) {
  cluster_.endpoints[0].port = 1;  // nothing listens there
  Request(std::string(kGet));
  Start(RetryPolicy{}, milliseconds(15000), {});
  ASSERT_TRUE(RunIoUntil(io(), [&] { return result_.has_value(); }));
  EXPECT_EQ(*result_, Result::kConnectFailure);
}

TEST_F(UpstreamRequestTest, NoHealthyEndpoint) {
  cluster_.endpoints[0].healthy = false;
  Request(std::string(kGet));
  Start(RetryPolicy{}, milliseconds(15000), {});
  ASSERT_TRUE(RunIoUntil(io(), [&] { return result_.has_value(); }));
  EXPECT_EQ(*result_, Result::kNoHealthyUpstream);
}

TEST_F(UpstreamRequestTest, InvalidResponseHead) {
  Request(std::string(kGet));
  Start(RetryPolicy{}, milliseconds(15000), {});
  EXPECT_EQ(ReadAtOrigin(kGet.size()), kGet);
  asio::write(origin_, asio::buffer(std::string("HTTP/1.1 2x0 Nope\r\n\r\n")));
  ASSERT_TRUE(RunIoUntil(io(), [&] { return result_.has_value(); }));
  EXPECT_EQ(*result_, Result::kInvalidResponse);
}

}  // namespace
}  // namespace causeway::proxy
