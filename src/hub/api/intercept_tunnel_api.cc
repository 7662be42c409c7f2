// POST and DELETE /v1/zones/{z}/intercepts/{name}/tunnel: the staging proxy
// holding a laptop's tunnel reports it, and withdraws it when the tunnel
// ends (docs/two-way-routing.md, "The tunnel").
//
// The caller is the holder (a proxy or agent token of the zone) or an admin;
// the laptop's token travels in the body, so the hub, not the holder,
// decides whether it is live and owns the intercept.
#include <chrono>
#include <mutex>
#include <optional>

#include "common/status.h"
#include "hub/api/intercepts_api.h"

namespace causeway::hub::api {
namespace {

using model::Kind;
using model::ObjectKey;

struct TunnelReport {
  std::string token;
  std::string proxy;
  std::string address;
};

// Admins (of the zone, if limited), or proxy and agent tokens limited to
// the zone: the holder's own credential.
absl::Status CheckTunnelCaller(const Principal& p, const std::string& zone) {
  const bool admin = p.role == auth::Role::kAdmin && p.SeesZone(zone);
  const bool holder =
      (p.role == auth::Role::kProxy || p.role == auth::Role::kAgent) && p.zone == zone;
  if (admin || holder) return absl::OkStatus();
  return absl::PermissionDeniedError(
      StrCat("token \"", p.name, "\" (", auth::RoleName(p.role), ", zone \"", p.zone,
             "\") may not report tunnels of zone \"", zone,
             "\": only an admin or a proxy or agent token of that zone may"));
}

absl::StatusOr<TunnelReport> ParseTunnelReport(const Json& body) {
  if (!body.is_object()) return FieldError("", "must be an object {token, proxy, address}");
  TunnelReport r;
  for (auto it = body.begin(); it != body.end(); ++it) {
    std::string* out = it.key() == "token"     ? &r.token
                       : it.key() == "proxy"   ? &r.proxy
                       : it.key() == "address" ? &r.address
                                               : nullptr;
    if (out == nullptr) return FieldError(it.key(), "unknown field");
    if (!it->is_string()) return FieldError(it.key(), StrCat("must be a string, not ", it->dump()));
    *out = it->get<std::string>();
  }
  if (r.token.empty()) return FieldError("token", "is required (the laptop's token)");
  if (r.proxy.empty()) return FieldError("proxy", "is required (the holder's proxy name)");
  if (r.address.empty()) return FieldError("address", "is required (host:port)");
  return r;
}

absl::StatusOr<model::Object> StoredInterceptObject(const ApiContext& ctx, const ObjectKey& key) {
  std::optional<model::Object> stored = ctx.catalog->Get(key);
  if (!stored) return absl::NotFoundError(StrCat(model::KeyString(key), " not found"));
  return *std::move(stored);
}

// Writes `intercept` over the version read, recorded as the caller's
// change; the lease is left as it is.
absl::StatusOr<Response> WriteTunnel(const ApiContext& ctx, const Principal& p,
                                     const model::Object& stored,
                                     const model::Intercept& intercept) {
  catalog::Mutation m;
  m.type = catalog::Mutation::Type::kReplace;
  m.key = stored.key;
  m.spec = model::ToSpec(intercept);
  m.expected_version = stored.version;
  std::vector<catalog::Mutation> mutations;
  mutations.push_back(std::move(m));
  CW_ASSIGN_OR_RETURN(catalog::WriteResult result,
                      ctx.catalog->Write(std::move(mutations), p.name));
  if (result.results.empty() || !result.results[0].object) {
    return absl::InternalError("the write returned no object");
  }
  Response res = JsonResponse(200, model::ToApiJson(*result.results[0].object));
  res.headers.emplace_back("ETag", StrCat("\"", result.results[0].object->version, "\""));
  return res;
}

absl::StatusOr<Response> ReportTunnel(const ApiContext& ctx, Request& req, const Principal& p) {
  const ObjectKey key{Kind::kIntercept, req.Param("zone"), req.Param("name")};
  CW_RETURN_IF_ERROR(CheckTunnelCaller(p, key.zone));
  CW_ASSIGN_OR_RETURN(Json body, ParseJsonBody(req));
  CW_ASSIGN_OR_RETURN(TunnelReport report, ParseTunnelReport(body));
  absl::StatusOr<Principal> laptop = ctx.authenticator->Authenticate("Bearer " + report.token);
  if (!laptop.ok()) {
    return absl::UnauthenticatedError(
        StrCat("token: the laptop's token is not active: ", laptop.status().message()));
  }
  std::lock_guard lock(InterceptWriteMutex());
  CW_ASSIGN_OR_RETURN(model::Object stored, StoredInterceptObject(ctx, key));
  CW_ASSIGN_OR_RETURN(model::Intercept intercept, model::InterceptFromObject(stored));
  if (laptop->name != intercept.owner) {
    return absl::PermissionDeniedError(StrCat("token: \"", laptop->name, "\" does not own ",
                                              model::KeyString(key), "; its owner is token \"",
                                              intercept.owner, "\""));
  }
  model::InterceptTunnel tunnel{
      report.proxy, report.address, "connected",
      std::chrono::duration_cast<std::chrono::milliseconds>(ctx.time->Now().time_since_epoch())
          .count()};
  intercept.tunnel = tunnel;
  // The stored spec's own rules name what is wrong (tunnel.proxy,
  // tunnel.address).
  CW_RETURN_IF_ERROR(model::ParseIntercept(model::ToSpec(intercept), false).status());
  return WriteTunnel(ctx, p, stored, intercept);
}

absl::StatusOr<Response> WithdrawTunnel(const ApiContext& ctx, Request& req, const Principal& p) {
  const ObjectKey key{Kind::kIntercept, req.Param("zone"), req.Param("name")};
  CW_RETURN_IF_ERROR(CheckTunnelCaller(p, key.zone));
  const std::string proxy = req.Query("proxy");
  if (proxy.empty()) return FieldError("proxy", "is required (?proxy=NAME, the holder)");
  std::lock_guard lock(InterceptWriteMutex());
  CW_ASSIGN_OR_RETURN(model::Object stored, StoredInterceptObject(ctx, key));
  CW_ASSIGN_OR_RETURN(model::Intercept intercept, model::InterceptFromObject(stored));
  if (!intercept.tunnel) {
    return absl::NotFoundError(StrCat(model::KeyString(key), " has no tunnel"));
  }
  if (intercept.tunnel->proxy != proxy) {
    return absl::NotFoundError(StrCat("the tunnel of ", model::KeyString(key),
                                      " is held by proxy \"", intercept.tunnel->proxy, "\", not \"",
                                      proxy, "\""));
  }
  intercept.tunnel.reset();
  return WriteTunnel(ctx, p, stored, intercept);
}

// As Authed (context.h), but proxy tokens are let in: the holder reports
// with its own xDS credential, which is refused on every other REST route.
http::Handler AuthedHolder(const ApiContext& ctx, AuthedHandler handler) {
  return [&ctx, handler = std::move(handler)](Request& req) -> Response {
    absl::StatusOr<Principal> principal =
        ctx.authenticator->Authenticate(req.Header("authorization"));
    if (!principal.ok()) return ErrorResponse(principal.status());
    req.actor = principal->name;
    absl::StatusOr<Response> res = handler(ctx, req, *principal);
    if (!res.ok()) return ErrorResponse(res.status());
    return *std::move(res);
  };
}

}  // namespace

bool IsInterceptTunnelPath(std::string_view path) {
  std::vector<std::string_view> s = http::SplitPath(path);
  return s.size() == 6 && s[0] == "v1" && s[1] == "zones" && s[3] == "intercepts" &&
         s[5] == "tunnel";
}

void AddInterceptTunnelRoutes(http::Router& router, const ApiContext& ctx) {
  router.Add(
      {"POST", "/v1/zones/{zone}/intercepts/{name}/tunnel", AuthedHolder(ctx, ReportTunnel), true});
  router.Add({"DELETE", "/v1/zones/{zone}/intercepts/{name}/tunnel",
              AuthedHolder(ctx, WithdrawTunnel), true});
}

}  // namespace causeway::hub::api
