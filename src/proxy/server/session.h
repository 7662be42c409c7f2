// One downstream HTTP/1.1 connection: reads request heads (the codec,
// codec/http1.h) and carries each request through the stages of the
// request path: the router stage decides where it goes (router_stage.h),
// upstream requests carry its attempts under a retry state
// (upstream_request.h, retry_state.h), a tunnel takes over after an upgrade
// (tunnel.h). The session itself keeps the connection: idle and header
// timeouts, pipelining, draining, local replies and the access log.
#pragma once

#include <array>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string_view>

#include "proxy/server/idle_list.h"
#include "proxy/server/message_builder.h"
#include "proxy/server/retry_state.h"
#include "proxy/server/router_stage.h"
#include "proxy/server/stream.h"
#include "proxy/server/upstream_request.h"
#include "proxy/server/worker.h"

namespace causeway::proxy {

class Http2Session;

class Session {
 public:
  Session(Worker* worker, std::shared_ptr<ListenerState> listener,
          boost::asio::ip::tcp::socket socket);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Serves the connection until it closes or goes idle; `self` keeps the
  // session alive. An idle connection waits without a coroutine
  // (WaitForRequest), and Run starts again when its next request comes.
  static boost::asio::awaitable<void> Run(std::shared_ptr<Session> self);
  // A connection to a listener with TLS filter chains (session_tls.cc):
  // its first byte chooses TLS (a handshake record, the chain by SNI) or the
  // clear-text chain, then Run serves it the same way.
  static boost::asio::awaitable<void> RunTls(std::shared_ptr<Session> self);

  // The server is draining: close now if between requests, otherwise after
  // the current response.
  void OnDrain();

 private:
  enum class HeadResult { kOk, kClosed };

  // Waits on an idle connection (nothing buffered) for the first bytes of
  // the next request, under the idle timeout, holding as little as it can:
  // a pending read whose handler holds `self` and starts Run again. Closes
  // the connection if it times out or drains first.
  static void WaitForRequest(std::shared_ptr<Session> self);
  void Close();
  // Waits for the first byte (session_tls.cc): 0x16 starts a TLS handshake.
  enum class FirstByte { kTls, kClearText, kNone };
  boost::asio::awaitable<FirstByte> PeekFirstByte();
  // The TLS handshake on the listener's context; false (counted) if it fails.
  boost::asio::awaitable<bool> Handshake(DownstreamTls& tls);
  // Frees what an idle connection need not keep (WaitForRequest).
  void ReleaseIdleMemory();
  // Reads, parses and carries one request; its locals live only as long as
  // the request. Returns whether the connection stays open for another.
  // `idle_armed`: the connection waited idle (WaitForRequest) and a partial
  // head gets what is left of that wait's timeout.
  boost::asio::awaitable<bool> ServeRequest(bool idle_armed);
  boost::asio::awaitable<HeadResult> ReadHead(size_t* head_size, bool idle_armed);
  // Answers a head that cannot be read (too large, too slow) and closes.
  boost::asio::awaitable<void> RefuseHead(int status, std::string_view body, std::string_view flags,
                                          std::string_view details);
  // The router stage's decision for the current request (and the request's
  // configuration snapshot and listener, kept in `info`).
  RouteDecision Decide(StreamInfo& info);
  // Carries a request the router stage sends to a cluster: attempts under
  // the route's retry policy, then the response. Returns whether the
  // connection stays open for another request (so does LocalReply).
  boost::asio::awaitable<bool> Forward(StreamInfo& info, const RouteDecision& decision);
  // The upstream request head (into down_.up_out) and how the body goes;
  // false if the buffered part of a chunked body is malformed.
  bool PrepareUpstream(StreamInfo& info, const RouteDecision& decision,
                       UpstreamRequest::Body* body);
  // Waits out the back-off before a retry; false if the route's deadline
  // passes first.
  boost::asio::awaitable<bool> BackOff(RetryState& retry);
  boost::asio::awaitable<bool> LocalReply(StreamInfo& info, int status, std::string_view body,
                                          std::string_view flags, Mutations mutations = {});
  // Whether the connection speaks HTTP/2 (codec_type, the client's
  // preface, ALPN); ServeHttp2 serves it to its end (h2_session.h).
  bool IsHttp2() const;
  boost::asio::awaitable<void> ServeHttp2();
  void StartInfo(StreamInfo& info) const;
  void LogRequest(StreamInfo& info);
  bool ShouldClose() const;

  Worker* worker_;
  std::shared_ptr<ListenerState> listener_;
  Downstream down_;
  // Where an idle connection's next request is first read (ReadHead): small
  // enough to keep per connection, large enough for most request heads.
  std::array<char, 512> idle_read_;
  bool idle_ = false;  // waiting for the first byte of a request
  // In the listener's idle list while waiting (idle_list.h): the idle
  // timeout without a timer per connection.
  IdleList::Node idle_node_;
  // The head that woke an idle connection has what is left of the idle
  // wait's timeout (Run passes it on to ReadHead).
  bool woke_from_idle_ = false;
  bool alpn_h2_ = false;                 // the TLS handshake chose "h2"
  std::unique_ptr<Http2Session> http2_;  // while serving HTTP/2
};

}  // namespace causeway::proxy
