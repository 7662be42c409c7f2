#include "proxy/server/message_builder.h"

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
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 203:
      return "Non-Authoritative Information";
    case 204:
      return "No Content";
    case 205:
      return "Reset Content";
    case 206:
      return "Partial Content";
    case 300:
      return "Multiple Choices";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 305:
      return "Use Proxy";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 402:
      return "Payment Required";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 407:
      return "Proxy Authentication Required";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 421:
      return "Misdirected Request";
    case 422:
      return "Unprocessable Content";
    case 426:
      return "Upgrade Required";
    case 428:
      return "Precondition Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "";
  }
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
  for (const Header& h : request.headers) {
    if (IsHopByHop(h.name) || EqualsIgnoreCase(h.name, "host") ||
        EqualsIgnoreCase(h.name, "expect") ||  // 100-continue is answered by the proxy
        SuppressedByMutation(h.name, mutations)) {
      continue;
    }
    AppendHeader(out, h.name, h.value);
  }
  AppendAdditions(request.headers, mutations, out);
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
