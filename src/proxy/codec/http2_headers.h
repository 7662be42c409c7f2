// Translation between HTTP/1.1 heads and HTTP/2 header lists (RFC 9113
// 8.2.2 and 8.3), for a proxy that speaks one on each side.
//
// HTTP/1.1 to HTTP/2: names lower-cased; Host becomes :authority; the
// connection-specific headers (Connection and every header it names,
// Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade) are dropped, as
// is TE unless it asks for trailers (then "te: trailers" goes on).
// HTTP/2 to HTTP/1.1: :authority becomes Host (it wins over a Host field),
// cookie crumbs are joined with "; " into one Cookie header (RFC 9113
// 8.2.3), and the target is :path (:authority for CONNECT).
#pragma once

#include <string>
#include <string_view>

#include "proxy/codec/http1.h"
#include "proxy/codec/http2_codec.h"

namespace causeway::proxy::http2 {

// An HTTP/1.1 request head with owned strings, ready to be written.
struct Http1Request {
  std::string method;
  std::string target;
  HeaderList headers;  // Host first
};

// `scheme` is the one the request arrived with ("http" or "https").
RequestHead FromHttp1Request(const http1::RequestHead& head, std::string_view scheme);
Http1Request ToHttp1Request(const RequestHead& head);

ResponseHead FromHttp1Response(const http1::ResponseHead& head);

}  // namespace causeway::proxy::http2
