#include "proxy/server/tunnel.h"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "proxy/server/immediate_io.h"

namespace causeway::proxy {
namespace asio = boost::asio;
using asio::ip::tcp;

Tunnel::Tunnel(TimeSource& time, asio::io_context& io, std::chrono::milliseconds idle_timeout)
    : idle_(time, io, idle_timeout) {}

asio::awaitable<void> Tunnel::Pipe(tcp::socket& from, tcp::socket& to, int direction) {
  std::array<char, 16 * 1024> buf;
  while (true) {
    auto [ec, n] = co_await from.async_read_some(asio::buffer(buf), kNoThrow);
    if (ec) break;
    idle_.Touch();
    auto [wec, w] = co_await asio::async_write(to, asio::buffer(buf.data(), n), kNoThrow);
    if (wec) {
      boost::system::error_code ignored;
      from.close(ignored);
      co_return;
    }
    bytes_[direction] += w;
  }
  // The source ended: pass its end on, the other direction goes on.
  boost::system::error_code ignored;
  to.shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> Tunnel::Run(tcp::socket& downstream, ByteBuffer& downstream_pending,
                                  tcp::socket& upstream, ByteBuffer& upstream_pending,
                                  bool at_once) {
  if (!upstream_pending.empty()) {
    auto [ec, n] = co_await WriteAll(
        downstream, asio::buffer(upstream_pending.data(), upstream_pending.size()), at_once);
    bytes_[1] += upstream_pending.size();
    upstream_pending.Clear();
    if (ec) co_return;
  }
  if (!downstream_pending.empty()) {
    auto [ec, n] = co_await asio::async_write(
        upstream, asio::buffer(downstream_pending.data(), downstream_pending.size()), kNoThrow);
    bytes_[0] += downstream_pending.size();
    downstream_pending.Clear();
    if (ec) co_return;
  }
  idle_.Watch(&downstream, &upstream, StreamIdleTimeout::Action::kClose);
  using asio::experimental::awaitable_operators::operator&&;
  co_await (Pipe(downstream, upstream, 0) && Pipe(upstream, downstream, 1));
  idle_.Stop();
}

}  // namespace causeway::proxy
