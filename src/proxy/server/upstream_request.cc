#include "proxy/server/upstream_request.h"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "absl/strings/str_cat.h"
#include "proxy/server/immediate_io.h"
#include "proxy/server/transport_io.h"
#include "proxy/server/tunnel.h"
#include "proxy/server/upstream_h2.h"

namespace causeway::proxy {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

UpstreamRequest::UpstreamRequest(Worker& worker, Downstream& down, StreamInfo& info,
                                 RetryState& retry, const ClusterConfig& cluster)
    : worker_(worker), down_(down), info_(info), retry_(retry), cluster_(cluster) {}

UpstreamRequest::~UpstreamRequest() {
  if (down_.sink != nullptr) down_.sink->SetUpstream(nullptr);
  if (!active_) return;
  worker_.lb().OnRequestEnd(*endpoint_);
  if (stats_ != nullptr) stats_->active_requests.fetch_sub(1, std::memory_order_relaxed);
}

void UpstreamRequest::CountError(int status) {
  if (stats_ != nullptr) stats_->errors.fetch_add(1, std::memory_order_relaxed);
  RecordOutcome(status);
}

// A TLS handshake that failed: counted for the cluster and named in the
// access log (as Envoy words a failed connect), with OpenSSL's reason.
void UpstreamRequest::NoteConnectFailure(const absl::Status& status) {
  std::string message(status.message());
  info_.connect_failure.clear();  // an earlier try's reason is not this one's
  if (!message.starts_with(kTlsHandshakeFailed)) return;
  if (stats_ != nullptr && stats_->cluster != nullptr) {
    stats_->cluster->upstream_cx_tls_handshake_failed.fetch_add(1, std::memory_order_relaxed);
  }
  info_.connect_failure = absl::StrCat("upstream_reset_before_response_started{", message, "}");
}

// Counts the request against least-request for the endpoint, and as in
// flight on the admin page, until the attempt ends.
void UpstreamRequest::BeginActive() {
  worker_.lb().OnRequestStart(*endpoint_);
  if (stats_ != nullptr) stats_->active_requests.fetch_add(1, std::memory_order_relaxed);
  active_ = true;
}

asio::awaitable<UpstreamRequest::Result> UpstreamRequest::Run(const LbMetadata& subset,
                                                              const Endpoint* avoid, Body body) {
  endpoint_ = worker_.lb().Choose(cluster_, subset, avoid);
  if (endpoint_ == nullptr) co_return Result::kNoHealthyUpstream;
  info_.upstream_address = endpoint_->Key();
  stats_ = worker_.EndpointStatsFor(cluster_.name, info_.upstream_address);
  if (!TakeRequestSlot()) co_return Result::kOverflow;
  bool pending_overflow = false;
  CircuitBreakerSlot pending =
      TakeCircuitBreakerSlot(stats_ ? stats_->cluster : nullptr, cluster_.circuit_breakers,
                             CircuitBreakerResource::kPendingRequests, &pending_overflow);
  if (pending_overflow) co_return Result::kOverflow;
  Result taken;
  if (cluster_.protocol != ClusterConfig::Protocol::kHttp1) {
    taken = co_await AcquireH2(body);
  } else {
    // An idle connection, or the first one another request releases or the
    // pool opens (see ConnectionPool).
    absl::StatusOr<std::unique_ptr<UpstreamConnection>> acquired = co_await worker_.pool().Acquire(
        *endpoint_, cluster_.connect_timeout,
        /*can_retry_stale=*/body.replayable && retry_.stale_retry_available(), cluster_.tls);
    if (!acquired.ok()) {
      CountError();
      if (cluster_.tls != nullptr) NoteConnectFailure(acquired.status());
      co_return Result::kConnectFailure;
    }
    taken = TakeConnection(*std::move(acquired));
  }
  pending.Release();
  if (taken != Result::kResponse) co_return taken;
  BeginActive();
  // Every co_await of a coroutine allocates its frame, so the common case
  // (a buffered body) is sent here and only a streamed one takes a call.
  boost::system::error_code ec;
  if (body.replayable && h2_ != nullptr) {
    std::tie(ec, std::ignore) = co_await WriteH2Body(down_.in.View().substr(0, body.buffered));
  } else if (body.replayable) {
    // At once, resuming through the queue, at any load (Asio's own
    // async_write; why not WriteAll: immediate_io.h).
    std::array<asio::const_buffer, 2> bufs = {asio::buffer(down_.up_out),
                                              asio::buffer(down_.in.data(), body.buffered)};
    std::tie(ec, std::ignore) = co_await AsyncWrite(conn_->socket, conn_->tls.get(), bufs);
  } else {
    Result streamed = co_await SendStreamed(&ec);
    if (streamed != Result::kResponse) co_return streamed;
  }
  if (ec) {
    if (reused_ && retry_.stale_retry_available()) co_return Result::kStale;
    CountError();
    co_return Result::kReset;
  }
  if (stats_ != nullptr) stats_->requests.fetch_add(1, std::memory_order_relaxed);
  Result head = co_await AwaitHead();
  // Only ForwardResponse joins a body pump after a head, and it runs only
  // if the client is still there: an HTTP/2 client's reset closed the handle.
  if (h2_pump_ != nullptr && (head != Result::kResponse || !h2_->handle().is_open())) {
    co_await JoinH2BodyPump();
  }
  co_return head;
}

UpstreamRequest::Result UpstreamRequest::TakeConnection(std::unique_ptr<UpstreamConnection> conn) {
  conn_ = std::move(conn);
  if (down_.sink != nullptr) down_.sink->SetUpstream(&conn_->socket);
  // The upstream may have closed a reused connection meanwhile, which earns
  // the request one replay (RetryState::TakeStaleRetry).
  reused_ = conn_->requests > 0 || conn_->parked;
  if (conn_->stats == nullptr && stats_ != nullptr) {
    stats_->active_connections.fetch_add(1, std::memory_order_relaxed);
    conn_->stats = stats_;
    if (!CountNewConnection()) return Result::kOverflow;
  }
  info_.upstream_address = conn_->peer;
  return Result::kResponse;
}

// The head, then the body as it arrives from the client. kResponse: sent,
// or the head's write failed (`ec`).
asio::awaitable<UpstreamRequest::Result> UpstreamRequest::SendStreamed(
    boost::system::error_code* ec) {
  if (down_.req.expect_continue && down_.req.version_minor == 1 && down_.sink == nullptr) {
    // Envoy's default: the proxy answers 100-continue itself.
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    auto [cec, n] =
        co_await WriteAllTo(down_.socket, down_.tls.get(), asio::buffer(kContinue), down_.AtOnce());
    if (cec) co_return Result::kContinueFailed;
  }
  if (h2_ != nullptr) {  // the head went with the stream's opening
    // The stream idle timeout watches the body as it goes up (the pump
    // touches it), so a client that stalls mid-body does not hold the
    // stream and its connection for ever.
    WatchStream();
    retry_.OnBodyStreamed();
    StartH2BodyPump();
    co_return Result::kResponse;
  }
  std::tie(*ec, std::ignore) =
      co_await AsyncWrite(conn_->socket, conn_->tls.get(), asio::buffer(down_.up_out));
  if (*ec) co_return Result::kResponse;
  retry_.OnBodyStreamed();
  co_return co_await StreamBody();
}

StreamIdleTimeout& UpstreamRequest::WatchStream() {
  if (stream_idle_ == nullptr) {
    const std::chrono::milliseconds idle =
        info_.listener != nullptr ? info_.listener->idle_timeout : std::chrono::milliseconds(0);
    stream_idle_ = std::make_unique<StreamIdleTimeout>(down_.time, IoContextOf(UpSocket()), idle);
  }
  stream_idle_->Watch(&down_.socket, &UpSocket(), StreamIdleTimeout::Action::kCancel);
  return *stream_idle_;
}

UpstreamRequest::Result UpstreamRequest::BodyTimedOut(StreamIdleTimeout::Fired fired) {
  ProxyCounters& counters = worker_.shared().counters;
  if (fired == StreamIdleTimeout::Fired::kDeadline) {
    Count(counters.downstream_rq_timeout);
    return Result::kRequestTimeout;
  }
  Count(counters.downstream_rq_idle_timeout);
  return Result::kStreamIdleTimeout;
}

// The body as it arrives from the client; kResponse when all of it went.
// A client that stops sending, or an upstream that stops taking it, is cut
// by the stream idle timeout; the whole body must be in within the
// listener's request_timeout if it has one.
asio::awaitable<UpstreamRequest::Result> UpstreamRequest::StreamBody() {
  http1::BodyFramer framer(down_.req.body, down_.req.content_length);
  StreamIdleTimeout& guard = WatchStream();
  if (info_.listener != nullptr && info_.listener->request_timeout.count() > 0) {
    guard.SetDeadline(info_.start + info_.listener->request_timeout);
  }
  using Fired = StreamIdleTimeout::Fired;
  while (true) {
    http1::BodyFramer::Step step = framer.Feed(down_.in.View());
    if (step.error) co_return Result::kBadRequestBody;
    if (step.consumed > 0) {
      // Body loops go through the scheduler on every step (plain async
      // operations), so a long body cannot hold the worker: immediate_io.h.
      auto [wec, w] = h2_ != nullptr
                          ? co_await WriteH2Body(down_.in.View().substr(0, step.consumed))
                          : co_await AsyncWrite(conn_->socket, conn_->tls.get(),
                                                asio::buffer(down_.in.data(), step.consumed));
      if (guard.fired() != Fired::kNo) co_return BodyTimedOut(guard.fired());
      guard.Touch();
      down_.in.Consume(step.consumed);
      info_.bytes_received += step.consumed;
      if (wec) {
        CountError();
        co_return Result::kReset;  // never stale: the body cannot be sent again
      }
    }
    if (step.done) break;
    char* dst = down_.in.Prepare(kReadChunk);
    auto [rec, got] = down_.sink != nullptr
                          ? co_await down_.sink->ReadBody(asio::buffer(dst, down_.in.writable()))
                          : co_await AsyncReadSome(down_.socket, down_.tls.get(),
                                                   asio::buffer(dst, down_.in.writable()));
    if (guard.fired() != Fired::kNo) co_return BodyTimedOut(guard.fired());
    guard.Touch();
    if (rec) co_return Result::kClientGone;
    down_.in.Commit(got);
  }
  guard.Stop();
  down_.body_consumed = true;
  co_return Result::kResponse;
}

// Reads the response head within the attempt's deadline, skipping interim
// responses other than 101; on kResponse the head is in down_.resp and
// head_size_ bytes of the connection's buffer.
asio::awaitable<UpstreamRequest::Result> UpstreamRequest::AwaitHead() {
  sent_ = down_.time.Monotonic();
  RetryState::TryDeadline deadline = retry_.OnRequestSent(sent_);
  per_try_ = deadline.per_try;
  if (deadline.at) down_.watchdog.ArmAt(*deadline.at, &UpSocket());
  ByteBuffer& buf = UpBuffer();
  bool too_large = false;
  while (true) {
    size_t n = http1::FindHeadEnd(buf.View(), &too_large);
    if (n > 0) {
      http1::ParseResult parsed =
          http1::ParseResponseHead(buf.View().substr(0, n), down_.req.is_head, &down_.resp);
      const bool ok = parsed.status == http1::ParseStatus::kOk;
      const int status = down_.resp.status;
      if (ok && status >= 100 && status < 200 && status != 101) {
        buf.Consume(n);  // interim responses are not forwarded
        continue;
      }
      head_size_ = n;
      if (!ok) {
        CountError();
        down_.watchdog.Disarm();
        co_return Result::kInvalidResponse;
      }
      break;
    }
    if (too_large) co_return HeadMissing(true);
    char* dst = buf.Prepare(kReadChunk);
    auto [ec, got] = h2_ != nullptr
                         ? co_await h2_->ReadSome(asio::buffer(dst, buf.writable()))
                         : co_await ReadSomeFrom(conn_->socket, conn_->tls.get(),
                                                 asio::buffer(dst, buf.writable()), down_.AtOnce());
    if (ec) co_return HeadMissing(false);
    buf.Commit(got);
  }
  info_.upstream_time =
      std::chrono::duration_cast<std::chrono::microseconds>(down_.time.Monotonic() - sent_);
  if (down_.resp.status >= 500) {
    CountError(down_.resp.status);
  } else {
    RecordOutcome(down_.resp.status);
  }
  co_return Result::kResponse;
}

UpstreamRequest::Result UpstreamRequest::HeadMissing(bool too_large) {
  const bool timed_out = down_.watchdog.fired();
  down_.watchdog.Disarm();
  // A pooled connection closed while idle is no fault of the endpoint.
  const bool stale =
      !timed_out && !too_large && reused_ && UpBuffer().empty() && retry_.stale_retry_available();
  if (!stale) {
    CountError();
  } else if (stats_ != nullptr) {
    stats_->requests.fetch_sub(1, std::memory_order_relaxed);  // sent again, counted then
  }
  if (timed_out) return Result::kTimeout;
  if (too_large) return Result::kHeadersTooLarge;
  return stale ? Result::kStale : Result::kReset;
}

asio::awaitable<UpstreamRequest::Ending> UpstreamRequest::ForwardResponse(Mutations muts,
                                                                          bool must_close) {
  if (down_.resp.status == 101) co_return co_await ForwardUpgrade(muts);
  const http1::ResponseHead& resp = down_.resp;
  const bool close =
      must_close || resp.body == http1::BodyKind::kUntilClose || !down_.body_consumed;
  BuildDownstreamResponse(resp, down_.req.version_minor, close, muts, &down_.out);
  ByteBuffer& buf = UpBuffer();
  buf.Consume(head_size_);
  info_.status = resp.status;
  http1::BodyFramer framer(resp.body, resp.content_length);
  http1::BodyFramer::Step step = framer.Feed(buf.View());
  Pump pump;
  pump.upstream_ok = !step.error;
  // A body still to come waits on both peers: a client that stops reading
  // or an upstream that stops sending is cut by the stream idle timeout.
  if (!framer.done() && !step.error) WatchStream();
  std::array<asio::const_buffer, 2> bufs = {asio::buffer(down_.out),
                                            asio::buffer(buf.data(), step.consumed)};
  auto [ec, n] = down_.sink != nullptr
                     ? co_await down_.sink->WriteHead(
                           down_.out, buf.View().substr(0, step.consumed), framer.done())
                     : co_await WriteAllTo(down_.socket, down_.tls.get(), bufs, down_.AtOnce());
  buf.Consume(step.consumed);
  info_.bytes_sent += step.consumed;
  pump.downstream_ok = !ec;
  if (pump.downstream_ok && pump.upstream_ok && !framer.done()) {
    co_await PumpResponseBody(framer, pump);
  }
  const bool timed_out = down_.watchdog.fired();
  down_.watchdog.Disarm();
  if (stream_idle_ != nullptr) {
    pump.idle = pump.idle || stream_idle_->fired() != StreamIdleTimeout::Fired::kNo;
    stream_idle_->Stop();
  }
  if (h2_pump_ != nullptr) co_await JoinH2BodyPump();
  if (!framer.done() && !pump.eof_end) {
    LogMidBodyFailure(pump, timed_out);
    co_return Ending{false, true};
  }
  if (h2_ == nullptr && resp.keep_alive && framer.done() && buf.empty() &&
      resp.body != http1::BodyKind::kUntilClose && conn_->socket.is_open()) {
    ++conn_->requests;
    if (down_.sink != nullptr) down_.sink->SetUpstream(nullptr);  // pooled: no longer its
    worker_.pool().Release(std::move(conn_));
  }
  co_return Ending{pump.downstream_ok && !close, true};
}

// Mid-body failure: the head is out, so the only signal left is to cut the
// downstream connection (as Envoy does).
void UpstreamRequest::LogMidBodyFailure(const Pump& pump, bool timed_out) {
  ProxyCounters& counters = worker_.shared().counters;
  if (pump.idle) {
    Count(counters.downstream_rq_idle_timeout);
    info_.flags = "SI";
    info_.details = "stream_idle_timeout";
    return;
  }
  if (!pump.upstream_ok || timed_out) CountError();
  if (timed_out) {
    Count(counters.upstream_rq_timeout);
    info_.flags = "UT";
    info_.details = "upstream_response_timeout";
    return;
  }
  info_.flags = pump.downstream_ok ? "UR" : "DC";
}

// The rest of the body: asynchronous operations (see StreamBody).
asio::awaitable<void> UpstreamRequest::PumpResponseBody(http1::BodyFramer& framer, Pump& pump) {
  ByteBuffer& buf = UpBuffer();
  while (pump.downstream_ok && pump.upstream_ok && !framer.done()) {
    char* dst = buf.Prepare(kReadChunk);
    auto [ec, got] = h2_ != nullptr ? co_await h2_->ReadSome(asio::buffer(dst, buf.writable()))
                                    : co_await AsyncReadSome(conn_->socket, conn_->tls.get(),
                                                             asio::buffer(dst, buf.writable()));
    if (stream_idle_->fired() != StreamIdleTimeout::Fired::kNo) {
      pump.idle = true;
      co_return;
    }
    stream_idle_->Touch();
    if (ec) {
      if (ec == asio::error::eof && framer.kind() == http1::BodyKind::kUntilClose) {
        pump.eof_end = true;
      } else {
        pump.upstream_ok = false;
      }
      co_return;
    }
    buf.Commit(got);
    http1::BodyFramer::Step step = framer.Feed(buf.View());
    if (step.error) {
      pump.upstream_ok = false;
      co_return;
    }
    auto [wec, n] =
        down_.sink != nullptr
            ? co_await down_.sink->WriteBody(buf.View().substr(0, step.consumed), framer.done())
            : co_await AsyncWrite(down_.socket, down_.tls.get(),
                                  asio::buffer(buf.data(), step.consumed));
    if (stream_idle_->fired() != StreamIdleTimeout::Fired::kNo) {
      pump.idle = true;
      co_return;
    }
    stream_idle_->Touch();
    buf.Consume(step.consumed);
    info_.bytes_sent += step.consumed;
    if (wec) pump.downstream_ok = false;
  }
}

// A 101 to a request that asked for an upgrade: the head goes to the
// client and the connection becomes a tunnel until either side ends it.
asio::awaitable<UpstreamRequest::Ending> UpstreamRequest::ForwardUpgrade(Mutations muts) {
  down_.watchdog.Disarm();
  if (!down_.req.upgrade) co_return Ending{false, false};
  BuildDownstreamResponse(down_.resp, down_.req.version_minor, false, muts, &down_.out);
  conn_->buffer.Consume(head_size_);
  auto [ec, n] =
      co_await WriteAllTo(down_.socket, down_.tls.get(), asio::buffer(down_.out), down_.AtOnce());
  info_.status = 101;
  if (!ec) {
    Tunnel tunnel(down_.time, IoContextOf(conn_->socket), down_.tunnel_idle_timeout);
    co_await tunnel.Run({&down_.socket, down_.tls.get()}, down_.in,
                        {&conn_->socket, conn_->tls.get()}, conn_->buffer, down_.AtOnce());
    if (tunnel.idle_timed_out()) {
      Count(worker_.shared().counters.downstream_rq_idle_timeout);
      info_.flags = "SI";
      info_.details = "stream_idle_timeout";
    }
  }
  co_return Ending{false, true};
}

}  // namespace causeway::proxy
