#include "proxy/server/session.h"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <optional>
#include <tuple>

#include "proxy/router/router.h"
#include "proxy/server/immediate_io.h"
#include "proxy/upstream/connection_pool.h"

namespace causeway::proxy {
namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
// Socket reads go straight into the connection buffers and fill all their
// free space, at least this much (a fresh buffer is one 32 KiB block, so a
// 16 KiB response with its head arrives in one read and leaves in one write).
constexpr size_t kReadChunk = 4 * 1024;

std::chrono::microseconds Micros(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d);
}
}  // namespace

struct Session::RequestContext {
  std::chrono::system_clock::time_point start_wall;
  Clock::time_point start;
  ProxyConfigSnapshot config;  // held for the whole request
  const ListenerConfig* listener = nullptr;
  const Route* route = nullptr;
  std::string_view cluster;
  std::string upstream_address;
  int status = 0;
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;
  std::chrono::microseconds upstream_time{-1};
  uint32_t attempts = 0;
  std::string_view flags;
};

Session::Session(Worker* worker, std::shared_ptr<ListenerState> listener, tcp::socket socket)
    : worker_(worker),
      listener_(std::move(listener)),
      socket_(std::move(socket)),
      watchdog_(socket_.get_executor()) {
  boost::system::error_code ec;
  socket_.set_option(tcp::no_delay(true), ec);
  socket_.non_blocking(true, ec);  // for ReadSome / WriteAll at once (immediate_io.h)
  worker_->Register(this);
}

Session::~Session() { worker_->Unregister(this); }

void Session::OnDrain() {
  if (idle_) {
    boost::system::error_code ec;
    socket_.close(ec);
  }
}

bool Session::ShouldClose() const { return worker_->draining() || listener_->draining; }

// Up to this many requests in progress on the worker, a request's bounded
// steps finish at once when their socket is ready; beyond, they queue
// (immediate_io.h). A sidecar's everyday load and the burst that piles up
// while the machine stalls stay below it; a saturated worker (closed-loop
// clients on dozens of connections) is far above.
constexpr int kAtOnceUpTo = 8;

bool Session::AtOnce() const { return worker_->requests_in_progress() <= kAtOnceUpTo; }

namespace {
// Counts a request in the worker's load from its head to its response's end.
class RequestInProgress {
 public:
  explicit RequestInProgress(Worker* worker) : worker_(worker) { worker_->RequestBegan(); }
  ~RequestInProgress() { worker_->RequestEnded(); }
  RequestInProgress(const RequestInProgress&) = delete;
  RequestInProgress& operator=(const RequestInProgress&) = delete;

 private:
  Worker* worker_;
};
}  // namespace

asio::awaitable<void> Session::Run(std::shared_ptr<Session> self) {
  Session& s = *self;
  while (true) {
    size_t head_size = 0;
    if (co_await s.ReadHead(&head_size) != HeadResult::kOk) break;
    bool keep = false;
    {
      RequestInProgress in_progress(s.worker_);
      RequestContext ctx;
      ctx.start_wall = std::chrono::system_clock::now();
      ctx.start = Clock::now();
      // Copy the head so the views in req_ survive reads into in_.
      s.head_.assign(s.in_.data(), head_size);
      s.in_.Consume(head_size);
      http1::ParseResult r = http1::ParseRequestHead(s.head_, &s.req_);
      if (r.status != http1::ParseStatus::kOk) {
        s.req_.keep_alive = false;
        s.body_consumed_ = true;
        co_await s.LocalReply(ctx, 400, std::string(r.reason) + "\n", "DPE");
      } else {
        s.body_consumed_ = s.req_.body == http1::BodyKind::kNone;
        keep = co_await s.HandleRequest(ctx);
        s.worker_->shared().requests_total.fetch_add(1, std::memory_order_relaxed);
      }
    }
    if (!keep) break;
    // The next request is already buffered (pipelining), so nothing below
    // would wait for a socket: let the worker's other connections go first
    // (immediate_io.h), or a client pipelining requests the proxy answers
    // itself could hold the worker for as long as it keeps sending.
    if (!s.in_.empty()) co_await asio::post(s.socket_.get_executor(), asio::use_awaitable);
  }
  boost::system::error_code ec;
  s.socket_.shutdown(tcp::socket::shutdown_send, ec);
  s.socket_.close(ec);
}

asio::awaitable<Session::HeadResult> Session::ReadHead(size_t* head_size) {
  const ListenerConfig& lc = listener_->config;
  bool first = true;
  while (true) {
    bool too_large = false;
    size_t n = http1::FindHeadEnd(in_.View(), &too_large);
    if (n > 0) {
      idle_ = false;
      watchdog_.Disarm();
      *head_size = n;
      co_return HeadResult::kOk;
    }
    if (too_large) {
      idle_ = false;
      watchdog_.Disarm();
      RequestContext ctx;
      ctx.start_wall = std::chrono::system_clock::now();
      ctx.start = Clock::now();
      req_ = {};
      req_.keep_alive = false;
      co_await LocalReply(ctx, 431, "request headers too large\n", "DPE");
      co_return HeadResult::kClosed;
    }
    idle_ = in_.empty();
    if (idle_ && ShouldClose()) co_return HeadResult::kClosed;
    if (first) {
      // Idle connections wait up to the idle timeout; a started head must
      // complete within request_headers_timeout when one is set.
      auto timeout = (!in_.empty() && lc.request_headers_timeout.count() > 0)
                         ? lc.request_headers_timeout
                         : lc.idle_timeout;
      watchdog_.Arm(timeout, &socket_);
      first = false;
    }
    boost::system::error_code ec;
    size_t got = 0;
    if (in_.empty()) {
      // An idle keep-alive connection holds no read buffer: free it and wait
      // for bytes before allocating one (10k idle connections x 16 KiB
      // otherwise stay resident). The wait is a read into the session's
      // small buffer, not async_wait, for the reason ReadSomeNow gives
      // (immediate_io.h): no epoll_ctl per keep-alive request.
      in_.ReleaseIfEmpty();
      std::tie(ec, got) = co_await socket_.async_read_some(asio::buffer(idle_read_), kNoThrow);
      if (!ec) std::memcpy(in_.Prepare(kReadChunk), idle_read_.data(), got);
    } else {
      char* dst = in_.Prepare(kReadChunk);
      std::tie(ec, got) = co_await ReadSome(socket_, asio::buffer(dst, in_.writable()), AtOnce());
    }
    if (ec) {
      watchdog_.Disarm();
      idle_ = false;
      co_return HeadResult::kClosed;
    }
    in_.Commit(got);
  }
}

bool Session::SkipBufferedBody() {
  if (body_consumed_) return true;
  http1::BodyFramer framer(req_.body, req_.content_length);
  http1::BodyFramer::Step step = framer.Feed(in_.View());
  if (step.error || !step.done) return false;
  in_.Consume(step.consumed);
  body_consumed_ = true;
  return true;
}

asio::awaitable<bool> Session::LocalReply(RequestContext& ctx, int status, std::string_view body,
                                          std::string_view flags, Mutations mutations) {
  // A body left unread on the wire would be parsed as the next request.
  bool close = !req_.keep_alive || ShouldClose() || !SkipBufferedBody() || req_.version_minor == 0;
  BuildLocalReply(status, body, close, req_.is_head, mutations, &out_);
  auto [ec, n] = co_await WriteAll(socket_, asio::buffer(out_), AtOnce());
  ctx.status = status;
  ctx.flags = flags;
  ctx.bytes_sent = req_.is_head ? 0 : body.size();
  LogRequest(ctx);
  co_return !close && !ec;
}

void Session::LogRequest(RequestContext& ctx) {
  AccessLog* log = worker_->shared().access_log;
  if (log == nullptr) return;
  AccessLogEntry e;
  e.start_time = ctx.start_wall;
  e.listener = listener_->name;
  e.method = req_.method;
  e.authority = req_.host;
  e.path = req_.target;
  e.protocol_minor = req_.version_minor;
  e.status = ctx.status;
  e.route = ctx.route != nullptr ? std::string_view(ctx.route->name) : std::string_view();
  e.cluster = ctx.cluster;
  e.upstream_address = ctx.upstream_address;
  e.bytes_received = ctx.bytes_received;
  e.bytes_sent = ctx.bytes_sent;
  e.duration = Micros(Clock::now() - ctx.start);
  e.upstream_time = ctx.upstream_time;
  e.attempts = ctx.attempts;
  e.flags = ctx.flags;
  log->Log(e);
}

asio::awaitable<bool> Session::HandleRequest(RequestContext& ctx) {
  ctx.config = worker_->config();
  if (ctx.config != nullptr) ctx.listener = ctx.config->FindListener(listener_->name);
  if (ctx.listener == nullptr) ctx.listener = &listener_->config;
  const RouteTable* table = ctx.config ? ctx.config->RoutesFor(*ctx.listener) : nullptr;
  if (table == nullptr) {
    co_return co_await LocalReply(ctx, 404, "no route configuration for this listener\n", "NR");
  }
  const VirtualHost* vhost = SelectVirtualHost(*table, req_.host);
  if (vhost == nullptr) {
    co_return co_await LocalReply(ctx, 404, "no virtual host matches the Host header\n", "NR",
                                  {&table->response_headers});
  }
  RouteRequest rr{req_.method, req_.host, req_.target, &req_.headers};
  const Route* route = SelectRoute(*vhost, rr);
  if (route == nullptr) {
    co_return co_await LocalReply(ctx, 404, "no route matches the request\n", "NR",
                                  {&vhost->response_headers, &table->response_headers});
  }
  ctx.route = route;
  Mutations resp_muts = {&route->response_headers, &vhost->response_headers,
                         &table->response_headers};
  if (route->action == Route::Action::kDirectResponse) {
    co_return co_await LocalReply(ctx, static_cast<int>(route->direct_status), route->direct_body,
                                  "", resp_muts);
  }
  co_return co_await Forward(ctx);
}

asio::awaitable<bool> Session::Forward(RequestContext& ctx) {
  const Route& route = *ctx.route;
  const RouteTable* table = ctx.config->RoutesFor(*ctx.listener);
  const VirtualHost* vhost = SelectVirtualHost(*table, req_.host);
  Mutations req_muts = {&route.request_headers, &vhost->request_headers, &table->request_headers};
  Mutations resp_muts = {&route.response_headers, &vhost->response_headers,
                         &table->response_headers};

  const ClusterTarget* target = PickCluster(route, worker_->lb().Random());
  ctx.cluster = target->name;
  const ClusterConfig* cluster = ctx.config->FindCluster(target->name);
  if (cluster == nullptr) {
    co_return co_await LocalReply(ctx, 503, "cluster not found\n", "NC", resp_muts);
  }

  // A body already wholly buffered can be replayed on a retry; a longer one
  // is streamed, so once it has started only that one try is possible.
  size_t buffered_body = 0;
  bool replayable = true;
  if (!body_consumed_) {
    http1::BodyFramer probe(req_.body, req_.content_length);
    http1::BodyFramer::Step step = probe.Feed(in_.View());
    if (step.error) {
      req_.keep_alive = false;
      co_return co_await LocalReply(ctx, 400, "malformed chunked body\n", "DPE");
    }
    replayable = step.done;
    buffered_body = step.done ? step.consumed : 0;
  }

  std::string rewritten = RewriteTarget(route, req_.target);
  UpstreamRequestParams params;
  params.target = rewritten;
  params.host = route.host_rewrite.empty() ? req_.host : std::string_view(route.host_rewrite);
  params.upgrade = req_.upgrade;
  BuildUpstreamRequest(req_, params, req_muts, &up_out_);

  const RetryPolicy& policy = route.retry;
  uint32_t retries_left = policy.num_retries;
  bool stale_retry_used = false;
  bool body_streamed = false;
  std::optional<Clock::time_point> route_deadline;
  const Endpoint* previous = nullptr;
  auto ex = socket_.get_executor();

  // Ends the request with a local reply after consuming a buffered body.
  auto consume_body = [&] {
    if (replayable && !body_consumed_) {
      in_.Consume(buffered_body);
      ctx.bytes_received = buffered_body;
      body_consumed_ = true;
    }
  };

  while (true) {
    ++ctx.attempts;
    auto can_retry = [&](bool condition) {
      if (!condition || retries_left == 0 || body_streamed) return false;
      --retries_left;
      return true;
    };
    const Endpoint* ep = worker_->lb().Choose(*cluster, target->metadata_match, previous);
    if (ep == nullptr) {
      consume_body();
      co_return co_await LocalReply(ctx, 503, "no healthy upstream\n", "UH", resp_muts);
    }
    previous = ep;
    ctx.upstream_address = ep->Key();
    // A copy: the worker's cache may rehash while this coroutine waits.
    std::shared_ptr<EndpointStats> stats =
        worker_->EndpointStatsFor(cluster->name, ctx.upstream_address);
    auto count_error = [&stats] {
      if (stats != nullptr) stats->errors.fetch_add(1, std::memory_order_relaxed);
    };
    // An idle connection, or the first one another request releases or the
    // pool opens (see ConnectionPool).
    absl::StatusOr<std::unique_ptr<UpstreamConnection>> acquired =
        co_await worker_->pool().Acquire(*ep, cluster->connect_timeout,
                                         /*can_retry_stale=*/replayable && !stale_retry_used);
    if (!acquired.ok()) {
      count_error();
      if (can_retry(policy.on_connect_failure || policy.on_reset)) continue;
      consume_body();
      co_return co_await LocalReply(ctx, 503, "upstream connect failure\n", "UF", resp_muts);
    }
    std::unique_ptr<UpstreamConnection> conn = *std::move(acquired);
    // Served requests before, or waited in the pool: the upstream may have
    // closed it meanwhile, which earns the request one retry below.
    bool reused = conn->requests > 0 || conn->idle_since != Clock::time_point();
    if (conn->stats == nullptr && stats != nullptr) {
      stats->active_connections.fetch_add(1, std::memory_order_relaxed);
      conn->stats = stats;
    }
    ctx.upstream_address = conn->peer;

    // Counts the request against least-request for the endpoint, and as
    // in flight on the admin page.
    struct ActiveGuard {
      LoadBalancer& lb;
      const Endpoint& ep;
      EndpointStats* stats;
      ~ActiveGuard() {
        lb.OnRequestEnd(ep);
        if (stats != nullptr) stats->active_requests.fetch_sub(1, std::memory_order_relaxed);
      }
    };
    worker_->lb().OnRequestStart(*ep);
    if (stats != nullptr) stats->active_requests.fetch_add(1, std::memory_order_relaxed);
    ActiveGuard active{worker_->lb(), *ep, stats.get()};

    // Send the request: at once, resuming through the queue, at any load
    // (Asio's own async_write; why not WriteAll: immediate_io.h).
    bool send_failed = false;
    if (replayable) {
      std::array<asio::const_buffer, 2> bufs = {asio::buffer(up_out_),
                                                asio::buffer(in_.data(), buffered_body)};
      auto [ec, n] = co_await asio::async_write(conn->socket, bufs, kNoThrow);
      send_failed = static_cast<bool>(ec);
    } else {
      if (req_.expect_continue && req_.version_minor == 1) {
        // Envoy's default: the proxy answers 100-continue itself.
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        auto [ec, n] = co_await WriteAll(socket_, asio::buffer(kContinue), AtOnce());
        if (ec) co_return false;
      }
      auto [ec, n] = co_await asio::async_write(conn->socket, asio::buffer(up_out_), kNoThrow);
      send_failed = static_cast<bool>(ec);
      if (!send_failed) {
        body_streamed = true;
        http1::BodyFramer framer(req_.body, req_.content_length);
        while (true) {
          http1::BodyFramer::Step step = framer.Feed(in_.View());
          if (step.error) {
            ctx.status = 400;
            ctx.flags = "DPE";
            LogRequest(ctx);
            co_return false;
          }
          if (step.consumed > 0) {
            // Body loops go through the scheduler on every step (plain async
            // operations), so a long body cannot hold the worker: see
            // immediate_io.h.
            auto [wec, w] = co_await asio::async_write(
                conn->socket, asio::buffer(in_.data(), step.consumed), kNoThrow);
            in_.Consume(step.consumed);
            ctx.bytes_received += step.consumed;
            if (wec) {
              send_failed = true;
              break;
            }
          }
          if (step.done) break;
          char* dst = in_.Prepare(kReadChunk);
          auto [rec, got] =
              co_await socket_.async_read_some(asio::buffer(dst, in_.writable()), kNoThrow);
          if (rec) {
            // The client went away mid-body: nothing to answer.
            ctx.status = 0;
            ctx.flags = "DC";
            LogRequest(ctx);
            co_return false;
          }
          in_.Commit(got);
        }
        body_consumed_ = true;
      }
    }
    if (send_failed) {
      if (reused && !stale_retry_used && !body_streamed) {
        // A pooled connection the upstream closed meanwhile: try a fresh one.
        stale_retry_used = true;
        --ctx.attempts;
        previous = nullptr;
        continue;
      }
      count_error();
      if (can_retry(policy.on_reset)) continue;
      consume_body();
      co_return co_await LocalReply(ctx, 503, "upstream reset before response\n", "UR", resp_muts);
    }
    if (stats != nullptr) stats->requests.fetch_add(1, std::memory_order_relaxed);

    // Wait for the response head within the try's deadline.
    Clock::time_point sent = Clock::now();
    if (!route_deadline && route.timeout.count() > 0) route_deadline = sent + route.timeout;
    std::optional<Clock::time_point> deadline = route_deadline;
    bool per_try = false;
    if (policy.per_try_timeout.count() > 0 &&
        (!deadline || sent + policy.per_try_timeout < *deadline)) {
      deadline = sent + policy.per_try_timeout;
      per_try = true;
    }
    if (deadline) watchdog_.Arm(*deadline - sent, &conn->socket);

    http1::ParseResult parsed;
    size_t head_size = 0;
    bool got_head = false;
    bool read_error = false;
    bool head_too_large = false;
    while (!got_head && !read_error && !head_too_large) {
      size_t n = http1::FindHeadEnd(conn->buffer.View(), &head_too_large);
      if (n > 0) {
        parsed = http1::ParseResponseHead(conn->buffer.View().substr(0, n), req_.is_head, &resp_);
        if (parsed.status == http1::ParseStatus::kOk && resp_.status >= 100 && resp_.status < 200 &&
            resp_.status != 101) {
          conn->buffer.Consume(n);  // interim responses are not forwarded
          continue;
        }
        head_size = n;
        got_head = true;
        break;
      }
      if (head_too_large) break;
      char* dst = conn->buffer.Prepare(kReadChunk);
      auto [ec, got] =
          co_await ReadSome(conn->socket, asio::buffer(dst, conn->buffer.writable()), AtOnce());
      if (ec) {
        read_error = true;
      } else {
        conn->buffer.Commit(got);
      }
    }
    if (!got_head) {
      bool timed_out = watchdog_.fired();
      watchdog_.Disarm();
      // A pooled connection closed while idle is retried below and is no
      // fault of the endpoint; everything else is.
      const bool stale = !timed_out && !head_too_large && reused && conn->buffer.empty() &&
                         !stale_retry_used && !body_streamed;
      if (!stale) {
        count_error();
      } else if (stats != nullptr) {
        stats->requests.fetch_sub(1, std::memory_order_relaxed);  // sent again, counted then
      }
      if (timed_out) {
        if (per_try && can_retry(policy.on_5xx || policy.on_gateway_error || policy.on_reset)) {
          continue;
        }
        consume_body();
        co_return co_await LocalReply(ctx, 504, "upstream request timeout\n", "UT", resp_muts);
      }
      if (head_too_large) {
        consume_body();
        co_return co_await LocalReply(ctx, 502, "upstream response headers too large\n", "UPE",
                                      resp_muts);
      }
      if (reused && conn->buffer.empty() && !stale_retry_used && !body_streamed) {
        stale_retry_used = true;
        --ctx.attempts;
        previous = nullptr;
        continue;
      }
      if (can_retry(policy.on_reset)) continue;
      consume_body();
      co_return co_await LocalReply(ctx, 503, "upstream reset before response\n", "UR", resp_muts);
    }
    if (parsed.status != http1::ParseStatus::kOk) {
      count_error();
      watchdog_.Disarm();
      consume_body();
      co_return co_await LocalReply(ctx, 502, "invalid upstream response\n", "UPE", resp_muts);
    }
    ctx.upstream_time = Micros(Clock::now() - sent);
    if (resp_.status >= 500) count_error();
    bool retriable_status = (policy.on_5xx && resp_.status >= 500) ||
                            (policy.on_gateway_error && resp_.status >= 502 && resp_.status <= 504);
    if (retriable_status && can_retry(true)) {
      watchdog_.Disarm();
      continue;  // the connection is dropped with its unread body
    }

    // Committed: this response goes downstream.
    consume_body();
    if (resp_.status == 101) {
      watchdog_.Disarm();
      if (!req_.upgrade) co_return false;
      BuildDownstreamResponse(resp_, req_.version_minor, false, resp_muts, &out_);
      conn->buffer.Consume(head_size);
      auto [ec, n] = co_await WriteAll(socket_, asio::buffer(out_), AtOnce());
      ctx.status = 101;
      if (!ec) co_await Tunnel(*conn);
      LogRequest(ctx);
      co_return false;
    }
    bool close = !req_.keep_alive || ShouldClose() || resp_.body == http1::BodyKind::kUntilClose ||
                 !body_consumed_;
    BuildDownstreamResponse(resp_, req_.version_minor, close, resp_muts, &out_);
    conn->buffer.Consume(head_size);
    ctx.status = resp_.status;
    http1::BodyFramer framer(resp_.body, resp_.content_length);
    http1::BodyFramer::Step step = framer.Feed(conn->buffer.View());
    bool upstream_ok = !step.error;
    bool downstream_ok = true;
    {
      std::array<asio::const_buffer, 2> bufs = {asio::buffer(out_),
                                                asio::buffer(conn->buffer.data(), step.consumed)};
      auto [ec, n] = co_await WriteAll(socket_, bufs, AtOnce());
      conn->buffer.Consume(step.consumed);
      ctx.bytes_sent += step.consumed;
      downstream_ok = !ec;
    }
    bool eof_end = false;
    // The rest of the body: asynchronous operations (see the request body).
    while (downstream_ok && upstream_ok && !framer.done()) {
      char* dst = conn->buffer.Prepare(kReadChunk);
      auto [ec, got] = co_await conn->socket.async_read_some(
          asio::buffer(dst, conn->buffer.writable()), kNoThrow);
      if (ec) {
        if (ec == asio::error::eof && framer.kind() == http1::BodyKind::kUntilClose) {
          eof_end = true;
        } else {
          upstream_ok = false;
        }
        break;
      }
      conn->buffer.Commit(got);
      step = framer.Feed(conn->buffer.View());
      if (step.error) {
        upstream_ok = false;
        break;
      }
      auto [wec, n] = co_await asio::async_write(
          socket_, asio::buffer(conn->buffer.data(), step.consumed), kNoThrow);
      conn->buffer.Consume(step.consumed);
      ctx.bytes_sent += step.consumed;
      if (wec) downstream_ok = false;
    }
    bool timed_out = watchdog_.fired();
    watchdog_.Disarm();
    bool complete = framer.done() || eof_end;
    if (!complete) {
      if (!upstream_ok || timed_out) count_error();
      // Mid-body failure: the head is out, so the only signal left is to
      // cut the downstream connection (as Envoy does).
      ctx.flags = timed_out ? "UT" : (downstream_ok ? "UR" : "DC");
      LogRequest(ctx);
      co_return false;
    }
    if (resp_.keep_alive && framer.done() && conn->buffer.empty() &&
        resp_.body != http1::BodyKind::kUntilClose && conn->socket.is_open()) {
      ++conn->requests;
      worker_->pool().Release(std::move(conn));
    }
    LogRequest(ctx);
    co_return downstream_ok && !close;
  }
}

namespace {
// Copies bytes one way until EOF, then half-closes the destination.
asio::awaitable<void> Pipe(tcp::socket& from, tcp::socket& to) {
  std::array<char, 16 * 1024> buf;
  while (true) {
    auto [ec, n] = co_await from.async_read_some(asio::buffer(buf), kNoThrow);
    if (ec) break;
    auto [wec, w] = co_await asio::async_write(to, asio::buffer(buf.data(), n), kNoThrow);
    if (wec) {
      boost::system::error_code ignored;
      from.close(ignored);
      co_return;
    }
  }
  boost::system::error_code ignored;
  to.shutdown(tcp::socket::shutdown_send, ignored);
}
}  // namespace

asio::awaitable<void> Session::Tunnel(UpstreamConnection& upstream) {
  // Bytes that arrived with the heads go first.
  if (!upstream.buffer.empty()) {
    auto [ec, n] = co_await WriteAll(
        socket_, asio::buffer(upstream.buffer.data(), upstream.buffer.size()), AtOnce());
    upstream.buffer.Clear();
    if (ec) co_return;
  }
  if (!in_.empty()) {
    auto [ec, n] =
        co_await asio::async_write(upstream.socket, asio::buffer(in_.data(), in_.size()), kNoThrow);
    in_.Clear();
    if (ec) co_return;
  }
  using asio::experimental::awaitable_operators::operator&&;
  co_await (Pipe(socket_, upstream.socket) && Pipe(upstream.socket, socket_));
}

}  // namespace causeway::proxy
