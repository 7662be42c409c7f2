// One downstream HTTP/1.1 connection: reads requests, routes them, forwards
// them upstream with bodies streamed both ways, and writes the responses.
#pragma once

#include <array>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "proxy/codec/buffer.h"
#include "proxy/codec/http1.h"
#include "proxy/server/access_log.h"
#include "proxy/server/message_builder.h"
#include "proxy/server/watchdog.h"
#include "proxy/server/worker.h"

namespace causeway::proxy {

class Session {
 public:
  Session(Worker* worker, std::shared_ptr<ListenerState> listener,
          boost::asio::ip::tcp::socket socket);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Serves the connection until it closes; `self` keeps the session alive.
  static boost::asio::awaitable<void> Run(std::shared_ptr<Session> self);

  // The server is draining: close now if between requests, otherwise after
  // the current response.
  void OnDrain();

 private:
  struct RequestContext;
  enum class HeadResult { kOk, kClosed };

  boost::asio::awaitable<HeadResult> ReadHead(size_t* head_size);
  // Returns whether the connection stays open for another request.
  boost::asio::awaitable<bool> HandleRequest(RequestContext& ctx);
  boost::asio::awaitable<bool> Forward(RequestContext& ctx);
  boost::asio::awaitable<bool> LocalReply(RequestContext& ctx, int status, std::string_view body,
                                          std::string_view flags, Mutations mutations = {});
  boost::asio::awaitable<void> Tunnel(UpstreamConnection& upstream);
  // Consumes a request body that is wholly buffered; false if it is not.
  bool SkipBufferedBody();
  void LogRequest(RequestContext& ctx);
  bool ShouldClose() const;
  // Whether reads and writes finish at once when ready (a lightly loaded
  // worker) or queue like any Asio operation: server/immediate_io.h.
  bool AtOnce() const;

  Worker* worker_;
  std::shared_ptr<ListenerState> listener_;
  boost::asio::ip::tcp::socket socket_;
  Watchdog watchdog_;
  ByteBuffer in_;
  // Where an idle connection's next request is first read (ReadHead): small
  // enough to keep per connection, large enough for most request heads.
  std::array<char, 512> idle_read_;
  std::string head_;  // copy of the current request head; req_ points into it
  http1::RequestHead req_;
  http1::ResponseHead resp_;
  std::string out_;     // serialized downstream head
  std::string up_out_;  // serialized upstream head
  bool idle_ = false;   // waiting for the first byte of a request
  bool body_consumed_ = true;
};

}  // namespace causeway::proxy
