// GET /v1/openapi.json: the OpenAPI 3 description of the hub's REST API
// (docs/api/openapi.json, compiled into the binary by
// cmake/embed_file.cmake). It needs no token: it says what the API is, not
// what is in it, and tools fetch it before they have one.
#pragma once

#include <string_view>

#include "net/http_router.h"

namespace causeway::serve {

// The document's bytes, as in docs/api/openapi.json when the binary was built.
std::string_view OpenApiDocument();

void AddOpenApiRoutes(http::Router& router);

}  // namespace causeway::serve
