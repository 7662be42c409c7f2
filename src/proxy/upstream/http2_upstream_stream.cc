#include "proxy/upstream/http2_upstream_stream.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace causeway::proxy {
namespace asio = boost::asio;

namespace {

bool IsGrpcH2Answer(const http2::HeaderList& headers) {
  for (const http2::Header& h : headers) {
    if (h.name == "content-type") return h.value.starts_with("application/grpc");
  }
  return false;
}

void AppendH2Field(std::string& out, const http2::Header& h) {
  absl::StrAppend(&out, h.name, ": ", h.value, "\r\n");
}

}  // namespace

Http2UpstreamStream::Http2UpstreamStream(std::shared_ptr<Http2Connection> conn)
    : conn_(std::move(conn)), handle_(conn_->executor()) {
  conn_->Reserve();
  // A descriptor that never becomes readable: waits on it end only when
  // cancelled or closed.
  const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return;  // no handle: every wait fails, and so the request
  boost::system::error_code ec;
  handle_.assign(asio::ip::tcp::v4(), fd, ec);
  if (ec) ::close(fd);
}

Http2UpstreamStream::~Http2UpstreamStream() {
  if (id_ != 0) {
    if (!reset_ && !(ended_ && sent_end_)) (void)conn_->codec().SubmitReset(id_, http2::kCancel);
    conn_->Forget(id_);
  }
  conn_->Unreserve();
}

absl::Status Http2UpstreamStream::Open(const http2::RequestHead& head, bool end_stream,
                                       bool head_request) {
  head_request_ = head_request;
  absl::StatusOr<int32_t> id = conn_->Open(this, head, end_stream);
  if (!id.ok()) return id.status();
  id_ = *id;
  sent_end_ = end_stream;
  ArmHeadTimer();
  return absl::OkStatus();
}

void Http2UpstreamStream::ArmHeadTimer() {
  if (!conn_->fallback_signal() || conn_->head_timeout().count() <= 0) return;
  head_timer_ = std::make_unique<asio::steady_timer>(conn_->executor());
  head_timer_->expires_after(conn_->head_timeout());
  // Cancelled when the head arrives or the stream goes (its destructor
  // cancels the timer, and the handler then touches nothing).
  head_timer_->async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    head_timed_out_ = true;
    Wake();
  });
}

void Http2UpstreamStream::Cancel() {
  if (id_ == 0 || reset_ || (ended_ && sent_end_)) return;
  (void)conn_->codec().SubmitReset(id_, http2::kCancel);
  reset_ = true;
  conn_->Flush();
}

void Http2UpstreamStream::Wake() {
  ++wakes_;
  boost::system::error_code ec;
  handle_.cancel(ec);
}

asio::awaitable<bool> Http2UpstreamStream::Wait() {
  if (!handle_.is_open()) co_return false;
  // Two may wait at once (the body going up, the response coming back):
  // each sees whether a Wake() came while it waited.
  const uint64_t seen = wakes_;
  co_await handle_.async_wait(asio::ip::tcp::socket::wait_read,
                              asio::as_tuple(asio::use_awaitable));
  co_return wakes_ != seen&& handle_.is_open();
}

asio::awaitable<Http2UpstreamStream::IoResult> Http2UpstreamStream::WriteBody(
    std::string_view payload, bool end) {
  size_t off = 0;
  while (true) {
    if (reset_ || conn_->failed()) co_return IoResult{asio::error::connection_reset, off};
    // The upstream answered in full before taking the whole body (an early
    // 413 or a gRPC error): the rest is not wanted, and its window may never
    // open again. Taken as sent, so the response is read next.
    if (ended_) co_return IoResult{boost::system::error_code{}, payload.size()};
    const size_t n = std::min(conn_->codec().Writable(id_), payload.size() - off);
    const bool last = off + n == payload.size();
    if (n > 0 || (last && end && !sent_end_)) {
      absl::Status s = conn_->codec().SubmitData(id_, payload.substr(off, n), end && last);
      if (!s.ok()) co_return IoResult{asio::error::connection_reset, off};
      off += n;
      sent_end_ = sent_end_ || (end && last);
      conn_->Flush();
      if (last) co_return IoResult{boost::system::error_code{}, off};
      continue;
    }
    if (last) co_return IoResult{boost::system::error_code{}, off};
    // The peer's window is full: its WINDOW_UPDATE wakes the stream.
    if (!co_await Wait()) co_return IoResult{asio::error::operation_aborted, off};
  }
}

asio::awaitable<Http2UpstreamStream::IoResult> Http2UpstreamStream::ReadSome(
    asio::mutable_buffer out) {
  while (true) {
    Serialize();
    if (out_pos_ < out_.size()) {
      const size_t n = std::min(out.size(), out_.size() - out_pos_);
      std::memcpy(out.data(), out_.data() + out_pos_, n);
      out_pos_ += n;
      if (out_pos_ == out_.size()) {
        out_.clear();
        out_pos_ = 0;
        // Passed on: the peer may send as much again.
        if (unacked_ > 0 && !reset_) {
          conn_->codec().ConsumeData(id_, unacked_);
          conn_->Flush();
        }
        unacked_ = 0;
      }
      co_return IoResult{boost::system::error_code{}, n};
    }
    if (end_out_) co_return IoResult{asio::error::eof, 0};
    if (head_timed_out_ && EndTunnelTimeout()) continue;
    if (reset_ && (EndGrpcUnavailable() || EndTunnelReset())) continue;
    if (reset_) co_return IoResult{asio::error::connection_reset, 0};
    if (!co_await Wait()) co_return IoResult{asio::error::operation_aborted, 0};
  }
}

void Http2UpstreamStream::OnHead(http2::ResponseHead head) {
  if (head_timer_) head_timer_->cancel();
  head_ = std::move(head);
  Wake();
}

void Http2UpstreamStream::OnData(std::string_view data) {
  data_.append(data);
  unacked_ += data.size();
  Wake();
}

void Http2UpstreamStream::OnTrailers(http2::HeaderList trailers) {
  trailers_ = std::move(trailers);
  Wake();
}

void Http2UpstreamStream::OnEnd() {
  ended_ = true;
  Wake();
}

void Http2UpstreamStream::OnReset(uint32_t) {
  reset_ = true;
  Wake();
}

// A gRPC response cut short by the upstream (its stream reset, its
// connection gone) after the head went out: the body ends with trailers
// saying UNAVAILABLE, the status gRPC clients retry on, instead of a reset
// they would read as INTERNAL. out_ ends on a chunk boundary here.
bool Http2UpstreamStream::EndGrpcUnavailable() {
  if (!head_out_ || !chunked_ || end_out_ || !IsGrpcH2Answer(head_->headers)) return false;
  out_.append("0\r\ngrpc-status: 14\r\ngrpc-message: upstream connection reset\r\n\r\n");
  end_out_ = true;
  return true;
}

// A tunnel's stream that failed before its head: the holder's fallback
// signal (http2_upstream.h) instead of a reset.
bool Http2UpstreamStream::EndTunnelReset() {
  if (head_out_ || end_out_ || !conn_->fallback_signal()) return false;
  out_ =
      "HTTP/1.1 503 Service Unavailable\r\nx-causeway-fallback: tunnel-reset\r\n"
      "content-length: 0\r\n\r\n";
  out_pos_ = 0;
  head_out_ = true;
  end_out_ = true;
  return true;
}

// A tunnel's stream whose head did not come in time: reset, and the
// holder's fallback signal instead.
bool Http2UpstreamStream::EndTunnelTimeout() {
  if (head_out_ || end_out_) return false;
  Cancel();
  out_ =
      "HTTP/1.1 503 Service Unavailable\r\nx-causeway-fallback: tunnel-timeout\r\n"
      "content-length: 0\r\n\r\n";
  out_pos_ = 0;
  head_out_ = true;
  end_out_ = true;
  return true;
}

void Http2UpstreamStream::Serialize() {
  if (!head_out_) {
    if (!head_) return;
    SerializeHead();
  }
  if (!data_.empty()) {
    if (no_body_) {
      // Nothing of it goes on (a response to HEAD, 204, 304).
    } else if (chunked_) {
      absl::StrAppend(&out_, absl::Hex(data_.size()), "\r\n", data_, "\r\n");
    } else {
      out_.append(data_);
    }
    data_.clear();
  }
  if (ended_ && !end_out_) SerializeEnd();
}

// The status line and headers. The body is framed with the upstream's
// content-length if it gave one, as empty if the stream ended with the head,
// else chunked (trailers may follow). A trailers-only gRPC answer (one
// HEADERS frame with grpc-status) becomes a head and an empty chunked body
// whose trailers carry the status: what a gRPC client reads.
void Http2UpstreamStream::SerializeHead() {
  const http2::ResponseHead& head = *head_;
  head_out_ = true;
  const bool empty = ended_ && data_.empty();
  const bool trailers_only = empty && IsGrpcH2Answer(head.headers);
  no_body_ = head_request_ || head.status == 204 || head.status == 304;
  bool has_length = false;
  absl::StrAppend(&out_, "HTTP/1.1 ", head.status, " \r\n");
  for (const http2::Header& h : head.headers) {
    if (h.name.empty() || h.name[0] == ':') continue;
    if (trailers_only && h.name.starts_with("grpc-")) {
      deferred_trailers_.push_back(h);
      continue;
    }
    has_length = has_length || h.name == "content-length";
    AppendH2Field(out_, h);
  }
  if (!no_body_ && (trailers_only || (!has_length && !empty))) {
    chunked_ = true;
    out_.append("transfer-encoding: chunked\r\n");
  } else if (!no_body_ && !has_length) {
    out_.append("content-length: 0\r\n");
  }
  out_.append("\r\n");
}

// The end of the body: with chunked framing, the last chunk and the trailer
// fields. With content-length there is nowhere to put trailers: dropped.
void Http2UpstreamStream::SerializeEnd() {
  end_out_ = true;
  if (!chunked_ || no_body_) return;
  out_.append("0\r\n");
  for (const http2::Header& h : deferred_trailers_) AppendH2Field(out_, h);
  if (trailers_) {
    for (const http2::Header& h : *trailers_) {
      if (!h.name.empty() && h.name[0] != ':') AppendH2Field(out_, h);
    }
  }
  out_.append("\r\n");
}

}  // namespace causeway::proxy
