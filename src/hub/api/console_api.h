// Serves the embedded web console (ui/) on the API's address: `/`, the
// hashed assets, and index.html for any other path outside /v1 so that a
// bookmarked console URL opens the right page.
#pragma once

#include <span>
#include <string_view>

#include "hub/api/console_assets.h"
#include "net/http_router.h"

namespace causeway::hub::api {

// The response for a GET of `req.path` from `assets`: the file, index.html
// for a page URL, or a JSON 404 for /v1 and missing /assets paths. Honors
// Accept-Encoding (gzip) and If-None-Match; sets the console's security
// headers (a CSP of 'self' only, nosniff, no framing).
http::Response ServeConsole(std::span<const ConsoleAsset> assets, const http::Request& req);

// GET and HEAD routes for `/` and every path up to eight segments deep; the API's
// literal routes win over these (see http::Router), so /v1 keeps its 404s.
void AddConsoleRoutes(http::Router& router);

}  // namespace causeway::hub::api
