#include "proxy/upstream/connection_pool.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>

#include "absl/strings/str_cat.h"
#include "proxy/config/tls_context.h"

namespace causeway::proxy {
namespace {
namespace asio = boost::asio;
using asio::ip::tcp;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// A pooled connection is usable if reading would block: no EOF, no error and
// no unsolicited bytes (which would desynchronize the next response).
// A TLS connection may have records waiting that are not data (a TLS 1.3
// server's session tickets): only its end or an error says it is closed (a
// close_notify is found by the next read, and the request replayed).
bool StillOpen(UpstreamConnection& conn) {
  char byte;
  ssize_t n = ::recv(conn.socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (conn.tls != nullptr && n > 0) return true;
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

asio::awaitable<absl::Status> Handshake(UpstreamConnection& conn,
                                        std::shared_ptr<const UpstreamTls> tls,
                                        const Endpoint& endpoint) {
  conn.tls = std::make_unique<TlsStream>(conn.socket, *tls->context);
  if (absl::Status s = PrepareUpstreamTls(conn.tls->native_handle(), *tls, endpoint.address);
      !s.ok()) {
    co_return absl::UnavailableError(
        absl::StrCat(kTlsHandshakeFailed, ":", std::string(s.message())));
  }
  auto [ec] = co_await conn.tls->async_handshake(asio::ssl::stream_base::client, kNoThrow);
  if (ec) co_return absl::UnavailableError(TlsHandshakeFailure(conn.tls->native_handle(), ec));
  co_return absl::OkStatus();
}

// Asio keeps EPOLLOUT in a socket's (edge-triggered) epoll registration once
// anything waited for it to be writable, as the connect did; the worker is
// then woken each time the peer acknowledges data, for nothing: once per
// request on a pooled connection. Registering the connected socket afresh
// drops it (a write that has to wait adds it back, for that socket).
void RegisterAfresh(tcp::socket& s) {
  boost::system::error_code ec;
  const tcp protocol = s.local_endpoint(ec).protocol();
  if (ec) return;
  const int fd = s.release(ec);
  if (ec) return;
  s.assign(protocol, fd, ec);
  if (ec) ::close(fd);
}
}  // namespace

absl::Status PrepareUpstreamTls(SSL* ssl, const UpstreamTls& tls, const std::string& address) {
  boost::system::error_code ec;
  asio::ip::make_address(address, ec);
  const std::string& sni = !tls.sni.empty() ? tls.sni : (ec ? address : tls.sni);
  if (!sni.empty() && SSL_set_tlsext_host_name(ssl, sni.c_str()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("cannot send SNI ", sni));
  }
  if (tls.ca_file.empty()) return absl::OkStatus();  // not verified
  std::vector<std::string> names = tls.san_exact;
  if (names.empty() && !tls.sni.empty()) names.push_back(tls.sni);
  for (const std::string& name : names) {
    if (SSL_add1_host(ssl, name.c_str()) != 1) {
      return absl::InvalidArgumentError(absl::StrCat("cannot verify the name ", name));
    }
  }
  return absl::OkStatus();
}

std::string TlsHandshakeFailure(SSL* ssl, const boost::system::error_code& ec) {
  std::string reason = ec.message();
  // Asio's messages end with OpenSSL's library in parentheses.
  if (size_t paren = reason.find(" ("); paren != std::string::npos) reason.resize(paren);
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    absl::StrAppend(&reason, ": ", X509_verify_cert_error_string(verify));
  }
  return absl::StrCat(kTlsHandshakeFailed, ":", reason);
}

struct ConnectionPool::Waiter {
  explicit Waiter(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;  // the deadline; cancelled when a result is handed over
  bool done = false;
  absl::StatusOr<std::unique_ptr<UpstreamConnection>> result{absl::UnknownError("unset")};
};

ConnectionPool::~ConnectionPool() { *alive_ = false; }

ConnectionPool::PerEndpoint& ConnectionPool::For(const std::string& key) {
  std::unique_ptr<PerEndpoint>& slot = endpoints_[key];
  if (slot == nullptr) slot = std::make_unique<PerEndpoint>();
  return *slot;
}

std::unique_ptr<UpstreamConnection> ConnectionPool::TakeIdle(const std::string& key,
                                                             bool trust_recent) {
  auto it = endpoints_.find(key);
  if (it == endpoints_.end()) return nullptr;
  auto& list = it->second->idle;
  if (list.empty()) return nullptr;
  const auto now = time_.Monotonic();
  while (!list.empty()) {
    std::unique_ptr<UpstreamConnection> conn = std::move(list.back());
    list.pop_back();
    if (trust_recent && now - conn->idle_since < kTrustIdleFor) return conn;
    if (StillOpen(*conn)) return conn;
  }
  return nullptr;
}

asio::awaitable<absl::StatusOr<std::unique_ptr<UpstreamConnection>>> ConnectionPool::Acquire(
    const Endpoint& endpoint, std::chrono::milliseconds timeout, bool can_retry_stale,
    std::shared_ptr<const UpstreamTls> tls) {
  std::string key = PoolKey(endpoint, tls.get());
  if (std::unique_ptr<UpstreamConnection> conn = TakeIdle(key, can_retry_stale)) {
    co_return std::move(conn);
  }
  PerEndpoint& state = For(key);
  auto ex = co_await asio::this_coro::executor;
  Waiter waiter(ex);
  state.waiters.push_back(&waiter);
  // Leaves the queue however this coroutine ends, including when its frame
  // is destroyed with the io_context.
  struct Dequeue {
    PerEndpoint& state;
    Waiter& waiter;
    ~Dequeue() {
      if (waiter.done) return;
      auto it = std::find(state.waiters.begin(), state.waiters.end(), &waiter);
      if (it != state.waiters.end()) state.waiters.erase(it);
    }
  } dequeue{state, waiter};
  MaybeConnect(ex, endpoint, timeout, state, tls);
  if (!waiter.done) {
    waiter.timer.expires_after(timeout);
    co_await waiter.timer.async_wait(kNoThrow);
  }
  if (!waiter.done) {
    co_return absl::DeadlineExceededError(
        absl::StrCat("no connection to ", key, " within ", timeout.count(), " ms"));
  }
  co_return std::move(waiter.result);
}

void ConnectionPool::MaybeConnect(const asio::any_io_executor& ex, const Endpoint& endpoint,
                                  std::chrono::milliseconds timeout, PerEndpoint& state,
                                  const std::shared_ptr<const UpstreamTls>& tls) {
  const size_t limit = std::max<size_t>(1, options_.max_connecting_per_endpoint);
  while (state.connecting < state.waiters.size() && state.connecting < limit) {
    ++state.connecting;
    asio::co_spawn(
        ex,
        [this, alive = alive_, ex, endpoint, timeout, &state, tls]() -> asio::awaitable<void> {
          auto result = co_await Connect(endpoint, timeout, tls);
          if (!*alive) co_return;
          --state.connecting;
          Deliver(state, std::move(result));
          MaybeConnect(ex, endpoint, timeout, state, tls);
        },
        asio::detached);
  }
}

void ConnectionPool::Deliver(PerEndpoint& state,
                             absl::StatusOr<std::unique_ptr<UpstreamConnection>> result) {
  if (!state.waiters.empty()) {
    Waiter* waiter = state.waiters.front();
    state.waiters.pop_front();
    waiter->result = std::move(result);
    waiter->done = true;
    waiter->timer.cancel();
    return;
  }
  // Nobody waits any more (they got released connections or gave up): a
  // new connection is kept for the next request, a failure is dropped.
  if (result.ok()) Park(state, *std::move(result));
}

void ConnectionPool::Release(std::unique_ptr<UpstreamConnection> conn) {
  PerEndpoint& state = For(conn->key);
  Deliver(state, std::move(conn));
}

void ConnectionPool::Park(PerEndpoint& state, std::unique_ptr<UpstreamConnection> conn) {
  const bool over = state.idle.size() >= options_.max_idle_per_endpoint;
  if (over && options_.idle_trim_delay.count() <= 0) return;  // closes it
  conn->buffer.ReleaseIfEmpty();
  conn->parked = true;
  conn->idle_since = time_.Monotonic();
  asio::any_io_executor ex = conn->socket.get_executor();
  state.idle.push_back(std::move(conn));
  if (over) ScheduleTrim(ex, state.idle.front()->idle_since + options_.idle_trim_delay);
}

void ConnectionPool::ScheduleTrim(const asio::any_io_executor& ex,
                                  std::chrono::steady_clock::time_point when) {
  if (trim_scheduled_) return;
  if (trim_timer_ == nullptr) trim_timer_ = time_.CreateTimer(IoContextOf(ex));
  trim_scheduled_ = true;
  // The timer is the pool's: its callback never runs once the pool is gone.
  trim_timer_->Schedule(when, [this] {
    trim_scheduled_ = false;
    Trim();
  });
}

void ConnectionPool::Trim() {
  const auto now = time_.Monotonic();
  std::optional<std::chrono::steady_clock::time_point> next;
  asio::any_io_executor ex;
  for (auto& [key, state] : endpoints_) {
    auto& idle = state->idle;
    while (idle.size() > options_.max_idle_per_endpoint &&
           idle.front()->idle_since + options_.idle_trim_delay <= now) {
      idle.pop_front();
    }
    if (idle.size() > options_.max_idle_per_endpoint) {
      auto due = idle.front()->idle_since + options_.idle_trim_delay;
      if (!next || due < *next) next = due;
      ex = idle.front()->socket.get_executor();
    }
  }
  if (next) ScheduleTrim(ex, *next);
}

void ConnectionPool::Clear() {
  for (auto& [key, state] : endpoints_) state->idle.clear();
  trim_timer_.reset();
  trim_scheduled_ = false;
}

size_t ConnectionPool::IdleCount() const {
  size_t n = 0;
  for (const auto& [k, v] : endpoints_) n += v->idle.size();
  return n;
}

size_t ConnectionPool::ConnectingCount() const {
  size_t n = 0;
  for (const auto& [k, v] : endpoints_) n += v->connecting;
  return n;
}

std::string PoolKey(const Endpoint& endpoint, const UpstreamTls* tls) {
  return tls == nullptr ? endpoint.Key() : absl::StrCat(tls->pool_prefix, endpoint.Key());
}

asio::awaitable<absl::StatusOr<std::unique_ptr<UpstreamConnection>>> Connect(
    const Endpoint& endpoint, std::chrono::milliseconds timeout,
    std::shared_ptr<const UpstreamTls> tls) {
  auto ex = co_await asio::this_coro::executor;
  auto conn = std::make_unique<UpstreamConnection>(ex);
  conn->key = PoolKey(endpoint, tls.get());
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
      return absl::DeadlineExceededError(absl::StrCat("connect to ", endpoint.Key(), " timed out"));
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
          absl::UnavailableError(absl::StrCat("connect to ", endpoint.Key(), ": ", cec.message())));
    }
    conn->peer = absl::StrCat(ep.address().to_string(), ":", ep.port());
  } else {
    tcp::endpoint ep(ip, port);
    auto [cec] = co_await conn->socket.async_connect(ep, kNoThrow);
    if (cec) {
      co_return finish(
          absl::UnavailableError(absl::StrCat("connect to ", endpoint.Key(), ": ", cec.message())));
    }
    conn->peer = endpoint.Key();
  }
  RegisterAfresh(conn->socket);
  conn->socket.set_option(tcp::no_delay(true), ec);
  // Sessions read and write it with non-blocking calls first
  // (server/immediate_io.h).
  conn->socket.non_blocking(true, ec);
  // Within the connect's timeout: the timer closes the socket under it.
  if (tls != nullptr) co_return finish(co_await Handshake(*conn, std::move(tls), endpoint));
  co_return finish(absl::OkStatus());
}

}  // namespace causeway::proxy
