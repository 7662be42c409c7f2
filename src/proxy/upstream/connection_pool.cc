#include "proxy/upstream/connection_pool.h"

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "absl/strings/str_cat.h"

namespace causeway::proxy {
namespace {
namespace asio = boost::asio;
using asio::ip::tcp;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// A pooled connection is usable if reading would block: no EOF, no error and
// no unsolicited bytes (which would desynchronize the next response).
bool StillOpen(tcp::socket& s) {
  char byte;
  ssize_t n = ::recv(s.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}
}  // namespace

std::unique_ptr<UpstreamConnection> ConnectionPool::TakeIdle(const std::string& key) {
  auto it = idle_.find(key);
  if (it == idle_.end()) return nullptr;
  auto& list = it->second;
  while (!list.empty()) {
    std::unique_ptr<UpstreamConnection> conn = std::move(list.back());
    list.pop_back();
    if (StillOpen(conn->socket)) return conn;
  }
  return nullptr;
}

void ConnectionPool::Release(std::unique_ptr<UpstreamConnection> conn) {
  auto& list = idle_[conn->key];
  if (list.size() >= max_idle_per_endpoint_) return;  // closes it
  conn->buffer.ReleaseIfEmpty();
  list.push_back(std::move(conn));
}

size_t ConnectionPool::IdleCount() const {
  size_t n = 0;
  for (const auto& [k, v] : idle_) n += v.size();
  return n;
}

asio::awaitable<absl::StatusOr<std::unique_ptr<UpstreamConnection>>> Connect(
    const Endpoint& endpoint, std::chrono::milliseconds timeout) {
  auto ex = co_await asio::this_coro::executor;
  auto conn = std::make_unique<UpstreamConnection>(ex);
  conn->key = endpoint.Key();
  std::string address = endpoint.address;
  uint16_t port = endpoint.port;

  // The timer closes whatever is in flight; shared so a late handler is safe.
  struct TimeoutState {
    explicit TimeoutState(const asio::any_io_executor& ex) : timer(ex), resolver(ex) {}
    asio::steady_timer timer;
    tcp::resolver resolver;
    tcp::socket* socket = nullptr;
    bool fired = false;
  };
  auto state = std::make_shared<TimeoutState>(ex);
  state->socket = &conn->socket;
  state->timer.expires_after(timeout);
  state->timer.async_wait([state](boost::system::error_code ec) {
    if (ec || state->socket == nullptr) return;
    state->fired = true;
    state->resolver.cancel();
    state->socket->close(ec);
  });
  auto finish = [&](absl::Status s) -> absl::StatusOr<std::unique_ptr<UpstreamConnection>> {
    state->socket = nullptr;
    state->timer.cancel();
    if (state->fired) {
      return absl::DeadlineExceededError(absl::StrCat("connect to ", conn->key, " timed out"));
    }
    if (!s.ok()) return s;
    return std::move(conn);
  };

  boost::system::error_code ec;
  asio::ip::address ip = asio::ip::make_address(address, ec);
  if (ec) {
    // A host name (STRICT_DNS/LOGICAL_DNS clusters): resolve on connect.
    auto [rec, results] =
        co_await state->resolver.async_resolve(address, std::to_string(port), kNoThrow);
    if (rec) {
      co_return finish(
          absl::UnavailableError(absl::StrCat("resolve ", address, ": ", rec.message())));
    }
    auto [cec, ep] = co_await asio::async_connect(conn->socket, results, kNoThrow);
    if (cec) {
      co_return finish(
          absl::UnavailableError(absl::StrCat("connect to ", conn->key, ": ", cec.message())));
    }
    conn->peer = absl::StrCat(ep.address().to_string(), ":", ep.port());
  } else {
    tcp::endpoint ep(ip, port);
    auto [cec] = co_await conn->socket.async_connect(ep, kNoThrow);
    if (cec) {
      co_return finish(
          absl::UnavailableError(absl::StrCat("connect to ", conn->key, ": ", cec.message())));
    }
    conn->peer = conn->key;
  }
  conn->socket.set_option(tcp::no_delay(true), ec);
  co_return finish(absl::OkStatus());
}

}  // namespace causeway::proxy
