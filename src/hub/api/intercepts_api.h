// Writes of intercepts: an owner, a lease, and one owner per routing key in a
// zone (docs/two-way-routing.md). The generic object routes hand intercepts
// here; reads and lists stay generic.
#pragma once

#include <optional>
#include <string>

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

// Checked before an intercept is deleted: only its owner (or an admin, or
// anyone once its lease has run out) may delete it. Returns the version
// checked (none if nothing is stored), which the delete then requires.
absl::StatusOr<std::optional<int64_t>> CheckInterceptDelete(const ApiContext& ctx,
                                                            const Principal& p,
                                                            const model::ObjectKey& key);

}  // namespace causeway::hub::api
