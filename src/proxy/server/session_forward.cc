// Session::Forward: a request the router stage sends to a cluster, carried
// through upstream requests (one per attempt) under its retry state.
#include <boost/asio/use_awaitable.hpp>
#include <optional>

#include "proxy/router/router.h"
#include "proxy/server/forward_verdict.h"
#include "proxy/server/intercept_fallback.h"
#include "proxy/server/session.h"
#include "proxy/server/sleep_until.h"
#include "proxy/server/upstream_request.h"

namespace causeway::proxy {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using Result = UpstreamRequest::Result;

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

asio::awaitable<bool> Session::Forward(StreamInfo& info, const RouteDecision& decision) {
  // A key-routed request may be routed again (intercept_fallback.h).
  InterceptFallback intercept(decision);
  if (intercept.active()) co_await BufferBodyForFallback(down_);
  RouteDecision d = decision;
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
  ProxyCounters& counters = worker_->shared().counters;
  std::optional<RetryState> retry(std::in_place, d.route->retry, d.route->timeout);
  const Endpoint* avoid = nullptr;
  while (true) {
    Verdict v;
    bool fall_back = false;
    {  // one attempt; its connection and counts end with this scope
      ++info.attempts;
      UpstreamRequest attempt(*worker_, down_, info, *retry, *d.cluster);
      Result r = co_await attempt.Run(d.target->metadata_match, avoid, body);
      avoid = attempt.endpoint();
      fall_back = intercept.ShouldFallBack(
          r, down_.resp, body.replayable || !retry->body_streamed(), info, counters);
      if (!fall_back && r == Result::kResponse && !retry->ShouldRetryStatus(down_.resp.status)) {
        // Committed: this response goes downstream.
        consume_body();
        const bool must_close =
            !down_.req.keep_alive || worker_->ResponsesClose() || listener_->draining;
        UpstreamRequest::Ending end = co_await attempt.ForwardResponse(
            intercept.Answer(d.response_mutations, true, info, counters), must_close);
        if (end.log) LogRequest(info);
        co_return end.keep_alive;
      }
      if (r == Result::kResponse) down_.watchdog.Disarm();  // dropped with its unread body
      if (!fall_back) {
        v = r == Result::kResponse ? Verdict{Verdict::Kind::kRetry}
                                   : Judge(r, attempt, *retry, info, counters);
      }
    }
    if (fall_back) {  // to staging, under the staging route's own retries
      d = intercept.Reroute(
          *info.listener, down_.req, [this] { return worker_->lb().Random(); }, info);
      if (d.kind == RouteDecision::Kind::kForward && PrepareUpstream(info, d, &body)) {
        retry.emplace(d.route->retry, d.route->timeout);
        avoid = nullptr;
        continue;
      }
      v = FailureReply(d.status, d.body, d.flags);
    }
    switch (v.kind) {
      case Verdict::Kind::kRetry:
        if (co_await BackOff(*retry)) continue;
        Count(counters.upstream_rq_timeout);
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
    Mutations answer = intercept.Answer(d.response_mutations, false, info, counters);
    co_return co_await LocalReply(info, v.status, v.body, v.flags, WithSignal(answer, v));
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
