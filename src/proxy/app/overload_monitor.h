// Drives the overload actions (server/overload_state.h) from the memory the
// proxy uses: the allocator's bytes in use where it reports them (tcmalloc),
// else the resident set. Each action has its own threshold in bytes (0: the
// action is off), like the triggers of Envoy's fixed_heap resource monitor;
// an action ends when the figure falls back under its threshold. Called
// periodically from the main thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "proxy/server/overload_state.h"

namespace causeway::proxy {

class OverloadMonitor {
 public:
  struct Thresholds {
    uint64_t disable_keepalive_at = 0;
    uint64_t stop_accepting_at = 0;
  };
  OverloadMonitor(Thresholds thresholds, OverloadState* state)
      : thresholds_(thresholds), state_(state) {}

  bool enabled() const {
    return thresholds_.disable_keepalive_at > 0 || thresholds_.stop_accepting_at > 0;
  }
  // Sets the actions for `memory_bytes` in use; logs each change.
  void Update(uint64_t memory_bytes);
  // The memory figure the monitor reads: tcmalloc's bytes in use, else RSS.
  static uint64_t MemoryInUse();
  // For /stats.
  void AddStats(std::map<std::string, double>* stats) const;

 private:
  Thresholds thresholds_;
  OverloadState* state_;
  uint64_t last_bytes_ = 0;
};

}  // namespace causeway::proxy
