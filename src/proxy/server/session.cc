#include "proxy/server/session.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstring>
#include <tuple>
#include <utility>

#include "proxy/router/router.h"
#include "proxy/server/h2_session.h"
#include "proxy/server/immediate_io.h"
#include "proxy/server/routing_key_guard.h"
#include "proxy/server/routing_key_stamp.h"
#include "proxy/server/transport_io.h"
#include "proxy/server/upstream_request.h"
#include "proxy/upstream/connection_pool.h"

namespace causeway::proxy {
namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

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

bool Downstream::SkipBufferedBody() {
  if (body_consumed) return true;
  http1::BodyFramer framer(req.body, req.content_length);
  http1::BodyFramer::Step step = framer.Feed(in.View());
  if (step.error || !step.done) return false;
  in.Consume(step.consumed);
  body_consumed = true;
  return true;
}

Session::Session(Worker* worker, std::shared_ptr<ListenerState> listener, tcp::socket socket)
    : worker_(worker),
      listener_(std::move(listener)),
      down_(std::move(socket), worker->time(), worker->io_context()) {
  boost::system::error_code ec;
  down_.socket.set_option(tcp::no_delay(true), ec);
  down_.socket.non_blocking(true, ec);  // for ReadSome / WriteAll at once (immediate_io.h)
  down_.requests_in_progress = &worker_->requests_in_progress_counter();
  worker_->Register(this);
  listener_->connections->fetch_add(1, std::memory_order_relaxed);
}

Session::~Session() {
  http2_.reset();
  IdleList::Remove(&idle_node_);
  listener_->connections->fetch_sub(1, std::memory_order_relaxed);
  worker_->Unregister(this);
}

void Session::OnDrain() {
  if (http2_ != nullptr) http2_->OnDrain();
  if (idle_) {
    boost::system::error_code ec;
    down_.socket.close(ec);
  }
}

bool Session::ShouldClose() const { return worker_->draining() || listener_->draining; }

void Session::StartInfo(StreamInfo& info) const {
  info.start_wall = down_.time.Now();
  info.start = down_.time.Monotonic();
}

// An idle connection holds no coroutine: when nothing is buffered, Run
// leaves a plain read pending (WaitForRequest) and returns, and that read's
// handler starts Run again when bytes come. Coroutine frames stay alive as
// long as they are suspended, and an idle connection in Run held about
// 1.9 KB of them (co_spawn's entry point, Run, the waiting function, Asio's
// frame for an awaited read and its larger operation). Starting Run again
// costs a co_spawn per request that found the connection idle (no change
// bench/proxy/run could see). The locals of a request live in
// ServeRequest's frame, which exists only while a request is in flight.
// src/proxy/README.md, "Memory of an idle connection", has the breakdown.
asio::awaitable<void> Session::Run(std::shared_ptr<Session> self) {
  Session& s = *self;
  bool idle_armed = std::exchange(s.woke_from_idle_, false);
  while (true) {
    if (s.down_.in.empty()) {
      WaitForRequest(std::move(self));
      co_return;
    }
    if (!co_await s.ServeRequest(idle_armed)) break;
    idle_armed = false;
    // The next request is already buffered (pipelining), so nothing below
    // would wait for a socket: let the worker's other connections go first
    // (immediate_io.h), or a client pipelining requests the proxy answers
    // itself could hold the worker for as long as it keeps sending.
    if (!s.down_.in.empty()) {
      co_await asio::post(s.down_.socket.get_executor(), asio::use_awaitable);
    }
  }
  s.Close();
}

void Session::Close() {
  boost::system::error_code ec;
  down_.socket.shutdown(tcp::socket::shutdown_send, ec);
  down_.socket.close(ec);
}

asio::awaitable<bool> Session::ServeRequest(bool idle_armed) {
  Downstream& down = down_;
  size_t head_size = 0;
  if (listener_->config.codec == ListenerConfig::Codec::kHttp2 || alpn_h2_) {
    co_await ServeHttp2();
    co_return false;
  }
  if (co_await ReadHead(&head_size, idle_armed) != HeadResult::kOk) co_return false;
  if (IsHttp2()) {
    co_await ServeHttp2();
    co_return false;
  }
  RequestInProgress in_progress(worker_);
  StreamInfo info;
  StartInfo(info);
  // Copy the head so the views in req survive reads into in.
  down.head.assign(down.in.data(), head_size);
  down.in.Consume(head_size);
  http1::ParseResult r = http1::ParseRequestHead(down.head, &down.req);
  if (r.status != http1::ParseStatus::kOk) {
    down.req.keep_alive = false;
    down.body_consumed = true;
    co_await LocalReply(info, 400, std::string(r.reason) + "\n", "DPE");
    co_return false;
  }
  down.body_consumed = down.req.body == http1::BodyKind::kNone;
  // Awaited from here rather than through a routing coroutine: each
  // coroutine call allocates a frame.
  RouteDecision d = Decide(info);
  const bool keep =
      d.kind == RouteDecision::Kind::kForward
          ? co_await Forward(info, d)
          : co_await LocalReply(info, d.status, d.body, d.flags, d.response_mutations);
  worker_->shared().requests_total.fetch_add(1, std::memory_order_relaxed);
  co_return keep;
}

// A client with prior knowledge starts with the HTTP/2 preface, whose
// first line ends in an empty line: ReadHead takes it for a head.
bool Session::IsHttp2() const {
  if (listener_->config.codec == ListenerConfig::Codec::kHttp1) return false;
  return down_.in.View().starts_with(kHttp2Preface.substr(0, 18));
}

asio::awaitable<void> Session::ServeHttp2() {
  down_.watchdog.Disarm();
  http2_ = std::make_unique<Http2Session>(*worker_, listener_, down_);
  co_await http2_->Run();
  http2_.reset();
}

void Session::ReleaseIdleMemory() {
  // What the last request left: the copy of its head, the serialized heads
  // and the header lists keep their capacity (about 500 B with small heads).
  // Freed whenever nothing is buffered; pipelined requests keep reusing
  // them, and the cost for the others is a few small allocations per
  // request (no change bench/proxy/run could see).
  down_.req = {};
  down_.resp = {};
  std::string().swap(down_.head);
  std::string().swap(down_.out);
  std::string().swap(down_.up_out);
  down_.in.ReleaseIfEmpty();
}

void Session::WaitForRequest(std::shared_ptr<Session> self) {
  Session& session = *self;
  if (session.ShouldClose()) {
    session.Close();
    return;
  }
  session.idle_ = true;
  // The idle timeout is the listener's idle list's, not the watchdog's:
  // an idle connection keeps no timer of its own.
  session.down_.watchdog.Release();
  session.idle_node_.deadline = {};
  if (const auto timeout = session.listener_->config.idle_timeout; timeout.count() > 0) {
    Worker& worker = *session.worker_;
    session.listener_->idle.For(worker.time(), worker.io_context(), timeout)
        .Add(&session.idle_node_, &session.down_.socket);
  }
  // An idle keep-alive connection holds no read buffer: free it and wait
  // for bytes before allocating one (10k idle connections x 16 KiB
  // otherwise stay resident). The wait is a read into the session's small
  // buffer, not async_wait, for the reason ReadSomeNow gives
  // (immediate_io.h): no epoll_ctl per keep-alive request. Asio tries the
  // read at once, so a request already there costs no wait.
  session.ReleaseIdleMemory();
  auto on_read = [self = std::move(self)](boost::system::error_code ec, size_t got) mutable {
    Session& s = *self;
    s.idle_ = false;
    IdleList::Remove(&s.idle_node_);
    if (ec) {
      s.Close();
      return;
    }
    std::memcpy(s.down_.in.Prepare(kReadChunk), s.idle_read_.data(), got);
    s.down_.in.Commit(got);
    s.woke_from_idle_ = true;
    // co_spawn dispatches: Run starts here, inside this handler, rather
    // than after another trip through the worker's queue.
    auto executor = s.down_.socket.get_executor();
    asio::co_spawn(executor, Run(std::move(self)), asio::detached);
  };
  if (session.down_.tls != nullptr) {
    session.down_.tls->async_read_some(asio::buffer(session.idle_read_), std::move(on_read));
  } else {
    session.down_.socket.async_read_some(asio::buffer(session.idle_read_), std::move(on_read));
  }
}

asio::awaitable<Session::HeadResult> Session::ReadHead(size_t* head_size, bool idle_armed) {
  const ListenerConfig& lc = listener_->config;
  bool first = true;
  bool header_clock = false;  // request_headers_timeout is running
  while (true) {
    bool too_large = false;
    size_t n = http1::FindHeadEnd(down_.in.View(), &too_large);
    if (n > 0 || too_large) down_.watchdog.Disarm();
    if (n > 0) {
      *head_size = n;
      co_return HeadResult::kOk;
    }
    if (too_large) {
      co_await RefuseHead(431, "request headers too large\n", "DPE", {});
      co_return HeadResult::kClosed;
    }
    // A partial head waits up to the idle timeout (still running from the
    // idle wait, if there was one); from its first bytes on it must
    // complete within request_headers_timeout when one is set (a client
    // trickling a head byte by byte is not idle). That one only cancels
    // the read, so the client is told why (408).
    if (!header_clock && lc.request_headers_timeout.count() > 0) {
      down_.watchdog.Arm(lc.request_headers_timeout, &down_.socket, Watchdog::OnExpiry::kCancel);
      header_clock = true;
    } else if (first && !header_clock) {
      // After an idle wait the head has what is left of that wait's
      // timeout (none if the timeout is off).
      if (!idle_armed) {
        down_.watchdog.Arm(lc.idle_timeout, &down_.socket);
      } else if (idle_node_.deadline != IdleList::Clock::time_point{}) {
        down_.watchdog.ArmAt(idle_node_.deadline, &down_.socket);
      }
    }
    first = false;
    char* dst = down_.in.Prepare(kReadChunk);
    auto [ec, got] = co_await ReadSomeFrom(down_.socket, down_.tls.get(),
                                           asio::buffer(dst, down_.in.writable()), down_.AtOnce());
    if (ec) {
      const bool header_timeout = header_clock && down_.watchdog.fired();
      down_.watchdog.Disarm();
      if (header_timeout) {
        Count(worker_->shared().counters.downstream_rq_header_timeout);
        co_await RefuseHead(408, "request headers timeout\n", "", "request_header_timeout");
      }
      co_return HeadResult::kClosed;
    }
    down_.in.Commit(got);
  }
}

asio::awaitable<void> Session::RefuseHead(int status, std::string_view body, std::string_view flags,
                                          std::string_view details) {
  StreamInfo info;
  StartInfo(info);
  info.details = details;
  down_.req = {};
  down_.req.keep_alive = false;
  co_await LocalReply(info, status, body, flags);
}

asio::awaitable<bool> Session::LocalReply(StreamInfo& info, int status, std::string_view body,
                                          std::string_view flags, Mutations mutations) {
  const http1::RequestHead& req = down_.req;
  // A body left unread on the wire would be parsed as the next request.
  bool close = !req.keep_alive || worker_->ResponsesClose() || listener_->draining ||
               !down_.SkipBufferedBody() || req.version_minor == 0;
  BuildLocalReply(status, body, close, req.is_head, mutations, &down_.out);
  auto [ec, n] =
      co_await WriteAllTo(down_.socket, down_.tls.get(), asio::buffer(down_.out), down_.AtOnce());
  info.status = status;
  info.flags = flags;
  info.bytes_sent = req.is_head ? 0 : body.size();
  LogRequest(info);
  co_return !close && !ec;
}

void Session::LogRequest(StreamInfo& info) {
  AccessLog* log = worker_->shared().access_log;
  if (log == nullptr) return;
  const http1::RequestHead& req = down_.req;
  AccessLogEntry e;
  e.listener = listener_->name;
  e.method = req.method;
  e.authority = req.host;
  e.path = req.target;
  e.protocol_minor = req.version_minor;
  FillLogEntry(info, down_.time.Monotonic(), e);
  log->Log(e);
}

RouteDecision Session::Decide(StreamInfo& info) {
  info.config = worker_->config();
  if (info.config != nullptr) info.listener = info.config->FindListener(listener_->name);
  if (info.listener == nullptr) info.listener = &listener_->config;
  // Keys from outside are checked before this proxy stamps one of its own.
  GuardRequestKeys(worker_->shared().edge, *info.listener, down_.req, info,
                   worker_->shared().counters);
  StampRoutingKey(worker_->shared().key_stamper, down_.req, &down_.stamped_key);
  RouteDecision d = DecideRoute(info.config.get(), *info.listener, down_.req,
                                [this] { return worker_->lb().Random(); });
  info.route = d.route;
  info.cluster = d.cluster_name;
  return d;
}

}  // namespace causeway::proxy
