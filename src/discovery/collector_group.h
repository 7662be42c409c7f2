// Several collectors feeding one zone: merges their latest sets (a cluster
// reported by more than one collector gets the union of their instances) and
// says when every collector has reported at least once.
//
// The merged set is kept up to date incrementally: a collector's report
// recomputes only the clusters whose instances it changed, and listeners are
// told which those are, so under churn (a file of ten clusters rewritten
// every few milliseconds) the work per report follows the report, not the
// zone.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "discovery/collector.h"

namespace causeway::discovery {

class CollectorGroup {
 public:
  // The merged set (valid during the call), the names of the clusters that
  // changed in it (created, removed or with other instances), when the change
  // behind it was observed, and whether every collector has reported (until
  // then a cluster missing from the set may simply not be known yet). Called
  // for every report, also when nothing changed; never concurrently.
  using Callback =
      std::function<void(const ClusterSet& merged, const std::set<std::string>& changed,
                         std::chrono::steady_clock::time_point observed_at, bool complete)>;

  CollectorGroup() = default;
  ~CollectorGroup();
  CollectorGroup(const CollectorGroup&) = delete;
  CollectorGroup& operator=(const CollectorGroup&) = delete;

  void Add(std::unique_ptr<Collector> collector);
  absl::Status Start(Callback on_change);
  void Stop();
  size_t size() const { return collectors_.size(); }

 private:
  void OnChange(size_t index, Snapshot snapshot);
  // merged_[name] from every collector's latest set; true if it moved.
  bool Remerge(const std::string& name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::vector<std::unique_ptr<Collector>> collectors_;
  Callback on_change_;
  absl::Mutex mu_;
  std::vector<std::optional<ClusterSet>> latest_ ABSL_GUARDED_BY(mu_);
  ClusterSet merged_ ABSL_GUARDED_BY(mu_);
};

}  // namespace causeway::discovery
