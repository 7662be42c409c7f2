#include "net/http_server.h"

#include <sys/ioctl.h>

#include <algorithm>
#include <array>
#include <exception>
#include <type_traits>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/redirect_error.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/strand.hpp"
#include "boost/asio/this_coro.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"
#include "common/strings.h"
#include "spdlog/spdlog.h"

namespace causeway::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;

// Shared between a session and the server's registry, so Shutdown() can
// reach live connections. Fields other than `strand` are touched only on the
// strand.
struct HttpServer::Connection {
  explicit Connection(asio::strand<asio::io_context::executor_type> s) : strand(std::move(s)) {}
  asio::strand<asio::io_context::executor_type> strand;
  beast::tcp_stream* stream = nullptr;  // null once the session ended
  // Waiting for the next request; read off the strand too, to pick a
  // connection to close when the server is at its connection limit.
  std::atomic<bool> idle{true};
  // When the connection started to wait for its next request (steady clock,
  // ms): it gives way at the limit only after Options::idle_grace.
  std::atomic<int64_t> idle_since_ms{0};
  // The socket's descriptor, to ask from the accepting thread whether an
  // "idle" connection has a request waiting unread (then it is not idle).
  std::atomic<int> fd{-1};
  asio::steady_timer* wait_timer = nullptr;  // a streamed response's WaitUntil
  bool closing = false;  // chosen by CloseOldestIdle (guarded by the server's mu_)
};

namespace {

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

template <typename Stream>
class Writer final : public StreamWriter {
 public:
  Writer(Stream& stream, std::chrono::milliseconds io_timeout, const std::atomic<bool>& stopping)
      : stream_(stream),
        timer_(stream.get_executor()),
        io_timeout_(io_timeout),
        stopping_(stopping) {}

  awaitable<bool> Write(std::string data) override {
    if (data.empty() || broken_) co_return !broken_;
    beast::error_code ec;
    beast::get_lowest_layer(stream_).expires_after(io_timeout_);
    co_await asio::async_write(stream_, bhttp::make_chunk(asio::buffer(data)),
                               asio::redirect_error(use_awaitable, ec));
    beast::get_lowest_layer(stream_).expires_never();
    if (ec) broken_ = true;
    co_return !broken_;
  }

  awaitable<void> WaitUntil(std::chrono::steady_clock::time_point deadline) override {
    if (woken_.exchange(false) || stopping_.load()) co_return;
    timer_.expires_at(deadline);
    beast::error_code ec;
    co_await timer_.async_wait(asio::redirect_error(use_awaitable, ec));
    woken_.store(false);
  }

  void Wake() override {
    woken_.store(true);
    asio::post(timer_.get_executor(), [this, alive = alive_] {
      if (*alive) timer_.cancel();
    });
  }

  bool Stopping() const override { return stopping_.load() || broken_; }

  asio::steady_timer& timer() { return timer_; }
  bool broken() const { return broken_; }
  // The client closed its end: the stream's next write fails at once, and
  // a stream waiting for something to send is woken to find out.
  void PeerGone() {
    broken_ = true;
    Wake();
  }
  // Posted wakes check this so they never touch a destroyed writer.
  ~Writer() override { *alive_ = false; }

 private:
  Stream& stream_;
  asio::steady_timer timer_;
  std::chrono::milliseconds io_timeout_;
  const std::atomic<bool>& stopping_;
  std::atomic<bool> woken_{false};
  bool broken_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

Request ToRequest(const bhttp::request<bhttp::string_body>& msg, const std::string& remote,
                  const std::string& local) {
  Request req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  req.remote = remote;
  req.local = local;
  for (const auto& field : msg) {
    std::string name(field.name_string());
    req.headers[absl::AsciiStrToLower(name)] = std::string(field.value());
  }
  req.body = msg.body();
  return req;
}

// Milliseconds on the steady clock, for idle ages.
int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// One connection: S is beast::tcp_stream (plain HTTP) or TlsStream.
template <typename S>
class HttpServer::Session : public std::enable_shared_from_this<HttpServer::Session<S>> {
 public:
  Session(HttpServer* server, tcp::socket socket,
          std::shared_ptr<Connection> conn) requires std::is_same_v<S, beast::tcp_stream>
      : server_(server), stream_(std::move(socket)), conn_(std::move(conn)) {}
  // `tls` is kept for the connection's life: replacing the server's
  // certificate must not pull the context out from under an open stream.
  Session(HttpServer* server, tcp::socket socket, std::shared_ptr<Connection> conn,
          std::shared_ptr<asio::ssl::context> tls) requires std::is_same_v<S, TlsStream>
      : server_(server),
        tls_(std::move(tls)),
        stream_(std::move(socket), *tls_),
        conn_(std::move(conn)) {}

  awaitable<void> Run() {
    beast::error_code ec;
    auto& tcp_stream = beast::get_lowest_layer(stream_);
    auto endpoint = tcp_stream.socket().remote_endpoint(ec);
    remote_ = ec ? "?" : StrCat(endpoint.address().to_string(), ":", endpoint.port());
    auto local = tcp_stream.socket().local_endpoint(ec);
    if (!ec) {
      std::string ip = local.address().to_string();
      local_ = local.address().is_v6() ? StrCat("[", ip, "]:", local.port())
                                       : StrCat(ip, ":", local.port());
    }
    tcp_stream.socket().set_option(tcp::no_delay(true), ec);
    conn_->stream = &tcp_stream;
    conn_->fd = tcp_stream.socket().native_handle();
    try {
      if (co_await Handshake()) {
        co_await Loop();
        co_await CloseTls();
      }
    } catch (const std::exception& e) {
      spdlog::warn("connection from {} failed: {}", remote_, e.what());
    }
    conn_->stream = nullptr;
    conn_->fd = -1;
    conn_->wait_timer = nullptr;
    tcp_stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    tcp_stream.socket().close(ec);
  }

 private:
  // The TLS handshake, bounded by the I/O timeout. A failure is the client's
  // problem (plain HTTP on this port, a CA it does not trust): debug level.
  awaitable<bool> Handshake() {
    if constexpr (std::is_same_v<S, TlsStream>) {
      beast::error_code ec;
      beast::get_lowest_layer(stream_).expires_after(server_->options_.io_timeout);
      co_await stream_.async_handshake(asio::ssl::stream_base::server,
                                       asio::redirect_error(use_awaitable, ec));
      if (ec) {
        spdlog::debug("TLS handshake with {} failed: {}", remote_, ec.message());
        co_return false;
      }
    }
    co_return true;
  }

  // Sends TLS close_notify, waiting a moment at most for the peer's (HTTP
  // framing does not need it; a shutdown should not wait on idle clients).
  awaitable<void> CloseTls() {
    if constexpr (std::is_same_v<S, TlsStream>) {
      beast::error_code ec;
      beast::get_lowest_layer(stream_).expires_after(std::chrono::milliseconds(250));
      co_await stream_.async_shutdown(asio::redirect_error(use_awaitable, ec));
    }
  }

  awaitable<void> Loop() {
    const Options& options = server_->options_;
    for (;;) {
      if (server_->stopping_.load()) co_return;
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<uint32_t>(options.header_limit));
      parser.body_limit(options.body_limit);
      beast::error_code ec;
      conn_->idle_since_ms = SteadyMs();
      conn_->idle = true;
      beast::get_lowest_layer(stream_).expires_after(options.idle_timeout);
      co_await bhttp::async_read_header(stream_, buffer_, parser,
                                        asio::redirect_error(use_awaitable, ec));
      conn_->idle = false;
      auto started = std::chrono::steady_clock::now();
      if (!ec && options.before_body &&
          (parser.chunked() || parser.content_length().value_or(0) > 0)) {
        Request head = ToRequest(parser.get(), remote_, local_);
        if (ParseTarget(head.target, &head.path, &head.query)) {
          if (std::optional<Response> refused = options.before_body(head)) {
            co_await AnswerAndDrain(head, *refused, started);
            co_return;
          }
        }
      }
      if (!ec) {
        beast::get_lowest_layer(stream_).expires_after(options.io_timeout);
        co_await bhttp::async_read(stream_, buffer_, parser,
                                   asio::redirect_error(use_awaitable, ec));
      }
      if (ec == bhttp::error::body_limit) {
        co_await Reject(413, "payload_too_large",
                        StrCat("the request body is larger than ", options.body_limit, " bytes"),
                        started);
        co_return;
      }
      if (ec == bhttp::error::header_limit) {
        co_await Reject(431, "headers_too_large", "the request headers are too large", started);
        co_return;
      }
      if (ec) {
        // A peer that went away or never finished a request: nothing to say.
        // Malformed requests get a 400 before closing.
        if (ec.category() == beast::error_code(bhttp::error::bad_method).category() &&
            ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
          co_await Reject(400, "bad_request", StrCat("malformed HTTP request: ", ec.message()),
                          started);
        }
        co_return;
      }

      bhttp::request<bhttp::string_body> msg = parser.release();
      Request req = ToRequest(msg, remote_, local_);
      bool keep_alive = msg.keep_alive() && !server_->stopping_.load();
      std::string route_label;
      Response res = co_await Dispatch(req, &route_label);
      if (res.stream) {
        co_await Stream(req, res, route_label, started);
        co_return;
      }
      keep_alive = keep_alive && !server_->stopping_.load();
      bool ok = co_await Send(req, res, msg.version(), keep_alive);
      server_->observer_(req, res.status, route_label, std::chrono::steady_clock::now() - started);
      if (!ok || !keep_alive) co_return;
    }
  }

  awaitable<Response> Dispatch(Request& req, std::string* route_label) {
    if (!ParseTarget(req.target, &req.path, &req.query)) {
      co_return server_->errors_(400, "bad_request", "malformed percent-encoding in the URL");
    }
    Router::Match match = server_->router_.Find(req.method, req.path);
    switch (match.result) {
      case Router::Match::Result::kBadPath:
        co_return server_->errors_(400, "bad_request", "malformed percent-encoding in the path");
      case Router::Match::Result::kNotFound:
        co_return server_->errors_(404, "not_found", StrCat("no such path: ", req.path));
      case Router::Match::Result::kMethodNotAllowed: {
        Response res = server_->errors_(
            405, "method_not_allowed",
            StrCat(req.method, " is not allowed on ", req.path, " (allowed: ", match.allowed, ")"));
        res.headers.emplace_back("Allow", match.allowed);
        co_return res;
      }
      case Router::Match::Result::kFound:
        break;
    }
    const Route* route = match.route;
    *route_label = route->pattern;
    req.params = std::move(match.params);
    if (!route->blocking) co_return Invoke(*route, req);
    co_return co_await asio::co_spawn(
        server_->workers_.get_executor(),
        [this, route, &req]() -> awaitable<Response> { co_return Invoke(*route, req); },
        use_awaitable);
  }

  Response Invoke(const Route& route, Request& req) {
    try {
      return route.handler(req);
    } catch (const std::exception& e) {
      spdlog::error("handler for {} {} failed: {}", req.method, req.path, e.what());
      return server_->errors_(500, "internal", "internal error");
    }
  }

  void Prepare(bhttp::response<bhttp::string_body>& out, const Response& res, unsigned version,
               bool keep_alive) {
    out.version(version);
    out.result(static_cast<unsigned>(res.status));
    out.set(bhttp::field::server, "causeway");
    out.set(bhttp::field::content_type, res.content_type);
    for (const auto& [name, value] : res.headers) out.set(name, value);
    out.keep_alive(keep_alive);
  }

  awaitable<bool> Send(const Request& req, Response& res, unsigned version, bool keep_alive) {
    bhttp::response<bhttp::string_body> out;
    Prepare(out, res, version, keep_alive);
    out.body() = std::move(res.body);
    out.prepare_payload();
    if (req.method == "HEAD") out.body().clear();
    beast::error_code ec;
    beast::get_lowest_layer(stream_).expires_after(server_->options_.io_timeout);
    co_await bhttp::async_write(stream_, out, asio::redirect_error(use_awaitable, ec));
    co_return !ec;
  }

  awaitable<void> Stream(const Request& req, Response& res, const std::string& route_label,
                         std::chrono::steady_clock::time_point started) {
    bhttp::response<bhttp::empty_body> head;
    head.version(11);
    head.result(static_cast<unsigned>(res.status));
    head.set(bhttp::field::server, "causeway");
    head.set(bhttp::field::content_type, res.content_type);
    head.set(bhttp::field::cache_control, "no-cache");
    for (const auto& [name, value] : res.headers) head.set(name, value);
    head.keep_alive(false);
    head.chunked(true);
    bhttp::response_serializer<bhttp::empty_body> serializer(head);
    beast::error_code ec;
    beast::get_lowest_layer(stream_).expires_after(server_->options_.io_timeout);
    co_await bhttp::async_write_header(stream_, serializer,
                                       asio::redirect_error(use_awaitable, ec));
    beast::get_lowest_layer(stream_).expires_never();
    if (!ec) {
      Writer<S> writer(stream_, server_->options_.io_timeout, server_->stopping_);
      conn_->wait_timer = &writer.timer();
      ++server_->streams_;
      auto watch = std::make_shared<PeerWatch>();
      watch->writer = &writer;
      // The watcher holds the session: its read may complete after the
      // stream ends (over TLS, after the close_notify exchange too).
      asio::co_spawn(co_await asio::this_coro::executor, WatchPeer(this->shared_from_this(), watch),
                     asio::detached);
      try {
        co_await res.stream(writer);
      } catch (const std::exception& e) {
        spdlog::warn("stream {} failed: {}", req.path, e.what());
      }
      // The watcher may not touch the writer past this point; its read is
      // cancelled (it resumes on this strand, after this coroutine yields).
      watch->writer = nullptr;
      if (!watch->done) beast::get_lowest_layer(stream_).socket().cancel(ec);
      --server_->streams_;
      conn_->wait_timer = nullptr;
      if (!writer.broken()) {
        beast::get_lowest_layer(stream_).expires_after(server_->options_.io_timeout);
        co_await asio::async_write(stream_, bhttp::make_chunk_last(),
                                   asio::redirect_error(use_awaitable, ec));
      }
    }
    server_->observer_(req, res.status, route_label, std::chrono::steady_clock::now() - started);
  }

  // A streamed response's client sends nothing more; a read that ends
  // (end of stream, reset) means it went away. Without this a closed client
  // is noticed only when a write fails, which for a quiet stream is two
  // keep-alive intervals later, holding the stream (and its slot) meanwhile.
  struct PeerWatch {
    Writer<S>* writer = nullptr;  // null once the stream is over
    bool done = false;
    std::array<char, 512> sink;
  };
  awaitable<void> WatchPeer([[maybe_unused]] std::shared_ptr<Session> self,
                            std::shared_ptr<PeerWatch> watch) {
    beast::error_code ec;
    while (!ec && watch->writer != nullptr) {
      // Anything the client sends meanwhile is not a request: discarded.
      co_await stream_.async_read_some(asio::buffer(watch->sink),
                                       asio::redirect_error(use_awaitable, ec));
    }
    watch->done = true;
    if (watch->writer != nullptr) watch->writer->PeerGone();
  }

  // Answers and closes. The unread rest of the request is drained for a
  // moment first so the client sees the answer instead of a reset.
  awaitable<void> Reject(int status, std::string_view code, std::string message,
                         std::chrono::steady_clock::time_point started) {
    Response res = server_->errors_(status, code, message);
    Request req;
    req.remote = remote_;
    co_await AnswerAndDrain(req, res, started);
  }

  awaitable<void> AnswerAndDrain(const Request& req, Response& res,
                                 std::chrono::steady_clock::time_point started) {
    const int status = res.status;
    co_await Send(req, res, 11, false);
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_send, ec);
    std::array<char, 16384> sink;
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
    size_t drained = 0;
    while (!ec && drained < (8u << 20)) {
      drained += co_await stream_.async_read_some(asio::buffer(sink),
                                                  asio::redirect_error(use_awaitable, ec));
    }
    server_->observer_(req, status, "", std::chrono::steady_clock::now() - started);
  }

  HttpServer* server_;
  std::shared_ptr<asio::ssl::context> tls_;  // before stream_, which uses it
  S stream_;
  beast::flat_buffer buffer_;
  std::shared_ptr<Connection> conn_;
  std::string remote_;
  std::string local_;
};

HttpServer::HttpServer(Options options, Router router, ErrorRenderer errors, Observer observer)
    : options_(std::move(options)),
      router_(std::move(router)),
      errors_(std::move(errors)),
      observer_(std::move(observer)),
      workers_(static_cast<size_t>(options_.worker_threads)) {}

HttpServer::~HttpServer() { Shutdown(); }

absl::Status HttpServer::Start() {
  size_t colon = options_.address.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(
        StrCat("address \"", options_.address, "\" is not host:port"));
  }
  std::string host = options_.address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  int port = 0;
  if (!absl::SimpleAtoi(options_.address.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(StrCat("address \"", options_.address, "\" has a bad port"));
  }
  beast::error_code ec;
  tcp::resolver resolver(ioc_);
  auto results = resolver.resolve(host, std::to_string(port), tcp::resolver::passive, ec);
  if (ec || results.empty()) {
    return absl::InvalidArgumentError(StrCat("cannot resolve \"", host, "\": ", ec.message()));
  }
  tcp::endpoint endpoint = results.begin()->endpoint();
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        StrCat("cannot listen on ", options_.address, ": ", ec.message()));
  }
  port_ = acceptor_.local_endpoint().port();
  Accept();
  for (int i = 0; i < std::max(1, options_.io_threads); ++i) {
    threads_.emplace_back([this] { ioc_.run(); });
  }
  return absl::OkStatus();
}

void HttpServer::Accept() {
  auto strand = asio::make_strand(ioc_);
  acceptor_.async_accept(strand, [this, strand](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      AcceptFailed(ec);
      return;
    }
    accept_backoff_ = std::chrono::milliseconds(0);
    if (stopping_.load()) return;  // the socket closes as it goes out of scope
    if (active_.load() >= options_.max_connections && !CloseOldestIdle()) {
      Refuse(std::move(socket));
    } else {
      Serve(std::move(socket), strand);
    }
    Accept();
  });
}

void HttpServer::Serve(tcp::socket socket, asio::strand<asio::io_context::executor_type> strand) {
  auto conn = std::make_shared<Connection>(strand);
  // A connection not yet reading (its session has not started) has waited
  // for nothing: it must not give way to the next newcomer.
  conn->idle_since_ms = SteadyMs();
  uint64_t id = Register(conn);
  if (options_.tls) {
    auto session = std::make_shared<Session<TlsStream>>(this, std::move(socket), conn,
                                                        options_.tls->Current());
    asio::co_spawn(
        strand, [session]() { return session->Run(); },
        [this, session, id](const std::exception_ptr&) { Unregister(id); });
  } else {
    auto session = std::make_shared<Session<beast::tcp_stream>>(this, std::move(socket), conn);
    asio::co_spawn(
        strand, [session]() { return session->Run(); },
        [this, session, id](const std::exception_ptr&) { Unregister(id); });
  }
}

// At the limit with no idle connection to give way: a short 503 written
// without waiting (a new socket's send buffer takes it whole) and the
// connection closed, so an overloaded hub answers at once and its threads
// stay with the clients it serves. Over TLS the client sees a failed
// handshake instead, which it reports as an error as well.
void HttpServer::Refuse(tcp::socket socket) {
  ++refused_;
  static constexpr std::string_view kBusy =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
      "Retry-After: 1\r\nConnection: close\r\nContent-Length: 80\r\n\r\n"
      "{\"error\":{\"code\":\"unavailable\",\"message\":\"the hub is at its connection limit\"}}\n";
  beast::error_code ec;
  if (!options_.tls) {
    socket.non_blocking(true, ec);
    if (!ec) socket.write_some(asio::buffer(kBusy.data(), kBusy.size()), ec);
  }
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
  const auto now = std::chrono::steady_clock::now();
  if (now - last_refusal_log_ > std::chrono::seconds(10)) {
    last_refusal_log_ = now;
    spdlog::warn("at the connection limit ({}): refusing new connections ({} so far)",
                 options_.max_connections, refused_.load());
  }
}

// Whether the kernel holds bytes the server has not read yet on `fd`: a
// connection waiting for its next request whose request has arrived is about
// to be busy, and closing it would drop that request. No descriptor (a
// session not started or already ended) counts as busy.
static bool HasUnreadBytes(int fd) {
  int pending = 0;
  return fd < 0 || (::ioctl(fd, FIONREAD, &pending) == 0 && pending > 0);
}

// Closes the longest-open idle keep-alive connection, if any: a client that
// wants an answer now matters more than one that might ask later (nginx
// does the same when it runs out of connections).
bool HttpServer::CloseOldestIdle() {
  std::shared_ptr<Connection> victim;
  const int64_t waited_since = SteadyMs() - options_.idle_grace.count();
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, conn] : connections_) {  // ids grow: oldest first
      if (conn->idle.load() && !conn->closing && conn->idle_since_ms.load() <= waited_since &&
          !HasUnreadBytes(conn->fd.load())) {
        conn->closing = true;
        victim = conn;
        break;
      }
    }
  }
  if (victim == nullptr) return false;
  ++evicted_;
  asio::post(victim->strand, [victim] {
    if (victim->stream != nullptr && victim->idle.load()) victim->stream->socket().cancel();
  });
  return true;
}

// accept() failing (out of file descriptors, buffers or memory) is retried
// after a backoff, not at once: an immediate retry fails again and spins a
// core while flooding the log. Running out of descriptors also closes an
// idle connection to free one.
void HttpServer::AcceptFailed(const beast::error_code& ec) {
  if (ec == asio::error::no_descriptors) CloseOldestIdle();
  accept_backoff_ = std::clamp(accept_backoff_ * 2, std::chrono::milliseconds(10),
                               std::chrono::milliseconds(1000));
  ++accept_errors_;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_accept_error_log_ > std::chrono::seconds(10)) {
    last_accept_error_log_ = now;
    spdlog::warn("accept failed: {} ({} times so far); retrying in {} ms", ec.message(),
                 accept_errors_.load(), accept_backoff_.count());
  }
  accept_timer_.expires_after(accept_backoff_);
  accept_timer_.async_wait([this](const beast::error_code& wait_ec) {
    if (!wait_ec && acceptor_.is_open()) Accept();
  });
}

uint64_t HttpServer::Register(const std::shared_ptr<Connection>& conn) {
  absl::MutexLock lock(&mu_);
  uint64_t id = next_id_++;
  connections_[id] = conn;
  ++active_;
  return id;
}

void HttpServer::Unregister(uint64_t id) {
  absl::MutexLock lock(&mu_);
  connections_.erase(id);
  --active_;
}

void HttpServer::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return;
    shut_down_ = true;
  }
  stopping_.store(true);
  if (threads_.empty()) return;
  asio::post(ioc_, [this] {
    beast::error_code ec;
    acceptor_.close(ec);
  });
  std::vector<std::shared_ptr<Connection>> conns;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, conn] : connections_) conns.push_back(conn);
  }
  // Idle keep-alive connections are closed now; busy ones close after their
  // response (the loop checks stopping_); streams are woken to end.
  for (auto& conn : conns) {
    asio::post(conn->strand, [conn] {
      if (conn->stream != nullptr && conn->idle) conn->stream->socket().cancel();
      if (conn->wait_timer != nullptr) conn->wait_timer->cancel();
    });
  }
  {
    // Unregister changes active_ under mu_, which wakes this wait.
    absl::MutexLock lock(&mu_);
    auto none_active = [](std::atomic<int>* active) { return active->load() == 0; };
    if (!mu_.AwaitWithTimeout(absl::Condition(+none_active, &active_),
                              absl::FromChrono(options_.shutdown_grace))) {
      spdlog::warn("{} connections still open after the shutdown grace period", active_.load());
    }
  }
  ioc_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  workers_.join();
}

}  // namespace causeway::http
