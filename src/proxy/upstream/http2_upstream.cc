#include "proxy/upstream/http2_upstream.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "proxy/upstream/http2_upstream_stream.h"

namespace causeway::proxy {
namespace asio = boost::asio;

namespace {

constexpr auto kH2NoThrow = asio::as_tuple(asio::use_awaitable);
constexpr size_t kH2ReadChunk = 16 * 1024;

// A steady_timer that never expires, used as a signal: cancel() wakes every
// coroutine waiting on it. Its expiry is set once, when it is made: setting
// it again would cancel the other waiters, and waiters that each set it on
// every wait wake one another in a loop.
asio::awaitable<void> AwaitH2Signal(asio::steady_timer& signal) {
  co_await signal.async_wait(kH2NoThrow);
}

}  // namespace

http2::Settings UpstreamHttp2Settings() {
  http2::Settings settings;
  settings.initial_window_size = 256 * 1024;
  settings.connection_window_size = 4 * 1024 * 1024;
  return settings;
}

Http2Connection::Http2Connection(const asio::any_io_executor& ex, std::string key, uint32_t cap)
    : key_(std::move(key)),
      cap_(cap),
      write_wake_(ex, asio::steady_timer::time_point::max()),
      ready_wake_(ex, asio::steady_timer::time_point::max()) {
  auto codec = http2::ClientCodec::Create(UpstreamHttp2Settings(), this);
  if (codec.ok()) {
    codec_ = *std::move(codec);
  } else {
    connect_status_ = codec.status();
    connecting_ = false;
    failed_ = true;
  }
}

Http2Connection::~Http2Connection() = default;

bool Http2Connection::HasRoom() const {
  if (failed_ || goaway_ || codec_ == nullptr) return false;
  uint32_t limit = codec_->PeerMaxConcurrentStreams();
  if (cap_ > 0 && cap_ < limit) limit = cap_;
  return reserved_ < limit;
}

bool Http2Connection::Finished() const {
  return failed_ || (goaway_ && reserved_ == 0 && streams_.empty());
}

asio::awaitable<void> Http2Connection::Connect(Endpoint endpoint, std::chrono::milliseconds timeout,
                                               std::shared_ptr<const UpstreamTls> tls) {
  auto self = shared_from_this();  // the pool may let go meanwhile
  auto connected = co_await proxy::Connect(endpoint, timeout, std::move(tls));
  connecting_ = false;
  if (!connected.ok()) {
    connect_status_ = connected.status();
    failed_ = true;
  } else if (!failed_) {
    transport_ = *std::move(connected);
    Start();
  }
  ready_wake_.cancel();
}

void Http2Connection::Adopt(std::unique_ptr<UpstreamConnection> transport) {
  connecting_ = false;
  transport_ = std::move(transport);
  if (!failed_) Start();
}

asio::awaitable<absl::Status> Http2Connection::Ready() {
  auto self = shared_from_this();
  while (connecting_) co_await AwaitH2Signal(ready_wake_);
  if (!connect_status_.ok()) co_return connect_status_;
  if (failed_) co_return absl::UnavailableError("upstream HTTP/2 connection failed");
  co_return absl::OkStatus();
}

void Http2Connection::Start() {
  asio::co_spawn(write_wake_.get_executor(), WriteLoop(shared_from_this()), asio::detached);
  asio::co_spawn(write_wake_.get_executor(), ReadLoop(shared_from_this()), asio::detached);
}

void Http2Connection::Close() {
  if (transport_ != nullptr) {
    boost::system::error_code ec;
    transport_->socket.close(ec);
  }
  Fail();
}

void Http2Connection::Retire() {
  goaway_ = true;
  CloseIfDone();
}

void Http2Connection::Fail() {
  if (failed_ && streams_.empty()) return;
  failed_ = true;
  // A stream's OnReset may end it and make it Forget itself: iterate a copy.
  auto streams = streams_;
  for (auto& [id, stream] : streams) stream->OnReset(http2::kInternalError);
  Flush();
  ready_wake_.cancel();
}

asio::awaitable<void> Http2Connection::ReadLoop(std::shared_ptr<Http2Connection> self) {
  ByteBuffer in;
  UpstreamConnection& t = *self->transport_;
  while (!self->failed_) {
    char* dst = in.Prepare(kH2ReadChunk);
    auto [ec, got] =
        t.tls != nullptr
            ? co_await t.tls->async_read_some(asio::buffer(dst, in.writable()), kH2NoThrow)
            : co_await t.socket.async_read_some(asio::buffer(dst, in.writable()), kH2NoThrow);
    if (ec) break;
    in.Commit(got);
    absl::Status status = self->codec_->Receive(in.View());
    in.Clear();
    self->Flush();
    if (!status.ok() || self->codec_->WantsClose()) break;
  }
  self->Fail();
  boost::system::error_code ignored;
  t.socket.close(ignored);
}

asio::awaitable<void> Http2Connection::WriteLoop(std::shared_ptr<Http2Connection> self) {
  std::string chunk;
  UpstreamConnection& t = *self->transport_;
  while (true) {
    std::string_view pending = self->codec_->Pending();
    if (!pending.empty()) {
      // Copied out: streams may submit while this write is in flight.
      chunk.assign(pending);
      self->codec_->Consumed(pending.size());
      // Queued DATA became frames: streams waiting for room may go on.
      for (auto& [id, stream] : self->streams_) stream->Wake();
      auto [ec, n] = t.tls != nullptr
                         ? co_await asio::async_write(*t.tls, asio::buffer(chunk), kH2NoThrow)
                         : co_await asio::async_write(t.socket, asio::buffer(chunk), kH2NoThrow);
      if (ec) {
        boost::system::error_code ignored;
        t.socket.close(ignored);  // the reader ends and fails the streams
        break;
      }
      continue;
    }
    if (self->failed_) break;
    co_await AwaitH2Signal(self->write_wake_);
  }
}

absl::StatusOr<int32_t> Http2Connection::Open(Http2UpstreamStream* stream,
                                              const http2::RequestHead& head, bool end_stream) {
  if (failed_ || codec_ == nullptr) return absl::UnavailableError("connection failed");
  absl::StatusOr<int32_t> id = codec_->SubmitRequest(head, end_stream);
  if (!id.ok()) return id.status();
  streams_[*id] = stream;
  ++streams_opened_;
  Flush();
  return id;
}

void Http2Connection::Forget(int32_t stream_id) {
  streams_.erase(stream_id);
  Flush();
  CloseIfDone();
}

void Http2Connection::Unreserve() {
  --reserved_;
  CloseIfDone();
}

// After GOAWAY, the last stream's end ends the connection.
void Http2Connection::CloseIfDone() {
  if (goaway_ && !failed_ && reserved_ == 0 && streams_.empty()) Close();
}

Http2UpstreamStream* Http2Connection::Find(int32_t stream_id) {
  auto it = streams_.find(stream_id);
  return it == streams_.end() ? nullptr : it->second;
}

void Http2Connection::OnResponseHead(int32_t stream_id, http2::ResponseHead head) {
  if (Http2UpstreamStream* s = Find(stream_id)) s->OnHead(std::move(head));
}

void Http2Connection::OnData(int32_t stream_id, std::string_view data) {
  if (Http2UpstreamStream* s = Find(stream_id)) {
    s->OnData(data);
  } else {
    codec_->ConsumeData(stream_id, data.size());  // nobody reads it
  }
}

void Http2Connection::OnTrailers(int32_t stream_id, http2::HeaderList trailers) {
  if (Http2UpstreamStream* s = Find(stream_id)) s->OnTrailers(std::move(trailers));
}

void Http2Connection::OnEndStream(int32_t stream_id) {
  if (Http2UpstreamStream* s = Find(stream_id)) s->OnEnd();
}

void Http2Connection::OnReset(int32_t stream_id, uint32_t error_code) {
  if (Http2UpstreamStream* s = Find(stream_id)) s->OnReset(error_code);
}

void Http2Connection::OnGoaway(int32_t, uint32_t) {
  // Streams above the last one the peer processed are reset by the codec;
  // the rest finish.
  goaway_ = true;
  CloseIfDone();
}

void Http2Connection::OnWindowUpdate(int32_t stream_id) {
  if (stream_id == 0) {
    for (auto& [id, stream] : streams_) stream->Wake();
  } else if (Http2UpstreamStream* s = Find(stream_id)) {
    s->Wake();
  }
}

}  // namespace causeway::proxy
