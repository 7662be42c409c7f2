#include "proxy/upstream/connection_pool.h"

#include <gtest/gtest.h>
#include <sys/epoll.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace causeway::proxy {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// The events `fd` is registered for in any epoll instance of this process,
// from /proc/self/fdinfo (lines "tfd: FD events: MASK ..."); nullopt if none.
std::optional<unsigned> EpollEventsOf(int fd) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fdinfo")) {
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string tag, events_tag;
      int tfd = -1;
      unsigned events = 0;
      if (fields >> tag >> tfd >> events_tag >> std::hex >> events && tag == "tfd:" &&
          events_tag == "events:" && tfd == fd) {
        return events;
      }
    }
  }
  return std::nullopt;
}

// A connected pooled socket is registered for reading only: with EPOLLOUT
// left over from the connect, every acknowledgement of a request the peer
// reads would wake the worker for nothing.
TEST(ConnectionPool, ConnectedSocketIsNotRegisteredForWritability) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  tcp::socket accepted(io);
  acceptor.async_accept(accepted, [](boost::system::error_code) {});
  ConnectionPool pool;
  Endpoint endpoint;
  endpoint.address = "127.0.0.1";
  endpoint.port = acceptor.local_endpoint().port();
  std::unique_ptr<UpstreamConnection> conn;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto result = co_await pool.Acquire(endpoint, std::chrono::seconds(5));
        EXPECT_TRUE(result.ok()) << result.status();
        if (result.ok()) conn = std::move(*result);
      },
      asio::detached);
  io.run();
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(conn->socket.is_open());

  // A session's first wait on the socket is a read: it must not bring
  // EPOLLOUT back.
  conn->socket.async_wait(tcp::socket::wait_read, [](boost::system::error_code) {});
  io.restart();
  io.poll();
  std::optional<unsigned> events = EpollEventsOf(conn->socket.native_handle());
  ASSERT_TRUE(events.has_value()) << "socket not registered with epoll";
  EXPECT_TRUE(*events & EPOLLIN);
  EXPECT_FALSE(*events & EPOLLOUT) << std::hex << *events;
  conn->socket.close();
  io.restart();
  io.poll();
}

}  // namespace
}  // namespace causeway::proxy
