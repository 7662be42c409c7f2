// WebSocket over HTTP/2 (RFC 8441) on an Http2Stream: the extended CONNECT
// went upstream as an HTTP/1.1 upgrade (h2_stream.cc, BuildHead); once the
// upstream answers 101 the stream answers 200 and carries the upgraded
// connection's bytes as DATA both ways. The HTTP/1.1 tunnel (tunnel.h)
// pumps between two sockets; here one side is a stream with windows, so
// the upstream is read only when the client's window took the last read,
// and the client's window opens only once its bytes were written upstream.
// END_STREAM and the upstream's half-close pass each other on; a reset
// closes the upstream connection, and an upstream that fails resets the
// stream. Neither side carrying a byte for the stream idle timeout ends
// both.
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "proxy/codec/http2_headers.h"
#include "proxy/server/h2_session.h"
#include "proxy/server/h2_stream.h"
#include "proxy/server/upstream_request.h"

namespace causeway::proxy {
namespace asio = boost::asio;

namespace {

asio::awaitable<void> AwaitTunnelSignal(asio::steady_timer& signal) {
  co_await signal.async_wait(asio::as_tuple(asio::use_awaitable));
}

// The 101's fields that mean something to an HTTP/2 client: the
// handshake's own (upgrade, connection, sec-websocket-accept) stay behind.
http2::HeaderList TunnelResponseFields(const http1::ResponseHead& resp) {
  http2::HeaderList fields = http2::FromHttp1Response(resp).headers;
  std::erase_if(fields, [](const http2::Header& f) { return f.name == "sec-websocket-accept"; });
  return fields;
}

}  // namespace

asio::awaitable<void> Http2Stream::TunnelWebSocket(UpstreamRequest& attempt) {
  down_.watchdog.Disarm();  // the route timeout covered the head only
  UpstreamConnection* conn = attempt.upgraded_connection();
  info_.status = 200;  // what the client was answered
  if (conn == nullptr || reset_ ||
      !session_.codec()
           .SubmitResponse(id_, {200, TunnelResponseFields(down_.resp)}, /*end_stream=*/false)
           .ok()) {
    info_.flags = reset_ ? "DC" : "UPE";
    Log();
    co_return;
  }
  session_.Flush();
  conn->buffer.Consume(attempt.response_head_size());
  const Transport upstream{&conn->socket, conn->tls.get()};
  TouchTunnel();
  ArmTunnelIdle(&conn->socket);
  using asio::experimental::awaitable_operators::operator&&;
  co_await (TunnelToClient(upstream, conn->buffer) && TunnelToUpstream(upstream));
  if (tunnel_idle_ != nullptr) tunnel_idle_->Cancel();
  if (tunnel_idle_fired_) {
    Count(session_.worker().shared().counters.downstream_rq_idle_timeout);
    info_.flags = "SI";
    info_.details = "stream_idle_timeout";
  } else if (reset_) {
    info_.flags = "DC";
  } else if (tunnel_over_) {
    info_.flags = "UR";
  }
  Log();
}

// The listener's stream idle timeout over both directions: once no byte
// moved for it, the upstream connection closes and both pumps end.
void Http2Stream::ArmTunnelIdle(asio::ip::tcp::socket* upstream) {
  const std::chrono::milliseconds idle =
      info_.listener != nullptr ? info_.listener->idle_timeout : std::chrono::milliseconds(0);
  if (idle.count() <= 0) return;
  if (tunnel_idle_ == nullptr)
    tunnel_idle_ = down_.time.CreateTimer(session_.worker().io_context());
  tunnel_idle_->Schedule(tunnel_last_ + idle, [this, upstream, idle] {
    if (down_.time.Monotonic() < tunnel_last_ + idle) {
      ArmTunnelIdle(upstream);  // bytes moved meanwhile
      return;
    }
    tunnel_idle_fired_ = true;
    tunnel_over_ = true;
    boost::system::error_code ec;
    upstream->close(ec);
    Wake();
  });
}

void Http2Stream::TouchTunnel() { tunnel_last_ = down_.time.Monotonic(); }

asio::awaitable<void> Http2Stream::TunnelToClient(Transport upstream, ByteBuffer& pending) {
  http2::ServerCodec& codec = session_.codec();
  std::array<char, 16 * 1024> buf;
  std::string_view chunk = pending.View();  // what came after the 101 goes first
  while (true) {
    if (!chunk.empty()) {
      if (!codec.SubmitData(id_, chunk, false).ok()) break;
      info_.bytes_sent += chunk.size();
      pending.Clear();
      session_.Flush();
    }
    // The next read waits until the client's window took this one.
    while (!reset_ && !tunnel_over_ && codec.Queued(id_) > 0) co_await AwaitTunnelSignal(wake_);
    if (reset_ || tunnel_over_) co_return;
    auto [ec, n] = co_await AsyncReadSome(*upstream.socket, upstream.tls, asio::buffer(buf));
    if (reset_) co_return;
    if (ec) {
      if (ec == asio::error::eof && !tunnel_over_) {
        // The upstream's half-close is the stream's END_STREAM.
        if (codec.SubmitData(id_, "", true).ok()) ended_ = true;
        session_.Flush();
        co_return;
      }
      break;
    }
    TouchTunnel();
    chunk = std::string_view(buf.data(), n);
  }
  // The upstream failed: the client learns by a reset, the other pump ends.
  tunnel_over_ = true;
  if (!reset_ && codec.SubmitReset(id_, http2::kCancel).ok()) ended_ = true;
  session_.Flush();
  Wake();
}

asio::awaitable<void> Http2Stream::TunnelToUpstream(Transport upstream) {
  std::string chunk;
  while (true) {
    while (body_.empty() && !remote_ended_ && !reset_ && !tunnel_over_) {
      co_await AwaitTunnelSignal(tunnel_wake_);
    }
    if (reset_ || tunnel_over_) co_return;
    if (body_.empty()) break;  // the client ended its side
    // Copied out: more DATA may arrive while the write is in flight.
    chunk.assign(body_.View());
    body_.Clear();
    auto [ec, n] = co_await AsyncWrite(*upstream.socket, upstream.tls, asio::buffer(chunk));
    if (ec) {
      // The read of the other pump ends with the connection.
      tunnel_over_ = true;
      boost::system::error_code ignored;
      upstream.socket->close(ignored);
      Wake();
      co_return;
    }
    TouchTunnel();
    info_.bytes_received += chunk.size();
    // Written upstream: the client may send as much again.
    const size_t consumed = std::min(unacked_, chunk.size());
    session_.codec().ConsumeData(id_, consumed);
    unacked_ -= consumed;
    session_.Flush();
  }
  // END_STREAM from the client is the upstream's half-close.
  boost::system::error_code ignored;
  upstream.socket->shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

}  // namespace causeway::proxy
