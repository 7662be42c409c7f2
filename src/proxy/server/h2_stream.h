// One HTTP/2 stream of an Http2Session (h2_session.h) carried as one
// request on the request path: its head is rewritten as an HTTP/1.1 head,
// the router stage decides, upstream requests (the HTTP/1.1 upstream and
// its pool) carry its attempts under a retry state, and the response comes
// back through this stream's StreamSink as HEADERS and DATA frames.
//
// The request body goes upstream as it arrives: with the client's
// content-length, or its length when END_STREAM came with the head's read,
// else chunked. The client's window opens only as the body is handed to the
// upstream, and the upstream is read only while the client's window takes
// what was read: a slow side holds back the other instead of a buffer
// growing. A chunked response's trailer fields end the stream as trailers.
//
// A gRPC request's deadline caps the route timeout and its local replies
// are trailers-only gRPC statuses (grpc_status.h). An extended CONNECT for
// WebSocket (RFC 8441) goes upstream as an HTTP/1.1 upgrade and, after the
// 101, the stream carries the upgraded bytes (h2_stream_tunnel.cc).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/time_source.h"
#include "proxy/codec/http2_codec.h"
#include "proxy/server/message_builder.h"
#include "proxy/server/retry_state.h"
#include "proxy/server/router_stage.h"
#include "proxy/server/stream.h"
#include "proxy/server/stream_sink.h"
#include "proxy/server/transport_io.h"
#include "proxy/server/upstream_request.h"

namespace causeway::proxy {

class Http2Session;
class UpstreamRequest;

// Strips HTTP/1.1 chunked framing from a body whose framing the upstream
// framer (http1::BodyFramer) has already checked: the bytes an HTTP/2 DATA
// frame carries. The trailer section is kept for a trailers HEADERS frame
// (an HTTP/2 upstream's trailers, e.g. grpc-status, arrive this way).
class ChunkedBodyDecoder {
 public:
  // Appends the payload in `framed` to `out`.
  void Decode(std::string_view framed, std::string* out);
  // The last chunk and the trailer section have been seen.
  bool done() const { return state_ == State::kDone; }
  // The trailer fields, lower-cased, connection-specific ones dropped; empty
  // until done() or when the upstream sent none.
  http2::HeaderList Trailers() const;

 private:
  enum class State { kSize, kLineEnd, kData, kDataEnd, kTrailers, kDone };
  State state_ = State::kSize;
  uint64_t size_ = 0;
  int skip_ = 0;          // CR LF after a chunk's data
  std::string trailers_;  // the trailer section through its empty line
};

class Http2Stream final : public StreamSink {
 public:
  Http2Stream(Http2Session& session, int32_t id, http2::RequestHead head);
  ~Http2Stream() override;
  Http2Stream(const Http2Stream&) = delete;
  Http2Stream& operator=(const Http2Stream&) = delete;

  // Serves the request to its end; the session frees the stream afterwards.
  static boost::asio::awaitable<void> Serve(Http2Stream* self);

  // From the connection's frames.
  void OnData(std::string_view data);
  void OnEnd();
  void OnReset();
  void Wake() {
    wake_.cancel();
    tunnel_wake_.cancel();
  }
  bool finished() const { return finished_; }

  // StreamSink.
  boost::asio::awaitable<IoResult> ReadBody(boost::asio::mutable_buffer buffer) override;
  boost::asio::awaitable<IoResult> WriteHead(std::string_view http1_head, std::string_view body,
                                             bool end) override;
  boost::asio::awaitable<IoResult> WriteBody(std::string_view body, bool end) override;
  void SetUpstream(boost::asio::ip::tcp::socket* socket) override { upstream_ = socket; }

 private:
  // The HTTP/1.1 head the request path reads (down_.head, down_.req).
  bool BuildHead();
  void AppendWebSocketUpgrade(std::string* head);
  absl::Status ReadGrpcFields();
  // A local reply to a gRPC request: trailers-only (grpc_status.h).
  void GrpcLocalReply(int status, std::string_view message, Mutations mutations);
  // After a 101 to an extended CONNECT: 200 on the stream, then its DATA
  // and the upstream connection's bytes both ways (h2_stream_tunnel.cc).
  boost::asio::awaitable<void> TunnelWebSocket(UpstreamRequest& attempt);
  boost::asio::awaitable<void> TunnelToClient(Transport upstream, ByteBuffer& pending);
  boost::asio::awaitable<void> TunnelToUpstream(Transport upstream);
  void ArmTunnelIdle(boost::asio::ip::tcp::socket* upstream);
  void TouchTunnel();
  // Waits for Wake(); false once the stream idle timeout passed since the
  // last progress (a client that stops sending its body or reading).
  boost::asio::awaitable<bool> WaitForWake();
  boost::asio::awaitable<void> Forward(const RouteDecision& decision);
  // The upstream request head for `decision` (into down_.up_out) and how
  // the body goes with it.
  UpstreamRequest::Body PrepareUpstream(const RouteDecision& decision);
  // Waits, for a key-routed request, until the client has sent its whole
  // body, kInterceptBodyBuffer bytes of it, or kInterceptBodyWait has
  // passed, so that a fallback to staging can send it again
  // (intercept_fallback.h).
  boost::asio::awaitable<void> BufferBodyForFallback();
  boost::asio::awaitable<bool> BackOff(RetryState& retry);
  boost::asio::awaitable<void> LocalReply(int status, std::string_view body, std::string_view flags,
                                          Mutations mutations = {});
  RouteDecision Decide();
  void Log();
  // After the request: a response not ended is reset.
  void Finish();

  Http2Session& session_;
  const int32_t id_;
  http2::RequestHead h2_head_;
  Downstream down_;
  StreamInfo info_;
  ByteBuffer body_;       // request body received, in the framing of down_.req
  size_t unacked_ = 0;    // DATA bytes received and not yet given back
  bool chunked_ = false;  // the body goes upstream chunked
  bool remote_ended_ = false;
  bool reset_ = false;     // by the client, or the connection ended
  bool ended_ = false;     // our END_STREAM is queued
  bool finished_ = false;  // Serve returned
  bool decode_chunks_ = false;
  ChunkedBodyDecoder decoder_;
  std::string decoded_;
  boost::asio::steady_timer wake_;     // a signal, never expires
  std::unique_ptr<Timer> idle_timer_;  // made by the first wait
  int waiters_ = 0;                    // coroutines in WaitForWake
  std::chrono::steady_clock::time_point last_progress_;
  bool idle_fired_ = false;
  boost::asio::ip::tcp::socket* upstream_ = nullptr;
  // gRPC (grpc_status.h): content-type application/grpc*, and the caller's
  // deadline from grpc-timeout.
  bool grpc_ = false;
  std::optional<std::chrono::milliseconds> grpc_timeout_;
  // WebSocket over HTTP/2 (RFC 8441), tunnelled once the upstream says 101.
  bool websocket_ = false;
  boost::asio::steady_timer tunnel_wake_;  // the client-to-upstream pump's signal
  bool tunnel_over_ = false;               // the upstream side failed or timed out
  std::unique_ptr<Timer> tunnel_idle_;
  std::chrono::steady_clock::time_point tunnel_last_;
  bool tunnel_idle_fired_ = false;
};

}  // namespace causeway::proxy
