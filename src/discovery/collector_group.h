// Several collectors feeding one zone: merges their latest sets (a cluster
// reported by more than one collector gets the union of their instances) and
// says when every collector has reported at least once.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "discovery/collector.h"

namespace causeway::discovery {

class CollectorGroup {
 public:
  // The merged set, when the change behind it was observed, and whether
  // every collector has reported (until then a cluster missing from the set
  // may simply not be known yet). Never called concurrently.
  using Callback = std::function<void(ClusterSet, std::chrono::steady_clock::time_point, bool)>;

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

  std::vector<std::unique_ptr<Collector>> collectors_;
  Callback on_change_;
  std::mutex mu_;
  std::vector<std::optional<ClusterSet>> latest_;
};

}  // namespace causeway::discovery
