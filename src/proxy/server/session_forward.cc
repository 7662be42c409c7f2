// Session::Forward: a request the router stage sends to a cluster, carried
// through upstream requests (one per attempt) under its retry state.
#include <boost/asio/use_awaitable.hpp>

#include "proxy/router/router.h"
#include "proxy/server/session.h"
#include "proxy/server/sleep_until.h"
#include "proxy/server/upstream_request.h"

namespace causeway::proxy {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using Result = UpstreamRequest::Result;

namespace {

// What follows an attempt that produced no response to forward.
struct Verdict {
  enum class Kind { kRetry, kReplay, kReply, kEnd };
  Kind kind = Kind::kEnd;
  int status = 0;
  std::string_view body;
  std::string_view flags;
  bool log = true;  // for kEnd
};

Verdict FailureReply(int status, std::string_view body, std::string_view flags) {
  return {Verdict::Kind::kReply, status, body, flags};
}

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

// A failed attempt: retried (RetryState decides), replayed on a fresh
// connection, answered locally, or the end of the request.
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
}  // namespace

bool Session::PrepareUpstream(StreamInfo& info, const RouteDecision& d,
                              UpstreamRequest::Body* body) {
  const Route& route = *d.route;
  // A body already wholly buffered can be replayed on a retry; a longer one
  // is streamed, so once it has started only that one try is possible.
  if (!down_.body_consumed) {
    http1::BodyFramer probe(down_.req.body, down_.req.content_length);
    http1::BodyFramer::Step step = probe.Feed(down_.in.View());
    if (step.error) return false;
    body->replayable = step.done;
    body->buffered = step.done ? step.consumed : 0;
  }
  std::string rewritten = RewriteTarget(route, down_.req.target);
  UpstreamRequestParams params;
  params.target = rewritten;
  params.host = route.host_rewrite.empty() ? down_.req.host : std::string_view(route.host_rewrite);
  params.upgrade = down_.req.upgrade;
  BuildUpstreamRequest(down_.req, params, d.request_mutations, &down_.up_out);
  down_.tunnel_idle_timeout = info.listener->idle_timeout;
  return true;
}

asio::awaitable<bool> Session::Forward(StreamInfo& info, const RouteDecision& d) {
  UpstreamRequest::Body body;
  if (!PrepareUpstream(info, d, &body)) {
    down_.req.keep_alive = false;
    co_return co_await LocalReply(info, 400, "malformed chunked body\n", "DPE");
  }
  // Ends the request with a local reply after consuming a buffered body.
  auto consume_body = [&] {
    if (body.replayable && !down_.body_consumed) {
      down_.in.Consume(body.buffered);
      info.bytes_received = body.buffered;
      down_.body_consumed = true;
    }
  };
  RetryState retry(d.route->retry, d.route->timeout);
  const Endpoint* avoid = nullptr;
  while (true) {
    Verdict v;
    {  // one attempt; its connection and counts end with this scope
      ++info.attempts;
      UpstreamRequest attempt(*worker_, down_, info, retry, *d.cluster);
      Result r = co_await attempt.Run(d.target->metadata_match, avoid, body);
      avoid = attempt.endpoint();
      if (r == Result::kResponse && !retry.ShouldRetryStatus(down_.resp.status)) {
        // Committed: this response goes downstream.
        consume_body();
        const bool must_close =
            !down_.req.keep_alive || worker_->ResponsesClose() || listener_->draining;
        UpstreamRequest::Ending end =
            co_await attempt.ForwardResponse(d.response_mutations, must_close);
        if (end.log) LogRequest(info);
        co_return end.keep_alive;
      }
      if (r == Result::kResponse) down_.watchdog.Disarm();  // dropped with its unread body
      v = r == Result::kResponse ? Verdict{Verdict::Kind::kRetry}
                                 : Judge(r, attempt, retry, info, worker_->shared().counters);
    }
    switch (v.kind) {
      case Verdict::Kind::kRetry:
        if (co_await BackOff(retry)) continue;
        Count(worker_->shared().counters.upstream_rq_timeout);
        info.details = "upstream_response_timeout";
        v = FailureReply(504, "upstream request timeout\n", "UT");
        break;
      case Verdict::Kind::kReplay:
        // Not an attempt of its own, and any endpoint will do.
        --info.attempts;
        avoid = nullptr;
        continue;
      case Verdict::Kind::kEnd:
        if (v.log) LogRequest(info);
        co_return false;
      case Verdict::Kind::kReply:
        break;
    }
    consume_body();
    co_return co_await LocalReply(info, v.status, v.body, v.flags, d.response_mutations);
  }
}

asio::awaitable<bool> Session::BackOff(RetryState& retry) {
  const Clock::time_point now = down_.time.Monotonic();
  Clock::time_point until = now + retry.NextBackoff(worker_->lb().Random());
  std::optional<Clock::time_point> deadline = retry.route_deadline();
  if (deadline && until > *deadline) until = *deadline;
  if (until > now) {
    std::unique_ptr<Timer> timer = down_.time.CreateTimer(worker_->io_context());
    co_await SleepUntil(*timer, until);
  }
  co_return !retry.Expired(down_.time.Monotonic());
}

}  // namespace causeway::proxy
