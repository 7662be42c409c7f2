// HTTP/1.1 server on Boost.Beast: keep-alive connections, each served by one
// coroutine on its own strand; a few I/O threads; handlers that may block
// run on a separate worker pool so slow writes never stall other
// connections. Limits: header and body size (431/413), idle and I/O
// timeouts. Shutdown() stops accepting, lets in-flight requests finish,
// closes idle connections and ends streamed responses.
//
// With Options::tls set, every connection is TLS (OpenSSL through Asio's SSL
// stream): the handshake happens before the first request; a client that
// fails it (plain HTTP, an unknown CA) is logged at debug level and
// disconnected. The certificate is taken per connection from the
// TlsServerContext, so replaced files reach new connections only.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/strand.hpp"
#include "boost/asio/thread_pool.hpp"
#include "net/http_message.h"
#include "net/http_router.h"
#include "net/tls_server_context.h"

namespace causeway::http {

class HttpServer {
 public:
  struct Options {
    std::string address = "127.0.0.1:8380";  // host:port; port 0 picks one
    int io_threads = 2;
    int worker_threads = 32;
    size_t body_limit = 1 << 20;
    size_t header_limit = 16 << 10;
    std::chrono::milliseconds idle_timeout{60000};    // waiting for the next request
    std::chrono::milliseconds io_timeout{30000};      // reading one request / writing one response
    std::chrono::milliseconds shutdown_grace{10000};  // in-flight requests at Shutdown()
    std::shared_ptr<TlsServerContext> tls;            // null: plain HTTP
    // Open connections at most; at the limit the oldest idle keep-alive
    // connection is closed to make room, or, with none idle, the new one is
    // answered 503 and closed.
    int max_connections = 10000;
    // How long a connection must have waited for its next request before it
    // may give way at the limit. A request that has just been read but not
    // yet parsed leaves its connection looking idle for a moment (and the
    // kernel's buffer empty), so one that has waited only briefly is spared.
    std::chrono::milliseconds idle_grace{100};
    // Called with a request's head (no body yet) when the request has a
    // body; a response returned here is sent instead, the body is never
    // read, and the connection is closed. The hub checks the token here, so
    // a client without one cannot make it read (and hold) a body. Runs on an
    // I/O thread: it must be quick.
    std::function<std::optional<Response>(const Request& head)> before_body;
  };

  // Renders a protocol-level error (unknown path, bad method, limits).
  using ErrorRenderer =
      std::function<Response(int status, std::string_view code, std::string_view message)>;
  // Called after each request with the matched route pattern ("" if none).
  using Observer = std::function<void(const Request&, int status, std::string_view route,
                                      std::chrono::steady_clock::duration elapsed)>;

  HttpServer(Options options, Router router, ErrorRenderer errors, Observer observer);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving on background threads.
  absl::Status Start();
  // The bound port (after Start).
  int port() const { return port_; }
  // Graceful stop; idempotent. Returns when every connection is closed (or
  // the grace period ran out) and the threads are joined.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

  int active_connections() const { return active_.load(); }
  // New connections answered 503 at the limit; idle ones closed to make room.
  int64_t refused_connections() const { return refused_.load(); }
  int64_t evicted_idle_connections() const { return evicted_.load(); }
  int active_streams() const { return streams_.load(); }

 private:
  struct Connection;
  template <typename S>
  class Session;
  template <typename S>
  friend class Session;

  void Accept();
  void Serve(boost::asio::ip::tcp::socket socket,
             boost::asio::strand<boost::asio::io_context::executor_type> strand);
  void Refuse(boost::asio::ip::tcp::socket socket);
  bool CloseOldestIdle() ABSL_LOCKS_EXCLUDED(mu_);
  void AcceptFailed(const boost::system::error_code& ec);
  uint64_t Register(const std::shared_ptr<Connection>& conn) ABSL_LOCKS_EXCLUDED(mu_);
  void Unregister(uint64_t id) ABSL_LOCKS_EXCLUDED(mu_);

  const Options options_;
  const Router router_;
  const ErrorRenderer errors_;
  const Observer observer_;

  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_{ioc_};
  boost::asio::thread_pool workers_;
  std::vector<std::thread> threads_;
  int port_ = 0;

  std::atomic<bool> stopping_{false};
  std::atomic<int> active_{0};
  std::atomic<int64_t> refused_{0};
  std::atomic<int64_t> evicted_{0};
  std::atomic<int64_t> accept_errors_{0};
  // Touched only by the accept chain (one accept at a time).
  boost::asio::steady_timer accept_timer_{ioc_};
  std::chrono::milliseconds accept_backoff_{0};
  std::chrono::steady_clock::time_point last_accept_error_log_{};
  std::chrono::steady_clock::time_point last_refusal_log_{};
  std::atomic<int> streams_{0};
  absl::Mutex mu_;
  std::map<uint64_t, std::shared_ptr<Connection>> connections_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace causeway::http
