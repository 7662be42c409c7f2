// A blocking HTTP/2 client over the project's client codec
// (proxy/codec/http2_codec.h), for what gRPC's client and the command-line
// ones cannot show or do: the exact fields of a trailers-only response, an
// extended CONNECT (RFC 8441), DATA both ways on one stream, resetting one
// stream mid-response, a client that stops reading, a GOAWAY.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "proxy/codec/http2_codec.h"
#include "test_origin.h"

namespace causeway::proxy::testing {

class H2RawClient : public http2::Events {
 public:
  struct Stream {
    http2::ResponseHead head;
    bool has_head = false;
    std::string body;
    http2::HeaderList trailers;
    bool ended = false;
    bool reset = false;
    uint32_t reset_code = 0;
    // The value of `name` in the head, else in the trailers ("" if neither).
    std::string Field(const std::string& name) const {
      for (const auto* list : {&head.headers, &trailers}) {
        for (const http2::Header& f : *list) {
          if (f.name == name) return f.value;
        }
      }
      return "";
    }
  };

  explicit H2RawClient(uint16_t port) : raw_(port) {
    auto codec = http2::ClientCodec::Create(http2::Settings{}, this);
    if (codec.ok()) codec_ = *std::move(codec);
  }
  bool ok() const { return raw_.connected() && codec_ != nullptr; }
  http2::ClientCodec& codec() { return *codec_; }
  uint32_t PeerMaxStreams() const { return codec_->PeerMaxConcurrentStreams(); }

  // Opens a stream; -1 if the codec refused (the status in `error`).
  int32_t Open(const http2::RequestHead& head, bool end_stream) {
    absl::StatusOr<int32_t> id = codec_->SubmitRequest(head, end_stream);
    if (!id.ok()) {
      error = std::string(id.status().message());
      return -1;
    }
    return *id;
  }
  bool Send(int32_t id, const std::string& data, bool end_stream) {
    return codec_->SubmitData(id, data, end_stream).ok();
  }
  void Reset(int32_t id) { (void)codec_->SubmitReset(id, http2::kCancel); }

  // Takes DATA without opening the windows again (a client that does not
  // keep up); ResumeReading opens them for what came meanwhile.
  void StopReading() { consume_ = false; }
  void ResumeReading() {
    consume_ = true;
    for (auto& [id, n] : unconsumed_) codec_->ConsumeData(id, n);
    unconsumed_.clear();
  }

  // Exchanges frames until `done` holds; false when the connection ended
  // or `limit` passed first.
  bool Until(const std::function<bool()>& done,
             std::chrono::seconds limit = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      std::string_view out = codec_->Pending();
      if (!out.empty()) {
        if (!raw_.Send(std::string(out))) return false;
        codec_->Consumed(out.size());
        continue;
      }
      if (closed_ || std::chrono::steady_clock::now() > deadline) return false;
      pollfd p{raw_.fd(), POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[16384];
      const ssize_t n = ::recv(raw_.fd(), buf, sizeof(buf), 0);
      if (n <= 0) {
        closed_ = true;
        return done();
      }
      if (!codec_->Receive(std::string_view(buf, static_cast<size_t>(n))).ok()) closed_ = true;
    }
    return true;
  }

  std::map<int32_t, Stream> streams;
  std::string error;
  bool goaway = false;

 private:
  void OnResponseHead(int32_t id, http2::ResponseHead head) override {
    streams[id].head = std::move(head);
    streams[id].has_head = true;
  }
  void OnData(int32_t id, std::string_view data) override {
    streams[id].body.append(data);
    if (consume_) {
      codec_->ConsumeData(id, data.size());
    } else {
      unconsumed_[id] += data.size();
    }
  }
  void OnTrailers(int32_t id, http2::HeaderList trailers) override {
    streams[id].trailers = std::move(trailers);
  }
  void OnEndStream(int32_t id) override { streams[id].ended = true; }
  void OnReset(int32_t id, uint32_t code) override {
    streams[id].reset = true;
    streams[id].reset_code = code;
  }
  void OnGoaway(int32_t, uint32_t) override { goaway = true; }

  RawClient raw_;
  std::unique_ptr<http2::ClientCodec> codec_;
  bool closed_ = false;
  bool consume_ = true;
  std::map<int32_t, size_t> unconsumed_;
};

}  // namespace causeway::proxy::testing
