#include "proxy/server/h2_stream.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstring>
#include <optional>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "proxy/codec/http2_headers.h"
#include "proxy/router/router.h"
#include "proxy/server/access_log.h"
#include "proxy/server/forward_verdict.h"
#include "proxy/server/grpc_status.h"
#include "proxy/server/h2_session.h"
#include "proxy/server/intercept_fallback.h"
#include "proxy/server/routing_key_guard.h"
#include "proxy/server/routing_key_stamp.h"
#include "proxy/server/sleep_until.h"
#include "proxy/server/upstream_request.h"

namespace causeway::proxy {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

IoResult H2IoError(boost::system::error_code ec) { return IoResult{ec, 0}; }

}  // namespace

void ChunkedBodyDecoder::Decode(std::string_view framed, std::string* out) {
  size_t i = 0;
  while (i < framed.size() && state_ != State::kDone) {
    switch (state_) {
      case State::kSize: {
        const int d = HexDigit(framed[i]);
        if (d < 0) {
          state_ = State::kLineEnd;  // extensions and CR up to the LF
          continue;
        }
        size_ = size_ * 16 + static_cast<uint64_t>(d);
        ++i;
        break;
      }
      case State::kLineEnd:
        if (framed[i++] == '\n') state_ = size_ == 0 ? State::kTrailers : State::kData;
        break;
      case State::kData: {
        const size_t n = std::min<uint64_t>(size_, framed.size() - i);
        out->append(framed.substr(i, n));
        i += n;
        size_ -= n;
        if (size_ == 0) {
          state_ = State::kDataEnd;
          skip_ = 2;
        }
        break;
      }
      case State::kDataEnd:
        ++i;
        if (--skip_ == 0) state_ = State::kSize;
        break;
      case State::kTrailers:
        // Up to the empty line; the framer bounded the section already.
        trailers_.push_back(framed[i++]);
        if (trailers_ == "\r\n" || trailers_.ends_with("\r\n\r\n")) state_ = State::kDone;
        break;
      case State::kDone:
        break;
    }
  }
}

http2::HeaderList ChunkedBodyDecoder::Trailers() const {
  if (state_ != State::kDone || trailers_.size() <= 2) return {};
  // The trailer section has the syntax of a head's fields: the HTTP/1.1
  // parser reads it behind a status line, and the head translation drops
  // what HTTP/2 forbids.
  const std::string head = absl::StrCat("HTTP/1.1 200 OK\r\n", trailers_);
  http1::ResponseHead parsed;
  if (http1::ParseResponseHead(head, false, &parsed).status != http1::ParseStatus::kOk) return {};
  http2::HeaderList fields = http2::FromHttp1Response(parsed).headers;
  std::erase_if(fields, [](const http2::Header& f) { return f.name == "content-length"; });
  return fields;
}

Http2Stream::Http2Stream(Http2Session& session, int32_t id, http2::RequestHead head)
    : session_(session),
      id_(id),
      h2_head_(std::move(head)),
      down_(asio::ip::tcp::socket(session.worker().io_context()), session.worker().time(),
            session.worker().io_context()),
      // Signals that never expire, set once: setting the expiry again would
      // cancel a wait another coroutine of this stream has pending (the body
      // pump and the response writer wait at the same time).
      wake_(session.worker().io_context(), asio::steady_timer::time_point::max()),
      tunnel_wake_(session.worker().io_context(), asio::steady_timer::time_point::max()) {
  down_.sink = this;
  down_.requests_in_progress = &session.worker().requests_in_progress_counter();
  info_.start_wall = down_.time.Now();
  info_.start = down_.time.Monotonic();
  last_progress_ = info_.start;
}

Http2Stream::~Http2Stream() = default;

void Http2Stream::OnData(std::string_view data) {
  if (chunked_) {
    body_.Append(absl::StrCat(absl::Hex(data.size()), "\r\n"));
    body_.Append(data);
    body_.Append("\r\n");
  } else {
    body_.Append(data);
  }
  unacked_ += data.size();
  Wake();
}

void Http2Stream::OnEnd() {
  remote_ended_ = true;
  if (chunked_) body_.Append("0\r\n\r\n");
  Wake();
}

void Http2Stream::OnReset() {
  reset_ = true;
  if (upstream_ != nullptr) {
    // The attempt in flight ends; its connection is not pooled again.
    boost::system::error_code ec;
    upstream_->close(ec);
  }
  Wake();
}

asio::awaitable<bool> Http2Stream::WaitForWake() {
  const ListenerConfig& lc =
      info_.listener != nullptr ? *info_.listener : session_.listener().config;
  if (lc.idle_timeout.count() > 0) {
    if (idle_timer_ == nullptr)
      idle_timer_ = down_.time.CreateTimer(session_.worker().io_context());
    idle_timer_->Schedule(last_progress_ + lc.idle_timeout, [this] {
      idle_fired_ = true;
      Wake();
    });
  }
  // Two coroutines may wait at once (a streamed body's pump and the
  // response writer): the idle timer stops only when the last one leaves.
  ++waiters_;
  co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
  if (--waiters_ == 0 && idle_timer_ != nullptr) idle_timer_->Cancel();
  co_return !idle_fired_;
}

// Returns false for a request the HTTP/1.1 upstream cannot be given.
bool Http2Stream::BuildHead() {
  // Extended CONNECT for WebSocket (RFC 8441) becomes the HTTP/1.1
  // upgrade it stands for; any other CONNECT has no HTTP/1.1 form here.
  websocket_ = h2_head_.method == "CONNECT" && h2_head_.protocol == "websocket";
  if (h2_head_.method == "CONNECT" && !websocket_) return false;
  http2::Http1Request r = http2::ToHttp1Request(h2_head_);
  if (websocket_) r = {"GET", h2_head_.path, std::move(r.headers)};
  std::string& h = down_.head;
  h = absl::StrCat(r.method, " ", r.target, " HTTP/1.1\r\n");
  bool has_length = false;
  bool expect_continue = false;
  for (const http2::Header& f : r.headers) {
    // Answered here (below), as on HTTP/1.1; the upstream gets the body.
    if (f.name == "expect") {
      expect_continue = !remote_ended_ && absl::EqualsIgnoreCase(f.value, "100-continue");
      continue;
    }
    if (f.name == "content-length") {
      has_length = true;
      // Written below from what came; an upgrade has no body.
      if (remote_ended_ || websocket_) continue;
    }
    absl::StrAppend(&h, f.name, ": ", f.value, "\r\n");
  }
  if (websocket_) {
    AppendWebSocketUpgrade(&h);
  } else if (remote_ended_) {
    // The whole body came with the head: its length is known.
    if (!body_.empty() || has_length) absl::StrAppend(&h, "content-length: ", body_.size(), "\r\n");
  } else if (!has_length) {
    chunked_ = true;
    h += "transfer-encoding: chunked\r\n";
    std::string raw(body_.View());
    body_.Clear();
    unacked_ -= raw.size();  // counted again by OnData
    if (!raw.empty()) OnData(raw);
  }
  h += "\r\n";
  if (http1::ParseRequestHead(h, &down_.req).status != http1::ParseStatus::kOk) return false;
  if (expect_continue) {
    // Envoy's default: the proxy tells the client to send the body.
    (void)session_.codec().SubmitInterim(id_, http2::ResponseHead{100, {}});
    session_.Flush();
  }
  down_.body_consumed = down_.req.body == http1::BodyKind::kNone;
  return true;
}

void Http2Stream::AppendWebSocketUpgrade(std::string* head) {
  // The HTTP/1.1 handshake needs a fresh nonce (RFC 6455 4.1); the client's
  // sec-websocket-version, -protocol and -extensions are already there.
  std::string nonce(16, '\0');
  for (size_t i = 0; i < nonce.size(); i += 8) {
    const uint64_t r = session_.worker().lb().Random();
    std::memcpy(nonce.data() + i, &r, 8);
  }
  absl::StrAppend(head, "upgrade: websocket\r\nconnection: upgrade\r\nsec-websocket-key: ",
                  absl::Base64Escape(nonce), "\r\n");
}

// A gRPC request's deadline; an error for a grpc-timeout that does not
// parse (the caller answers it, naming the value).
absl::Status Http2Stream::ReadGrpcFields() {
  for (const http2::Header& f : h2_head_.headers) {
    if (f.name == "content-type") grpc_ = IsGrpcContentType(f.value);
  }
  if (!grpc_) return absl::OkStatus();
  for (const http2::Header& f : h2_head_.headers) {
    if (f.name != "grpc-timeout") continue;
    absl::StatusOr<std::chrono::milliseconds> t = ParseGrpcTimeout(f.value);
    if (!t.ok()) return t.status();
    grpc_timeout_ = *t;
  }
  return absl::OkStatus();
}

asio::awaitable<void> Http2Stream::Serve(Http2Stream* self) {
  Http2Stream& s = *self;
  Worker& worker = s.session_.worker();
  worker.RequestBegan();
  // First, so that every local reply to a gRPC request is a gRPC status.
  const absl::Status grpc_fields = s.ReadGrpcFields();
  if (!s.BuildHead()) {
    s.down_.req = {};
    co_await s.LocalReply(s.h2_head_.method == "CONNECT" ? 501 : 400,
                          "request not supported over HTTP/2\n", "DPE");
  } else if (!grpc_fields.ok()) {
    const absl::string_view why = grpc_fields.message();
    co_await s.LocalReply(400, std::string_view(why.data(), why.size()), "DPE");
  } else {
    RouteDecision d = s.Decide();
    if (d.kind == RouteDecision::Kind::kForward) {
      co_await s.Forward(d);
    } else {
      co_await s.LocalReply(d.status, d.body, d.flags, d.response_mutations);
    }
  }
  worker.shared().requests_total.fetch_add(1, std::memory_order_relaxed);
  worker.RequestEnded();
  s.Finish();
}

void Http2Stream::Finish() {
  finished_ = true;
  if (!ended_ && !reset_) {
    http2::ServerCodec& codec = session_.codec();
    // A body delimited by the upstream closing its connection ended well;
    // any other response cut short is reset, so the client cannot take it
    // for whole.
    if (info_.status > 0 && info_.flags.empty()) {
      (void)codec.SubmitData(id_, "", /*end_stream=*/true);
    } else {
      (void)codec.SubmitReset(id_, http2::kInternalError);
    }
  }
  if (unacked_ > 0) session_.codec().ConsumeData(id_, unacked_);
  unacked_ = 0;
  // Answered before the client sent all of its body: the rest is not
  // wanted, and the stream would otherwise count against the limit for
  // as long as the client keeps it open (RFC 9113 8.1).
  if (ended_ && !remote_ended_ && !reset_) {
    // nghttp2 drops a stream's frames not yet framed once its RST_STREAM is
    // queued: a response that was only a HEADERS frame (a 400 with no body,
    // a gRPC trailers-only reply) is framed first.
    (void)session_.codec().Pending();
    (void)session_.codec().SubmitReset(id_, http2::kNoError);
  }
  session_.Flush();
}

RouteDecision Http2Stream::Decide() {
  Worker& worker = session_.worker();
  info_.config = worker.config();
  const std::string& name = session_.listener().name;
  if (info_.config != nullptr) info_.listener = info_.config->FindListener(name);
  if (info_.listener == nullptr) info_.listener = &session_.listener().config;
  // Keys from outside are checked before this proxy stamps one of its own.
  GuardRequestKeys(worker.shared().edge, *info_.listener, down_.req, info_,
                   worker.shared().counters);
  StampRoutingKey(worker.shared().key_stamper, down_.req, &down_.stamped_key);
  RouteDecision d = DecideRoute(info_.config.get(), *info_.listener, down_.req,
                                [&worker] { return worker.lb().Random(); });
  info_.route = d.route;
  info_.cluster = d.cluster_name;
  return d;
}

UpstreamRequest::Body Http2Stream::PrepareUpstream(const RouteDecision& d) {
  // What came of the body so far goes first; all of it can be replayed on
  // a retry when the client has ended the stream. (A WebSocket's bytes wait
  // for the tunnel.)
  if (!websocket_) {
    down_.in.Append(body_.View());
    body_.Clear();
  }
  UpstreamRequest::Body body;
  if (!down_.body_consumed) {
    http1::BodyFramer probe(down_.req.body, down_.req.content_length);
    http1::BodyFramer::Step step = probe.Feed(down_.in.View());
    body.replayable = step.done && !step.error;
    body.buffered = body.replayable ? step.consumed : 0;
  }
  std::string rewritten = RewriteTarget(*d.route, down_.req.target);
  UpstreamRequestParams params;
  params.target = rewritten;
  params.host =
      d.route->host_rewrite.empty() ? down_.req.host : std::string_view(d.route->host_rewrite);
  params.upgrade = down_.req.upgrade;
  BuildUpstreamRequest(down_.req, params, d.request_mutations, &down_.up_out);
  return body;
}

asio::awaitable<void> Http2Stream::BufferBodyForFallback() {
  // gRPC and most HTTP/2 clients send HEADERS and DATA in separate frames,
  // so the body is rarely all in when the stream starts. The wait is short:
  // a streaming call whose client waits for an answer before it sends more
  // goes on after kInterceptBodyWait, its body streamed. The bytes held go
  // back to the flow-control windows at once, so a stream waiting here holds
  // no window that the rest of its body, or another stream, needs.
  if (websocket_ || remote_ended_ || reset_) co_return;
  std::unique_ptr<Timer> timer = down_.time.CreateTimer(session_.worker().io_context());
  bool expired = false;
  timer->Schedule(down_.time.Monotonic() + kInterceptBodyWait, [this, &expired] {
    expired = true;
    Wake();
  });
  while (!remote_ended_ && !reset_ && !expired && body_.size() < kInterceptBodyBuffer) {
    if (unacked_ > 0) {
      session_.codec().ConsumeData(id_, unacked_);
      unacked_ = 0;
      session_.Flush();
    }
    if (!co_await WaitForWake()) break;  // the stream idle timeout
  }
  timer->Cancel();
}

asio::awaitable<void> Http2Stream::Forward(const RouteDecision& decision) {
  // A key-routed request may be routed again (intercept_fallback.h).
  InterceptFallback intercept(decision);
  if (intercept.active()) co_await BufferBodyForFallback();
  RouteDecision d = decision;
  UpstreamRequest::Body body = PrepareUpstream(d);
  ProxyCounters& counters = session_.worker().shared().counters;
  // A gRPC caller's deadline caps the route's.
  auto timeout_of = [this](const Route& route) {
    return grpc_timeout_ ? CapRouteTimeout(route.timeout, *grpc_timeout_) : route.timeout;
  };
  std::optional<RetryState> retry(std::in_place, d.route->retry, timeout_of(*d.route));
  const Endpoint* avoid = nullptr;
  while (true) {
    Verdict v;
    bool fall_back = false;
    {
      ++info_.attempts;
      UpstreamRequest attempt(session_.worker(), down_, info_, *retry, *d.cluster);
      UpstreamRequest::Result r = co_await attempt.Run(d.target->metadata_match, avoid, body);
      avoid = attempt.endpoint();
      if (reset_) break;
      if (r == UpstreamRequest::Result::kResponse && down_.resp.status == 101 && websocket_) {
        co_await TunnelWebSocket(attempt);
        co_return;
      }
      fall_back = intercept.ShouldFallBack(
          r, down_.resp, body.replayable || !retry->body_streamed(), info_, counters);
      if (!fall_back && r == UpstreamRequest::Result::kResponse &&
          !retry->ShouldRetryStatus(down_.resp.status)) {
        if (body.replayable) info_.bytes_received = body.buffered;
        UpstreamRequest::Ending end = co_await attempt.ForwardResponse(
            intercept.Answer(d.response_mutations, true, info_, counters), false);
        if (reset_ && info_.flags.empty()) info_.flags = "DC";
        if (end.log) Log();
        co_return;
      }
      if (r == UpstreamRequest::Result::kResponse) down_.watchdog.Disarm();
      if (!fall_back) {
        v = r == UpstreamRequest::Result::kResponse ? Verdict{Verdict::Kind::kRetry}
                                                    : Judge(r, attempt, *retry, info_, counters);
      }
    }
    if (fall_back) {  // to staging, under the staging route's own retries
      Worker& worker = session_.worker();
      d = intercept.Reroute(
          *info_.listener, down_.req, [&worker] { return worker.lb().Random(); }, info_);
      if (d.kind == RouteDecision::Kind::kForward) {
        body = PrepareUpstream(d);
        retry.emplace(d.route->retry, timeout_of(*d.route));
        avoid = nullptr;
        continue;
      }
      v = FailureReply(d.status, d.body, d.flags);
    }
    if (v.kind == Verdict::Kind::kRetry) {
      if (co_await BackOff(*retry)) continue;
      Count(counters.upstream_rq_timeout);
      info_.details = "upstream_response_timeout";
      v = FailureReply(504, "upstream request timeout\n", "UT");
    } else if (v.kind == Verdict::Kind::kReplay) {
      --info_.attempts;
      avoid = nullptr;
      continue;
    } else if (v.kind == Verdict::Kind::kEnd) {
      if (v.log) Log();
      co_return;
    }
    Mutations mutations = intercept.Answer(d.response_mutations, false, info_, counters);
    // The laptop's local-refused signal takes the route table's place,
    // which the laptop's configuration leaves empty (tunnel/local_config.h).
    if (v.signal != nullptr) mutations[2] = v.signal;
    co_await LocalReply(v.status, v.body, v.flags, mutations);
    co_return;
  }
  // The client reset the stream: nothing to answer.
  info_.status = 0;
  info_.flags = "DC";
  Log();
}

asio::awaitable<bool> Http2Stream::BackOff(RetryState& retry) {
  const Clock::time_point now = down_.time.Monotonic();
  Clock::time_point until = now + retry.NextBackoff(session_.worker().lb().Random());
  std::optional<Clock::time_point> deadline = retry.route_deadline();
  if (deadline && until > *deadline) until = *deadline;
  if (until > now) {
    std::unique_ptr<Timer> timer = down_.time.CreateTimer(session_.worker().io_context());
    co_await SleepUntil(*timer, until);
  }
  co_return !reset_ && !retry.Expired(down_.time.Monotonic());
}

asio::awaitable<void> Http2Stream::LocalReply(int status, std::string_view body,
                                              std::string_view flags, Mutations mutations) {
  info_.status = status;  // the access log keeps the HTTP status, gRPC or not
  info_.flags = flags;
  if (grpc_) {
    GrpcLocalReply(status, body, mutations);
    Log();
    co_return;
  }
  const bool head_only = down_.req.is_head;
  BuildLocalReply(status, body, /*close=*/false, head_only, mutations, &down_.out);
  co_await WriteHead(down_.out, head_only ? std::string_view() : body, /*end=*/true);
  info_.bytes_sent = head_only ? 0 : body.size();
  Log();
}

void Http2Stream::GrpcLocalReply(int status, std::string_view message, Mutations mutations) {
  if (reset_) return;
  // The route's response header mutations apply as to any local reply: the
  // HTTP/1.1 form carries them, its fields go after the gRPC ones.
  BuildLocalReply(status, "", /*close=*/false, /*head_only=*/true, mutations, &down_.out);
  http1::ResponseHead parsed;
  http2::HeaderList extra;
  if (http1::ParseResponseHead(down_.out, true, &parsed).status == http1::ParseStatus::kOk) {
    extra = http2::FromHttp1Response(parsed).headers;
  }
  const http2::ResponseHead head{200, GrpcLocalReplyFields(status, message, extra)};
  if (session_.codec().SubmitResponse(id_, head, /*end_stream=*/true).ok()) ended_ = true;
  session_.Flush();
}

void Http2Stream::Log() {
  AccessLog* log = session_.worker().shared().access_log;
  if (log == nullptr) return;
  AccessLogEntry e;
  e.listener = session_.listener().name;
  e.method = h2_head_.method;
  e.authority = h2_head_.authority;
  e.path = h2_head_.path;
  e.protocol_major = 2;
  e.protocol_minor = 0;
  FillLogEntry(info_, down_.time.Monotonic(), e);
  log->Log(e);
}

asio::awaitable<IoResult> Http2Stream::ReadBody(asio::mutable_buffer buffer) {
  while (body_.empty() && !remote_ended_ && !reset_) {
    if (!co_await WaitForWake()) co_return H2IoError(asio::error::timed_out);
  }
  if (reset_) co_return H2IoError(asio::error::operation_aborted);
  last_progress_ = down_.time.Monotonic();
  if (body_.empty()) co_return H2IoError(asio::error::eof);
  const size_t n = std::min(buffer.size(), body_.size());
  std::memcpy(buffer.data(), body_.data(), n);
  body_.Consume(n);
  if (body_.empty() && unacked_ > 0) {
    // Handed on: the client may send as much again.
    session_.codec().ConsumeData(id_, unacked_);
    unacked_ = 0;
    session_.Flush();
  }
  co_return IoResult{boost::system::error_code(), n};
}

asio::awaitable<IoResult> Http2Stream::WriteHead(std::string_view http1_head, std::string_view body,
                                                 bool end) {
  if (reset_) co_return H2IoError(asio::error::operation_aborted);
  http1::ResponseHead resp;
  if (http1::ParseResponseHead(http1_head, down_.req.is_head, &resp).status !=
      http1::ParseStatus::kOk) {
    co_return H2IoError(asio::error::invalid_argument);
  }
  decode_chunks_ = resp.body == http1::BodyKind::kChunked;
  const bool head_only = end && body.empty();
  if (!session_.codec().SubmitResponse(id_, http2::FromHttp1Response(resp), head_only).ok()) {
    co_return H2IoError(asio::error::invalid_argument);
  }
  session_.Flush();
  if (!head_only) co_return co_await WriteBody(body, end);
  ended_ = true;
  co_return IoResult{boost::system::error_code(), 0};
}

asio::awaitable<IoResult> Http2Stream::WriteBody(std::string_view body, bool end) {
  if (reset_) co_return H2IoError(asio::error::operation_aborted);
  std::string_view payload = body;
  http2::HeaderList trailers;
  if (decode_chunks_) {
    decoded_.clear();
    decoder_.Decode(body, &decoded_);
    payload = decoded_;
    if (end) trailers = decoder_.Trailers();
  }
  http2::ServerCodec& codec = session_.codec();
  // Trailers end the stream in their own HEADERS frame after the DATA.
  const bool end_with_data = end && trailers.empty();
  if (!codec.SubmitData(id_, payload, end_with_data).ok() ||
      (!end_with_data && end && !codec.SubmitTrailers(id_, trailers).ok())) {
    co_return H2IoError(asio::error::connection_reset);
  }
  ended_ = ended_ || end;
  session_.Flush();
  // The upstream is read no further until the client's window took this.
  last_progress_ = down_.time.Monotonic();
  while (!reset_ && codec.Queued(id_) > 0) {
    if (!co_await WaitForWake()) co_return H2IoError(asio::error::timed_out);
    if (codec.Queued(id_) < payload.size()) last_progress_ = down_.time.Monotonic();
  }
  if (reset_) co_return H2IoError(asio::error::operation_aborted);
  co_return IoResult{boost::system::error_code(), body.size()};
}

}  // namespace causeway::proxy
