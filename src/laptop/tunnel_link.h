// The command's use of the tunnel transport (proxy/tunnel): the client's
// options from the checked flags, and its events in the command's terms.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "laptop/intercept_options.h"
#include "laptop/intercept_progress.h"
#include "proxy/tunnel/tunnel_client.h"

namespace causeway::laptop {

// The tunnel client for `plan`, authenticating with `token` (the same token
// that owns the intercept: the holder checks it against the owner). Checks
// the options and reads the CA, starts nothing. `on_news` runs on the
// client's thread.
absl::StatusOr<std::unique_ptr<proxy::tunnel::TunnelClient>> CreateTunnelLink(
    const InterceptPlan& plan, const std::string& token,
    std::function<void(const TunnelNews&)> on_news);

TunnelNews NewsOf(const proxy::tunnel::TunnelEvent& event);

}  // namespace causeway::laptop
