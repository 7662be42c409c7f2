// The request body of an attempt over HTTP/2 (upstream_h2.cc): the request
// path hands the body over in its HTTP/1.1 framing; DATA frames carry the
// payload alone.
#pragma once

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
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

// A streamed request body going upstream while the response comes back
// (gRPC's streaming calls need both at once): its own coroutine, which the
// attempt cancels and waits for before it ends.
struct H2BodyPump {
  explicit H2BodyPump(const boost::asio::any_io_executor& ex) : joined(ex) {}
  boost::asio::cancellation_signal cancel;
  boost::asio::steady_timer joined;  // a signal: cancel() wakes the joiner
  bool done = false;
};

}  // namespace causeway::proxy
