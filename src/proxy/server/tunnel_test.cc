// The tunnel alone, on loopback socket pairs, with simulated time.
#include "proxy/server/tunnel.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <string>

#include "proxy/server/io_test_util.h"

namespace causeway::proxy {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using std::chrono::milliseconds;

using testing::RunIoUntil;

// Two connected sockets on `io`.
std::pair<tcp::socket, tcp::socket> Pair(asio::io_context& io) {
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  tcp::socket a(io);
  a.connect(acceptor.local_endpoint());
  tcp::socket b = acceptor.accept();
  return {std::move(a), std::move(b)};
}

std::string ReadExactly(asio::io_context& io, tcp::socket& s, size_t n) {
  EXPECT_TRUE(RunIoUntil(io, [&] { return s.available() >= n; }))
      << "waiting for " << n << " bytes";
  std::string out(n, '\0');
  asio::read(s, asio::buffer(out));
  return out;
}

struct TunnelFixture {
  SimulatedTime time;
  asio::io_context io;
  // client <-> down (the proxy's downstream side), up <-> origin.
  std::pair<tcp::socket, tcp::socket> downstream = Pair(io);
  std::pair<tcp::socket, tcp::socket> upstream = Pair(io);
  tcp::socket& client = downstream.first;
  tcp::socket& down = downstream.second;
  tcp::socket& up = upstream.first;
  tcp::socket& origin = upstream.second;
  ByteBuffer down_pending, up_pending;
  bool done = false;

  void Start(Tunnel& tunnel) {
    asio::co_spawn(io, tunnel.Run(down, down_pending, up, up_pending, true),
                   [this](std::exception_ptr) { done = true; });
  }
  void Advance(milliseconds d) {
    time.Advance(d);
    io.restart();
    io.poll();
  }
};

TEST(Tunnel, PendingBytesFirstThenBothDirections) {
  TunnelFixture f;
  f.down_pending.Append("client-early|");
  f.up_pending.Append("origin-early|");
  Tunnel tunnel(f.time, f.io, milliseconds(0));
  f.Start(tunnel);
  EXPECT_EQ(ReadExactly(f.io, f.origin, 13), "client-early|");
  EXPECT_EQ(ReadExactly(f.io, f.client, 13), "origin-early|");
  asio::write(f.client, asio::buffer(std::string("ping")));
  EXPECT_EQ(ReadExactly(f.io, f.origin, 4), "ping");
  asio::write(f.origin, asio::buffer(std::string("pong!")));
  EXPECT_EQ(ReadExactly(f.io, f.client, 5), "pong!");
  EXPECT_TRUE(f.down_pending.empty());
  EXPECT_TRUE(f.up_pending.empty());
  f.client.close();
  f.origin.close();
  ASSERT_TRUE(RunIoUntil(f.io, [&] { return f.done; }));
  EXPECT_EQ(tunnel.bytes_to_upstream(), 17u);
  EXPECT_EQ(tunnel.bytes_to_downstream(), 18u);
  EXPECT_FALSE(tunnel.idle_timed_out());
}

// The client ends its side; the origin's answer still flows back, and the
// tunnel ends when the origin ends too.
TEST(Tunnel, HalfCloseIsPassedOnAndTheOtherDirectionGoesOn) {
  TunnelFixture f;
  Tunnel tunnel(f.time, f.io, milliseconds(0));
  f.Start(tunnel);
  asio::write(f.client, asio::buffer(std::string("last words")));
  f.client.shutdown(tcp::socket::shutdown_send);
  EXPECT_EQ(ReadExactly(f.io, f.origin, 10), "last words");
  // The origin sees the end of the client's stream.
  std::array<char, 8> buf;
  boost::system::error_code ec;
  ASSERT_TRUE(RunIoUntil(f.io, [&] {
    f.origin.non_blocking(true);
    f.origin.read_some(asio::buffer(buf), ec);
    return ec != asio::error::would_block;
  }));
  EXPECT_EQ(ec, asio::error::eof);
  f.origin.non_blocking(false);
  EXPECT_FALSE(f.done);
  asio::write(f.origin, asio::buffer(std::string("reply after half-close")));
  EXPECT_EQ(ReadExactly(f.io, f.client, 22), "reply after half-close");
  f.origin.shutdown(tcp::socket::shutdown_send);
  ASSERT_TRUE(RunIoUntil(f.io, [&] { return f.done; }));
}

TEST(Tunnel, IdleTimeoutClosesBothSidesAtTheSimulatedDeadline) {
  TunnelFixture f;
  Tunnel tunnel(f.time, f.io, milliseconds(5000));
  f.Start(tunnel);
  ASSERT_TRUE(RunIoUntil(f.io, [&] { return f.time.PendingTimers() == 1; }));
  f.Advance(milliseconds(3000));
  asio::write(f.client, asio::buffer(std::string("keepalive")));  // at 3 s: now due at 8 s
  EXPECT_EQ(ReadExactly(f.io, f.origin, 9), "keepalive");
  f.Advance(milliseconds(2000));  // 5 s: the first check finds activity and waits again
  EXPECT_FALSE(f.done);
  f.Advance(milliseconds(2999));  // 7.999 s
  EXPECT_FALSE(f.done);
  EXPECT_FALSE(tunnel.idle_timed_out());
  f.Advance(milliseconds(1));  // 8 s
  ASSERT_TRUE(RunIoUntil(f.io, [&] { return f.done; }));
  EXPECT_TRUE(tunnel.idle_timed_out());
  // Both peers see their connection end.
  std::array<char, 4> buf;
  boost::system::error_code ec;
  f.client.read_some(asio::buffer(buf), ec);
  EXPECT_TRUE(ec) << "client";
  f.origin.read_some(asio::buffer(buf), ec);
  EXPECT_TRUE(ec) << "origin";
}

TEST(Tunnel, NoIdleTimeoutWhenZero) {
  TunnelFixture f;
  Tunnel tunnel(f.time, f.io, milliseconds(0));
  f.Start(tunnel);
  f.Advance(std::chrono::hours(24));
  EXPECT_FALSE(f.done);
  EXPECT_EQ(f.time.PendingTimers(), 0u);
  f.client.close();
  f.origin.close();
  ASSERT_TRUE(RunIoUntil(f.io, [&] { return f.done; }));
}

}  // namespace
}  // namespace causeway::proxy
