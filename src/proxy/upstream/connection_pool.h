// Upstream connections of one worker: connecting with a timeout and keeping
// idle keep-alive connections per endpoint for reuse. Single-threaded.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "common/time_source.h"
#include "proxy/codec/buffer.h"
#include "proxy/config/proxy_config.h"
#include "proxy/config/tls_stream.h"
#include "proxy/upstream/endpoint_stats.h"

namespace causeway::proxy {

// The start of the error message of a connect whose TLS handshake failed
// (then ": " and OpenSSL's reason); the request path names it in the access
// log and counts it.
inline constexpr char kTlsHandshakeFailed[] = "tls_handshake_failed";

struct UpstreamConnection {
  explicit UpstreamConnection(const boost::asio::any_io_executor& ex) : socket(ex) {}
  ~UpstreamConnection() {
    if (stats == nullptr) return;
    stats->active_connections.fetch_sub(1, std::memory_order_relaxed);
    // Counted when `stats` was set (UpstreamRequest::CountNewConnection).
    if (stats->cluster != nullptr) {
      stats->cluster->open_connections.fetch_sub(1, std::memory_order_relaxed);
    }
  }
  UpstreamConnection(const UpstreamConnection&) = delete;
  UpstreamConnection& operator=(const UpstreamConnection&) = delete;
  boost::asio::ip::tcp::socket socket;
  // A TLS cluster's connections: the session over `socket` (nullptr: clear
  // text). Every read and write then goes through it, with Asio's
  // asynchronous operations (its synchronous ones can lose bytes on a
  // non-blocking socket).
  std::unique_ptr<TlsStream> tls;
  ByteBuffer buffer;
  std::string key;                                   // Endpoint::Key()
  std::string peer;                                  // resolved "ip:port" for the access log
  uint32_t requests = 0;                             // requests served, >0 means reused
  bool parked = false;                               // has waited in the pool
  std::chrono::steady_clock::time_point idle_since;  // when last parked (pool's TimeSource)
  // The counters of the endpoint (in the cluster that opened it), counting
  // this connection among the active ones while it lives.
  std::shared_ptr<EndpointStats> stats;
};

// Requests that find no idle connection wait in a FIFO per endpoint and are
// handed the first connection that becomes free: one released by another
// request or one the pool has just opened. The pool opens at most
// `max_connecting_per_endpoint` connections to an endpoint at a time, and
// only while waiters outnumber the connections being opened, so a burst of
// requests becomes a bounded stream of connects instead of one SYN per
// request (which overflows the upstream's accept queue: dropped SYNs are
// retried after the 1 s initial RTO, so connects time out).
//
// Up to `max_idle_per_endpoint` idle connections are kept indefinitely; idle
// connections beyond that are closed, least recently used first, once they
// have stayed unused for `idle_trim_delay`. Closing the excess at once
// (delay 0) makes a busy proxy close connections that requests arriving a
// moment later reopen: at 1,000 concurrent requests that was a third of all
// requests paying for a new upstream connection.
class ConnectionPool {
 public:
  struct Options {
    size_t max_idle_per_endpoint = 64;
    size_t max_connecting_per_endpoint = 32;
    std::chrono::milliseconds idle_trim_delay{1000};
  };
  ConnectionPool() : ConnectionPool(Options{}) {}
  // Idle ages and the trim delay are measured by `time`.
  explicit ConnectionPool(Options options, TimeSource& time = RealTime::Instance())
      : options_(options), time_(time) {}
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // A connection to `endpoint`: an idle one, else the first one freed or
  // opened within `timeout`. A fresh connection has requests == 0. Errors:
  // Unavailable (refused, reset, unresolvable) or DeadlineExceeded.
  //
  // `can_retry_stale`: the caller retries on a fresh connection if this one
  // turns out closed by the peer (its request can be replayed), so an idle
  // connection parked within the last kTrustIdleFor is handed out without
  // probing it first (a recv per request otherwise).
  //
  // `tls`: connections speak TLS with these settings (a handshake after the
  // connect, within `timeout`); they are pooled apart from clear-text ones.
  boost::asio::awaitable<absl::StatusOr<std::unique_ptr<UpstreamConnection>>> Acquire(
      const Endpoint& endpoint, std::chrono::milliseconds timeout, bool can_retry_stale = false,
      std::shared_ptr<const UpstreamTls> tls = nullptr);
  static constexpr std::chrono::milliseconds kTrustIdleFor{1000};

  // An idle connection to `key` that the peer has not closed (probed unless
  // `trust_recent` and it was parked within kTrustIdleFor), or nullptr.
  std::unique_ptr<UpstreamConnection> TakeIdle(const std::string& key, bool trust_recent = false);
  // Hands a connection whose last exchange completed cleanly to the oldest
  // waiter for its endpoint, or parks it.
  void Release(std::unique_ptr<UpstreamConnection> conn);
  // Closes every idle connection (drain, shutdown: before the io_context goes).
  void Clear();
  size_t IdleCount() const;
  // Connects in progress (tests).
  size_t ConnectingCount() const;

 private:
  struct Waiter;
  struct PerEndpoint {
    std::deque<std::unique_ptr<UpstreamConnection>> idle;  // most recently used last
    std::deque<Waiter*> waiters;
    size_t connecting = 0;
  };
  PerEndpoint& For(const std::string& key);
  // Starts connects while waiters are not covered by connects in progress.
  void MaybeConnect(const boost::asio::any_io_executor& ex, const Endpoint& endpoint,
                    std::chrono::milliseconds timeout, PerEndpoint& state,
                    const std::shared_ptr<const UpstreamTls>& tls);
  // Gives a connect's outcome to the oldest waiter, or parks the connection.
  void Deliver(PerEndpoint& state, absl::StatusOr<std::unique_ptr<UpstreamConnection>> result);
  void Park(PerEndpoint& state, std::unique_ptr<UpstreamConnection> conn);
  // Closes idle connections beyond the limit that have outstayed the delay.
  void Trim();
  void ScheduleTrim(const boost::asio::any_io_executor& ex,
                    std::chrono::steady_clock::time_point when);

  Options options_;
  TimeSource& time_;
  // Boxed: PerEndpoint addresses stay valid for connects in flight.
  absl::flat_hash_map<std::string, std::unique_ptr<PerEndpoint>> endpoints_;
  std::unique_ptr<Timer> trim_timer_;
  bool trim_scheduled_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// The io_context behind an executor: every executor of the proxy is an
// io_context's (workers run one each).
inline boost::asio::io_context& IoContextOf(const boost::asio::any_io_executor& ex) {
  return static_cast<boost::asio::io_context&>(
      boost::asio::query(ex, boost::asio::execution::context));
}
inline boost::asio::io_context& IoContextOf(boost::asio::ip::tcp::socket& socket) {
  return IoContextOf(socket.get_executor());
}

// Connects to `endpoint` (resolving a host name if needed) within `timeout`,
// and with `tls` does the TLS handshake too. Never throws; errors are
// Unavailable (refused, reset, a failed handshake: kTlsHandshakeFailed) or
// DeadlineExceeded.
boost::asio::awaitable<absl::StatusOr<std::unique_ptr<UpstreamConnection>>> Connect(
    const Endpoint& endpoint, std::chrono::milliseconds timeout,
    std::shared_ptr<const UpstreamTls> tls = nullptr);

// Before an upstream TLS handshake on `ssl` to `address` (an IP or a host
// name): SNI (`tls.sni`, else the host name; never an IP address) and, when
// the peer is verified, the names its certificate must carry (the subject
// alt names asked for, else the SNI).
absl::Status PrepareUpstreamTls(SSL* ssl, const UpstreamTls& tls, const std::string& address);
// Why a handshake failed, in OpenSSL's words, after kTlsHandshakeFailed:
// the certificate problem when there is one ("certificate verify failed:
// unable to get local issuer certificate"), else the error ("wrong version
// number": the endpoint speaks clear text).
std::string TlsHandshakeFailure(SSL* ssl, const boost::system::error_code& ec);

// The pool's key of connections to `endpoint` with `tls`.
std::string PoolKey(const Endpoint& endpoint, const UpstreamTls* tls);

}  // namespace causeway::proxy
