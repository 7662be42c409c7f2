#include "proxy/server/h2_session.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <string>

#include "proxy/server/h2_stream.h"
#include "proxy/server/transport_io.h"

namespace causeway::proxy {
namespace asio = boost::asio;

namespace {

// A steady_timer that never expires, used as a signal: cancel() wakes the
// one coroutine waiting on it.
asio::awaitable<void> AwaitSignal(asio::steady_timer& signal) {
  signal.expires_at(asio::steady_timer::time_point::max());
  co_await signal.async_wait(asio::as_tuple(asio::use_awaitable));
}

}  // namespace

Http2Session::Http2Session(Worker& worker, std::shared_ptr<ListenerState> listener,
                           Downstream& down)
    : worker_(worker),
      listener_(std::move(listener)),
      down_(down),
      write_wake_(worker.io_context()),
      done_wake_(worker.io_context()) {}

Http2Session::~Http2Session() = default;

bool Http2Session::Draining() const { return worker_.draining() || listener_->draining; }

void Http2Session::OnDrain() {
  if (codec_ == nullptr || drain_sent_) return;
  drain_sent_ = true;
  (void)codec_->SubmitShutdownNotice();
  Flush();
  // Without streams in flight the read is all that keeps the connection.
  boost::system::error_code ec;
  if (streams_.empty()) down_.socket.cancel(ec);
}

asio::awaitable<void> Http2Session::Run() {
  http2::Settings settings;
  // WebSocket over HTTP/2 (RFC 8441): extended CONNECT, carried by the
  // stream as an HTTP/1.1 upgrade (h2_stream_tunnel.cc).
  settings.enable_connect_protocol = true;
  auto created = http2::ServerCodec::Create(settings, this);
  if (!created.ok()) co_return;
  codec_ = *std::move(created);
  writer_running_ = true;
  asio::co_spawn(worker_.io_context(), WriteLoop(), asio::detached);
  co_await ReadLoop();
  // The connection ends: streams still in flight are cancelled, and their
  // upstream connections closed.
  reading_ = false;
  for (auto& [id, stream] : streams_) stream->OnReset();
  while (!streams_.empty()) co_await AwaitSignal(done_wake_);
  if (!codec_->WantsClose()) (void)codec_->SubmitGoaway(http2::kNoError);
  Flush();
  // A client that stops reading cannot hold the connection open: the last
  // writes get the idle timeout, then the socket closes under them.
  down_.watchdog.Arm(listener_->config.idle_timeout, &down_.socket);
  while (writer_running_) co_await AwaitSignal(done_wake_);
  down_.watchdog.Disarm();
}

asio::awaitable<void> Http2Session::ReadLoop() {
  ByteBuffer& in = down_.in;
  while (true) {
    if (!in.empty()) {
      absl::Status status = codec_->Receive(in.View());
      in.Clear();
      StartStreams();
      Flush();
      if (!status.ok()) co_return;
    }
    if (codec_->WantsClose() || write_failed_) co_return;
    if (Draining()) {
      OnDrain();
      if (streams_.empty()) co_return;
    }
    // A connection without streams for the idle timeout is closed (GOAWAY);
    // the last stream to end arms the same wait (ServeStream).
    if (streams_.empty()) {
      down_.watchdog.Arm(listener_->config.idle_timeout, &down_.socket,
                         Watchdog::OnExpiry::kCancel);
    }
    char* dst = in.Prepare(kReadChunk);
    auto [ec, got] =
        co_await AsyncReadSome(down_.socket, down_.tls.get(), asio::buffer(dst, in.writable()));
    if (ec) {
      const bool idle = down_.watchdog.fired();
      down_.watchdog.Disarm();
      // Cancelled to notice a drain, or a stream ending during one.
      if (!idle && ec == asio::error::operation_aborted && Draining()) continue;
      co_return;
    }
    down_.watchdog.Disarm();
    in.Commit(got);
  }
}

asio::awaitable<void> Http2Session::WriteLoop() {
  std::string chunk;
  while (true) {
    std::string_view pending = codec_->Pending();
    if (!pending.empty()) {
      // Copied out: streams may submit (and the codec frame more) while
      // this write is in flight.
      chunk.assign(pending);
      codec_->Consumed(pending.size());
      // Queued DATA became frames: streams waiting on it may go on.
      WakeAllStreams();
      if (write_failed_) continue;
      auto [ec, n] = co_await AsyncWrite(down_.socket, down_.tls.get(), asio::buffer(chunk));
      if (ec) {
        write_failed_ = true;
        boost::system::error_code ignored;
        down_.socket.cancel(ignored);  // the reader ends too
      }
      continue;
    }
    if (!reading_ && streams_.empty()) break;
    co_await AwaitSignal(write_wake_);
  }
  writer_running_ = false;
  done_wake_.cancel();
}

void Http2Session::WakeAllStreams() {
  for (auto& [id, stream] : streams_) stream->Wake();
}

Http2Stream* Http2Session::Find(int32_t stream_id) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end() || it->second->finished()) return nullptr;
  return it->second.get();
}

void Http2Session::StartStreams() {
  std::vector<Http2Stream*> starting;
  starting.swap(starting_);
  for (Http2Stream* stream : starting) {
    asio::co_spawn(worker_.io_context(), ServeStream(this, stream), asio::detached);
  }
}

asio::awaitable<void> Http2Session::ServeStream(Http2Session* self, Http2Stream* stream) {
  co_await Http2Stream::Serve(stream);
  for (auto it = self->streams_.begin(); it != self->streams_.end(); ++it) {
    if (it->second.get() == stream) {
      self->streams_.erase(it);
      break;
    }
  }
  self->done_wake_.cancel();
  self->Flush();
  if (self->streams_.empty() && self->reading_) {
    boost::system::error_code ec;
    if (self->Draining()) {
      self->down_.socket.cancel(ec);  // the reader ends the connection
    } else {
      self->down_.watchdog.Arm(self->listener_->config.idle_timeout, &self->down_.socket,
                               Watchdog::OnExpiry::kCancel);
    }
  }
}

void Http2Session::OnRequestHead(int32_t stream_id, http2::RequestHead head) {
  auto stream = std::make_unique<Http2Stream>(*this, stream_id, std::move(head));
  starting_.push_back(stream.get());
  streams_[stream_id] = std::move(stream);
}

void Http2Session::OnData(int32_t stream_id, std::string_view data) {
  if (Http2Stream* s = Find(stream_id)) {
    s->OnData(data);
  } else {
    codec_->ConsumeData(stream_id, data.size());  // nobody reads it
  }
}

void Http2Session::OnEndStream(int32_t stream_id) {
  if (Http2Stream* s = Find(stream_id)) s->OnEnd();
}

void Http2Session::OnReset(int32_t stream_id, uint32_t) {
  if (Http2Stream* s = Find(stream_id)) s->OnReset();
}

void Http2Session::OnWindowUpdate(int32_t stream_id) {
  if (stream_id == 0) {
    WakeAllStreams();
  } else if (Http2Stream* s = Find(stream_id)) {
    s->Wake();
  }
}

}  // namespace causeway::proxy
