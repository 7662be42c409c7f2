// GET /v1/changelog: who changed what, when. Filters: zone, kind, name,
// since (revision, exclusive), since_time (RFC 3339 or ms since the epoch,
// inclusive), limit (default 100, at most 1000). Pages forward: pass the
// returned "next" as `since`. The log keeps only what --history-retention
// says: without `since` a page starts at the oldest entry kept; a `since`
// below that is 410 Gone, naming the oldest revision still there.
#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "common/status.h"
#include "hub/api/change_json.h"
#include "hub/api/context.h"

namespace causeway::hub::api {

namespace {

constexpr size_t kDefaultLimit = 100;
constexpr size_t kMaxLimit = 1000;

absl::StatusOr<int64_t> ParseTimeMs(const std::string& text) {
  int64_t ms = 0;
  if (absl::SimpleAtoi(text, &ms)) return ms;
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
    return FieldError("since_time", StrCat("\"", text, "\" is not an RFC 3339 time: ", error));
  }
  return absl::ToUnixMillis(t);
}

absl::StatusOr<Response> Changelog(const ApiContext& ctx, Request& req, const Principal& p) {
  store::ChangeFilter filter;
  std::string zone = req.Query("zone");
  if (!zone.empty()) {
    CW_RETURN_IF_ERROR(auth::CheckRead(p, zone));
    filter.zone = zone;
  } else if (!p.zone.empty()) {
    filter.zone = p.zone;
  }
  if (std::string kind = req.Query("kind"); !kind.empty()) {
    auto parsed = model::ParseKind(kind);
    if (!parsed) return FieldError("kind", StrCat("unknown kind \"", kind, "\""));
    filter.kind = *parsed;
  }
  if (std::string name = req.Query("name"); !name.empty()) filter.name = name;
  std::optional<int64_t> since_given;
  if (std::string text = req.Query("since"); !text.empty()) {
    int64_t since = 0;
    if (!absl::SimpleAtoi(text, &since) || since < 0) {
      return FieldError("since", "must be a revision (a non-negative integer)");
    }
    since_given = since;
  }
  if (std::string text = req.Query("since_time"); !text.empty()) {
    CW_ASSIGN_OR_RETURN(filter.since_time_ms, ParseTimeMs(text));
  }
  size_t limit = kDefaultLimit;
  if (std::string text = req.Query("limit"); !text.empty()) {
    if (!absl::SimpleAtoi(text, &limit) || limit == 0 || limit > kMaxLimit) {
      return FieldError("limit", StrCat("must be between 1 and ", kMaxLimit));
    }
  }
  for (const auto& [param, value] : req.query) {
    if (param != "zone" && param != "kind" && param != "name" && param != "since" &&
        param != "since_time" && param != "limit") {
      return FieldError(param, "unknown filter (zone, kind, name, since, since_time, limit)");
    }
  }
  CW_ASSIGN_OR_RETURN(int64_t compacted, ctx.store->CompactedRevision());
  if (since_given && *since_given < compacted) {
    return CompactedResponse("since", *since_given, compacted);
  }
  const int64_t since = since_given.value_or(compacted);
  absl::StatusOr<std::vector<store::Change>> changes =
      ctx.store->ChangesSince(since, limit, filter);
  if (absl::IsOutOfRange(changes.status())) {
    // Compacted between the two reads.
    CW_ASSIGN_OR_RETURN(compacted, ctx.store->CompactedRevision());
    return CompactedResponse("since", since, compacted);
  }
  CW_RETURN_IF_ERROR(changes.status());
  Json items = Json::array();
  int64_t next = since;
  for (const store::Change& c : *changes) {
    items.push_back(ChangeToJson(c));
    next = c.revision;
  }
  return JsonResponse(200, Json{{"items", std::move(items)}, {"next", std::to_string(next)}});
}

}  // namespace

void AddChangelogRoutes(http::Router& router, const ApiContext& ctx) {
  router.Add({"GET", "/v1/changelog", Authed(ctx, Changelog), true});
}

}  // namespace causeway::hub::api
