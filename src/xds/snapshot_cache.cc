#include "xds/snapshot_cache.h"

#include <algorithm>
#include <vector>

#include "spdlog/spdlog.h"

namespace causeway::xds {

SnapshotCache::SnapshotCache(ConfigSource* source, const TimeSource* time, Options options,
                             Callback on_snapshot)
    : source_(source), time_(time), options_(options), on_snapshot_(std::move(on_snapshot)) {}

SnapshotCache::SnapshotCache(catalog::Catalog* catalog, const TimeSource* time, Options options,
                             Callback on_snapshot)
    : owned_source_(std::make_unique<CatalogConfigSource>(catalog)),
      source_(owned_source_.get()),
      time_(time),
      options_(options),
      on_snapshot_(std::move(on_snapshot)) {}

SnapshotCache::~SnapshotCache() { Stop(); }

void SnapshotCache::Start() {
  listener_id_ =
      source_->Subscribe([this](const std::vector<std::string>& zones) { OnChanges(zones); });
  thread_ = std::thread([this] { Loop(); });
}

void SnapshotCache::Stop() {
  if (listener_id_ != 0) {
    source_->Unsubscribe(listener_id_);
    listener_id_ = 0;
  }
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

// Runs on the source's thread (the catalog's committer): only notes which
// zones moved.
void SnapshotCache::OnChanges(const std::vector<std::string>& zones) {
  auto now = time_->Monotonic();
  {
    absl::MutexLock lock(&mu_);
    for (const auto& zone : zones) {
      auto [it, inserted] = pending_.try_emplace(zone, Pending{now, now});
      if (!inserted) {
        it->second.last = now;
      } else {
        auto built = built_at_.find(zone);
        it->second.leading = built == built_at_.end() || now - built->second >= options_.quiet;
      }
    }
  }
}

std::shared_ptr<const ZoneSnapshot> SnapshotCache::Get(const std::string& zone) {
  {
    absl::MutexLock lock(&mu_);
    auto it = snapshots_.find(zone);
    if (it != snapshots_.end()) return it->second;
  }
  absl::MutexLock build(&build_mu_);
  {
    absl::MutexLock lock(&mu_);
    auto it = snapshots_.find(zone);
    if (it != snapshots_.end()) return it->second;
  }
  if (!source_->HasZone(zone)) SweepUnknownZones();
  return Rebuild(zone, time_->Monotonic());
}

// A stream may name any zone. The snapshot of a zone that does not exist is
// kept while a stream holds it (so that the stream hears when the zone is
// created), and dropped after: a client cycling through made-up zone names
// leaves at most kUnknownZonesBeforeSweep of them behind. build_mu_ is held.
void SnapshotCache::SweepUnknownZones() {
  std::vector<std::string> gone;
  {
    absl::MutexLock lock(&mu_);
    if (++unknown_since_sweep_ < kUnknownZonesBeforeSweep) return;
    unknown_since_sweep_ = 0;
    for (const auto& [zone, snapshot] : snapshots_) {
      // Only the cache holds it: no stream is on this zone now.
      if (snapshot.use_count() == 1) gone.push_back(zone);
    }
  }
  for (auto it = gone.begin(); it != gone.end();) {
    it = source_->HasZone(*it) ? gone.erase(it) : it + 1;
  }
  absl::MutexLock lock(&mu_);
  for (const std::string& zone : gone) {
    auto it = snapshots_.find(zone);
    if (it == snapshots_.end() || it->second.use_count() != 1) continue;
    snapshots_.erase(it);
    built_at_.erase(zone);
    pending_.erase(zone);
  }
}

size_t SnapshotCache::size() const {
  absl::MutexLock lock(&mu_);
  return snapshots_.size();
}

std::shared_ptr<const ZoneSnapshot> SnapshotCache::Peek(const std::string& zone) const {
  absl::MutexLock lock(&mu_);
  auto it = snapshots_.find(zone);
  return it == snapshots_.end() ? nullptr : it->second;
}

uint64_t SnapshotCache::rebuilds() const {
  absl::MutexLock lock(&mu_);
  return rebuilds_;
}

// build_mu_ must be held.
std::shared_ptr<const ZoneSnapshot> SnapshotCache::Rebuild(
    const std::string& zone, std::chrono::steady_clock::time_point change_time) {
  std::shared_ptr<const ZoneSnapshot> previous;
  uint64_t sequence = 0;
  {
    absl::MutexLock lock(&mu_);
    auto it = snapshots_.find(zone);
    if (it != snapshots_.end()) previous = it->second;
    sequence = next_sequence_++;
  }
  int64_t revision = source_->Revision();
  auto snapshot =
      ZoneSnapshot::Read(zone, revision, sequence, change_time, *source_, previous.get());
  for (const auto& error : snapshot->errors()) {
    spdlog::warn("xds: zone {}: {}", zone, error);
  }
  absl::MutexLock lock(&mu_);
  snapshots_[zone] = snapshot;
  built_at_[zone] = time_->Monotonic();
  ++rebuilds_;
  return snapshot;
}

bool SnapshotCache::LeadingOrStopping() const {
  return stopping_ || std::any_of(pending_.begin(), pending_.end(),
                                  [](const auto& p) { return p.second.leading; });
}

bool SnapshotCache::PendingOrStopping() const { return stopping_ || !pending_.empty(); }

void SnapshotCache::Loop() {
  // Polls at a short interval rather than sleeping until a computed deadline
  // because the deadline is measured on the injected TimeSource, which in
  // tests may not move with the real clock.
  constexpr auto kTick = std::chrono::milliseconds(10);
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      // A leading-edge change ends the wait at once.
      mu_.AwaitWithTimeout(absl::Condition(this, &SnapshotCache::LeadingOrStopping),
                           absl::FromChrono(kTick));
      if (stopping_) return;
      if (pending_.empty()) {
        mu_.Await(absl::Condition(this, &SnapshotCache::PendingOrStopping));
        if (stopping_) return;
        continue;
      }
    }
    std::vector<std::shared_ptr<const ZoneSnapshot>> built;
    {
      absl::MutexLock build(&build_mu_);
      std::vector<std::pair<std::string, Pending>> ready;
      {
        absl::MutexLock lock(&mu_);
        auto now = time_->Monotonic();
        for (auto it = pending_.begin(); it != pending_.end();) {
          const Pending& p = it->second;
          if (p.leading || now - p.last >= options_.quiet || now - p.first >= options_.max_delay) {
            // Zones nobody asked for are built on demand by Get().
            if (snapshots_.count(it->first) != 0) ready.emplace_back(it->first, p);
            it = pending_.erase(it);
          } else {
            ++it;
          }
        }
      }
      for (const auto& [zone, pending] : ready) built.push_back(Rebuild(zone, pending.first));
    }
    for (const auto& snapshot : built) on_snapshot_(snapshot);
  }
}

}  // namespace causeway::xds
