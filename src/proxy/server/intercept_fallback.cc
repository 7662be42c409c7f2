#include "proxy/server/intercept_fallback.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "proxy/router/router.h"
#include "proxy/server/transport_io.h"

namespace causeway::proxy {
using Result = UpstreamRequest::Result;

namespace {

// The holder's reasons are short tokens (no-tunnel, tunnel-reset, ...); a
// value that is not one is not repeated to the client or the log.
std::string ReasonToken(std::string_view raw) {
  // Debian's Abseil has its own string_view.
  absl::string_view value = absl::StripAsciiWhitespace(absl::string_view(raw.data(), raw.size()));
  if (value.empty() || value.size() > 64) return "unknown";
  for (char c : value) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.') return "unknown";
  }
  return absl::AsciiStrToLower(value);
}

}  // namespace

std::optional<std::string> FallbackReason(Result result, const http1::ResponseHead& response) {
  switch (result) {
    case Result::kConnectFailure:
    case Result::kNoHealthyUpstream:  // the cluster has no endpoint left
      return "connect-failed";
    case Result::kReset:
      return "reset";
    case Result::kResponse:
      if (response.status != 503) return std::nullopt;
      for (const http1::Header& h : response.headers) {
        if (http1::EqualsIgnoreCase(h.name, kFallbackHeader)) return ReasonToken(h.value);
      }
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

boost::asio::awaitable<void> BufferBodyForFallback(Downstream& down) {
  if (down.body_consumed || down.req.expect_continue || down.tls != nullptr ||
      down.sink != nullptr) {
    co_return;
  }
  bool armed = false;
  while (down.in.size() < kInterceptBodyBuffer) {
    http1::BodyFramer probe(down.req.body, down.req.content_length);
    const http1::BodyFramer::Step step = probe.Feed(down.in.View());
    if (step.done || step.error) break;
    if (!armed) {  // a read the deadline cancels; the socket stays usable
      down.watchdog.Arm(kInterceptBodyWait, &down.socket, Watchdog::OnExpiry::kCancel);
      armed = true;
    }
    char* dst = down.in.Prepare(kReadChunk);
    auto [ec, got] = co_await ReadSomeFrom(
        down.socket, nullptr, boost::asio::buffer(dst, down.in.writable()), down.AtOnce());
    if (ec) break;  // the deadline, or a client gone (the attempt will see)
    down.in.Commit(got);
  }
  if (armed) down.watchdog.Disarm();
}

InterceptFallback::InterceptFallback(const RouteDecision& decision)
    : active_(decision.kind == RouteDecision::Kind::kForward && decision.route != nullptr &&
              IsInterceptRoute(*decision.route)) {}

bool InterceptFallback::ShouldFallBack(Result result, const http1::ResponseHead& response,
                                       bool body_sendable, StreamInfo& info,
                                       ProxyCounters& counters) {
  if (!active_ || fell_back_) return false;
  std::optional<std::string> reason = FallbackReason(result, response);
  if (!reason) return false;
  reason_ = *std::move(reason);
  if (!body_sendable) {
    // The body went to the holder as it arrived and is not kept: staging
    // cannot be given it, so the laptop side's answer stands.
    info.details = "intercept_fallback_body_not_replayable";
    return false;
  }
  fell_back_ = true;
  Count(counters.intercept_fallback);
  return true;
}

RouteDecision InterceptFallback::Reroute(const ListenerConfig& listener,
                                         const http1::RequestHead& request,
                                         absl::FunctionRef<uint64_t()> random,
                                         StreamInfo& info) const {
  RouteDecision d =
      DecideRoute(info.config.get(), listener, request, random, /*skip_intercept_routes=*/true);
  info.route = d.route;
  info.cluster = d.cluster_name;
  info.connect_failure.clear();  // the laptop side's, not staging's
  return d;
}

Mutations InterceptFallback::Answer(Mutations mutations, bool upstream_answer, StreamInfo& info,
                                    ProxyCounters& counters) {
  if (!active_) return mutations;
  std::string value;
  if (fell_back_) {
    value = absl::StrCat("staging; fallback=", reason_);
  } else if (!reason_.empty()) {
    // A fallback was called for but the body could not follow: the client
    // gets what the laptop side answered, without a claim of where it went.
    info.intercept = absl::StrCat("unrouted; fallback=", reason_);
    return mutations;
  } else {
    value = "laptop";
    if (upstream_answer && !answered_) Count(counters.intercept_laptop);
  }
  answered_ = true;
  info.intercept = value;
  routed_ = mutations[0] != nullptr ? *mutations[0] : HeaderMutation{};
  routed_.add.push_back(HeaderMutation::Add{std::string(kRoutedHeader), std::move(value),
                                            HeaderMutation::Add::Action::kOverwrite});
  mutations[0] = &routed_;
  return mutations;
}

}  // namespace causeway::proxy
