// One request on an HTTP/2 upstream connection (http2_upstream.h says how
// streams and their handles work).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include "absl/status/status.h"
#include "proxy/codec/buffer.h"
#include "proxy/codec/http2_codec.h"
#include "proxy/upstream/http2_upstream.h"

namespace causeway::proxy {

class Http2UpstreamStream {
 public:
  using IoResult = std::tuple<boost::system::error_code, std::size_t>;

  // Takes one of the connection's reserved stream slots (Reserve()).
  explicit Http2UpstreamStream(std::shared_ptr<Http2Connection> conn);
  // A stream not ended both ways is reset with CANCEL.
  ~Http2UpstreamStream();
  Http2UpstreamStream(const Http2UpstreamStream&) = delete;
  Http2UpstreamStream& operator=(const Http2UpstreamStream&) = delete;

  // What the request path's timeouts and a client's reset cancel or close.
  boost::asio::ip::tcp::socket& handle() { return handle_; }
  // The response bytes the request path has read and not yet used (as an
  // HTTP/1.1 connection's buffer).
  ByteBuffer& buffer() { return buffer_; }
  Http2Connection& connection() { return *conn_; }

  // Opens the stream. `head_request`: the response has no body whatever its
  // head says. Unavailable when the connection cannot take it after all.
  absl::Status Open(const http2::RequestHead& head, bool end_stream, bool head_request);
  // Request body payload, queued as the peer's windows allow; `end` ends the
  // request. An error when the stream or connection failed or the handle
  // was cancelled or closed.
  boost::asio::awaitable<IoResult> WriteBody(std::string_view payload, bool end);
  // Response bytes in HTTP/1.1 form, as a socket's read_some gives them:
  // eof after the last, an error once the stream was reset or the handle
  // cancelled or closed.
  boost::asio::awaitable<IoResult> ReadSome(boost::asio::mutable_buffer out);
  // The request path gives up on the stream: RST_STREAM(CANCEL).
  void Cancel();

  // From the connection's frames.
  void OnHead(http2::ResponseHead head);
  void OnData(std::string_view data);
  void OnTrailers(http2::HeaderList trailers);
  void OnEnd();
  void OnReset(uint32_t error_code);
  void Wake();

 private:
  // Waits on the handle; false if something other than Wake() ended the wait.
  boost::asio::awaitable<bool> Wait();
  // Moves what the frames delivered into HTTP/1.1 form in out_.
  void Serialize();
  void SerializeHead();
  void SerializeEnd();
  bool EndGrpcUnavailable();
  bool EndTunnelReset();
  bool EndTunnelTimeout();
  void ArmHeadTimer();

  std::shared_ptr<Http2Connection> conn_;
  boost::asio::ip::tcp::socket handle_;
  ByteBuffer buffer_;
  int32_t id_ = 0;
  bool head_request_ = false;
  bool sent_end_ = false;  // our END_STREAM is queued
  // The response as the frames gave it, until Serialize.
  std::optional<http2::ResponseHead> head_;
  std::string data_;
  std::optional<http2::HeaderList> trailers_;
  bool ended_ = false;  // the peer ended the stream
  bool reset_ = false;  // the stream or its connection failed
  // A tunnel's bound on the wait for the response head (http2_upstream.h).
  std::unique_ptr<boost::asio::steady_timer> head_timer_;
  bool head_timed_out_ = false;
  // Serialized state.
  std::string out_;  // HTTP/1.1 bytes, read up to out_pos_
  size_t out_pos_ = 0;
  bool head_out_ = false;
  bool chunked_ = false;
  bool no_body_ = false;
  bool end_out_ = false;  // the body's end is in out_
  // Trailers-only gRPC answer: grpc-status and grpc-message go as trailers.
  http2::HeaderList deferred_trailers_;
  size_t unacked_ = 0;  // DATA bytes received and not yet given back
  uint64_t wakes_ = 0;  // Wake() calls, so a wait knows what ended it
};

}  // namespace causeway::proxy
