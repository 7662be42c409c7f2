// Keeps the change log within its retention (`causeway serve
// --history-retention`): a thread of its own wakes every interval and runs
// compaction passes of at most kRowsPerPass entries each, a few per wake, so
// neither the committer nor the I/O threads ever wait on a large delete and
// a backlog (a first start with a long log) drains over several wakes.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/time_source.h"
#include "store/store.h"

namespace causeway::store {

// "7d", "24h", "30m", "90s" (an age) or "100000" (a count of changes).
// "0" keeps everything. Errors name the value and what would be accepted.
absl::StatusOr<Retention> ParseRetention(const std::string& text);
// The form ParseRetention reads ("7d", "100000 changes", "everything").
std::string RetentionString(const Retention& retention);

class HistoryCompactor {
 public:
  static constexpr int64_t kRowsPerPass = 1000;
  static constexpr int kPassesPerWake = 10;

  HistoryCompactor(Store* store, const TimeSource* time, Retention retention,
                   std::chrono::milliseconds interval);
  // Stops the thread (a pass under way finishes first).
  ~HistoryCompactor();
  HistoryCompactor(const HistoryCompactor&) = delete;
  HistoryCompactor& operator=(const HistoryCompactor&) = delete;

  // One wake's work, on the calling thread: passes until one removes less
  // than kRowsPerPass or kPassesPerWake ran. Returns the entries removed.
  absl::StatusOr<int64_t> RunOnce();

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_);

  Store* const store_;
  const TimeSource* const time_;
  const Retention retention_;
  const std::chrono::milliseconds interval_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace causeway::store
