// libFuzzer target for the proxy's HTTP/2 server codec
// (src/proxy/codec/http2_codec.h): client bytes in, a response submitted for
// every request head, the output written out as it comes.
//
// Beyond "does not crash or leak under ASan/UBSan" (nghttp2 itself is not
// instrumented; the glue around it is), it checks what the layers above
// will rely on:
//   - each stream's events come in order: one head, then DATA, then at most
//     one set of trailers and one end; nothing after a reset;
//   - a delivered head is within the header list bound and has the
//     pseudo-headers its method needs;
//   - DATA not yet given back with ConsumeData never exceeds the window we
//     announced (a peer cannot make us buffer more than that);
//   - open streams never exceed SETTINGS_MAX_CONCURRENT_STREAMS, the output
//     waiting to be written stays bounded, and a response to a delivered
//     head is always accepted;
//   - once Receive fails, it keeps failing and the codec wants to close.
//
// The first input byte: bit 0 prepends a valid client preface and SETTINGS
// (so mutations reach frame parsing without keeping the 24-byte magic
// intact), bit 1 holds DATA back (no ConsumeData), the rest seeds how the
// bytes are split across Receive calls.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
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
  return s;
}

struct FuzzStream {
  bool head = false;
  bool trailers = false;
  bool ended = false;
  bool reset = false;
  size_t unconsumed = 0;
};

class FuzzServer : public http2::Events {
 public:
  explicit FuzzServer(bool hold_data) : hold_data_(hold_data) {}
  http2::ServerCodec* codec = nullptr;

  void OnRequestHead(int32_t id, http2::RequestHead head) override {
    H2FuzzCheck(id > 0 && id % 2 == 1, "a request head on a server-side stream id");
    FuzzStream& s = streams_[id];
    H2FuzzCheck(!s.head && !s.reset, "a second head or a head after a reset");
    s.head = true;
    size_t size = 0;
    for (const auto& h : head.headers) size += h.name.size() + h.value.size() + 32;
    H2FuzzCheck(size <= kFuzzHeaderList, "a head over the header list bound was delivered");
    H2FuzzCheck(!head.method.empty(), "a head without :method");
    if (head.method != "CONNECT") {
      H2FuzzCheck(!head.scheme.empty() && !head.path.empty(), "a head without :scheme or :path");
    }
    H2FuzzCheck(codec->ActiveStreams() <= kFuzzMaxStreams, "more streams open than announced");
    Respond(id);
  }
  void OnData(int32_t id, std::string_view data) override {
    FuzzStream& s = Known(id, "DATA");
    H2FuzzCheck(!s.trailers, "DATA after trailers");
    s.unconsumed += data.size();
    H2FuzzCheck(s.unconsumed <= kFuzzWindow, "more DATA outstanding than the window");
    if (!hold_data_) {
      codec->ConsumeData(id, s.unconsumed);
      s.unconsumed = 0;
    }
  }
  void OnTrailers(int32_t id, http2::HeaderList) override {
    FuzzStream& s = Known(id, "trailers");
    H2FuzzCheck(!s.trailers, "trailers twice");
    s.trailers = true;
  }
  void OnEndStream(int32_t id) override { Known(id, "end of stream").ended = true; }
  void OnReset(int32_t id, uint32_t) override {
    auto it = streams_.find(id);
    H2FuzzCheck(it != streams_.end() && it->second.head, "a reset for a stream never delivered");
    H2FuzzCheck(!it->second.reset, "a stream reset twice");
    it->second.reset = true;
  }

 private:
  FuzzStream& Known(int32_t id, const char* what) {
    auto it = streams_.find(id);
    if (it == streams_.end() || !it->second.head) H2FuzzFail(what);
    if (it->second.ended || it->second.reset) H2FuzzFail(what);
    return it->second;
  }

  // Each shape of response the proxy will submit: head only, head and DATA,
  // DATA and trailers (gRPC).
  void Respond(int32_t id) {
    const int shape = (id / 2) % 3;
    http2::ResponseHead head{200, {{"content-type", "text/plain"}}};
    H2FuzzCheck(codec->SubmitResponse(id, head, shape == 0).ok(), "a response was refused");
    if (shape == 1) {
      H2FuzzCheck(codec->SubmitData(id, std::string(20000, 'r'), true).ok(), "DATA was refused");
    } else if (shape == 2) {
      H2FuzzCheck(codec->SubmitData(id, "reply", false).ok(), "DATA was refused");
      H2FuzzCheck(codec->SubmitTrailers(id, {{"grpc-status", "0"}}).ok(), "trailers refused");
    }
  }

  bool hold_data_;
  std::map<int32_t, FuzzStream> streams_;
};

// Writes out what the codec has, as a socket would.
void DrainOutput(http2::ServerCodec& codec) {
  for (int i = 0; i < 64; ++i) {
    std::string_view out = codec.Pending();
    // One frame (16 KiB of DATA or a header block) may cross the bound.
    H2FuzzCheck(out.size() <= kFuzzPendingOutput + 80 * 1024, "pending output over its bound");
    if (out.empty()) return;
    codec.Consumed(out.size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  std::string input;
  if (mode & 1) {
    input = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    input.append("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9);  // empty SETTINGS
  }
  input.append(reinterpret_cast<const char*>(data) + 1, size - 1);

  FuzzServer events(/*hold_data=*/(mode & 2) != 0);
  auto codec = http2::ServerCodec::Create(FuzzSettings(), &events);
  H2FuzzCheck(codec.ok(), "the codec could not be created");
  events.codec = codec->get();

  uint32_t x = mode * 2654435761u + 1;
  size_t pos = 0;
  bool failed = false;
  while (pos < input.size()) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    const size_t piece = std::min<size_t>(input.size() - pos, 1 + x % 700);
    absl::Status st = (*codec)->Receive(std::string_view(input).substr(pos, piece));
    pos += piece;
    if (failed) H2FuzzCheck(!st.ok(), "Receive succeeded after an error");
    if (!st.ok()) {
      failed = true;
      H2FuzzCheck(!st.message().empty(), "an error without a message");
      H2FuzzCheck((*codec)->WantsClose(), "an error but the codec does not want to close");
    }
    DrainOutput(**codec);
  }
  return 0;
}
