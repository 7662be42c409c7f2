#include "discovery/sync/sync_metrics.h"

#include "common/strings.h"
#include "fmt/format.h"

namespace causeway::discovery {

void SyncMetrics::CountWrite(std::string_view op, std::chrono::steady_clock::duration latency) {
  const double seconds = std::chrono::duration<double>(latency).count();
  absl::MutexLock lock(&mu_);
  (op == "delete" ? values_.deletes : values_.puts)++;
  values_.latency_count++;
  values_.latency_sum_seconds += seconds;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) bucket_counts_[i]++;
  }
}

void SyncMetrics::CountConflict() {
  absl::MutexLock lock(&mu_);
  values_.conflicts++;
}

void SyncMetrics::CountError() {
  absl::MutexLock lock(&mu_);
  values_.errors++;
}

SyncMetrics::Values SyncMetrics::values() const {
  absl::MutexLock lock(&mu_);
  return values_;
}

std::string SyncMetrics::RenderPrometheus() const {
  absl::MutexLock lock(&mu_);
  std::string out;
  out += "# HELP causeway_agent_cluster_writes_total Cluster writes to the hub.\n";
  out += "# TYPE causeway_agent_cluster_writes_total counter\n";
  out += StrCat("causeway_agent_cluster_writes_total{op=\"put\"} ", values_.puts, "\n");
  out += StrCat("causeway_agent_cluster_writes_total{op=\"delete\"} ", values_.deletes, "\n");
  out += "# HELP causeway_agent_write_conflicts_total Writes retried after a concurrent edit.\n";
  out += "# TYPE causeway_agent_write_conflicts_total counter\n";
  out += StrCat("causeway_agent_write_conflicts_total ", values_.conflicts, "\n");
  out += "# HELP causeway_agent_write_errors_total Failed hub reads and writes.\n";
  out += "# TYPE causeway_agent_write_errors_total counter\n";
  out += StrCat("causeway_agent_write_errors_total ", values_.errors, "\n");
  out += "# HELP causeway_agent_source_to_hub_seconds Time from a source event to its hub write.\n";
  out += "# TYPE causeway_agent_source_to_hub_seconds histogram\n";
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    out += fmt::format("causeway_agent_source_to_hub_seconds_bucket{{le=\"{}\"}} {}\n", kBuckets[i],
                       bucket_counts_[i]);
  }
  out += fmt::format("causeway_agent_source_to_hub_seconds_bucket{{le=\"+Inf\"}} {}\n",
                     values_.latency_count);
  out += fmt::format("causeway_agent_source_to_hub_seconds_sum {}\n", values_.latency_sum_seconds);
  out += fmt::format("causeway_agent_source_to_hub_seconds_count {}\n", values_.latency_count);
  return out;
}

}  // namespace causeway::discovery
