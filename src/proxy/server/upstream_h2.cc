// UpstreamRequest's HTTP/2 part: taking a stream on a pooled HTTP/2
// connection (or, for an auto cluster, whichever protocol the endpoint's
// ALPN chose), opening it with the request head and sending the body as
// DATA. The response side is the stream's (upstream/http2_upstream.h).
#include "proxy/server/upstream_h2.h"

#include <openssl/ssl.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>

#include "proxy/codec/http2_headers.h"
#include "proxy/server/transport_io.h"
#include "proxy/server/upstream_request.h"

namespace causeway::proxy {
namespace asio = boost::asio;

namespace {

// Whether the TLS handshake of an auto cluster's connection chose h2.
bool AlpnChoseH2(const UpstreamConnection& conn) {
  if (conn.tls == nullptr) return false;
  const unsigned char* proto = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(conn.tls->native_handle(), &proto, &len);
  return len == 2 && proto[0] == 'h' && proto[1] == '2';
}

// A connection refused a stream it seemed to have room for (the peer's
// SETTINGS came lower, or a GOAWAY): another is tried, a few times at most.
constexpr int kH2OpenTries = 3;

}  // namespace

asio::awaitable<UpstreamRequest::Result> UpstreamRequest::AcquireH2(Body body) {
  Http2Pool& pool = worker_.h2_pool();
  for (int attempt = 0; attempt < kH2OpenTries; ++attempt) {
    h2_.reset();
    if (cluster_.protocol == ClusterConfig::Protocol::kAuto) {
      h2_ = pool.TakeReady(PoolKey(*endpoint_, cluster_.tls.get()));
      if (h2_ == nullptr) {
        auto acquired = co_await worker_.pool().Acquire(
            *endpoint_, cluster_.connect_timeout,
            /*can_retry_stale=*/body.replayable && retry_.stale_retry_available(), cluster_.tls);
        if (!acquired.ok()) {
          CountError();
          NoteConnectFailure(acquired.status());
          co_return Result::kConnectFailure;
        }
        // http/1.1 (or no ALPN): the connection serves this request as any
        // HTTP/1.1 cluster's does.
        if (!AlpnChoseH2(**acquired)) co_return TakeConnection(*std::move(acquired));
        h2_ = pool.Adopt(*std::move(acquired), cluster_.max_concurrent_streams);
      }
    } else {
      auto acquired = co_await pool.Acquire(*endpoint_, cluster_.connect_timeout, cluster_.tls,
                                            cluster_.max_concurrent_streams);
      if (!acquired.ok()) {
        CountError();
        if (cluster_.tls != nullptr) NoteConnectFailure(acquired.status());
        co_return Result::kConnectFailure;
      }
      h2_ = *std::move(acquired);
    }
    Result opened = OpenH2Stream();
    if (opened != Result::kConnectFailure) co_return opened;
  }
  h2_.reset();
  CountError();
  co_return Result::kConnectFailure;
}

// The HTTP/1.1 head in down_.up_out as HEADERS: connection-specific fields
// dropped (te: trailers kept, gRPC servers require it), Host as :authority.
UpstreamRequest::Result UpstreamRequest::OpenH2Stream() {
  UpstreamConnection* transport = h2_->connection().transport();
  if (transport == nullptr) return Result::kConnectFailure;
  http1::RequestHead head;
  if (http1::ParseRequestHead(down_.up_out, &head).status != http1::ParseStatus::kOk) {
    return Result::kInvalidResponse;  // never: the proxy wrote this head
  }
  h2_body_ = std::make_unique<H2RequestBody>();
  h2_body_->chunked = head.body == http1::BodyKind::kChunked;
  h2_body_->remaining = head.body == http1::BodyKind::kContentLength ? head.content_length : 0;
  const bool end_stream = !h2_body_->chunked && h2_body_->remaining == 0;
  const http2::RequestHead h2_head =
      http2::FromHttp1Request(head, transport->tls != nullptr ? "https" : "http");
  if (!h2_->Open(h2_head, end_stream, head.is_head).ok()) return Result::kConnectFailure;
  if (transport->stats == nullptr && stats_ != nullptr) {
    stats_->active_connections.fetch_add(1, std::memory_order_relaxed);
    transport->stats = stats_;
    if (!CountNewConnection()) return Result::kOverflow;
  }
  if (down_.sink != nullptr) down_.sink->SetUpstream(&h2_->handle());
  info_.upstream_address = transport->peer;
  reused_ = false;  // a refused stream fails as a reset; nothing is replayed
  return Result::kResponse;
}

asio::awaitable<IoResult> UpstreamRequest::WriteH2Body(std::string_view framed) {
  H2RequestBody& body = *h2_body_;
  if (body.chunked) {
    body.payload.clear();
    body.decoder.Decode(framed, &body.payload);
    body.framer.Feed(framed);  // checked by the request path's framer already
    auto [ec, n] = co_await h2_->WriteBody(body.payload, body.framer.done());
    co_return IoResult{ec, ec ? 0 : framed.size()};
  }
  const uint64_t n = std::min<uint64_t>(framed.size(), body.remaining);
  body.remaining -= n;
  auto [ec, sent] = co_await h2_->WriteBody(framed.substr(0, n), body.remaining == 0);
  co_return IoResult{ec, ec ? 0 : framed.size()};
}

void UpstreamRequest::StartH2BodyPump() {
  h2_pump_ = std::make_shared<H2BodyPump>(h2_->handle().get_executor());
  asio::co_spawn(
      h2_->handle().get_executor(), PumpH2Body(),
      asio::bind_cancellation_slot(h2_pump_->cancel.slot(), [pump = h2_pump_](std::exception_ptr) {
        // Cancelled, or the body's end: the attempt may go.
        pump->done = true;
        pump->joined.cancel();
      }));
}

// The body as the client sends it, as DATA; a client that goes away or
// sends malformed chunked framing cancels the upstream stream. The stream
// idle timeout of the response side watches the client's socket too, and
// an HTTP/2 client's stream has its own.
asio::awaitable<void> UpstreamRequest::PumpH2Body() {
  http1::BodyFramer framer(down_.req.body, down_.req.content_length);
  while (true) {
    http1::BodyFramer::Step step = framer.Feed(down_.in.View());
    if (step.error) break;
    if (step.consumed > 0) {
      auto [wec, w] = co_await WriteH2Body(down_.in.View().substr(0, step.consumed));
      if (!TouchH2BodyWatch()) break;
      down_.in.Consume(step.consumed);
      info_.bytes_received += step.consumed;
      if (wec) break;
    }
    if (step.done) {
      down_.body_consumed = true;
      co_return;
    }
    char* dst = down_.in.Prepare(kReadChunk);
    auto [rec, got] = down_.sink != nullptr
                          ? co_await down_.sink->ReadBody(asio::buffer(dst, down_.in.writable()))
                          : co_await AsyncReadSome(down_.socket, down_.tls.get(),
                                                   asio::buffer(dst, down_.in.writable()));
    if (!TouchH2BodyWatch() || rec) break;
    down_.in.Commit(got);
  }
  h2_->Cancel();
}

bool UpstreamRequest::TouchH2BodyWatch() {
  if (stream_idle_ == nullptr) return true;
  if (stream_idle_->fired() != StreamIdleTimeout::Fired::kNo) return false;
  stream_idle_->Touch();
  return true;
}

asio::awaitable<void> UpstreamRequest::JoinH2BodyPump() {
  std::shared_ptr<H2BodyPump> pump = h2_pump_;
  if (!pump->done) pump->cancel.emit(asio::cancellation_type::terminal);
  while (!pump->done) {
    pump->joined.expires_at(asio::steady_timer::time_point::max());
    co_await pump->joined.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  h2_pump_.reset();
}

}  // namespace causeway::proxy
