// Writes of intercepts: an owner, a lease, and one owner per routing key in a
// zone (docs/two-way-routing.md). The generic object routes hand intercepts
// here; reads and lists stay generic.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "hub/api/context.h"

namespace causeway::hub::api {

// POST /v1/zones/{z}/intercepts (`name` empty, `create`) and PUT
// /v1/zones/{z}/intercepts/{name} (create or renew; a version is a
// precondition when given, not a requirement). The hub sets `owner` and
// `expires_at`; `tunnel` is kept from the stored object unless the write
// names one (only an admin may change it).
absl::StatusOr<Response> WriteIntercept(const ApiContext& ctx, Request& req, const Principal& p,
                                        const std::string& zone, const std::string& name,
                                        bool create);

// GET of one intercept: for its owner and admins the answer also carries
// `proof` (docs/two-way-routing.md, "Keys at the edge"); anyone else reads
// the object only.
absl::StatusOr<Response> ReadIntercept(const ApiContext& ctx, const Principal& p,
                                       const model::Object& object);

// Checked before an intercept is deleted: only its owner (or an admin, or
// anyone once its lease has run out) may delete it. Returns the version
// checked (none if nothing is stored), which the delete then requires.
absl::StatusOr<std::optional<int64_t>> CheckInterceptDelete(const ApiContext& ctx,
                                                            const Principal& p,
                                                            const model::ObjectKey& key);

// Intercept writes on this hub run one at a time under this lock (see
// intercepts_api.cc); the tunnel reports take it too.
std::mutex& InterceptWriteMutex();

// POST /v1/zones/{z}/intercepts/{name}/tunnel (the holder reports a tunnel:
// {token, proxy, address}) and DELETE ...?proxy=P (it withdraws it), for
// admins and the zone's proxy and agent tokens (intercept_tunnel_api.cc).
void AddInterceptTunnelRoutes(http::Router& router, const ApiContext& ctx);
// Whether `path` is one of those: the one REST path a proxy token may use.
bool IsInterceptTunnelPath(std::string_view path);

}  // namespace causeway::hub::api
