// GET /v1/zones/{zone}/status: each connected proxy of the zone and its xDS
// sync state, whether connected to the hub ("via": "hub") or to an agent's
// relay ("via": "agent", as the agent last reported it). GET
// /v1/zones/{zone}/proxies/{name}/config: the exact resources that proxy is
// served. Both come from the xDS server through the context, so this module
// does not depend on it.
// PUT/DELETE /v1/zones/{zone}/agents/{agent}/proxies: an agent's report of
// the proxies on its relay (relay_status.h).
#include "common/status.h"
#include "hub/api/context.h"

namespace causeway::hub::api {
namespace {

absl::Status CheckZoneExists(const ApiContext& ctx, const std::string& zone) {
  if (!ctx.catalog->Get(model::ObjectKey{model::Kind::kZone, zone, zone})) {
    return absl::NotFoundError(StrCat("zone \"", zone, "\" does not exist"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Response> ZoneStatus(const ApiContext& ctx, Request& req, const Principal& p) {
  const std::string zone = req.Param("zone");
  CW_RETURN_IF_ERROR(auth::CheckRead(p, zone));
  CW_RETURN_IF_ERROR(CheckZoneExists(ctx, zone));
  Json status =
      ctx.zone_status ? ctx.zone_status(zone) : Json{{"zone", zone}, {"proxies", Json::array()}};
  if (ctx.relay_reports) ctx.relay_reports->AddTo(zone, &status);
  return JsonResponse(200, status);
}

// Agents report their own zone's proxies; admins may too (tools, tests).
absl::Status CheckReport(const ApiContext& ctx, const Principal& p, const std::string& zone,
                         const std::string& agent) {
  if (!p.SeesZone(zone)) {
    return absl::PermissionDeniedError(
        StrCat("token \"", p.name, "\" is limited to zone \"", p.zone, "\""));
  }
  if (p.role != auth::Role::kAgent && p.role != auth::Role::kAdmin) {
    return absl::PermissionDeniedError(StrCat("token \"", p.name, "\" is a ",
                                              auth::RoleName(p.role),
                                              ": only agent and admin tokens report proxies"));
  }
  if (!model::IsValidName(agent)) {
    return FieldError("agent", StrCat("\"", agent,
                                      "\" is not a valid agent name (lowercase letters, digits, "
                                      "'-' and '.')"));
  }
  CW_RETURN_IF_ERROR(CheckZoneExists(ctx, zone));
  if (!ctx.relay_reports) return absl::UnavailableError("this hub keeps no proxy reports");
  return absl::OkStatus();
}

absl::StatusOr<Response> PutAgentProxies(const ApiContext& ctx, Request& req, const Principal& p) {
  const std::string zone = req.Param("zone");
  const std::string agent = req.Param("agent");
  CW_RETURN_IF_ERROR(CheckReport(ctx, p, zone, agent));
  CW_ASSIGN_OR_RETURN(Json body, ParseJsonBody(req));
  CW_ASSIGN_OR_RETURN(RelayReport report, xds::ParseRelayReport(body, zone));
  const size_t streams = report.proxies.size();
  const int64_t interval_ms = report.interval.count();
  CW_RETURN_IF_ERROR(ctx.relay_reports->Put(zone, agent, std::move(report)));
  return JsonResponse(200, Json{{"zone", zone},
                                {"agent", agent},
                                {"streams", streams},
                                {"expires_after_ms", kMissedIntervals * interval_ms}});
}

absl::StatusOr<Response> DeleteAgentProxies(const ApiContext& ctx, Request& req,
                                            const Principal& p) {
  const std::string zone = req.Param("zone");
  const std::string agent = req.Param("agent");
  CW_RETURN_IF_ERROR(CheckReport(ctx, p, zone, agent));
  const bool deleted = ctx.relay_reports->Remove(zone, agent);
  return JsonResponse(200, Json{{"zone", zone}, {"agent", agent}, {"deleted", deleted}});
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
  // Parsing a report of up to 1 MiB is left to the worker pool.
  router.Add(
      {"PUT", "/v1/zones/{zone}/agents/{agent}/proxies", Authed(ctx, PutAgentProxies), true});
  router.Add(
      {"DELETE", "/v1/zones/{zone}/agents/{agent}/proxies", Authed(ctx, DeleteAgentProxies)});
}

}  // namespace causeway::hub::api
