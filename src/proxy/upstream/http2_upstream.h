// HTTP/2 to an upstream: one connection (a socket, or a TLS session over
// it) carries many requests at once, each its own stream.
//
// An Http2Connection owns the client codec (codec/http2_codec.h), a reader
// that feeds it and a writer that sends what it frames. Streams open up to
// the peer's SETTINGS_MAX_CONCURRENT_STREAMS (and the cluster's cap, if
// lower); after a GOAWAY the connection takes no new streams and the ones in
// flight finish; when the connection fails, every stream on it fails.
//
// An Http2UpstreamStream is one request on it as the request path sees it:
// an h2 request head and body payload go in, and the response comes out in
// HTTP/1.1 form (status line and headers; the body with content-length when
// the upstream gave one, else chunked; trailers as chunked trailer fields),
// which the request path parses as it parses an HTTP/1.1 upstream's bytes.
//
// Every wait of a stream is a wait on its handle: a descriptor that never
// becomes ready (an eventfd) wrapped as a tcp::socket. The request path's
// timeouts (Watchdog, StreamIdleTimeout) and an HTTP/2 client's reset
// cancel or close an upstream socket to end what waits on it; given the
// handle, they end a stream's wait the same way without touching the
// connection the other streams share.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>

#include "absl/status/status.h"
#include "proxy/codec/buffer.h"
#include "proxy/codec/http2_codec.h"
#include "proxy/upstream/connection_pool.h"

namespace causeway::proxy {

class Http2UpstreamStream;

// The settings the proxy announces to HTTP/2 upstreams: larger windows than
// RFC 9113's 64 KiB default so a large response (a 4 MiB gRPC message) is not
// one round trip per 64 KiB; a stream's unread response stays below its
// window.
http2::Settings UpstreamHttp2Settings();

class Http2Connection final : public http2::Events,
                              public std::enable_shared_from_this<Http2Connection> {
 public:
  // `cap`: the cluster's max_concurrent_streams (0: the peer's alone).
  Http2Connection(const boost::asio::any_io_executor& ex, std::string key, uint32_t cap);
  ~Http2Connection() override;
  Http2Connection(const Http2Connection&) = delete;
  Http2Connection& operator=(const Http2Connection&) = delete;

  // Connects (with the TLS handshake, if any) and starts reading and
  // writing; waiters of Ready() wake either way.
  boost::asio::awaitable<void> Connect(Endpoint endpoint, std::chrono::milliseconds timeout,
                                       std::shared_ptr<const UpstreamTls> tls);
  // Takes an open connection whose TLS handshake chose h2 (auto clusters).
  void Adopt(std::unique_ptr<UpstreamConnection> transport);
  // Waits until connected or failed; the connect's error, if it failed.
  boost::asio::awaitable<absl::Status> Ready();

  // A stream may be reserved: not failed, no GOAWAY, below the stream limit
  // (streams being opened count).
  bool HasRoom() const;
  // Failed, or after GOAWAY with no stream left: the pool lets it go.
  bool Finished() const;
  void Reserve() { ++reserved_; }
  void Unreserve();
  // Closes the connection (shutdown): its streams fail.
  void Close();
  // Takes no new streams and closes once those in flight ended (drain).
  void Retire();

  const std::string& key() const { return key_; }
  boost::asio::any_io_executor executor() { return write_wake_.get_executor(); }
  // The socket, TLS session and counters; null until connected.
  UpstreamConnection* transport() { return transport_.get(); }
  bool tls() const { return transport_ != nullptr && transport_->tls != nullptr; }
  uint32_t streams_opened() const { return streams_opened_; }

  // For the streams.
  http2::ClientCodec& codec() { return *codec_; }
  absl::StatusOr<int32_t> Open(Http2UpstreamStream* stream, const http2::RequestHead& head,
                               bool end_stream);
  void Forget(int32_t stream_id);
  void Flush() { write_wake_.cancel(); }
  bool failed() const { return failed_; }
  // A tunnel to a laptop (proxy/tunnel): a stream that fails before its
  // response head is answered 503 with `x-causeway-fallback: tunnel-reset`,
  // the signal on which the forwarding proxy sends the request to staging.
  void set_fallback_signal(bool on) { fallback_signal_ = on; }
  bool fallback_signal() const { return fallback_signal_; }
  // With the fallback signal: a stream without its response head this long
  // after it opened is reset and answered 503 with `x-causeway-fallback:
  // tunnel-timeout` (0: no bound).
  void set_head_timeout(std::chrono::milliseconds t) { head_timeout_ = t; }
  std::chrono::milliseconds head_timeout() const { return head_timeout_; }

 private:
  // http2::Events.
  void OnResponseHead(int32_t stream_id, http2::ResponseHead head) override;
  void OnData(int32_t stream_id, std::string_view data) override;
  void OnTrailers(int32_t stream_id, http2::HeaderList trailers) override;
  void OnEndStream(int32_t stream_id) override;
  void OnReset(int32_t stream_id, uint32_t error_code) override;
  void OnGoaway(int32_t last_stream_id, uint32_t error_code) override;
  void OnWindowUpdate(int32_t stream_id) override;

  void Start();
  static boost::asio::awaitable<void> ReadLoop(std::shared_ptr<Http2Connection> self);
  static boost::asio::awaitable<void> WriteLoop(std::shared_ptr<Http2Connection> self);
  // The connection is over: every stream fails.
  void Fail();
  void CloseIfDone();
  Http2UpstreamStream* Find(int32_t stream_id);

  const std::string key_;
  const uint32_t cap_;
  std::unique_ptr<UpstreamConnection> transport_;
  std::unique_ptr<http2::ClientCodec> codec_;
  std::unordered_map<int32_t, Http2UpstreamStream*> streams_;
  boost::asio::steady_timer write_wake_;  // a signal: cancel() wakes the writer
  boost::asio::steady_timer ready_wake_;  // a signal: connected or failed
  absl::Status connect_status_;
  bool connecting_ = true;
  bool failed_ = false;
  bool goaway_ = false;  // the peer sent GOAWAY, or the pool retired it
  bool fallback_signal_ = false;
  std::chrono::milliseconds head_timeout_{0};
  uint32_t reserved_ = 0;
  uint32_t streams_opened_ = 0;
};

}  // namespace causeway::proxy
