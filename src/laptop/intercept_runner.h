// One run of `causeway intercept`: write the intercept, keep the tunnel up
// and the lease renewed until Ctrl-C or SIGTERM, then close the tunnel and
// delete the intercept.
//
// Everything the command does after the start happens on one thread, the
// io_context's: renewals (lease timers), signals, and the tunnel's events,
// which the tunnel client's own thread posts there. So the progress lines
// and the state they read need no lock.
#pragma once

#include <memory>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "laptop/intercept_options.h"

namespace causeway::cli {
class HubClient;
}  // namespace causeway::cli

namespace causeway::laptop {

// Runs until a signal (OK: the intercept was deleted), or until the hold
// cannot go on (the hub refused a renewal, the tunnel's holder refused the
// tunnel for good): that error. Progress lines go to `progress`.
absl::Status RunIntercept(const InterceptPlan& plan, cli::HubClient& hub, std::ostream& progress);

}  // namespace causeway::laptop
