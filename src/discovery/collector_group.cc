#include "discovery/collector_group.h"

namespace causeway::discovery {

CollectorGroup::~CollectorGroup() { Stop(); }

void CollectorGroup::Add(std::unique_ptr<Collector> collector) {
  collectors_.push_back(std::move(collector));
}

absl::Status CollectorGroup::Start(Callback on_change) {
  on_change_ = std::move(on_change);
  latest_.assign(collectors_.size(), std::nullopt);
  for (size_t i = 0; i < collectors_.size(); ++i) {
    absl::Status status =
        collectors_[i]->Start([this, i](Snapshot snapshot) { OnChange(i, std::move(snapshot)); });
    if (!status.ok()) {
      for (size_t j = 0; j < i; ++j) collectors_[j]->Stop();
      return status;
    }
  }
  return absl::OkStatus();
}

void CollectorGroup::Stop() {
  for (auto& collector : collectors_) collector->Stop();
}

void CollectorGroup::OnChange(size_t index, Snapshot snapshot) {
  std::lock_guard lock(mu_);
  latest_[index] = std::move(snapshot.clusters);
  ClusterSet merged;
  bool complete = true;
  for (const auto& set : latest_) {
    if (!set) {
      complete = false;
      continue;
    }
    for (const auto& [name, instances] : *set) {
      Instances& out = merged[name];
      out.insert(out.end(), instances.begin(), instances.end());
    }
  }
  Normalize(merged);
  on_change_(std::move(merged), snapshot.observed_at, complete);
}

}  // namespace causeway::discovery
