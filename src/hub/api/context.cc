#include "hub/api/context.h"

#include "hub/api/intercepts_api.h"

namespace causeway::hub::api {

std::optional<http::Response> RefuseBeforeBody(const ApiContext& ctx, const http::Request& head) {
  // The API's routes all authenticate, but for the description of the API.
  if (!head.path.starts_with("/v1/") || head.path == "/v1/openapi.json") return std::nullopt;
  absl::StatusOr<Principal> principal =
      ctx.authenticator->Authenticate(head.Header("authorization"));
  if (!principal.ok()) return ErrorResponse(principal.status());
  // A tunnel's holder reports it with its proxy token.
  if (IsInterceptTunnelPath(head.path)) return std::nullopt;
  if (absl::Status rest = auth::CheckRestAccess(*principal); !rest.ok()) {
    return ErrorResponse(rest);
  }
  return std::nullopt;
}

http::Handler Authed(const ApiContext& ctx, AuthedHandler handler) {
  return [&ctx, handler = std::move(handler)](Request& req) -> Response {
    absl::StatusOr<Principal> principal =
        ctx.authenticator->Authenticate(req.Header("authorization"));
    if (!principal.ok()) return ErrorResponse(principal.status());
    // Proxy tokens are for xDS streams only; refusing them here covers every
    // route, present and future.
    if (absl::Status rest = auth::CheckRestAccess(*principal); !rest.ok()) {
      return ErrorResponse(rest);
    }
    req.actor = principal->name;
    absl::StatusOr<Response> res = handler(ctx, req, *principal);
    if (!res.ok()) return ErrorResponse(res.status());
    return *std::move(res);
  };
}

http::Router BuildRouter(const ApiContext& ctx) {
  http::Router router;
  AddHealthRoutes(router, ctx);
  AddObjectRoutes(router, ctx);
  AddInterceptTunnelRoutes(router, ctx);
  AddApplyRoutes(router, ctx);
  AddChangelogRoutes(router, ctx);
  AddWatchRoutes(router, ctx);
  AddTokenRoutes(router, ctx);
  AddStatusRoutes(router, ctx);
  return router;
}

}  // namespace causeway::hub::api
