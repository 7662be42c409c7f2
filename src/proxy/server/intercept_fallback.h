// Per-request fallback of key-routed requests (docs/two-way-routing.md): a
// request whose route sends to an intercept cluster ("intercept:NAME", the
// holder of a developer's tunnel) goes to staging instead when the laptop
// cannot answer it: the holder cannot be reached, resets before the
// response head, or answers 503 with `x-causeway-fallback: REASON`. The
// request is then routed again with the key routes skipped and sent there,
// under a retry state of its own: a fallback is not a retry. Any other
// answer of the laptop passes through as it is.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "proxy/codec/http1.h"
#include "proxy/config/proxy_config.h"
#include "proxy/server/message_builder.h"
#include "proxy/server/proxy_counters.h"
#include "proxy/server/router_stage.h"
#include "proxy/server/stream.h"
#include "proxy/server/upstream_request.h"

namespace causeway::proxy {

// The holder's signal that it could not deliver a request (a 503 with no
// body), and the header that tells the client where its request went.
inline constexpr std::string_view kFallbackHeader = "x-causeway-fallback";
inline constexpr std::string_view kRoutedHeader = "x-causeway-routed";

// How much of a key-routed request's body the proxy waits for, and for how
// long at most, before the first attempt, so that a fallback can send the
// body again: a body that ends within both falls back, a longer or slower
// one streams to the laptop side and cannot.
inline constexpr size_t kInterceptBodyBuffer = 64 * 1024;
inline constexpr std::chrono::milliseconds kInterceptBodyWait{250};

// Why a key-routed attempt's outcome calls for staging, or nothing: the
// laptop answered (any status without the fallback header), or the
// failure is one the route's own policy handles (a timeout, an overflow).
std::optional<std::string> FallbackReason(UpstreamRequest::Result result,
                                          const http1::ResponseHead& response);

// HTTP/1.1: reads more of a key-routed request's body into down.in, until
// it is whole, kInterceptBodyBuffer bytes are buffered or kInterceptBodyWait
// has passed, so that a fallback can send it again. Not for a client that
// waits for 100 Continue (it sends nothing before it), nor over TLS (a
// cancelled read may leave the TLS session unusable).
boost::asio::awaitable<void> BufferBodyForFallback(Downstream& down);

class InterceptFallback {
 public:
  // Active when the router stage's `decision` is a key route.
  explicit InterceptFallback(const RouteDecision& decision);
  bool active() const { return active_; }
  bool fell_back() const { return fell_back_; }

  // After an attempt to the intercept cluster (and before the retry policy
  // sees it): true if the request now goes to staging. `body_sendable`:
  // the request body can still be sent (buffered whole, or not yet read);
  // when it cannot, the laptop's answer or the failure stands and `info`
  // says why no fallback happened.
  bool ShouldFallBack(UpstreamRequest::Result result, const http1::ResponseHead& response,
                      bool body_sendable, StreamInfo& info, ProxyCounters& counters);

  // The request routed again without the key routes; `info` gets its route
  // and cluster.
  RouteDecision Reroute(const ListenerConfig& listener, const http1::RequestHead& request,
                        absl::FunctionRef<uint64_t()> random, StreamInfo& info) const;

  // The response's header mutations with x-causeway-routed added, and the
  // access log's `intercept` field set; `upstream_answer`: the response
  // comes from the upstream (not a reply of the proxy's own). Unchanged
  // for a request that was not key-routed. The result points into this
  // object: it must outlive the response.
  Mutations Answer(Mutations mutations, bool upstream_answer, StreamInfo& info,
                   ProxyCounters& counters);

 private:
  bool active_ = false;
  bool fell_back_ = false;
  bool answered_ = false;
  std::string reason_;
  HeaderMutation routed_;  // the route's response mutation plus the header
};

}  // namespace causeway::proxy
