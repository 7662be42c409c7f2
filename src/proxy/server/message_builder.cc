#include "proxy/server/message_builder.h"

#include <algorithm>
#include <iterator>

#include "absl/strings/str_cat.h"

namespace causeway::proxy {
namespace {

using http1::EqualsIgnoreCase;
using http1::Header;

void Append(std::string* out, std::string_view s) { out->append(s.data(), s.size()); }

void AppendHeader(std::string* out, std::string_view name, std::string_view value) {
  Append(out, name);
  out->append(": ");
  Append(out, value);
  out->append("\r\n");
}

// Connection-scoped headers (RFC 9110 7.6.1) plus those the proxy rewrites.
bool IsHopByHop(std::string_view name) {
  return EqualsIgnoreCase(name, "connection") || EqualsIgnoreCase(name, "keep-alive") ||
         EqualsIgnoreCase(name, "proxy-connection") || EqualsIgnoreCase(name, "te") ||
         EqualsIgnoreCase(name, "upgrade") || EqualsIgnoreCase(name, "transfer-encoding");
}

bool Present(const std::vector<Header>& headers, std::string_view name) {
  for (const Header& h : headers) {
    if (EqualsIgnoreCase(h.name, name)) return true;
  }
  return false;
}

bool SuppressedByMutation(std::string_view name, Mutations mutations) {
  for (const HeaderMutation* m : mutations) {
    if (m == nullptr) continue;
    for (const std::string& r : m->remove) {
      if (EqualsIgnoreCase(name, r)) return true;
    }
    for (const HeaderMutation::Add& a : m->add) {
      if ((a.action == HeaderMutation::Add::Action::kOverwrite ||
           a.action == HeaderMutation::Add::Action::kOverwriteIfExists) &&
          EqualsIgnoreCase(name, a.name)) {
        return true;
      }
    }
  }
  return false;
}

void AppendAdditions(const std::vector<Header>& original, Mutations mutations, std::string* out) {
  for (const HeaderMutation* m : mutations) {
    if (m == nullptr) continue;
    for (const HeaderMutation::Add& a : m->add) {
      bool exists = Present(original, a.name);
      bool emit = true;
      if (a.action == HeaderMutation::Add::Action::kAddIfAbsent) emit = !exists;
      if (a.action == HeaderMutation::Add::Action::kOverwriteIfExists) emit = exists;
      if (emit) AppendHeader(out, a.name, a.value);
    }
  }
}

}  // namespace

std::string_view ReasonPhrase(int status) {
  // RFC 9110's codes, in order (a binary search: no allocation, no static
  // initialisation).
  struct Entry {
    int status;
    std::string_view reason;
  };
  static constexpr Entry kPhrases[] = {
      {100, "Continue"},
      {101, "Switching Protocols"},
      {200, "OK"},
      {201, "Created"},
      {202, "Accepted"},
      {203, "Non-Authoritative Information"},
      {204, "No Content"},
      {205, "Reset Content"},
      {206, "Partial Content"},
      {300, "Multiple Choices"},
      {301, "Moved Permanently"},
      {302, "Found"},
      {303, "See Other"},
      {304, "Not Modified"},
      {305, "Use Proxy"},
      {307, "Temporary Redirect"},
      {308, "Permanent Redirect"},
      {400, "Bad Request"},
      {401, "Unauthorized"},
      {402, "Payment Required"},
      {403, "Forbidden"},
      {404, "Not Found"},
      {405, "Method Not Allowed"},
      {406, "Not Acceptable"},
      {407, "Proxy Authentication Required"},
      {408, "Request Timeout"},
      {409, "Conflict"},
      {410, "Gone"},
      {411, "Length Required"},
      {412, "Precondition Failed"},
      {413, "Content Too Large"},
      {414, "URI Too Long"},
      {415, "Unsupported Media Type"},
      {416, "Range Not Satisfiable"},
      {417, "Expectation Failed"},
      {421, "Misdirected Request"},
      {422, "Unprocessable Content"},
      {426, "Upgrade Required"},
      {428, "Precondition Required"},
      {429, "Too Many Requests"},
      {431, "Request Header Fields Too Large"},
      {500, "Internal Server Error"},
      {501, "Not Implemented"},
      {502, "Bad Gateway"},
      {503, "Service Unavailable"},
      {504, "Gateway Timeout"},
      {505, "HTTP Version Not Supported"},
  };
  const Entry* it = std::lower_bound(std::begin(kPhrases), std::end(kPhrases), status,
                                     [](const Entry& e, int s) { return e.status < s; });
  return it != std::end(kPhrases) && it->status == status ? it->reason : std::string_view();
}

bool SafeReasonPhrase(std::string_view reason) {
  for (char ch : reason) {
    auto c = static_cast<unsigned char>(ch);
    if (c != ' ' && c != '\t' && (c < 0x21 || c > 0x7e)) return false;
  }
  return true;
}

void BuildUpstreamRequest(const http1::RequestHead& request, const UpstreamRequestParams& params,
                          Mutations mutations, std::string* out) {
  out->clear();
  Append(out, request.method);
  out->push_back(' ');
  Append(out, params.target);
  // An HTTP/1.0 client cannot take a chunked response, so the upstream is
  // asked in HTTP/1.0 too (keeping the upstream connection alive explicitly).
  out->append(request.version_minor == 0 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
  AppendHeader(out, "host", params.host);
  bool te_trailers = false;
  for (const Header& h : request.headers) {
    // TE is hop-by-hop, but "trailers" says the client takes trailer fields,
    // which gRPC servers require of every hop (Envoy keeps it too).
    if (EqualsIgnoreCase(h.name, "te")) {
      te_trailers = te_trailers || http1::HasToken(h.value, "trailers");
    }
    if (IsHopByHop(h.name) || EqualsIgnoreCase(h.name, "host") ||
        EqualsIgnoreCase(h.name, "expect") ||  // 100-continue is answered by the proxy
        SuppressedByMutation(h.name, mutations)) {
      continue;
    }
    AppendHeader(out, h.name, h.value);
  }
  AppendAdditions(request.headers, mutations, out);
  if (te_trailers) out->append("te: trailers\r\n");
  if (request.body == http1::BodyKind::kChunked) out->append("transfer-encoding: chunked\r\n");
  if (params.upgrade) {
    for (const Header& h : request.headers) {
      if (EqualsIgnoreCase(h.name, "upgrade")) AppendHeader(out, "upgrade", h.value);
    }
    out->append("connection: upgrade\r\n");
  } else if (request.version_minor == 0) {
    out->append("connection: keep-alive\r\n");
  }
  out->append("\r\n");
}

bool BuildDownstreamResponse(const http1::ResponseHead& response, int downstream_minor, bool close,
                             Mutations mutations, std::string* out) {
  out->clear();
  absl::StrAppend(out, "HTTP/1.1 ", response.status, " ");
  // Header names and values reach here already checked by the parser
  // (http1.cc: tchar names, no CTL but HTAB in values); the reason phrase is
  // only cut at the first CRLF, so a bare CR or LF, a NUL or another control
  // character can be in it.
  const bool replaced = !SafeReasonPhrase(response.reason);
  if (response.reason.empty() || replaced) {
    Append(out, ReasonPhrase(response.status));
  } else {
    Append(out, response.reason);
  }
  out->append("\r\n");
  bool upgrade = response.status == 101;
  for (const Header& h : response.headers) {
    bool keep_framing = EqualsIgnoreCase(h.name, "transfer-encoding") ||
                        (upgrade && EqualsIgnoreCase(h.name, "upgrade"));
    if ((IsHopByHop(h.name) && !keep_framing) || SuppressedByMutation(h.name, mutations)) continue;
    AppendHeader(out, h.name, h.value);
  }
  AppendAdditions(response.headers, mutations, out);
  if (upgrade) {
    out->append("connection: upgrade\r\n");
  } else if (close) {
    out->append("connection: close\r\n");
  } else if (downstream_minor == 0) {
    out->append("connection: keep-alive\r\n");
  }
  out->append("\r\n");
  return replaced;
}

void BuildLocalReply(int status, std::string_view body, bool close, bool head_only,
                     Mutations mutations, std::string* out) {
  out->clear();
  absl::StrAppend(out, "HTTP/1.1 ", status, " ");
  Append(out, ReasonPhrase(status));
  out->append("\r\n");
  static const std::vector<Header> kNone;
  if (!SuppressedByMutation("content-type", mutations)) {
    out->append("content-type: text/plain\r\n");
  }
  absl::StrAppend(out, "content-length: ", body.size(), "\r\n");
  AppendAdditions(kNone, mutations, out);
  if (close) out->append("connection: close\r\n");
  out->append("\r\n");
  if (!head_only) Append(out, body);
}

}  // namespace causeway::proxy
