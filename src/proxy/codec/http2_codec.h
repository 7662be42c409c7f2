// HTTP/2 connection codecs over nghttp2: bytes in, events out, bytes out.
//
// nghttp2 does the framing, HPACK, stream states, flow-control accounting and
// the protocol checks (pseudo-headers, connection-specific headers,
// content-length against DATA, SETTINGS/PING/RST floods); this layer turns
// its callbacks into a small event interface, owns what a proxy must bound
// (header list size, queued DATA, pending output) and reports every error as
// an absl::Status instead of asserting. No socket here: the caller feeds
// Receive() with what it read and writes Pending() out, which keeps the codec
// testable in memory (client codec to server codec) and fuzzable.
//
// Received DATA is acknowledged only when the caller says it has passed the
// bytes on (ConsumeData): the window the peer sees is the room the caller
// has, so a slow reader holds back a fast sender instead of growing a buffer.
// Sent DATA is queued per stream and framed only as the peer's windows
// allow; Writable() says how much more the caller should queue.
//
// Not here: server push (disabled), priorities (ignored, as RFC 9113 lets).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proxy/codec/buffer.h"

struct nghttp2_session;

namespace causeway::proxy::http2 {

struct Header {
  std::string name;  // lower case on the wire
  std::string value;
  bool operator==(const Header&) const = default;
};
using HeaderList = std::vector<Header>;

// A request head; the pseudo-headers apart, `headers` holds the rest in
// order (cookie crumbs stay separate, as HTTP/2 allows).
struct RequestHead {
  std::string method;
  std::string scheme;     // empty for CONNECT
  std::string authority;  // :authority (or the Host header of the request)
  std::string path;       // empty for CONNECT (unless extended)
  HeaderList headers;
  // :protocol of an extended CONNECT (RFC 8441), e.g. "websocket"; such a
  // request has :scheme and :path too.
  std::string protocol;
};

struct ResponseHead {
  int status = 0;
  HeaderList headers;
};

// RFC 9113 section 7 error codes the callers name.
inline constexpr uint32_t kNoError = 0x0;
inline constexpr uint32_t kProtocolError = 0x1;
inline constexpr uint32_t kInternalError = 0x2;
inline constexpr uint32_t kRefusedStream = 0x7;
inline constexpr uint32_t kCancel = 0x8;

struct Settings {
  // SETTINGS_MAX_CONCURRENT_STREAMS we announce: streams the peer may open.
  uint32_t max_concurrent_streams = 100;
  // SETTINGS_INITIAL_WINDOW_SIZE we announce: DATA bytes per stream the peer
  // may send before ConsumeData opens the window again.
  uint32_t initial_window_size = 65535;
  // The connection's receive window (the sum over streams).
  uint32_t connection_window_size = 65535;
  // SETTINGS_MAX_HEADER_LIST_SIZE we announce and enforce (RFC 9113 6.5.2:
  // names plus values plus 32 per field). Same bound as HTTP/1 heads.
  uint32_t max_header_list_size = 60 * 1024;
  // SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441): the server accepts
  // extended CONNECT (WebSocket over HTTP/2).
  bool enable_connect_protocol = false;
  // DATA a caller may queue per stream beyond what the peer's window takes.
  size_t max_queued_data = 1024 * 1024;
  // Bytes of output framed ahead of the caller writing them (Pending()).
  size_t max_pending_output = 256 * 1024;
};

// Checks the values nghttp2 and RFC 9113 accept; names the bad one.
absl::Status ValidateSettings(const Settings& settings);

// True for a header HTTP/2 forbids (RFC 9113 8.2.2): connection,
// keep-alive, proxy-connection, transfer-encoding, upgrade, and te with a
// value other than "trailers". Submitting one is an error.
bool IsConnectionSpecific(std::string_view lower_name, std::string_view value);

// What a connection reports. Called from inside Receive() (and Pending(),
// which may close streams); a callback may submit frames but must not call
// Receive() or Pending(). A stream the caller saw a head for (or opened)
// gets at most one OnEndStream; it gets one OnReset if it closes with an
// error code or before the peer ended it.
class Events {
 public:
  virtual ~Events() = default;
  // Server side: a request head passed nghttp2's checks.
  virtual void OnRequestHead(int32_t stream_id, RequestHead head) {}
  // Client side: the final response head (interim 1xx heads are skipped).
  virtual void OnResponseHead(int32_t stream_id, ResponseHead head) {}
  // DATA for a stream; call ConsumeData when the bytes have been passed on.
  virtual void OnData(int32_t stream_id, std::string_view data) {}
  virtual void OnTrailers(int32_t stream_id, HeaderList trailers) {}
  // The peer ended its side (END_STREAM on a head, DATA or trailers).
  virtual void OnEndStream(int32_t stream_id) {}
  // The stream closed with an error: RST_STREAM from the peer, a stream
  // error found in the peer's frames, refused after GOAWAY or over the
  // peer's stream limit, a response head over the header list bound
  // (kInternalError), or SubmitReset.
  virtual void OnReset(int32_t stream_id, uint32_t error_code) {}
  // GOAWAY from the peer: streams above `last_stream_id` were not processed.
  virtual void OnGoaway(int32_t last_stream_id, uint32_t error_code) {}
  // The peer's window for a stream (0: the connection) or its settings grew:
  // Writable() may be larger.
  virtual void OnWindowUpdate(int32_t stream_id) {}
};

// What the server and client codecs share: input, output, DATA, trailers,
// resets, GOAWAY and flow control.
class Codec {
 public:
  virtual ~Codec();
  Codec(const Codec&) = delete;
  Codec& operator=(const Codec&) = delete;

  // Feeds bytes read from the connection. An error (bad preface, a
  // connection-level protocol error, a header list far over the bound) means
  // the connection is over: write what Pending() still holds (a GOAWAY) and
  // close.
  absl::Status Receive(std::string_view bytes);

  // Bytes to write (up to Settings::max_pending_output framed at a time);
  // Consumed(n) after writing n of them.
  std::string_view Pending();
  void Consumed(size_t n);

  // Queues DATA for a stream whose head was submitted without end_stream.
  // Fails if the stream is unknown, already ended, or the queue would exceed
  // Settings::max_queued_data.
  absl::Status SubmitData(int32_t stream_id, std::string_view data, bool end_stream);
  // Ends the stream with trailers after the queued DATA.
  absl::Status SubmitTrailers(int32_t stream_id, const HeaderList& trailers);
  absl::Status SubmitReset(int32_t stream_id, uint32_t error_code);
  // GOAWAY naming the last stream processed; with kNoError after
  // SubmitShutdownNotice, the end of a graceful drain.
  absl::Status SubmitGoaway(uint32_t error_code);
  // A PING; its ACK counts in ping_acks() (a tunnel's liveness check).
  absl::Status SubmitPing();
  uint64_t ping_acks() const { return ping_acks_; }

  // The caller has passed on `n` bytes of a stream's DATA: the window opens.
  // Bytes not given back when a stream closes are returned by the codec.
  void ConsumeData(int32_t stream_id, size_t n);
  // DATA bytes the caller may still queue for a stream before the peer's
  // windows are full (0 when unknown or ended).
  size_t Writable(int32_t stream_id) const;
  // DATA queued for a stream and not yet framed.
  size_t Queued(int32_t stream_id) const;

  // Streams open now (both directions counted once).
  size_t ActiveStreams() const { return streams_.size(); }
  // Nothing more to read or write (after GOAWAY both ways, or an error):
  // write Pending() and close.
  bool WantsClose() const;

 protected:
  struct Stream;
  struct Callbacks;
  Codec(bool server, const Settings& settings, Events* events);
  absl::Status Init();
  Stream* Find(int32_t stream_id) const;
  Stream& Add(int32_t stream_id);

  nghttp2_session* session_ = nullptr;
  Events* events_;
  Settings settings_;

 private:
  // Frames what nghttp2 has queued into out_, up to max_pending_output.
  void Fill();
  absl::Status CheckSendable(int32_t stream_id, Stream*& s) const;
  // Wakes a stream's DATA source that ran dry.
  void Resume(int32_t stream_id, Stream& s);
  // A header list over the bound: 431 for a request head, else RST_STREAM.
  void RefuseTooLarge(int32_t stream_id, Stream& s);

  const bool server_;
  ByteBuffer out_;
  std::unordered_map<int32_t, std::unique_ptr<Stream>> streams_;
  absl::Status error_;         // first connection error
  bool in_callback_ = false;   // inside nghttp2: no mem_send, no recursion
  bool local_goaway_ = false;  // our GOAWAY's error code is not the peer's fault
  std::string last_error_;     // nghttp2's last complaint, for error_
  uint64_t ping_acks_ = 0;     // PING ACKs received
};

class ServerCodec : public Codec {
 public:
  // Announces `settings` (the SETTINGS frame is the first output) and expects
  // the client's connection preface. `events` must outlive the codec.
  static absl::StatusOr<std::unique_ptr<ServerCodec>> Create(const Settings& settings,
                                                             Events* events);
  // A response to a request delivered by OnRequestHead.
  absl::Status SubmitResponse(int32_t stream_id, const ResponseHead& head, bool end_stream);
  // An interim response (1xx but 101, which HTTP/2 has no use for), e.g.
  // 100 before reading a body sent with "expect: 100-continue".
  absl::Status SubmitInterim(int32_t stream_id, const ResponseHead& head);
  // Starts a graceful drain: a GOAWAY with the largest stream id, so the
  // client stops opening streams while those in flight finish; follow with
  // SubmitGoaway(kNoError) after a round trip.
  absl::Status SubmitShutdownNotice();

 private:
  using Codec::Codec;
};

class ClientCodec : public Codec {
 public:
  // Writes the connection preface and `settings` (push disabled). `events`
  // must outlive the codec.
  static absl::StatusOr<std::unique_ptr<ClientCodec>> Create(const Settings& settings,
                                                             Events* events);
  // Opens a stream. Fails with Unavailable when the peer's
  // SETTINGS_MAX_CONCURRENT_STREAMS are in use or the peer sent GOAWAY, and
  // with FailedPrecondition for an extended CONNECT the peer has not
  // enabled.
  absl::StatusOr<int32_t> SubmitRequest(const RequestHead& head, bool end_stream);
  // The peer's SETTINGS_MAX_CONCURRENT_STREAMS (100 until its SETTINGS come).
  uint32_t PeerMaxConcurrentStreams() const;

 private:
  using Codec::Codec;
};

}  // namespace causeway::proxy::http2
