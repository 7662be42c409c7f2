#include "discovery/collector_group.h"

namespace causeway::discovery {

CollectorGroup::~CollectorGroup() { Stop(); }

void CollectorGroup::Add(std::unique_ptr<Collector> collector) {
  collectors_.push_back(std::move(collector));
}

absl::Status CollectorGroup::Start(Callback on_change) {
  on_change_ = std::move(on_change);
  {
    // Before the collectors start; locked so that every access of latest_ is.
    absl::MutexLock lock(&mu_);
    latest_.assign(collectors_.size(), std::nullopt);
  }
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
  absl::MutexLock lock(&mu_);
  // The clusters this collector's report moved: both sets are sorted by name.
  std::set<std::string> touched;
  static const ClusterSet kNone;
  const ClusterSet& before = latest_[index] ? *latest_[index] : kNone;
  const ClusterSet& after = snapshot.clusters;
  auto b = before.begin();
  auto a = after.begin();
  while (b != before.end() || a != after.end()) {
    if (a == after.end() || (b != before.end() && b->first < a->first)) {
      touched.insert((b++)->first);
    } else if (b == before.end() || a->first < b->first) {
      touched.insert((a++)->first);
    } else {
      if (a->second != b->second) touched.insert(a->first);
      ++a;
      ++b;
    }
  }
  latest_[index] = std::move(snapshot.clusters);
  bool complete = true;
  for (const auto& set : latest_) complete = complete && set.has_value();
  std::set<std::string> changed;
  for (const std::string& name : touched) {
    if (Remerge(name)) changed.insert(name);
  }
  on_change_(merged_, changed, snapshot.observed_at, complete);
}

bool CollectorGroup::Remerge(const std::string& name) {
  Instances instances;
  bool reported = false;
  for (const auto& set : latest_) {
    if (!set) continue;
    auto it = set->find(name);
    if (it == set->end()) continue;
    reported = true;
    instances.insert(instances.end(), it->second.begin(), it->second.end());
  }
  auto current = merged_.find(name);
  if (!reported) {
    if (current == merged_.end()) return false;
    merged_.erase(current);
    return true;
  }
  Normalize(instances);
  if (current != merged_.end() && current->second == instances) return false;
  merged_[name] = std::move(instances);
  return true;
}

}  // namespace causeway::discovery
