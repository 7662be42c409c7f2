#include "serve/hub_routes.h"

#include "hub/api/console_api.h"
#include "serve/explain_api.h"
#include "serve/openapi_api.h"

namespace causeway::serve {

http::Router BuildHubRouter(const hub::api::ApiContext& ctx) {
  http::Router router = hub::api::BuildRouter(ctx);
  AddExplainRoutes(router, ctx);
  AddOpenApiRoutes(router);
  // The web console (ui/) at / and its page URLs; the API's literal routes
  // win over its captures.
  hub::api::AddConsoleRoutes(router);
  return router;
}

}  // namespace causeway::serve
