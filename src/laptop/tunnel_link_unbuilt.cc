// Used only while this tree has no tunnel transport library: --tunnel is
// refused with a clear error instead of the build failing.
#include "laptop/tunnel_link.h"

namespace causeway::laptop {

TunnelNews NewsOf(const proxy::tunnel::TunnelEvent& event) {
  TunnelNews news;
  news.status = event.status;
  news.message = event.message;
  return news;
}

absl::StatusOr<std::unique_ptr<proxy::tunnel::TunnelClient>> CreateTunnelLink(
    const InterceptPlan& plan, const std::string&, std::function<void(const TunnelNews&)>) {
  return absl::UnimplementedError("--tunnel " + plan.tunnel +
                                  ": this build of causeway has no tunnel transport");
}

}  // namespace causeway::laptop
