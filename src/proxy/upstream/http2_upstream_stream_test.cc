// The HTTP/1.1 form of an HTTP/2 upstream's response (http2_upstream.h),
// fed frame events directly: framing with and without content-length,
// trailers as chunked trailer fields, a trailers-only gRPC answer, empty
// answers, and a reset before and after the head.
#include "proxy/upstream/http2_upstream_stream.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <string>

namespace causeway::proxy {
namespace {

namespace asio = boost::asio;

struct H2StreamReadAll {
  std::string bytes;
  boost::system::error_code end;  // eof, or the error that ended the read
};

// Reads the stream until it ends (what the request path would read).
H2StreamReadAll ReadH2StreamOut(asio::io_context& io, Http2UpstreamStream& stream) {
  H2StreamReadAll out;
  auto done = asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        char buf[7];  // small reads: bytes handed out across calls
        while (true) {
          auto [ec, n] = co_await stream.ReadSome(asio::buffer(buf));
          if (ec) {
            out.end = ec;
            co_return;
          }
          out.bytes.append(buf, n);
        }
      },
      asio::use_future);
  io.run();
  io.restart();
  done.get();
  return out;
}

class Http2UpstreamStreamTest : public ::testing::Test {
 protected:
  std::unique_ptr<Http2UpstreamStream> NewStream() {
    return std::make_unique<Http2UpstreamStream>(conn_);
  }
  asio::io_context io_;
  std::shared_ptr<Http2Connection> conn_ =
      std::make_shared<Http2Connection>(io_.get_executor(), "test", 0);
};

TEST_F(Http2UpstreamStreamTest, ContentLengthBodyPassesAsItIs) {
  auto s = NewStream();
  s->OnHead({200, {{"content-type", "text/plain"}, {"content-length", "5"}}});
  s->OnData("hello");
  s->OnEnd();
  H2StreamReadAll r = ReadH2StreamOut(io_, *s);
  EXPECT_EQ(r.bytes, "HTTP/1.1 200 \r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\nhello");
  EXPECT_EQ(r.end, asio::error::eof);
}

TEST_F(Http2UpstreamStreamTest, BodyWithoutLengthIsChunkedWithTrailers) {
  auto s = NewStream();
  s->OnHead({200, {{"content-type", "application/grpc"}}});
  s->OnData("abc");
  s->OnTrailers({{"grpc-status", "0"}, {"grpc-message", "ok"}});
  s->OnEnd();
  H2StreamReadAll r = ReadH2StreamOut(io_, *s);
  EXPECT_EQ(r.bytes,
            "HTTP/1.1 200 \r\ncontent-type: application/grpc\r\ntransfer-encoding: chunked\r\n\r\n"
            "3\r\nabc\r\n0\r\ngrpc-status: 0\r\ngrpc-message: ok\r\n\r\n");
}

TEST_F(Http2UpstreamStreamTest, TrailersOnlyGrpcAnswerKeepsItsStatusInTrailers) {
  auto s = NewStream();
  s->OnHead({200, {{"content-type", "application/grpc"}, {"grpc-status", "5"}}});
  s->OnEnd();
  H2StreamReadAll r = ReadH2StreamOut(io_, *s);
  EXPECT_EQ(r.bytes,
            "HTTP/1.1 200 \r\ncontent-type: application/grpc\r\ntransfer-encoding: chunked\r\n\r\n"
            "0\r\ngrpc-status: 5\r\n\r\n");
}

TEST_F(Http2UpstreamStreamTest, EmptyAnswersSayTheirLength) {
  auto s = NewStream();
  s->OnHead({204, {}});
  s->OnEnd();
  EXPECT_EQ(ReadH2StreamOut(io_, *s).bytes, "HTTP/1.1 204 \r\n\r\n");
  auto empty = NewStream();
  empty->OnHead({200, {}});
  empty->OnEnd();
  EXPECT_EQ(ReadH2StreamOut(io_, *empty).bytes, "HTTP/1.1 200 \r\ncontent-length: 0\r\n\r\n");
}

TEST_F(Http2UpstreamStreamTest, ResetBeforeTheHeadIsAnError) {
  auto s = NewStream();
  s->OnReset(http2::kRefusedStream);
  H2StreamReadAll r = ReadH2StreamOut(io_, *s);
  EXPECT_EQ(r.bytes, "");
  EXPECT_EQ(r.end, asio::error::connection_reset);
}

TEST_F(Http2UpstreamStreamTest, ResetMidResponse) {
  // Plain HTTP: the bytes so far, then an error (the client's response is cut).
  auto plain = NewStream();
  plain->OnHead({200, {}});
  plain->OnData("part");
  plain->OnReset(http2::kInternalError);
  H2StreamReadAll r = ReadH2StreamOut(io_, *plain);
  EXPECT_EQ(r.bytes, "HTTP/1.1 200 \r\ntransfer-encoding: chunked\r\n\r\n4\r\npart\r\n");
  EXPECT_EQ(r.end, asio::error::connection_reset);
  // gRPC: the body ends with UNAVAILABLE in its trailers.
  auto grpc = NewStream();
  grpc->OnHead({200, {{"content-type", "application/grpc"}}});
  grpc->OnData("x");
  grpc->OnReset(http2::kInternalError);
  H2StreamReadAll g = ReadH2StreamOut(io_, *grpc);
  EXPECT_EQ(g.bytes,
            "HTTP/1.1 200 \r\ncontent-type: application/grpc\r\ntransfer-encoding: chunked\r\n\r\n"
            "1\r\nx\r\n0\r\ngrpc-status: 14\r\ngrpc-message: upstream connection reset\r\n\r\n");
  EXPECT_EQ(g.end, asio::error::eof);
}

}  // namespace
}  // namespace causeway::proxy
