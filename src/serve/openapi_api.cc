#include "serve/openapi_api.h"

#include <string>

namespace causeway::serve {

void AddOpenApiRoutes(http::Router& router) {
  router.Add({"GET", "/v1/openapi.json", [](http::Request&) {
                http::Response res = http::Response::Json(200, std::string(OpenApiDocument()));
                // It changes only with the binary; let a browser check again.
                res.headers.emplace_back("Cache-Control", "no-cache");
                return res;
              }});
}

}  // namespace causeway::serve
