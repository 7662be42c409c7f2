// GET /v1/zones/{zone}/status: each connected proxy of the zone and its xDS
// sync state. GET /v1/zones/{zone}/proxies/{name}/config: the exact
// resources that proxy is served. Both come from the xDS server through the
// context, so this module does not depend on it.
#include "common/status.h"
#include "hub/api/context.h"

namespace causeway::hub::api {
namespace {

absl::StatusOr<Response> ZoneStatus(const ApiContext& ctx, Request& req, const Principal& p) {
  const std::string zone = req.Param("zone");
  CW_RETURN_IF_ERROR(auth::CheckRead(p, zone));
  if (!ctx.catalog->Get(model::ObjectKey{model::Kind::kZone, zone, zone})) {
    return absl::NotFoundError(StrCat("zone \"", zone, "\" does not exist"));
  }
  if (!ctx.zone_status) {
    return JsonResponse(200, Json{{"zone", zone}, {"proxies", Json::array()}});
  }
  return JsonResponse(200, ctx.zone_status(zone));
}

absl::StatusOr<Response> ProxyConfig(const ApiContext& ctx, Request& req, const Principal& p) {
  const std::string zone = req.Param("zone");
  CW_RETURN_IF_ERROR(auth::CheckRead(p, zone));
  if (!ctx.proxy_config) return absl::UnavailableError("the xDS server is not running");
  CW_ASSIGN_OR_RETURN(Json config, ctx.proxy_config(zone, req.Param("name")));
  return JsonResponse(200, std::move(config));
}

}  // namespace

void AddStatusRoutes(http::Router& router, const ApiContext& ctx) {
  router.Add({"GET", "/v1/zones/{zone}/status", Authed(ctx, ZoneStatus)});
  router.Add({"GET", "/v1/zones/{zone}/proxies/{name}/config", Authed(ctx, ProxyConfig)});
}

}  // namespace causeway::hub::api
