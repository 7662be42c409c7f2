// Counters and the source-to-hub latency histogram of the sync, rendered in
// the Prometheus text format.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace causeway::discovery {

class SyncMetrics {
 public:
  void CountWrite(std::string_view op, std::chrono::steady_clock::duration source_to_hub);
  void CountConflict();
  void CountError();

  struct Values {
    uint64_t puts = 0, deletes = 0, conflicts = 0, errors = 0;
    uint64_t latency_count = 0;
    double latency_sum_seconds = 0;
  };
  Values values() const;

  // `causeway_agent_*` metrics (counters and a histogram in seconds).
  std::string RenderPrometheus() const;

 private:
  static constexpr std::array<double, 11> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                      0.5,   1,    2.5,   5,    10};
  mutable absl::Mutex mu_;
  Values values_ ABSL_GUARDED_BY(mu_);
  std::array<uint64_t, kBuckets.size()> bucket_counts_ ABSL_GUARDED_BY(mu_){};
};

}  // namespace causeway::discovery
