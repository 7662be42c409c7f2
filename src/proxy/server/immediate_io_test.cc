#include "proxy/server/immediate_io.h"

#include <gtest/gtest.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <string>

namespace causeway::proxy {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// A connected pair of loopback TCP sockets, both non-blocking.
struct SocketPair {
  explicit SocketPair(asio::io_context& io) : a(io), b(io) {
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    a.connect(acceptor.local_endpoint());
    acceptor.accept(b);
    a.non_blocking(true);
    b.non_blocking(true);
  }
  tcp::socket a;
  tcp::socket b;
};

// The property the helpers exist for: a ready socket completes in the
// calling coroutine, ahead of a handler posted before the call.
TEST(ImmediateIo, ReadyReadCompletesBeforeQueuedHandlers) {
  asio::io_context io;
  SocketPair p(io);
  asio::write(p.b, asio::buffer(std::string("hello")));
  bool posted_ran = false;
  bool posted_ran_before_read_returned = true;
  std::string got;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        asio::post(io, [&] { posted_ran = true; });
        char buf[16];
        auto [ec, n] = co_await ReadSome(p.a, asio::buffer(buf), /*at_once=*/true);
        EXPECT_FALSE(ec);
        got.assign(buf, n);
        posted_ran_before_read_returned = posted_ran;
      },
      asio::detached);
  io.run();
  EXPECT_EQ(got, "hello");
  EXPECT_FALSE(posted_ran_before_read_returned);
  EXPECT_TRUE(posted_ran);
}

// The contrast that makes the test above meaningful, and the choice a busy
// worker makes: Asio's own operation resumes behind the posted handler even
// though the data was there.
TEST(ImmediateIo, QueuedReadResumesBehindQueuedHandlers) {
  asio::io_context io;
  SocketPair p(io);
  asio::write(p.b, asio::buffer(std::string("hello")));
  bool posted_ran = false;
  bool posted_ran_before_read_returned = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        asio::post(io, [&] { posted_ran = true; });
        char buf[16];
        auto [ec, n] = co_await ReadSome(p.a, asio::buffer(buf), /*at_once=*/false);
        EXPECT_FALSE(ec);
        EXPECT_EQ(std::string(buf, n), "hello");
        posted_ran_before_read_returned = posted_ran;
      },
      asio::detached);
  io.run();
  EXPECT_TRUE(posted_ran_before_read_returned);
}

// A busy worker's write leaves only after the work already queued: a
// handler posted before the write finds nothing sent yet (Asio's own
// async_write would have sent at once), and one posted with an at-once write
// finds it sent.
TEST(ImmediateIo, QueuedWriteLeavesAfterQueuedHandlers) {
  for (bool at_once : {false, true}) {
    SCOPED_TRACE(at_once ? "at once" : "queued");
    asio::io_context io;
    SocketPair p(io);
    bool posted_ran = false;
    boost::system::error_code seen_by_posted;
    std::size_t written = 0;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          asio::post(io, [&] {
            posted_ran = true;
            char buf[16];
            p.b.read_some(asio::buffer(buf), seen_by_posted);
          });
          auto [ec, n] = co_await WriteAll(p.a, asio::buffer(std::string("answer")), at_once);
          EXPECT_FALSE(ec);
          written = n;
        },
        asio::detached);
    io.run();
    EXPECT_TRUE(posted_ran);
    EXPECT_EQ(written, 6u);
    if (at_once) {
      EXPECT_FALSE(seen_by_posted) << seen_by_posted.message();
    } else {
      EXPECT_EQ(seen_by_posted, asio::error::would_block);
    }
  }
}

TEST(ImmediateIo, ReadWaitsForDataThenSeesEof) {
  asio::io_context io;
  SocketPair p(io);
  std::string got;
  boost::system::error_code end;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        char buf[16];
        auto [ec, n] = co_await ReadSomeNow(p.a, asio::buffer(buf));  // nothing there yet
        EXPECT_FALSE(ec);
        got.assign(buf, n);
        auto [ec2, n2] = co_await ReadSomeNow(p.a, asio::buffer(buf));
        end = ec2;
        EXPECT_EQ(n2, 0u);
      },
      asio::detached);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await WriteAllNow(p.b, asio::buffer(std::string("late")));
        p.b.shutdown(tcp::socket::shutdown_send);
      },
      asio::detached);
  io.run();
  EXPECT_EQ(got, "late");
  EXPECT_EQ(end, asio::error::eof);
}

// More than the socket buffers hold, in two buffers: the writer must wait
// for the reader and then resume exactly where the kernel stopped, across
// the boundary between the buffers.
TEST(ImmediateIo, WriteWaitsWhenFullAndSendsEveryByteInOrder) {
  asio::io_context io;
  SocketPair p(io);
  p.a.set_option(asio::socket_base::send_buffer_size(16 * 1024));
  p.b.set_option(asio::socket_base::receive_buffer_size(16 * 1024));
  std::string first(3 * 1024 * 1024 + 7, '\0');
  std::string second(2 * 1024 * 1024 + 13, '\0');
  for (size_t i = 0; i < first.size(); ++i) first[i] = static_cast<char>(i * 7);
  for (size_t i = 0; i < second.size(); ++i) second[i] = static_cast<char>(i * 13 + 1);
  size_t written = 0;
  std::string received;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        std::array<asio::const_buffer, 2> bufs = {asio::buffer(first), asio::buffer(second)};
        auto [ec, n] = co_await WriteAllNow(p.a, bufs);
        EXPECT_FALSE(ec);
        written = n;
        p.a.shutdown(tcp::socket::shutdown_send);
      },
      asio::detached);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        char buf[8192];
        while (true) {
          auto [ec, n] = co_await p.b.async_read_some(asio::buffer(buf), kNoThrow);
          if (ec) break;
          received.append(buf, n);
        }
      },
      asio::detached);
  io.run();
  EXPECT_EQ(written, first.size() + second.size());
  ASSERT_EQ(received.size(), first.size() + second.size());
  EXPECT_TRUE(received == first + second);
}

TEST(ImmediateIo, WriteToAClosedPeerFails) {
  asio::io_context io;
  SocketPair p(io);
  p.b.close();
  boost::system::error_code result;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        std::string block(64 * 1024, 'x');
        // The first write may still be accepted; the peer's reset fails a later one.
        for (int i = 0; i < 64 && !result; ++i) {
          auto [ec, n] = co_await WriteAllNow(p.a, asio::buffer(block));
          result = ec;
        }
      },
      asio::detached);
  io.run();
  EXPECT_TRUE(result == asio::error::broken_pipe || result == asio::error::connection_reset)
      << result.message();
}

}  // namespace
}  // namespace causeway::proxy
