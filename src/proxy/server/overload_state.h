// Envoy's overload manager, the two actions a proxy for a shared staging
// environment needs when memory runs short: stop keeping connections alive
// (each response closes its connection, so idle connections stop holding
// memory) and, further up, stop accepting new connections (they wait in the
// kernel's queue). The monitor (app/overload_monitor.h) sets the flags from
// the allocator's figures; workers read them with relaxed loads, one per
// response and one per accepted connection.
#pragma once

#include <atomic>

namespace causeway::proxy {

struct OverloadState {
  std::atomic<bool> disable_keepalive{false};
  std::atomic<bool> stop_accepting{false};

  bool keepalive_disabled() const { return disable_keepalive.load(std::memory_order_relaxed); }
  bool accepting_stopped() const { return stop_accepting.load(std::memory_order_relaxed); }
};

}  // namespace causeway::proxy
