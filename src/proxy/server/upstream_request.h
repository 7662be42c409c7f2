// One attempt to forward a request upstream: an endpoint picked by the
// worker's load balancer, a connection from its pool, the request head and
// body pumped to it (with 100-continue answered to the client when the body
// streams), interim 1xx responses skipped, and the response head read under
// the attempt's deadline. Once the router commits to the response, the
// response body is pumped to the client (or the tunnel takes over after a
// 101). Whether a failed attempt is followed by another is the retry
// state's call (retry_state.h), made by the caller.
//
// To an HTTP/2 cluster (or an auto one whose TLS handshake chose h2) the
// attempt is a stream on a shared connection (upstream/http2_pool.h): the
// HTTP/1.1 head and body become HEADERS and DATA (upstream_h2.cc) and the
// response comes back in HTTP/1.1 form, so everything after the connection
// is the same code for both protocols.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>

#include "proxy/config/proxy_config.h"
#include "proxy/server/message_builder.h"
#include "proxy/server/retry_state.h"
#include "proxy/server/stream.h"
#include "proxy/server/stream_idle_timeout.h"
#include "proxy/server/worker.h"
#include "proxy/upstream/circuit_breaker.h"
#include "proxy/upstream/connection_pool.h"
#include "proxy/upstream/http2_upstream_stream.h"

namespace causeway::proxy {

struct H2RequestBody;  // upstream_h2.h
struct H2BodyPump;     // upstream_h2.h

class UpstreamRequest {
 public:
  enum class Result {
    kResponse,  // a response head is in down.resp (final, or 101)
    kNoHealthyUpstream,
    kConnectFailure,
    kStale,    // a pooled connection the upstream had closed: replay it
    kReset,    // the connection failed before a response head
    kTimeout,  // the deadline passed first (per_try() says which)
    kHeadersTooLarge,
    kInvalidResponse,
    kContinueFailed,     // writing 100 Continue to the client failed (nothing logged)
    kClientGone,         // the client went away mid-body (logged: status 0, DC)
    kBadRequestBody,     // the streamed body's chunked framing was malformed (400, DPE)
    kStreamIdleTimeout,  // the streamed body made no progress for stream_idle_timeout (408)
    kRequestTimeout,     // the body was not all in within request_timeout (408)
    kOverflow,           // over a circuit breaker limit of the cluster (503, UO)
  };
  // How the request body goes with this attempt: wholly buffered in
  // down.in (replayable) or streamed from the client as it arrives.
  struct Body {
    bool replayable = true;
    size_t buffered = 0;  // bytes of down.in that are the body, if replayable
  };

  // `down.up_out` holds the serialized request head.
  UpstreamRequest(Worker& worker, Downstream& down, StreamInfo& info, RetryState& retry,
                  const ClusterConfig& cluster);
  ~UpstreamRequest();  // ends the request's count against its endpoint
  UpstreamRequest(const UpstreamRequest&) = delete;
  UpstreamRequest& operator=(const UpstreamRequest&) = delete;

  // Picks an endpoint matching `subset` (preferring one other than `avoid`),
  // sends the request and waits for the response head.
  boost::asio::awaitable<Result> Run(const LbMetadata& subset, const Endpoint* avoid, Body body);

  // After kResponse, once no retry follows: the response to the client.
  struct Ending {
    bool keep_alive = false;  // the downstream connection serves another request
    bool log = true;          // the request is logged (not after a stray 101)
  };
  // `must_close`: the connection ends after this response whatever the
  // upstream says (the client asked, or the proxy drains).
  boost::asio::awaitable<Ending> ForwardResponse(Mutations response_mutations, bool must_close);

  // After a 101: the attempt's connection, whose buffer begins with the
  // response head (response_head_size() bytes), for an HTTP/2 stream that
  // carries the upgraded bytes itself (h2_stream_tunnel.cc).
  UpstreamConnection* upgraded_connection() { return conn_.get(); }
  size_t response_head_size() const { return head_size_; }
  const Endpoint* endpoint() const { return endpoint_; }
  bool per_try() const { return per_try_; }

 private:
  // `status`: the 5xx answered, or 0 for a failure of the proxy's own.
  void CountError(int status = 0);
  void NoteConnectFailure(const absl::Status& status);
  // Outlier detection and circuit breakers (upstream_request_policies.cc).
  void RecordOutcome(int status);
  bool TakeRequestSlot();
  bool CountNewConnection();
  void BeginActive();
  // A connection from the HTTP/1.1 pool becomes the attempt's: counted,
  // and watched by a client's reset.
  Result TakeConnection(std::unique_ptr<UpstreamConnection> conn);
  // HTTP/2 (upstream_h2.cc): a stream to the endpoint, opened with the head
  // in down_.up_out (or, for auto, an HTTP/1.1 connection if ALPN chose it).
  boost::asio::awaitable<Result> AcquireH2(Body body);
  Result OpenH2Stream();
  // Request body bytes in their HTTP/1.1 framing, as DATA.
  boost::asio::awaitable<IoResult> WriteH2Body(std::string_view framed);
  // A streamed body over HTTP/2 goes on while the response is read.
  void StartH2BodyPump();
  boost::asio::awaitable<void> PumpH2Body();
  // The body pump made progress: false once the stream idle timeout fired.
  bool TouchH2BodyWatch();
  // Stops the body (if it is still going) and waits for it to let go.
  boost::asio::awaitable<void> JoinH2BodyPump();
  // The socket the attempt's timeouts and a client's reset act on.
  boost::asio::ip::tcp::socket& UpSocket() {
    return h2_ != nullptr ? h2_->handle() : conn_->socket;
  }
  // The response bytes read and not yet used.
  ByteBuffer& UpBuffer() { return h2_ != nullptr ? h2_->buffer() : conn_->buffer; }
  boost::asio::awaitable<Result> SendStreamed(boost::system::error_code* ec);
  boost::asio::awaitable<Result> StreamBody();
  boost::asio::awaitable<Result> AwaitHead();
  Result HeadMissing(bool too_large);
  boost::asio::awaitable<Ending> ForwardUpgrade(Mutations response_mutations);
  struct Pump {
    bool upstream_ok = true;
    bool downstream_ok = true;
    bool eof_end = false;  // a body delimited by the connection's end ended
    bool idle = false;     // no progress for stream_idle_timeout
  };
  // The stream idle timeout over both sockets, made on first use: only
  // bodies that wait on a peer need it (stream_idle_timeout.h).
  StreamIdleTimeout& WatchStream();
  // The end of a streamed body that timed out, counted.
  Result BodyTimedOut(StreamIdleTimeout::Fired fired);
  // Mid-response failure: the flags and details the access log gets.
  void LogMidBodyFailure(const Pump& pump, bool timed_out);
  boost::asio::awaitable<void> PumpResponseBody(http1::BodyFramer& framer, Pump& pump);

  Worker& worker_;
  Downstream& down_;
  StreamInfo& info_;
  RetryState& retry_;
  const ClusterConfig& cluster_;

 public:
  const ClusterConfig& cluster() const { return cluster_; }

 private:
  const Endpoint* endpoint_ = nullptr;
  std::shared_ptr<EndpointStats> stats_;  // a copy: the worker's cache may rehash meanwhile
  std::unique_ptr<UpstreamConnection> conn_;
  std::unique_ptr<Http2UpstreamStream> h2_;  // instead of conn_ over HTTP/2
  std::unique_ptr<H2RequestBody> h2_body_;
  std::shared_ptr<H2BodyPump> h2_pump_;
  CircuitBreakerSlot request_slot_;  // the cluster's max_requests
  std::unique_ptr<StreamIdleTimeout> stream_idle_;
  bool reused_ = false;  // served requests before or waited in the pool
  bool active_ = false;  // counted in the load balancer's outstanding requests
  bool per_try_ = false;
  size_t head_size_ = 0;
  std::chrono::steady_clock::time_point sent_;
};

}  // namespace causeway::proxy
