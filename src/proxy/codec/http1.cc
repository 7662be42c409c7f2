#include "proxy/codec/http1.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace causeway::proxy::http1 {
namespace {

// RFC 9110 tchar.
bool IsTchar(unsigned char c) {
  static constexpr auto kTable = [] {
    std::array<bool, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
    return t;
  }();
  return kTable[c];
}

// Field values: visible characters, SP, HTAB and obs-text; no CTLs.
bool IsValueChar(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

ParseResult Bad(std::string_view reason) { return {ParseStatus::kBadRequest, 0, reason}; }

// Splits header lines after the start line into `headers`. `rest` starts
// after the start line's CRLF and ends with the final CRLF.
ParseResult ParseHeaderLines(std::string_view rest, std::vector<Header>* headers) {
  headers->clear();
  while (true) {
    size_t eol = rest.find('\n');
    if (eol == std::string_view::npos || eol == 0 || rest[eol - 1] != '\r') {
      return Bad("bare LF or unterminated header line");
    }
    std::string_view line = rest.substr(0, eol - 1);
    rest.remove_prefix(eol + 1);
    if (line.empty()) return {ParseStatus::kOk, 0, {}};
    if (line[0] == ' ' || line[0] == '\t') return Bad("obsolete header line folding");
    size_t colon = 0;
    while (colon < line.size() && IsTchar(static_cast<unsigned char>(line[colon]))) ++colon;
    if (colon == 0 || colon >= line.size() || line[colon] != ':') {
      return Bad("invalid header name");
    }
    std::string_view value = line.substr(colon + 1);
    for (char c : value) {
      if (!IsValueChar(static_cast<unsigned char>(c))) return Bad("invalid header value");
    }
    headers->push_back({line.substr(0, colon), TrimOws(value)});
  }
}

bool ParseVersion(std::string_view v, int* minor) {
  if (v.size() != 8 || v.substr(0, 7) != "HTTP/1.") return false;
  if (v[7] != '0' && v[7] != '1') return false;
  *minor = v[7] - '0';
  return true;
}

// Parses a Content-Length value: digits only, no sign, no list, no overflow.
bool ParseContentLength(std::string_view v, uint64_t* out) {
  if (v.empty() || v.size() > 18) return false;
  uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = n;
  return true;
}

struct Framing {
  int content_length_count = 0;
  int transfer_encoding_count = 0;
  uint64_t content_length = 0;
  bool content_length_ok = true;
  bool chunked = false;  // the (only) Transfer-Encoding is exactly "chunked"
  bool connection_close = false;
  bool connection_keep_alive = false;
  bool connection_upgrade = false;
};

void ScanFraming(const std::vector<Header>& headers, Framing* f) {
  for (const Header& h : headers) {
    if (EqualsIgnoreCase(h.name, "content-length")) {
      ++f->content_length_count;
      if (!ParseContentLength(h.value, &f->content_length)) f->content_length_ok = false;
    } else if (EqualsIgnoreCase(h.name, "transfer-encoding")) {
      ++f->transfer_encoding_count;
      f->chunked = EqualsIgnoreCase(h.value, "chunked");
    } else if (EqualsIgnoreCase(h.name, "connection")) {
      if (HasToken(h.value, "close")) f->connection_close = true;
      if (HasToken(h.value, "keep-alive")) f->connection_keep_alive = true;
      if (HasToken(h.value, "upgrade")) f->connection_upgrade = true;
    }
  }
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

bool HasToken(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = TrimOws(list.substr(0, comma));
    if (EqualsIgnoreCase(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

size_t FindHeadEnd(std::string_view buf, bool* too_large) {
  *too_large = false;
  // Leading empty lines before a request line are tolerated (RFC 9112 2.2),
  // but they count toward the head limit: otherwise a peer sending only
  // CRLFs would make the caller buffer without bound.
  size_t start = 0;
  while (start + 1 < buf.size() && buf[start] == '\r' && buf[start + 1] == '\n') start += 2;
  size_t limit = std::min(buf.size(), kMaxHeadBytes);
  std::string_view window = buf.substr(0, limit);
  size_t pos = start <= limit ? window.find("\r\n\r\n", start) : std::string_view::npos;
  if (pos != std::string_view::npos) return pos + 4;
  if (buf.size() >= kMaxHeadBytes) *too_large = true;
  return 0;
}

ParseResult ParseRequestHead(std::string_view head, RequestHead* out) {
  size_t head_size = head.size();
  while (head.size() >= 2 && head[0] == '\r' && head[1] == '\n') head.remove_prefix(2);
  size_t eol = head.find("\r\n");
  if (eol == std::string_view::npos) return Bad("unterminated request line");
  std::string_view line = head.substr(0, eol);
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return Bad("malformed request line");
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return Bad("malformed request line");
  out->method = line.substr(0, sp1);
  out->target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  for (char c : out->method) {
    if (!IsTchar(static_cast<unsigned char>(c))) return Bad("invalid method");
  }
  for (char c : out->target) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return Bad("invalid request target");
  }
  if (!ParseVersion(line.substr(sp2 + 1), &out->version_minor)) {
    return Bad("unsupported HTTP version");
  }
  ParseResult r = ParseHeaderLines(head.substr(eol + 2), &out->headers);
  if (r.status != ParseStatus::kOk) return r;

  Framing f;
  ScanFraming(out->headers, &f);
  int host_count = 0;
  out->host = {};
  out->expect_continue = false;
  bool has_upgrade = false;
  for (const Header& h : out->headers) {
    if (EqualsIgnoreCase(h.name, "host")) {
      ++host_count;
      out->host = h.value;
    } else if (EqualsIgnoreCase(h.name, "expect")) {
      out->expect_continue = EqualsIgnoreCase(h.value, "100-continue");
    } else if (EqualsIgnoreCase(h.name, "upgrade")) {
      has_upgrade = true;
    }
  }
  if (host_count > 1) return Bad("multiple Host headers");
  if (host_count == 0 && out->version_minor == 1) return Bad("missing Host header");

  // Request smuggling defence (RFC 9112 6.1, 6.3): any ambiguity in framing
  // is refused rather than resolved.
  if (f.transfer_encoding_count > 0) {
    if (f.content_length_count > 0) return Bad("both Content-Length and Transfer-Encoding");
    if (out->version_minor == 0) return Bad("Transfer-Encoding in an HTTP/1.0 request");
    if (f.transfer_encoding_count > 1 || !f.chunked) return Bad("unsupported Transfer-Encoding");
    out->body = BodyKind::kChunked;
  } else if (f.content_length_count > 1) {
    return Bad("duplicate Content-Length");
  } else if (f.content_length_count == 1) {
    if (!f.content_length_ok) return Bad("invalid Content-Length");
    out->content_length = f.content_length;
    out->body = f.content_length > 0 ? BodyKind::kContentLength : BodyKind::kNone;
  } else {
    out->body = BodyKind::kNone;
    out->content_length = 0;
  }
  out->keep_alive = out->version_minor == 1 ? !f.connection_close
                                            : (f.connection_keep_alive && !f.connection_close);
  out->upgrade = f.connection_upgrade && has_upgrade;
  out->is_head = out->method == "HEAD";
  return {ParseStatus::kOk, head_size, {}};
}

ParseResult ParseResponseHead(std::string_view head, bool request_was_head, ResponseHead* out) {
  size_t head_size = head.size();
  size_t eol = head.find("\r\n");
  if (eol == std::string_view::npos) return Bad("unterminated status line");
  std::string_view line = head.substr(0, eol);
  if (line.size() < 12 || !ParseVersion(line.substr(0, 8), &out->version_minor) || line[8] != ' ') {
    return Bad("malformed status line");
  }
  int status = 0;
  for (int i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return Bad("malformed status code");
    status = status * 10 + (line[i] - '0');
  }
  if (status < 100 || (line.size() > 12 && line[12] != ' ')) return Bad("malformed status code");
  out->status = status;
  out->reason = line.size() > 13 ? line.substr(13) : std::string_view();
  ParseResult r = ParseHeaderLines(head.substr(eol + 2), &out->headers);
  if (r.status != ParseStatus::kOk) return r;

  Framing f;
  ScanFraming(out->headers, &f);
  out->keep_alive = out->version_minor == 1 ? !f.connection_close
                                            : (f.connection_keep_alive && !f.connection_close);
  out->content_length = 0;
  if (request_was_head || status < 200 || status == 204 || status == 304) {
    out->body = BodyKind::kNone;
  } else if (f.transfer_encoding_count > 0) {
    if (f.content_length_count > 0) return Bad("both Content-Length and Transfer-Encoding");
    if (f.transfer_encoding_count == 1 && f.chunked) {
      out->body = BodyKind::kChunked;
    } else {
      out->body = BodyKind::kUntilClose;
      out->keep_alive = false;
    }
  } else if (f.content_length_count > 0) {
    if (f.content_length_count > 1 || !f.content_length_ok) return Bad("invalid Content-Length");
    out->content_length = f.content_length;
    out->body = f.content_length > 0 ? BodyKind::kContentLength : BodyKind::kNone;
  } else {
    out->body = BodyKind::kUntilClose;
    out->keep_alive = false;
  }
  return {ParseStatus::kOk, head_size, {}};
}

void BodyFramer::Reset(BodyKind kind, uint64_t content_length) {
  kind_ = kind;
  remaining_ = content_length;
  done_ = kind == BodyKind::kNone || (kind == BodyKind::kContentLength && content_length == 0);
  state_ = ChunkState::kSize;
  chunk_size_ = 0;
  size_digits_ = 0;
  trailer_bytes_ = 0;
}

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
constexpr size_t kMaxTrailerBytes = kMaxHeadBytes;
}  // namespace

BodyFramer::Step BodyFramer::Feed(std::string_view data) {
  Step step;
  if (done_) {
    step.done = true;
    return step;
  }
  switch (kind_) {
    case BodyKind::kNone:
      step.done = done_ = true;
      return step;
    case BodyKind::kUntilClose:
      step.consumed = data.size();
      return step;
    case BodyKind::kContentLength: {
      uint64_t n = std::min<uint64_t>(remaining_, data.size());
      remaining_ -= n;
      step.consumed = static_cast<size_t>(n);
      step.done = done_ = remaining_ == 0;
      return step;
    }
    case BodyKind::kChunked:
      break;
  }
  return FeedChunked(data);
}

// Chunk data is taken in runs; every other state takes one byte at a time, so
// a framing error names the offset of the byte that broke it.
BodyFramer::Step BodyFramer::FeedChunked(std::string_view data) {
  size_t i = 0;
  while (i < data.size() && !done_) {
    if (state_ == ChunkState::kData) {
      uint64_t n = std::min<uint64_t>(remaining_, data.size() - i);
      remaining_ -= n;
      i += static_cast<size_t>(n);
      if (remaining_ == 0) state_ = ChunkState::kDataCr;
      continue;
    }
    if (!FramingByte(data[i])) return {i, false, true};
    ++i;
  }
  return {i, done_, false};
}

bool BodyFramer::FramingByte(char c) {
  switch (state_) {
    case ChunkState::kSize:
    case ChunkState::kExt:
    case ChunkState::kSizeLf:
      return SizeLineByte(c);
    case ChunkState::kData:  // taken in runs by FeedChunked
      return true;
    case ChunkState::kDataCr:
      if (c != '\r') return false;
      state_ = ChunkState::kDataLf;
      return true;
    case ChunkState::kDataLf:
      if (c != '\n') return false;
      state_ = ChunkState::kSize;
      chunk_size_ = 0;
      size_digits_ = 0;
      return true;
    case ChunkState::kTrailerStart:
    case ChunkState::kTrailerLine:
    case ChunkState::kTrailerLf:
    case ChunkState::kFinalLf:
      return TrailerByte(c);
  }
  return false;
}

// `1a;ext=v\r\n`: hex size, optional extensions, CRLF.
bool BodyFramer::SizeLineByte(char c) {
  switch (state_) {
    case ChunkState::kSize: {
      int v = HexValue(c);
      if (v >= 0) {
        if (++size_digits_ > 15) return false;  // would overflow
        chunk_size_ = chunk_size_ * 16 + static_cast<uint64_t>(v);
        return true;
      }
      if (size_digits_ == 0) return false;
      if (c == ';') {
        state_ = ChunkState::kExt;
        return true;
      }
      if (c != '\r') return false;
      state_ = ChunkState::kSizeLf;
      return true;
    }
    case ChunkState::kExt:
      if (c == '\r') {
        state_ = ChunkState::kSizeLf;
        return true;
      }
      return IsValueChar(static_cast<unsigned char>(c));
    case ChunkState::kSizeLf:
      if (c != '\n') return false;
      state_ = chunk_size_ == 0 ? ChunkState::kTrailerStart : ChunkState::kData;
      remaining_ = chunk_size_;
      return true;
    default:
      return false;
  }
}

// After the last (zero-size) chunk: trailer lines, each bounded together by
// kMaxTrailerBytes, then the empty line that ends the body.
bool BodyFramer::TrailerByte(char c) {
  switch (state_) {
    case ChunkState::kTrailerStart:
      if (c == '\n') return false;
      state_ = c == '\r' ? ChunkState::kFinalLf : ChunkState::kTrailerLine;
      return true;
    case ChunkState::kTrailerLine:
      if (++trailer_bytes_ > kMaxTrailerBytes) return false;
      if (c == '\r') {
        state_ = ChunkState::kTrailerLf;
        return true;
      }
      return IsValueChar(static_cast<unsigned char>(c));
    case ChunkState::kTrailerLf:
      if (c != '\n') return false;
      state_ = ChunkState::kTrailerStart;
      return true;
    case ChunkState::kFinalLf:
      if (c != '\n') return false;
      done_ = true;
      return true;
    default:
      return false;
  }
}

}  // namespace causeway::proxy::http1
