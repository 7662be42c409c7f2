// GET /v1/watch?since=REV[&zone=Z][&kind=K]: server-sent events, one per
// change after REV, each exactly once and in revision order, then live.
//
// Ordering without gaps or duplicates: the stream subscribes to the
// Catalog's feed first and queues what arrives, then replays the change log
// from REV out of the Store, then drains the queue. Anything committed
// before the subscription is in the log; anything after is in the queue;
// overlap is dropped by revision. A client that reconnects passes the last
// id it saw (Last-Event-ID or since) and continues where it left off, also
// across hub restarts, since the log is durable.
//
// A `since` beyond the hub's revision means the client saw another history
// (the hub was restored from a backup, or its database replaced): 410 Gone,
// like Kubernetes' expired resourceVersion, so the client lists again
// instead of silently skipping every change up to its old revision. A
// `since` below the change log's compacted revision (--history-retention
// removed what followed it) is 410 Gone as well, naming the oldest revision
// kept; a compaction that overtakes a replay already under way ends the
// stream with an error event of code "gone".
#include <algorithm>
#include <deque>
#include <memory>
#include <mutex>

#include "absl/strings/numbers.h"
#include "boost/asio/awaitable.hpp"
#include "common/status.h"
#include "hub/api/change_json.h"
#include "hub/api/context.h"
#include "spdlog/spdlog.h"

namespace causeway::hub::api {

namespace {

using boost::asio::awaitable;

constexpr size_t kReplayPage = 500;
// A client this far behind is cut off; it reconnects from its last id and
// catches up from the log instead of from memory.
constexpr size_t kMaxQueued = 20000;
constexpr auto kKeepAlive = std::chrono::seconds(15);
// How often an open stream re-checks its token: with the authenticator's
// half-second cache, a revoked or expired token's stream ends within 1 s.
constexpr auto kTokenRecheck = std::chrono::milliseconds(250);

struct Filter {
  std::string zone;
  std::optional<model::Kind> kind;
  bool Matches(const store::Change& c) const {
    return (zone.empty() || c.key.zone == zone) && (!kind || c.key.kind == *kind);
  }
};

// Changes handed over by the Catalog's committer thread.
struct Inbox {
  std::mutex mu;
  std::deque<store::Change> queue;
  bool overflow = false;
  http::StreamWriter* writer = nullptr;  // null once the stream ended
};

std::string EventText(const store::Change& c) {
  return StrCat("id: ", c.revision, "\nevent: change\ndata: ", ChangeToJson(c).dump(), "\n\n");
}

std::string ErrorEvent(const absl::Status& status, std::string_view code = "unavailable") {
  Json error = {{"code", code}, {"message", std::string(status.message())}};
  return StrCat("event: error\ndata: ", Json{{"error", error}}.dump(), "\n\n");
}

awaitable<void> RunWatch(const ApiContext* ctx, Principal principal, int64_t since, Filter filter,
                         http::StreamWriter& writer) {
  auto inbox = std::make_shared<Inbox>();
  inbox->writer = &writer;
  int id = ctx->catalog->Subscribe([inbox, filter](const std::vector<store::Change>& changes) {
    std::lock_guard<std::mutex> lock(inbox->mu);
    if (inbox->writer == nullptr) return;
    for (const store::Change& c : changes) {
      if (!filter.Matches(c)) continue;
      if (inbox->queue.size() >= kMaxQueued) {
        inbox->overflow = true;
        break;
      }
      inbox->queue.push_back(c);
    }
    inbox->writer->Wake();
  });
  ++*ctx->watch_streams;
  struct Cleanup {
    const ApiContext* ctx;
    std::shared_ptr<Inbox> inbox;
    int id;
    ~Cleanup() {
      {
        std::lock_guard<std::mutex> lock(inbox->mu);
        inbox->writer = nullptr;
      }
      ctx->catalog->Unsubscribe(id);
      --*ctx->watch_streams;
    }
  } cleanup{ctx, inbox, id};

  int64_t last = since;
  // (Strings are built outside co_await expressions: GCC 12 cannot keep
  // array temporaries such as string literals alive across a suspension.)
  std::string hello = StrCat("retry: 1000\n: watching from revision ", since, "\n\n");
  if (!co_await writer.Write(std::move(hello))) co_return;

  store::ChangeFilter store_filter;
  if (!filter.zone.empty()) store_filter.zone = filter.zone;
  store_filter.kind = filter.kind;
  for (;;) {
    if (writer.Stopping()) co_return;
    auto page = ctx->store->ChangesSince(last, kReplayPage, store_filter);
    if (!page.ok()) {
      const bool gone = absl::IsOutOfRange(page.status());
      if (!gone) spdlog::warn("watch replay from {} failed: {}", last, page.status().ToString());
      std::string error = ErrorEvent(page.status(), gone ? "gone" : "unavailable");
      co_await writer.Write(std::move(error));
      co_return;
    }
    std::string batch;
    for (const store::Change& c : *page) {
      if (c.revision <= last) continue;
      batch += EventText(c);
      last = c.revision;
    }
    if (!batch.empty() && !co_await writer.Write(std::move(batch))) co_return;
    if (page->size() < kReplayPage) break;
  }

  auto next_keepalive = std::chrono::steady_clock::now() + kKeepAlive;
  auto next_recheck = std::chrono::steady_clock::now() + kTokenRecheck;
  for (;;) {
    std::deque<store::Change> ready;
    bool overflow = false;
    {
      std::lock_guard<std::mutex> lock(inbox->mu);
      ready.swap(inbox->queue);
      overflow = inbox->overflow;
    }
    std::string batch;
    for (const store::Change& c : ready) {
      if (c.revision <= last) continue;
      batch += EventText(c);
      last = c.revision;
    }
    if (!batch.empty()) {
      if (!co_await writer.Write(std::move(batch))) co_return;
      next_keepalive = std::chrono::steady_clock::now() + kKeepAlive;
    }
    if (overflow) {
      std::string bye = ": too far behind; reconnect with Last-Event-ID\n\n";
      co_await writer.Write(std::move(bye));
      co_return;
    }
    if (writer.Stopping()) co_return;
    if (std::chrono::steady_clock::now() >= next_recheck) {
      // A store that cannot be asked keeps the stream up (UNAVAILABLE); only
      // a token known to be revoked or expired ends it.
      absl::Status valid = ctx->authenticator->StillValid(principal);
      if (absl::IsUnauthenticated(valid)) {
        std::string bye = ErrorEvent(valid, "unauthenticated");
        co_await writer.Write(std::move(bye));
        co_return;
      }
      next_recheck = std::chrono::steady_clock::now() + kTokenRecheck;
    }
    if (std::chrono::steady_clock::now() >= next_keepalive) {
      std::string ping = ": keep-alive\n\n";
      if (!co_await writer.Write(std::move(ping))) co_return;
      next_keepalive = std::chrono::steady_clock::now() + kKeepAlive;
    }
    bool empty;
    {
      std::lock_guard<std::mutex> lock(inbox->mu);
      empty = inbox->queue.empty();
    }
    if (empty) co_await writer.WaitUntil(std::min(next_keepalive, next_recheck));
  }
}

absl::StatusOr<Response> Watch(const ApiContext& ctx, Request& req, const Principal& p) {
  Filter filter;
  filter.zone = req.Query("zone");
  if (!filter.zone.empty()) {
    CW_RETURN_IF_ERROR(auth::CheckRead(p, filter.zone));
  } else {
    filter.zone = p.zone;
  }
  if (std::string kind = req.Query("kind"); !kind.empty()) {
    filter.kind = model::ParseKind(kind);
    if (!filter.kind) return FieldError("kind", StrCat("unknown kind \"", kind, "\""));
  }
  // Last-Event-ID (an EventSource reconnecting) wins over since.
  std::string since_text = req.Header("last-event-id");
  std::string_view field = "Last-Event-ID";
  if (since_text.empty()) {
    since_text = req.Query("since");
    field = "since";
  }
  int64_t since = 0;
  if (since_text.empty()) {
    since = ctx.catalog->Revision();  // only what happens from now on
  } else if (!absl::SimpleAtoi(since_text, &since) || since < 0) {
    return FieldError(field, "must be a revision (a non-negative integer)");
  } else if (const int64_t current = ctx.catalog->Revision(); since > current) {
    return ErrorResponse(410, "gone",
                         StrCat("revision ", since, " is ahead of this hub's (", current,
                                "): its history was replaced; list again and watch from the "
                                "list's revision"),
                         field);
  }
  if (!since_text.empty()) {
    CW_ASSIGN_OR_RETURN(int64_t compacted, ctx.store->CompactedRevision());
    if (since < compacted) return CompactedResponse(field, since, compacted);
  }
  std::shared_ptr<void> slot;
  if (ctx.watch_slots != nullptr) {
    slot = ctx.watch_slots->Acquire(p.name);
    if (slot == nullptr) {
      return ErrorResponse(429, "too_many_requests",
                           StrCat("token \"", p.name, "\" already holds ", WatchSlots::kPerToken,
                                  " open watch streams; close one first"));
    }
  }
  Response res;
  res.content_type = "text/event-stream";
  res.headers.emplace_back("X-Accel-Buffering", "no");
  const ApiContext* c = &ctx;
  res.stream = [c, p, since, filter, slot](http::StreamWriter& writer) {
    return RunWatch(c, p, since, filter, writer);
  };
  return res;
}

}  // namespace

void AddWatchRoutes(http::Router& router, const ApiContext& ctx) {
  router.Add({"GET", "/v1/watch", Authed(ctx, Watch)});
}

}  // namespace causeway::hub::api
