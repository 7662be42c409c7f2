// Where a request's body comes from and its response goes when the client
// does not speak HTTP/1.1 on the connection itself: an HTTP/2 stream
// (h2_stream.h). UpstreamRequest carries both kinds of request; it tests
// Downstream::sink once per head or body chunk (null: the HTTP/1.1 socket,
// as before), so the HTTP/1.1 path pays a pointer test and no virtual call.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <string_view>

#include "proxy/server/immediate_io.h"

namespace causeway::proxy {

class StreamSink {
 public:
  virtual ~StreamSink() = default;
  // Request body bytes in HTTP/1.1 framing (the head the upstream gets says
  // which), as a socket read would give them: eof once all came, an error
  // when the client reset the stream.
  virtual boost::asio::awaitable<IoResult> ReadBody(boost::asio::mutable_buffer buffer) = 0;
  // The response head as serialized for an HTTP/1.1 client (mutations
  // applied), the body bytes that came with it, and whether they end it.
  virtual boost::asio::awaitable<IoResult> WriteHead(std::string_view http1_head,
                                                     std::string_view body, bool end) = 0;
  // More of the response body; returns once the client's window took it.
  virtual boost::asio::awaitable<IoResult> WriteBody(std::string_view body, bool end) = 0;
  // The upstream connection of the attempt in flight (nullptr: none), closed
  // if the client resets the stream.
  virtual void SetUpstream(boost::asio::ip::tcp::socket* socket) = 0;
};

}  // namespace causeway::proxy
