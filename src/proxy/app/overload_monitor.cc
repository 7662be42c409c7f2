#include "proxy/app/overload_monitor.h"

#include <unistd.h>

#include <fstream>

#include "proxy/app/allocator.h"
#include "spdlog/spdlog.h"

namespace causeway::proxy {
namespace {

// Sets `flag` to `on`; logs when it changes.
void Set(std::atomic<bool>& flag, bool on, const char* action, uint64_t bytes, uint64_t threshold) {
  if (flag.exchange(on, std::memory_order_relaxed) == on) return;
  if (on) {
    spdlog::warn("overload: {} bytes in use, at or above {}: {}", bytes, threshold, action);
  } else {
    spdlog::info("overload: {} bytes in use, below {}: {} no longer", bytes, threshold, action);
  }
}

uint64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace

void OverloadMonitor::Update(uint64_t memory_bytes) {
  last_bytes_ = memory_bytes;
  if (thresholds_.disable_keepalive_at > 0) {
    Set(state_->disable_keepalive, memory_bytes >= thresholds_.disable_keepalive_at,
        "responses close their connections (keep-alive disabled)", memory_bytes,
        thresholds_.disable_keepalive_at);
  }
  if (thresholds_.stop_accepting_at > 0) {
    Set(state_->stop_accepting, memory_bytes >= thresholds_.stop_accepting_at,
        "new connections are not accepted", memory_bytes, thresholds_.stop_accepting_at);
  }
}

uint64_t OverloadMonitor::MemoryInUse() {
  std::map<std::string, double> stats = AllocatorStats();
  auto it = stats.find("memory_allocated_bytes");
  if (it != stats.end() && it->second > 0) return static_cast<uint64_t>(it->second);
  return ResidentBytes();
}

void OverloadMonitor::AddStats(std::map<std::string, double>* stats) const {
  if (!enabled()) return;
  (*stats)["overload_memory_bytes"] = static_cast<double>(last_bytes_);
  (*stats)["overload_disable_http_keepalive"] = state_->keepalive_disabled() ? 1 : 0;
  (*stats)["overload_stop_accepting_connections"] = state_->accepting_stopped() ? 1 : 0;
}

}  // namespace causeway::proxy
