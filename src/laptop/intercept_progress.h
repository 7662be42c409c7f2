// What `causeway intercept` tells the developer on stderr, in plain words:
// the intercept written, the tunnel's state as it changes, renewals only
// when they fail or recover, and one line on exit. Repeats are left out:
// a holder that stays unreachable is reported once, not on every retry.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "laptop/intercept_lease.h"
#include "laptop/intercept_options.h"
#include "nlohmann/json.hpp"

namespace causeway::laptop {

// A tunnel event as the progress lines need it (proxy::tunnel::TunnelEvent
// copied, so this file does not depend on the transport).
struct TunnelNews {
  enum class Kind { kConnecting, kConnected, kDisconnected, kRefused };
  Kind kind = Kind::kConnecting;
  int status = 0;
  std::string message;
  bool permanent = false;
};

class InterceptProgress {
 public:
  InterceptProgress(const InterceptPlan& plan, std::ostream& out) : plan_(plan), out_(out) {}

  // The hub's answer to the first write.
  void Written(const nlohmann::json& intercept);
  // No --tunnel: the lease alone.
  void NoTunnel();
  void Tunnel(const TunnelNews& news);
  // The hub has no record of a tunnel that is up (see intercept_runner.cc).
  void TunnelUnrecorded();
  void Lease(const LeaseEvent& event);
  // The last line: why the command ends and what it left behind.
  void Stopped(const std::string& why, const std::string& left, uint64_t requests_served);

 private:
  void Line(const std::string& text);

  const InterceptPlan& plan_;
  std::ostream& out_;
  bool connected_ = false;
  bool connecting_said_ = false;
  std::string last_failure_;  // the last "cannot connect" or refusal said
};

}  // namespace causeway::laptop
