// libFuzzer target for the proxy's HTTP/1 codec (src/proxy/codec/http1.h).
//
// Beyond "does not crash under ASan/UBSan", it checks properties that request
// smuggling defence depends on, since a parser that merely survives input can
// still frame a message two different ways:
//   - every string_view the parser returns points inside the input;
//   - FindHeadEnd is prefix-stable: a head found in a buffer is found at the
//     same offset in every longer buffer, and no buffer larger than the head
//     limit (plus the tolerated leading CRLFs) is left "incomplete";
//   - a parsed head re-serialized canonically parses to the same head
//     (same method/target/headers and, above all, the same body framing);
//   - BodyFramer gives the same answer whatever way the bytes are split
//     across Feed() calls (TCP segmentation must not change framing);
//   - what the proxy copies into the heads it writes (method, target, header
//     names and values; src/proxy/server/message_builder.cc) can be written
//     as it is: no byte of it could end a line early. The reason phrase is
//     the exception, cut only at the first CRLF: the proxy replaces an
//     unsafe one when it writes the response.
//
// The first input byte selects the mode and a split seed; the rest is the
// message. Mode 3 repeats the message to exceed the 60 KiB head limit, which
// libFuzzer's default -max_len would never reach on its own.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/codec/http1.h"

namespace http1 = causeway::proxy::http1;

namespace {

// Aborts with a message: libFuzzer records any abort as a crash with its input.
[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "http1_fuzz invariant violated: %s\n", what);
  std::abort();
}

void Check(bool ok, const char* what) {
  if (!ok) Fail(what);
}

bool Within(std::string_view outer, std::string_view inner) {
  if (inner.empty()) return true;  // an empty view may point anywhere
  return inner.data() >= outer.data() && inner.data() + inner.size() <= outer.data() + outer.size();
}

// Splits [0, size) into pieces whose lengths come from a small PRNG seeded by
// the selector byte, so the fuzzer can steer segmentation too.
std::vector<size_t> Splits(size_t size, uint32_t seed) {
  std::vector<size_t> cuts;
  uint32_t x = seed * 2654435761u + 1;
  size_t pos = 0;
  while (pos < size) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    size_t piece = 1 + (x % 7 == 0 ? x % 64 : x % 4);
    pos = pos + piece > size ? size : pos + piece;
    cuts.push_back(pos);
  }
  return cuts;
}

struct FramerOutcome {
  size_t consumed = 0;
  bool done = false;
  bool error = false;
  bool operator==(const FramerOutcome&) const = default;
};

// Feeds `data` in pieces until the body is done or fails; mirrors how the
// session feeds what it has buffered and keeps the unconsumed rest.
FramerOutcome FeedSplit(http1::BodyKind kind, uint64_t length, std::string_view data,
                        const std::vector<size_t>& cuts) {
  http1::BodyFramer framer(kind, length);
  FramerOutcome out;
  out.done = framer.done();  // an empty body is complete before any byte
  if (out.done) return out;
  size_t prev = 0;
  for (size_t cut : cuts) {
    std::string_view piece = data.substr(prev, cut - prev);
    http1::BodyFramer::Step step = framer.Feed(piece);
    Check(step.consumed <= piece.size(), "BodyFramer consumed more than it was given");
    out.consumed += step.consumed;
    if (step.error) {
      out.error = true;
      return out;
    }
    if (step.done) {
      Check(framer.done(), "Step.done without framer.done()");
      out.done = true;
      return out;
    }
    // A body that is not done must take every byte it was offered.
    Check(step.consumed == piece.size(), "BodyFramer stopped early without done or error");
    prev = cut;
  }
  return out;
}

void CheckFramer(http1::BodyKind kind, uint64_t length, std::string_view data, uint32_t seed) {
  std::vector<size_t> whole;
  if (!data.empty()) whole.push_back(data.size());
  FramerOutcome a = FeedSplit(kind, length, data, whole);
  FramerOutcome b = FeedSplit(kind, length, data, Splits(data.size(), seed));
  std::vector<size_t> bytes;
  for (size_t i = 1; i <= data.size(); ++i) bytes.push_back(i);
  FramerOutcome c = FeedSplit(kind, length, data, bytes);
  // An error's offset is where the bad byte is; done's offset is the body end.
  Check(a == b && a == c, "BodyFramer result depends on how input is split");
  if (kind == http1::BodyKind::kContentLength && !a.error) {
    Check(a.done == (data.size() >= length), "Content-Length body done at the wrong place");
    if (a.done) Check(a.consumed == length, "Content-Length body consumed wrong count");
  }
}

void CheckFindHeadEnd(std::string_view buf) {
  bool too_large = false;
  size_t n = http1::FindHeadEnd(buf, &too_large);
  Check(n <= buf.size(), "FindHeadEnd beyond the buffer");
  if (n > 0) {
    Check(!too_large, "FindHeadEnd both found a head and flagged it too large");
    Check(n >= 4 && buf.substr(n - 4, 4) == "\r\n\r\n", "head does not end in CRLFCRLF");
    // Prefix stability: the head is found at the same place in every longer
    // buffer (checked by probing the head alone and the full buffer).
    bool tl2 = false;
    Check(http1::FindHeadEnd(buf.substr(0, n), &tl2) == n && !tl2, "head end not prefix-stable");
  }
  // The head limit must bound what a connection buffers while waiting for a
  // head, leading empty lines included: otherwise a peer sending CRLFs grows
  // the buffer (and the O(n) rescans) without limit. A little slack is left
  // for the few empty lines RFC 9112 2.2 asks servers to tolerate.
  constexpr size_t kLeadingSlack = 1024;
  if (n == 0 && !too_large) {
    Check(buf.size() < http1::kMaxHeadBytes + kLeadingSlack, "FindHeadEnd buffers without bound");
  }
}

std::string SerializeRequest(const http1::RequestHead& h) {
  std::string s;
  s.append(h.method).append(" ").append(h.target).append(" HTTP/1.");
  s.push_back(static_cast<char>('0' + h.version_minor));
  s.append("\r\n");
  for (const http1::Header& f : h.headers)
    s.append(f.name).append(": ").append(f.value).append("\r\n");
  s.append("\r\n");
  return s;
}

std::string SerializeResponse(const http1::ResponseHead& h) {
  std::string s = "HTTP/1.";
  s.push_back(static_cast<char>('0' + h.version_minor));
  s.append(" ").append(std::to_string(h.status));
  if (!h.reason.empty()) s.append(" ").append(h.reason);
  s.append("\r\n");
  for (const http1::Header& f : h.headers)
    s.append(f.name).append(": ").append(f.value).append("\r\n");
  s.append("\r\n");
  return s;
}

bool IsTchar(char ch) {
  auto c = static_cast<unsigned char>(ch);
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         std::string_view("!#$%&'*+-.^_`|~").find(ch) != std::string_view::npos;
}

// Names are tokens; values hold no control character but HTAB (so no CR, LF
// or NUL) and no leading or trailing whitespace (RFC 9110 5.1, 5.5).
void CheckWritableHeaders(const std::vector<http1::Header>& headers) {
  for (const http1::Header& f : headers) {
    Check(!f.name.empty(), "empty header name accepted");
    for (char c : f.name) Check(IsTchar(c), "header name with a non-token byte accepted");
    for (char ch : f.value) {
      auto c = static_cast<unsigned char>(ch);
      Check(c == '\t' || (c >= 0x20 && c != 0x7f), "header value with a control byte accepted");
    }
    if (!f.value.empty()) {
      Check(f.value.front() != ' ' && f.value.front() != '\t' && f.value.back() != ' ' &&
                f.value.back() != '\t',
            "header value with surrounding whitespace");
    }
  }
}

bool SameHeaders(const std::vector<http1::Header>& a, const std::vector<http1::Header>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].value != b[i].value) return false;
  }
  return true;
}

void FuzzRequest(std::string_view buf, uint32_t seed) {
  CheckFindHeadEnd(buf);
  bool too_large = false;
  size_t n = http1::FindHeadEnd(buf, &too_large);
  if (n == 0) return;
  std::string_view head = buf.substr(0, n);
  http1::RequestHead req;
  http1::ParseResult r = http1::ParseRequestHead(head, &req);
  if (r.status != http1::ParseStatus::kOk) {
    Check(r.status == http1::ParseStatus::kBadRequest && !r.reason.empty(),
          "a refused request head must say why");
    return;
  }
  Check(r.head_size == n, "head_size differs from FindHeadEnd");
  Check(Within(head, req.method) && Within(head, req.target) && Within(head, req.host),
        "request view outside the head");
  for (const http1::Header& f : req.headers) {
    Check(Within(head, f.name) && Within(head, f.value), "header view outside the head");
    Check(!f.name.empty(), "empty header name accepted");
  }
  Check(!req.method.empty() && !req.target.empty(), "empty method or target accepted");
  for (char c : req.method) Check(IsTchar(c), "method with a non-token byte accepted");
  for (char ch : req.target) {
    auto c = static_cast<unsigned char>(ch);
    Check(c > 0x20 && c != 0x7f, "request target with a space or control byte accepted");
  }
  CheckWritableHeaders(req.headers);
  Check(req.version_minor == 0 || req.version_minor == 1, "odd HTTP version accepted");
  if (req.body == http1::BodyKind::kChunked) {
    Check(req.version_minor == 1, "chunked framing for an HTTP/1.0 request");
  }
  Check(req.body != http1::BodyKind::kUntilClose, "a request body framed by close");

  // Canonical re-serialization must frame identically.
  std::string again = SerializeRequest(req);
  http1::RequestHead req2;
  http1::ParseResult r2 = http1::ParseRequestHead(again, &req2);
  Check(r2.status == http1::ParseStatus::kOk, "re-serialized request head refused");
  Check(req2.method == req.method && req2.target == req.target &&
            req2.version_minor == req.version_minor && SameHeaders(req.headers, req2.headers),
        "re-serialized request head parsed differently");
  Check(req2.body == req.body && req2.content_length == req.content_length &&
            req2.keep_alive == req.keep_alive && req2.upgrade == req.upgrade &&
            req2.expect_continue == req.expect_continue && req2.host == req.host,
        "re-serialized request head framed differently");

  CheckFramer(req.body, req.content_length, buf.substr(n), seed);
}

void FuzzResponse(std::string_view buf, uint32_t seed) {
  bool too_large = false;
  size_t n = http1::FindHeadEnd(buf, &too_large);
  if (n == 0) return;
  std::string_view head = buf.substr(0, n);
  // Responses have no leading empty lines; the session reads them the same
  // way, so any the fuzzer adds must simply be refused.
  for (bool was_head : {false, true}) {
    http1::ResponseHead resp;
    http1::ParseResult r = http1::ParseResponseHead(head, was_head, &resp);
    if (r.status != http1::ParseStatus::kOk) {
      Check(!r.reason.empty(), "a refused response head must say why");
      return;
    }
    Check(r.head_size == n, "response head_size differs from FindHeadEnd");
    Check(resp.status >= 100 && resp.status <= 999, "status out of range");
    Check(Within(head, resp.reason), "reason outside the head");
    for (const http1::Header& f : resp.headers) {
      Check(Within(head, f.name) && Within(head, f.value), "header view outside the head");
    }
    CheckWritableHeaders(resp.headers);
    Check(resp.reason.find("\r\n") == std::string_view::npos, "reason phrase spans a CRLF");
    if (was_head || resp.status < 200 || resp.status == 204 || resp.status == 304) {
      Check(resp.body == http1::BodyKind::kNone, "bodiless response given a body");
    }
    if (resp.body == http1::BodyKind::kUntilClose) {
      Check(!resp.keep_alive, "close-delimited body on a kept-alive connection");
    }
    std::string again = SerializeResponse(resp);
    http1::ResponseHead resp2;
    http1::ParseResult r2 = http1::ParseResponseHead(again, was_head, &resp2);
    Check(r2.status == http1::ParseStatus::kOk, "re-serialized response head refused");
    Check(resp2.status == resp.status && resp2.reason == resp.reason && resp2.body == resp.body &&
              resp2.content_length == resp.content_length && resp2.keep_alive == resp.keep_alive &&
              SameHeaders(resp.headers, resp2.headers),
          "re-serialized response head framed differently");
    if (resp.body != http1::BodyKind::kUntilClose) {
      CheckFramer(resp.body, resp.content_length, buf.substr(n), seed);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  uint8_t selector = data[0];
  std::string_view msg(reinterpret_cast<const char*>(data + 1), size - 1);
  uint32_t seed = selector >> 2;
  switch (selector & 3) {
    case 0:
      FuzzRequest(msg, seed);
      break;
    case 1:
      FuzzResponse(msg, seed);
      break;
    case 2:
      // Raw chunked framing, and a Content-Length taken from the first bytes.
      CheckFramer(http1::BodyKind::kChunked, 0, msg, seed);
      if (msg.size() >= 2) {
        uint64_t len = static_cast<uint8_t>(msg[0]) | (static_cast<uint8_t>(msg[1]) << 8);
        CheckFramer(http1::BodyKind::kContentLength, len, msg.substr(2), seed);
      }
      break;
    case 3: {
      // Huge heads: repeat the message past the head limit. Only the head
      // logic runs here; the byte-wise framer check would be too slow.
      if (msg.empty()) break;
      std::string big;
      size_t target = http1::kMaxHeadBytes + 2048 + (seed * 997) % 8192;
      while (big.size() < target) big.append(msg);
      CheckFindHeadEnd(big);
      bool too_large = false;
      size_t n = http1::FindHeadEnd(big, &too_large);
      if (n > 0) {
        http1::RequestHead req;
        http1::ParseRequestHead(std::string_view(big).substr(0, n), &req);
      }
      break;
    }
  }
  return 0;
}
