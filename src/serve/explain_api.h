// POST /v1/zones/{zone}/proxies/{proxy}/explain: where a request would go on
// a proxy (serve/explain.h), for any token that can read the zone.
#pragma once

#include "hub/api/context.h"
#include "net/http_router.h"

namespace causeway::serve {

void AddExplainRoutes(http::Router& router, const hub::api::ApiContext& ctx);

}  // namespace causeway::serve
