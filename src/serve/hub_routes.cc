#include "serve/hub_routes.h"

#include "serve/explain_api.h"
#include "serve/openapi_api.h"

namespace causeway::serve {

http::Router BuildHubRouter(const hub::api::ApiContext& ctx) {
  http::Router router = hub::api::BuildRouter(ctx);
  AddExplainRoutes(router, ctx);
  AddOpenApiRoutes(router);
  return router;
}

}  // namespace causeway::serve
