// Unauthenticated operational endpoints: /healthz (the process answers),
// /readyz (serving and the store answers), /metrics (Prometheus text).
#include "absl/strings/str_format.h"
#include "common/strings.h"
#include "hub/api/context.h"

namespace causeway::hub::api {

namespace {

Response Healthz(const ApiContext&, Request&) { return JsonResponse(200, Json{{"status", "ok"}}); }

Response Readyz(const ApiContext& ctx, Request&) {
  if (!ctx.ready->load()) {
    return ErrorResponse(503, "unavailable", "the hub is starting or shutting down");
  }
  absl::StatusOr<int64_t> revision = ctx.store->Revision();
  if (!revision.ok()) {
    return ErrorResponse(503, "unavailable",
                         StrCat("the store does not answer: ", revision.status().message()));
  }
  return JsonResponse(200, Json{{"status", "ready"}, {"revision", std::to_string(*revision)}});
}

Response Metrics(const ApiContext& ctx, Request&) {
  std::string out;
  ctx.metrics->Render(&out);
  catalog::Catalog::Stats stats = ctx.catalog->stats();
  out += "# HELP causeway_catalog_revision The hub's current revision.\n";
  out += "# TYPE causeway_catalog_revision gauge\n";
  out += absl::StrFormat("causeway_catalog_revision %d\n", ctx.catalog->Revision());
  out += "# HELP causeway_catalog_writes_total Write requests by result.\n";
  out += "# TYPE causeway_catalog_writes_total counter\n";
  out += absl::StrFormat("causeway_catalog_writes_total{result=\"ok\"} %d\n", stats.writes_ok);
  out +=
      absl::StrFormat("causeway_catalog_writes_total{result=\"failed\"} %d\n", stats.writes_failed);
  out += "# HELP causeway_catalog_commit_batches_total Store transactions (group commits).\n";
  out += "# TYPE causeway_catalog_commit_batches_total counter\n";
  out += absl::StrFormat("causeway_catalog_commit_batches_total %d\n", stats.batches);
  out += "# HELP causeway_catalog_changes_total Changes committed.\n";
  out += "# TYPE causeway_catalog_changes_total counter\n";
  out += absl::StrFormat("causeway_catalog_changes_total %d\n", stats.changes);
  std::map<model::Kind, size_t> counts;
  ctx.catalog->Read([&](int64_t, const std::map<model::ObjectKey, model::Object>& objects) {
    for (const auto& [key, object] : objects) ++counts[key.kind];
  });
  out += "# HELP causeway_catalog_objects Objects by kind.\n";
  out += "# TYPE causeway_catalog_objects gauge\n";
  for (model::Kind kind : model::kAllKinds) {
    out += absl::StrFormat("causeway_catalog_objects{kind=\"%s\"} %d\n",
                           ToAbsl(model::KindName(kind)), counts[kind]);
  }
  out += "# HELP causeway_watch_streams Open /v1/watch streams.\n";
  out += "# TYPE causeway_watch_streams gauge\n";
  out += absl::StrFormat("causeway_watch_streams %d\n", ctx.watch_streams->load());
  if (ctx.extra_metrics) ctx.extra_metrics(&out);
  return Response::Text(200, std::move(out), "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace

void AddHealthRoutes(http::Router& router, const ApiContext& ctx) {
  router.Add({"GET", "/healthz", [&ctx](Request& req) { return Healthz(ctx, req); }});
  router.Add({"GET", "/readyz", [&ctx](Request& req) { return Readyz(ctx, req); }, true});
  router.Add({"GET", "/metrics", [&ctx](Request& req) { return Metrics(ctx, req); }});
}

}  // namespace causeway::hub::api
