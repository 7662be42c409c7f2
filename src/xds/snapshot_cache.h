// SnapshotCache: the current ZoneSnapshot of every zone a stream asked for,
// rebuilt when the config source (the hub's catalog, or an agent's copy of its
// zone) changes.
//
// Changes are debounced per zone. A change to a zone whose snapshot is at
// least `quiet` old is rebuilt at once (the leading edge: a single edit
// reaches proxies without waiting); changes that follow within `quiet` of a
// rebuild wait for `quiet` without further changes to that zone, but never
// more than `max_delay` after the first pending change, so a burst becomes at
// most two rebuilds and constant churn still reaches proxies. A rebuilt snapshot
// is handed to the `on_snapshot` callback on the cache's own thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "catalog/catalog.h"
#include "common/time_source.h"
#include "xds/config_source.h"
#include "xds/snapshot.h"

namespace causeway::xds {

class SnapshotCache {
 public:
  struct Options {
    std::chrono::milliseconds quiet{100};
    std::chrono::milliseconds max_delay{250};  // see XdsServer::Options
  };
  using Callback = std::function<void(const std::shared_ptr<const ZoneSnapshot>&)>;

  SnapshotCache(ConfigSource* source, const TimeSource* time, Options options,
                Callback on_snapshot);
  SnapshotCache(catalog::Catalog* catalog, const TimeSource* time, Options options,
                Callback on_snapshot);
  ~SnapshotCache();
  SnapshotCache(const SnapshotCache&) = delete;
  SnapshotCache& operator=(const SnapshotCache&) = delete;

  void Start();
  void Stop();

  // The zone's current snapshot, built now if the zone was never asked for.
  std::shared_ptr<const ZoneSnapshot> Get(const std::string& zone)
      ABSL_LOCKS_EXCLUDED(mu_, build_mu_);
  // Only if already built (status pages must not build snapshots).
  std::shared_ptr<const ZoneSnapshot> Peek(const std::string& zone) const;

  uint64_t rebuilds() const;
  // Zones with a snapshot held now.
  size_t size() const;

 private:
  struct Pending {
    std::chrono::steady_clock::time_point first;
    std::chrono::steady_clock::time_point last;
    bool leading = false;  // the zone was quiet: rebuild without waiting
  };

  // Snapshots of zones that do not exist, asked for before a sweep drops
  // those no stream holds.
  static constexpr int kUnknownZonesBeforeSweep = 256;

  void OnChanges(const std::vector<std::string>& zones) ABSL_LOCKS_EXCLUDED(mu_);
  void SweepUnknownZones() ABSL_EXCLUSIVE_LOCKS_REQUIRED(build_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  void Loop() ABSL_LOCKS_EXCLUDED(mu_, build_mu_);
  // Conditions the loop waits on (Mutex::Await).
  bool LeadingOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool PendingOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::shared_ptr<const ZoneSnapshot> Rebuild(const std::string& zone,
                                              std::chrono::steady_clock::time_point change_time)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(build_mu_) ABSL_LOCKS_EXCLUDED(mu_);

  std::unique_ptr<ConfigSource> owned_source_;
  ConfigSource* const source_;
  const TimeSource* const time_;
  const Options options_;
  const Callback on_snapshot_;

  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<const ZoneSnapshot>> snapshots_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Pending> pending_ ABSL_GUARDED_BY(mu_);
  // When each zone was last rebuilt.
  std::map<std::string, std::chrono::steady_clock::time_point> built_at_ ABSL_GUARDED_BY(mu_);
  uint64_t next_sequence_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t rebuilds_ ABSL_GUARDED_BY(mu_) = 0;
  int unknown_since_sweep_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int listener_id_ = 0;
  std::thread thread_;
  // One rebuild at a time, so sequences follow revisions; taken before mu_.
  absl::Mutex build_mu_ ABSL_ACQUIRED_BEFORE(mu_);
};

}  // namespace causeway::xds
