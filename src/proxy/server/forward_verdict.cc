#include "proxy/server/forward_verdict.h"

#include <string>
#include <utility>

namespace causeway::proxy {
using Result = UpstreamRequest::Result;

Verdict FailureReply(int status, std::string_view body, std::string_view flags) {
  return {Verdict::Kind::kReply, status, body, flags};
}

namespace {

const HeaderMutation* NewFallbackSignal(std::string reason) {
  auto* m = new HeaderMutation;
  m->add.push_back(
      {"x-causeway-fallback", std::move(reason), HeaderMutation::Add::Action::kOverwrite});
  return m;
}

// A cluster whose connect failures fall back: the laptop's local service
// (local-refused), or on the holder a laptop's tunnel, whose cluster is
// named tunnel:NAME (tunnel/forward_config.cc), a name no Cluster object
// can have. A tunnel lost is noticed at the holder's next PING; until then
// its requests find no connection, and staging should answer them.
const HeaderMutation* ConnectFailureSignal(const ClusterConfig& cluster) {
  return cluster.name.starts_with("tunnel:") ? &TunnelResetSignal() : &LocalRefusedSignal();
}

}  // namespace

const HeaderMutation& LocalRefusedSignal() {
  static const HeaderMutation* const kSignal = NewFallbackSignal("local-refused");
  return *kSignal;
}

const HeaderMutation& TunnelResetSignal() {
  static const HeaderMutation* const kSignal = NewFallbackSignal("tunnel-reset");
  return *kSignal;
}

Mutations WithSignal(Mutations answer, const Verdict& v) {
  if (v.signal != nullptr) answer[2] = v.signal;
  return answer;
}

namespace {

// An upstream timeout, counted and named for the access log.
Verdict TimeoutVerdict(const UpstreamRequest& attempt, RetryState& retry, StreamInfo& info,
                       ProxyCounters& counters) {
  if (attempt.per_try()) {
    Count(counters.upstream_rq_per_try_timeout);
    if (retry.ShouldRetry(RetryState::Failure::kPerTryTimeout)) return {Verdict::Kind::kRetry};
    info.details = "upstream_per_try_timeout";
  } else {
    Count(counters.upstream_rq_timeout);
    info.details = "upstream_response_timeout";
  }
  return FailureReply(504, "upstream request timeout\n", "UT");
}

}  // namespace

Verdict Judge(Result r, const UpstreamRequest& attempt, RetryState& retry, StreamInfo& info,
              ProxyCounters& counters) {
  using F = RetryState::Failure;
  switch (r) {
    case Result::kNoHealthyUpstream:
      return FailureReply(503, "no healthy upstream\n", "UH");
    case Result::kOverflow:
      return FailureReply(503, "upstream overflow\n", "UO");
    case Result::kConnectFailure:
      if (retry.ShouldRetry(F::kConnectFailure)) return {Verdict::Kind::kRetry};
      if (!info.connect_failure.empty()) info.details = info.connect_failure;
      if (attempt.cluster().connect_failure_fallback) {
        Verdict v = FailureReply(503, "", "UF");
        v.signal = ConnectFailureSignal(attempt.cluster());
        return v;
      }
      return FailureReply(503, "upstream connect failure\n", "UF");
    case Result::kStale:
      retry.TakeStaleRetry();
      return {Verdict::Kind::kReplay};
    case Result::kReset:
      if (retry.ShouldRetry(F::kReset)) return {Verdict::Kind::kRetry};
      return FailureReply(503, "upstream reset before response\n", "UR");
    case Result::kTimeout:
      return TimeoutVerdict(attempt, retry, info, counters);
    case Result::kStreamIdleTimeout:
      info.details = "stream_idle_timeout";
      return FailureReply(408, "stream timeout\n", "SI");
    case Result::kRequestTimeout:
      info.details = "request_overall_timeout";
      return FailureReply(408, "request timeout\n", "");
    case Result::kHeadersTooLarge:
      return FailureReply(502, "upstream response headers too large\n", "UPE");
    case Result::kInvalidResponse:
      return FailureReply(502, "invalid upstream response\n", "UPE");
    case Result::kContinueFailed:
      return {Verdict::Kind::kEnd, 0, {}, {}, /*log=*/false};
    case Result::kClientGone:
      // The client went away mid-body: nothing to answer.
      info.status = 0;
      info.flags = "DC";
      return {Verdict::Kind::kEnd};
    case Result::kBadRequestBody:
      info.status = 400;
      info.flags = "DPE";
      return {Verdict::Kind::kEnd};
    case Result::kResponse:
      break;
  }
  return {Verdict::Kind::kEnd};
}

}  // namespace causeway::proxy
