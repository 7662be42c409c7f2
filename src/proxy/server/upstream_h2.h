// The request body of an attempt over HTTP/2 (upstream_h2.cc): the request
// path hands the body over in its HTTP/1.1 framing; DATA frames carry the
// payload alone.
#pragma once

#include <cstdint>
#include <string>

#include "proxy/codec/http1.h"
#include "proxy/server/h2_stream.h"

namespace causeway::proxy {

struct H2RequestBody {
  bool chunked = false;
  uint64_t remaining = 0;                                  // of a content-length body
  ChunkedBodyDecoder decoder;                              // of a chunked one: its payload
  http1::BodyFramer framer{http1::BodyKind::kChunked, 0};  // and where it ends
  std::string payload;                                     // decoded, reused per write
};

}  // namespace causeway::proxy
