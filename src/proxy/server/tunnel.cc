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
    : time_(time), timer_(time.CreateTimer(io)), idle_timeout_(idle_timeout) {}

void Tunnel::Touch() {
  if (idle_timeout_.count() > 0) last_activity_ = time_.Monotonic();
}

void Tunnel::ScheduleIdleCheck() {
  // The timer (a member) drops its callback when it goes: `this` is safe.
  timer_->Schedule(last_activity_ + idle_timeout_, [this] { OnIdleCheck(); });
}

void Tunnel::OnIdleCheck() {
  if (sockets_[0] == nullptr) return;  // both directions ended
  if (time_.Monotonic() < last_activity_ + idle_timeout_) {
    ScheduleIdleCheck();  // bytes moved meanwhile
    return;
  }
  idle_timed_out_ = true;
  boost::system::error_code ec;
  sockets_[0]->close(ec);
  sockets_[1]->close(ec);
}

asio::awaitable<void> Tunnel::Pipe(tcp::socket& from, tcp::socket& to, int direction) {
  std::array<char, 16 * 1024> buf;
  while (true) {
    auto [ec, n] = co_await from.async_read_some(asio::buffer(buf), kNoThrow);
    if (ec) break;
    Touch();
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
  sockets_[0] = &downstream;
  sockets_[1] = &upstream;
  if (idle_timeout_.count() > 0) {
    Touch();
    ScheduleIdleCheck();
  }
  using asio::experimental::awaitable_operators::operator&&;
  co_await (Pipe(downstream, upstream, 0) && Pipe(upstream, downstream, 1));
  sockets_[0] = sockets_[1] = nullptr;
  timer_->Cancel();
}

}  // namespace causeway::proxy
