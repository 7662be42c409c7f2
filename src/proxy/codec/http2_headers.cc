#include "proxy/codec/http2_headers.h"

#include <vector>

#include "absl/strings/ascii.h"

namespace causeway::proxy::http2 {
namespace {

// Headers named by Connection's tokens are hop-by-hop too (RFC 9110 7.6.1).
bool NamedByConnection(const std::vector<http1::Header>& headers, std::string_view lower_name) {
  for (const http1::Header& h : headers) {
    if (http1::EqualsIgnoreCase(h.name, "connection") && http1::HasToken(h.value, lower_name)) {
      return true;
    }
  }
  return false;
}

// HTTP/1.1 fields without the hop-by-hop ones, names lower-cased.
HeaderList FromHttp1Fields(const std::vector<http1::Header>& headers, bool drop_host) {
  HeaderList out;
  out.reserve(headers.size());
  bool te_trailers = false;
  for (const http1::Header& h : headers) {
    std::string name = absl::AsciiStrToLower(std::string(h.name));
    if (name == "te") {
      te_trailers = te_trailers || http1::HasToken(h.value, "trailers");
      continue;
    }
    if ((drop_host && name == "host") || IsConnectionSpecific(name, h.value) ||
        NamedByConnection(headers, name)) {
      continue;
    }
    out.push_back({std::move(name), std::string(h.value)});
  }
  if (te_trailers) out.push_back({"te", "trailers"});
  return out;
}

}  // namespace

RequestHead FromHttp1Request(const http1::RequestHead& head, std::string_view scheme) {
  RequestHead out;
  out.method = head.method;
  out.authority = head.host;
  if (head.method == "CONNECT") {
    if (out.authority.empty()) out.authority = head.target;
  } else {
    out.scheme = scheme;
    out.path = head.target;
  }
  out.headers = FromHttp1Fields(head.headers, /*drop_host=*/true);
  return out;
}

Http1Request ToHttp1Request(const RequestHead& head) {
  Http1Request out;
  out.method = head.method;
  out.target = head.method == "CONNECT" ? head.authority : head.path;
  std::string host = head.authority;
  std::string crumbs;
  size_t cookie_at = 0;
  HeaderList rest;
  for (const Header& h : head.headers) {
    if (h.name == "host") {
      if (host.empty()) host = h.value;
    } else if (h.name == "cookie") {
      if (crumbs.empty()) cookie_at = rest.size();
      crumbs += crumbs.empty() ? "" : "; ";
      crumbs += h.value;
    } else if (!IsConnectionSpecific(h.name, h.value)) {
      rest.push_back(h);
    }
  }
  if (!crumbs.empty()) {
    rest.insert(rest.begin() + static_cast<ptrdiff_t>(cookie_at),
                Header{"cookie", std::move(crumbs)});
  }
  out.headers.push_back({"host", std::move(host)});
  out.headers.insert(out.headers.end(), rest.begin(), rest.end());
  return out;
}

ResponseHead FromHttp1Response(const http1::ResponseHead& head) {
  return ResponseHead{head.status, FromHttp1Fields(head.headers, /*drop_host=*/false)};
}

}  // namespace causeway::proxy::http2
