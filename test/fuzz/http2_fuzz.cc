// libFuzzer target for the proxy's HTTP/2 codecs
// (src/proxy/codec/http2_codec.h): by default client bytes into the server
// codec, with an answer submitted for every request head; in client mode,
// server bytes into a client codec that has opened three requests. The
// output is written out as it comes.
//
// Beyond "does not crash or leak under ASan/UBSan" (nghttp2 itself is not
// instrumented; the glue around it is), it checks what the layers above
// will rely on:
//   - each stream's events come in order: one head, then DATA, then at most
//     one set of trailers and one end; nothing after a reset; a client hears
//     only of streams it opened;
//   - a delivered head is within the header list bound and has the
//     pseudo-headers its method needs;
//   - DATA not yet given back with ConsumeData never exceeds the window we
//     announced (a peer cannot make us buffer more than that);
//   - open streams never exceed SETTINGS_MAX_CONCURRENT_STREAMS, the output
//     waiting to be written stays bounded, and a response to a delivered
//     head is always accepted;
//   - after a GOAWAY from the server the client opens no stream;
//   - once Receive fails, it keeps failing and the codec wants to close.
//
// The first input byte: bit 0 prepends a valid preface (the client's magic
// and SETTINGS, or the server's SETTINGS), so mutations reach frame parsing
// without keeping it intact; bit 1 holds DATA back (no ConsumeData); bit 2
// selects client mode; the rest seeds how the bytes are split across
// Receive calls.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "proxy/codec/http2_codec.h"

namespace http2 = causeway::proxy::http2;

namespace {

[[noreturn]] void H2FuzzFail(const char* what) {
  std::fprintf(stderr, "http2_fuzz invariant violated: %s\n", what);
  std::abort();
}

void H2FuzzCheck(bool ok, const char* what) {
  if (!ok) H2FuzzFail(what);
}

constexpr uint32_t kFuzzMaxStreams = 8;
constexpr uint32_t kFuzzWindow = 65535;
constexpr uint32_t kFuzzHeaderList = 4096;
constexpr size_t kFuzzPendingOutput = 64 * 1024;

http2::Settings FuzzSettings() {
  http2::Settings s;
  s.max_concurrent_streams = kFuzzMaxStreams;
  s.initial_window_size = kFuzzWindow;
  s.max_header_list_size = kFuzzHeaderList;
  s.max_pending_output = kFuzzPendingOutput;
  s.enable_connect_protocol = true;  // :protocol reaches the codec too
  return s;
}

struct FuzzStream {
  bool opened = false;  // client: we sent this request
  bool head = false;
  bool trailers = false;
  bool ended = false;
  bool reset = false;
  size_t unconsumed = 0;
};

// Checks the events of either side; the server answers every head.
class FuzzEvents : public http2::Events {
 public:
  explicit FuzzEvents(bool hold_data) : hold_data_(hold_data) {}
  // The codec these events come from; `server` is null in client mode.
  void Attach(http2::Codec* codec, http2::ServerCodec* server) {
    codec_ = codec;
    server_ = server;
  }
  std::map<int32_t, FuzzStream> streams;
  bool goaway = false;

  void OnRequestHead(int32_t id, http2::RequestHead head) override {
    H2FuzzCheck(server_ != nullptr, "a request head on the client");
    H2FuzzCheck(id > 0 && id % 2 == 1, "a request head on a server-side stream id");
    FuzzStream& s = streams[id];
    H2FuzzCheck(!s.head && !s.reset, "a second head or a head after a reset");
    s.head = true;
    CheckHeaderList(head.headers);
    H2FuzzCheck(!head.method.empty(), "a head without :method");
    if (head.method != "CONNECT" || !head.protocol.empty()) {
      H2FuzzCheck(!head.scheme.empty() && !head.path.empty(), "a head without :scheme or :path");
    }
    H2FuzzCheck(head.protocol.empty() || head.method == "CONNECT", ":protocol without CONNECT");
    H2FuzzCheck(codec_->ActiveStreams() <= kFuzzMaxStreams, "more streams open than announced");
    Respond(id);
  }
  void OnResponseHead(int32_t id, http2::ResponseHead head) override {
    H2FuzzCheck(server_ == nullptr, "a response head on the server");
    auto it = streams.find(id);
    H2FuzzCheck(it != streams.end() && it->second.opened, "a response on a stream never opened");
    H2FuzzCheck(!it->second.head && !it->second.reset, "a second response head");
    H2FuzzCheck(head.status >= 200 && head.status <= 999, "a final head with a 1xx or bad status");
    CheckHeaderList(head.headers);
    it->second.head = true;
  }
  void OnData(int32_t id, std::string_view data) override {
    FuzzStream& s = Known(id, "DATA");
    H2FuzzCheck(!s.trailers, "DATA after trailers");
    s.unconsumed += data.size();
    H2FuzzCheck(s.unconsumed <= kFuzzWindow, "more DATA outstanding than the window");
    if (!hold_data_) {
      codec_->ConsumeData(id, s.unconsumed);
      s.unconsumed = 0;
    }
  }
  void OnTrailers(int32_t id, http2::HeaderList trailers) override {
    FuzzStream& s = Known(id, "trailers");
    H2FuzzCheck(!s.trailers, "trailers twice");
    CheckHeaderList(trailers);
    s.trailers = true;
  }
  void OnEndStream(int32_t id) override { Known(id, "end of stream").ended = true; }
  void OnReset(int32_t id, uint32_t) override {
    auto it = streams.find(id);
    H2FuzzCheck(it != streams.end() && (it->second.head || it->second.opened),
                "a reset for a stream never delivered");
    H2FuzzCheck(!it->second.reset, "a stream reset twice");
    it->second.reset = true;
  }
  void OnGoaway(int32_t, uint32_t) override { goaway = true; }

 private:
  static void CheckHeaderList(const http2::HeaderList& headers) {
    size_t size = 0;
    for (const auto& h : headers) size += h.name.size() + h.value.size() + 32;
    H2FuzzCheck(size <= kFuzzHeaderList, "a header list over the bound was delivered");
  }

  FuzzStream& Known(int32_t id, const char* what) {
    auto it = streams.find(id);
    if (it == streams.end() || !it->second.head) H2FuzzFail(what);
    if (it->second.ended || it->second.reset) H2FuzzFail(what);
    return it->second;
  }

  // Each shape of answer the proxy will submit: head only, head and DATA,
  // DATA and trailers (gRPC), an interim 100 first, a reset.
  void Respond(int32_t id) {
    const int shape = (id / 2) % 5;
    if (shape == 4) {
      H2FuzzCheck(server_->SubmitReset(id, http2::kCancel).ok(), "a reset was refused");
      return;
    }
    if (shape == 3) H2FuzzCheck(server_->SubmitInterim(id, {100, {}}).ok(), "a 100 was refused");
    http2::ResponseHead head{200, {{"content-type", "text/plain"}}};
    H2FuzzCheck(server_->SubmitResponse(id, head, shape == 0 || shape == 3).ok(),
                "a response was refused");
    if (shape == 1) {
      H2FuzzCheck(server_->SubmitData(id, std::string(20000, 'r'), true).ok(), "DATA was refused");
    } else if (shape == 2) {
      H2FuzzCheck(server_->SubmitData(id, "reply", false).ok(), "DATA was refused");
      H2FuzzCheck(server_->SubmitTrailers(id, {{"grpc-status", "0"}}).ok(), "trailers refused");
    }
  }

  http2::Codec* codec_ = nullptr;
  http2::ServerCodec* server_ = nullptr;  // null in client mode
  bool hold_data_;
};

// Writes out what the codec has, as a socket would.
void DrainOutput(http2::Codec& codec) {
  for (int i = 0; i < 64; ++i) {
    std::string_view out = codec.Pending();
    // One frame (16 KiB of DATA or a header block) may cross the bound.
    H2FuzzCheck(out.size() <= kFuzzPendingOutput + 80 * 1024, "pending output over its bound");
    if (out.empty()) return;
    codec.Consumed(out.size());
  }
}

http2::RequestHead FuzzRequest(const char* method, const char* path) {
  return http2::RequestHead{method, "https", "example.com", path, {{"te", "trailers"}}, ""};
}

// The client's requests, the same three the seed corpus answers (ids 1, 3, 5).
void OpenFuzzRequests(http2::ClientCodec& client, FuzzEvents& events) {
  auto get = client.SubmitRequest(FuzzRequest("GET", "/"), true);
  auto post = client.SubmitRequest(FuzzRequest("POST", "/upload"), false);
  auto grpc = client.SubmitRequest(FuzzRequest("POST", "/pkg.Svc/Call"), false);
  H2FuzzCheck(get.ok() && post.ok() && grpc.ok(), "a request was refused on a fresh connection");
  H2FuzzCheck(client.SubmitData(*post, "body", true).ok(), "request DATA was refused");
  H2FuzzCheck(client.SubmitData(*grpc, "call", false).ok(), "request DATA was refused");
  H2FuzzCheck(client.SubmitTrailers(*grpc, {{"x-checksum", "1"}}).ok(), "trailers refused");
  for (int32_t id : {*get, *post, *grpc}) events.streams[id].opened = true;
  DrainOutput(client);
}

// Feeds `input` in pieces whose sizes come from `seed`.
void FeedFuzzInput(http2::Codec& codec, std::string_view input, uint32_t seed,
                   const std::function<void()>& after_piece) {
  uint32_t x = seed * 2654435761u + 1;
  size_t pos = 0;
  bool failed = false;
  while (pos < input.size()) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    const size_t piece = std::min<size_t>(input.size() - pos, 1 + x % 700);
    absl::Status st = codec.Receive(input.substr(pos, piece));
    pos += piece;
    if (failed) H2FuzzCheck(!st.ok(), "Receive succeeded after an error");
    if (!st.ok()) {
      failed = true;
      H2FuzzCheck(!st.message().empty(), "an error without a message");
      H2FuzzCheck(codec.WantsClose(), "an error but the codec does not want to close");
    }
    DrainOutput(codec);
    after_piece();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const bool client_mode = (mode & 4) != 0;
  std::string input;
  if (mode & 1) {
    if (!client_mode) input = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    input.append("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9);  // empty SETTINGS
  }
  input.append(reinterpret_cast<const char*>(data) + 1, size - 1);
  const bool hold_data = (mode & 2) != 0;

  FuzzEvents events(hold_data);
  if (!client_mode) {
    auto server = http2::ServerCodec::Create(FuzzSettings(), &events);
    H2FuzzCheck(server.ok(), "the codec could not be created");
    events.Attach(server->get(), server->get());
    // Streams refused or reset by nghttp2 leave the codec's table too.
    FeedFuzzInput(**server, input, mode, [&] {
      H2FuzzCheck((*server)->ActiveStreams() <= kFuzzMaxStreams, "more streams kept than allowed");
    });
    return 0;
  }
  auto client = http2::ClientCodec::Create(FuzzSettings(), &events);
  H2FuzzCheck(client.ok(), "the codec could not be created");
  events.Attach(client->get(), nullptr);
  OpenFuzzRequests(**client, events);
  FeedFuzzInput(**client, input, mode, [&] {
    H2FuzzCheck((*client)->ActiveStreams() <= 3, "streams the client never opened");
    if (events.goaway) {
      H2FuzzCheck(!(*client)->SubmitRequest(FuzzRequest("GET", "/"), true).ok(),
                  "a stream opened after GOAWAY");
    }
  });
  return 0;
}
