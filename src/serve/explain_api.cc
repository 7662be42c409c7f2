#include "serve/explain_api.h"

#include "common/status.h"
#include "serve/explain.h"

namespace causeway::serve {
namespace {

using http::Request;
using http::Response;
using hub::api::ApiContext;
using hub::api::Principal;

absl::StatusOr<Response> ExplainRoute(const ApiContext& ctx, Request& req, const Principal& p) {
  const std::string zone = req.Param("zone");
  const std::string proxy = req.Param("proxy");
  CW_RETURN_IF_ERROR(hub::auth::CheckRead(p, zone));
  CW_ASSIGN_OR_RETURN(model::Json body, hub::api::ParseJsonBody(req));
  CW_ASSIGN_OR_RETURN(ExplainRequest request, ParseExplainRequest(body));
  if (!ctx.catalog->Get(model::ObjectKey{model::Kind::kZone, zone, zone})) {
    return absl::NotFoundError(StrCat("zone \"", zone, "\" does not exist"));
  }
  if (!ctx.catalog->Get(model::ObjectKey{model::Kind::kProxy, zone, proxy})) {
    return absl::NotFoundError(
        StrCat("proxy \"", proxy, "\" does not exist in zone \"", zone, "\""));
  }
  CW_ASSIGN_OR_RETURN(model::Json answer, Explain(ctx.catalog->ZoneObjects(zone), proxy, request));
  return hub::api::JsonResponse(200, answer);
}

}  // namespace

void AddExplainRoutes(http::Router& router, const ApiContext& ctx) {
  // Translating a zone and building the proxy's tables is CPU work of a few
  // milliseconds for large zones: the worker pool, not an I/O thread.
  router.Add({"POST", "/v1/zones/{zone}/proxies/{proxy}/explain",
              hub::api::Authed(ctx, ExplainRoute), true});
}

}  // namespace causeway::serve
