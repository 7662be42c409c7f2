// One downstream HTTP/2 connection (h2c with prior knowledge, or h2 chosen
// by ALPN over TLS): the server codec (codec/http2_codec.h) over the
// connection's socket or TLS stream. A reader feeds the codec, a writer
// sends what it frames, and each request stream is its own coroutine on the
// worker (h2_stream.h), so many requests share the connection at once, up
// to the codec's 100 concurrent streams. The connection ends with a GOAWAY
// when the server drains or it stays without streams for the idle timeout.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <unordered_map>
#include <vector>

#include "proxy/codec/http2_codec.h"
#include "proxy/server/stream.h"
#include "proxy/server/worker.h"

namespace causeway::proxy {

class Http2Stream;

// The HTTP/2 client connection preface (RFC 9113 3.4).
inline constexpr std::string_view kHttp2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

class Http2Session final : public http2::Events {
 public:
  // `down` is the connection (its socket, TLS session and the bytes already
  // read, which begin with the preface); it outlives the session.
  Http2Session(Worker& worker, std::shared_ptr<ListenerState> listener, Downstream& down);
  ~Http2Session() override;
  Http2Session(const Http2Session&) = delete;
  Http2Session& operator=(const Http2Session&) = delete;

  // Serves the connection until it ends; the caller closes the socket.
  boost::asio::awaitable<void> Run();
  // The server drains: GOAWAY, the streams in flight finish, then close.
  void OnDrain();

  // For the streams.
  http2::ServerCodec& codec() { return *codec_; }
  Worker& worker() { return worker_; }
  ListenerState& listener() { return *listener_; }
  Downstream& connection() { return down_; }
  // Wakes the writer: frames were submitted.
  void Flush() { write_wake_.cancel(); }

 private:
  // http2::Events.
  void OnRequestHead(int32_t stream_id, http2::RequestHead head) override;
  void OnData(int32_t stream_id, std::string_view data) override;
  void OnEndStream(int32_t stream_id) override;
  void OnReset(int32_t stream_id, uint32_t error_code) override;
  void OnWindowUpdate(int32_t stream_id) override;

  Http2Stream* Find(int32_t stream_id);
  boost::asio::awaitable<void> WriteLoop();
  // Reads and feeds the codec until the connection should end.
  boost::asio::awaitable<void> ReadLoop();
  // Starts the streams whose heads the last read delivered.
  void StartStreams();
  static boost::asio::awaitable<void> ServeStream(Http2Session* self, Http2Stream* stream);
  bool Draining() const;
  void WakeAllStreams();

  Worker& worker_;
  std::shared_ptr<ListenerState> listener_;
  Downstream& down_;
  std::unique_ptr<http2::ServerCodec> codec_;
  std::unordered_map<int32_t, std::unique_ptr<Http2Stream>> streams_;
  std::vector<Http2Stream*> starting_;
  boost::asio::steady_timer write_wake_;
  boost::asio::steady_timer done_wake_;  // a stream or the writer ended
  bool reading_ = true;
  bool writer_running_ = false;
  bool write_failed_ = false;
  bool drain_sent_ = false;
};

}  // namespace causeway::proxy
