// What every REST handler needs, and the wrapper that authenticates a
// request before its handler runs.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "catalog/catalog.h"
#include "common/time_source.h"
#include "hub/api/errors.h"
#include "hub/api/metrics.h"
#include "hub/api/relay_status.h"
#include "hub/api/watch_slots.h"
#include "hub/auth/authenticator.h"
#include "hub/auth/principal.h"
#include "net/http_router.h"
#include "store/store.h"

namespace causeway::hub::api {

using auth::Principal;

struct ApiContext {
  catalog::Catalog* catalog = nullptr;
  store::Store* store = nullptr;
  auth::Authenticator* authenticator = nullptr;
  const TimeSource* time = nullptr;
  RequestMetrics* metrics = nullptr;
  std::atomic<int>* watch_streams = nullptr;  // open /v1/watch streams
  WatchSlots* watch_slots = nullptr;          // open /v1/watch streams per token
  std::atomic<bool>* ready = nullptr;         // set once the hub serves
  // Extra metric lines (connections, ...) supplied by the hub.
  std::function<void(std::string*)> extra_metrics;
  // xDS state, supplied by the hub when its xDS server runs.
  std::function<Json(const std::string& zone)> zone_status;
  std::function<absl::StatusOr<Json>(const std::string& zone, const std::string& proxy)>
      proxy_config;
  // What agents report of the proxies on their relay xDS servers.
  RelayReports* relay_reports = nullptr;
};

// A handler that runs after authentication; errors become JSON error
// responses.
using AuthedHandler =
    std::function<absl::StatusOr<Response>(const ApiContext&, Request&, const Principal&)>;

// For the HTTP server's before_body hook: the error answer for a request
// to the API whose token does not authenticate (or may not use REST), so
// that its body is never read; nothing for any other request.
std::optional<http::Response> RefuseBeforeBody(const ApiContext& ctx, const http::Request& head);

http::Handler Authed(const ApiContext& ctx, AuthedHandler handler);

// Route registration, one function per concern.
void AddObjectRoutes(http::Router& router, const ApiContext& ctx);
void AddApplyRoutes(http::Router& router, const ApiContext& ctx);
void AddChangelogRoutes(http::Router& router, const ApiContext& ctx);
void AddWatchRoutes(http::Router& router, const ApiContext& ctx);
void AddTokenRoutes(http::Router& router, const ApiContext& ctx);
void AddHealthRoutes(http::Router& router, const ApiContext& ctx);
void AddStatusRoutes(http::Router& router, const ApiContext& ctx);

// Every route of the hub's HTTP API.
http::Router BuildRouter(const ApiContext& ctx);

}  // namespace causeway::hub::api
