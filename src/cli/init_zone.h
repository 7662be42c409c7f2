// init-zone: the seed's `tbnctl init-zone` plus the objects the seed makes by
// hand in the UI, from a few flags, as one atomic apply.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/objects.h"

namespace causeway::cli {

struct InitZoneSpec {
  std::string zone;
  std::vector<std::string> proxies;  // "NAME=HOST:PORT" or "NAME" (no domains)
  std::vector<std::string> routes;   // "HOST:PORT/PATH=CLUSTER"
  std::string route_group;  // name of the one route group; default: one per cluster, named after it
};

// The name init-zone gives the route for `path` on `domain`:
// ("demo.turbinelabs.io:8888", "/api") → "demo.turbinelabs.io-8888-api".
// Stable: it depends on nothing but the route itself.
std::string RouteName(const std::string& domain, const std::string& path);

// The objects for `spec`, validated by the model and in dependency order:
// the zone, clusters (no instances), domains, route groups (default target:
// their cluster), proxies, routes. Errors name the flag at fault.
absl::StatusOr<std::vector<model::ParsedObject>> PlanInitZone(const InitZoneSpec& spec);

}  // namespace causeway::cli
