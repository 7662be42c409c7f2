// Every route the hub's HTTP server answers, registered in one place so the
// server and the test that holds the OpenAPI description to it
// (openapi_test.cc) see the same table.
#pragma once

#include "hub/api/context.h"
#include "net/http_router.h"

namespace causeway::serve {

// The REST API of hub/api, plus what only the hub process can answer: route
// explain (it needs the proxy's code) and the API description; and the web
// console.
http::Router BuildHubRouter(const hub::api::ApiContext& ctx);

}  // namespace causeway::serve
