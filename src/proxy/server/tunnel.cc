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

asio::awaitable<void> Tunnel::Pipe(Transport from, Transport to, int direction) {
  std::array<char, 16 * 1024> buf;
  while (true) {
    auto [ec, n] = co_await AsyncReadSome(*from.socket, from.tls, asio::buffer(buf));
    if (ec) break;
    idle_.Touch();
    auto [wec, w] = co_await AsyncWrite(*to.socket, to.tls, asio::buffer(buf.data(), n));
    if (wec) {
      boost::system::error_code ignored;
      from.socket->close(ignored);
      co_return;
    }
    bytes_[direction] += w;
  }
  // The source ended: pass its end on, the other direction goes on. (Over
  // TLS the end goes as the TCP half-close, without a close_notify.)
  boost::system::error_code ignored;
  to.socket->shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> Tunnel::Run(Transport downstream, ByteBuffer& downstream_pending,
                                  Transport upstream, ByteBuffer& upstream_pending, bool at_once) {
  if (!upstream_pending.empty()) {
    auto [ec, n] = co_await WriteAllTo(
        *downstream.socket, downstream.tls,
        asio::buffer(upstream_pending.data(), upstream_pending.size()), at_once);
    bytes_[1] += upstream_pending.size();
    upstream_pending.Clear();
    if (ec) co_return;
  }
  if (!downstream_pending.empty()) {
    auto [ec, n] =
        co_await AsyncWrite(*upstream.socket, upstream.tls,
                            asio::buffer(downstream_pending.data(), downstream_pending.size()));
    bytes_[0] += downstream_pending.size();
    downstream_pending.Clear();
    if (ec) co_return;
  }
  idle_.Watch(downstream.socket, upstream.socket, StreamIdleTimeout::Action::kClose);
  using asio::experimental::awaitable_operators::operator&&;
  co_await (Pipe(downstream, upstream, 0) && Pipe(upstream, downstream, 1));
  idle_.Stop();
}

}  // namespace causeway::proxy
