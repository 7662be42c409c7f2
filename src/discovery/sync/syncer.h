// Syncer: keeps the hub's clusters of one zone equal to what the collectors
// report, writing as little as possible.
//
// - Only clusters whose instances differ from the hub's are written, each
//   with the version the hub last showed (optimistic concurrency). A stale
//   version (someone edited the cluster meanwhile) re-reads that cluster and
//   decides again from what it now holds, never overwriting blindly.
// - Clusters the collectors no longer report are deleted only with
//   `delete_missing`, and only once every collector has reported at least
//   once (so a slow collector at start-up never empties the zone). With it,
//   the agent owns the zone's clusters: any cluster of the zone that no
//   collector reports is removed. One that routes still refer to cannot be
//   deleted; it is emptied instead.
// - Under churn, writes are coalesced: a pass starts after `debounce` of
//   quiet or `max_delay` after the first change, whichever comes first, and
//   writes the latest set of every changed cluster once, `parallelism` at a
//   time.
// - Every write logs and measures the time from the source event that caused
//   it to the hub's answer.
// - The zone is listed again every `resync_interval` (and after errors) to
//   repair edits made behind the agent's back.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "discovery/collector.h"
#include "discovery/sync/hub_api.h"
#include "discovery/sync/sync_metrics.h"

namespace causeway::discovery {

struct SyncOptions {
  std::string zone;  // for logs
  bool delete_missing = false;
  std::chrono::milliseconds debounce{20};
  std::chrono::milliseconds max_delay{200};
  std::chrono::milliseconds resync_interval{std::chrono::seconds(60)};
  std::chrono::milliseconds max_backoff{std::chrono::seconds(5)};
  int parallelism = 4;
};

class Syncer {
 public:
  Syncer(HubApi* api, SyncOptions options);
  ~Syncer();
  Syncer(const Syncer&) = delete;
  Syncer& operator=(const Syncer&) = delete;

  void Start();
  void Stop();

  // The clusters the collectors report now. `complete` is true once every
  // collector has reported (deletions wait for it). `observed_at` is when
  // the source event behind this set was seen.
  void SetDesired(ClusterSet clusters, std::chrono::steady_clock::time_point observed_at,
                  bool complete);
  // The same when the caller knows which clusters moved: only `changed` is
  // read from `clusters` (a CollectorGroup's merged set and its change list).
  void UpdateDesired(const ClusterSet& clusters, const std::set<std::string>& changed,
                     std::chrono::steady_clock::time_point observed_at, bool complete);

  // Runs one pass on the calling thread (tests; Start() must not have been
  // called). Returns the first error, if any.
  absl::Status SyncOnce();

  // True when the last pass succeeded and no change is waiting; for tests
  // and readiness.
  bool InSync() const ABSL_LOCKS_EXCLUDED(mu_);
  // Waits until InSync() or `timeout`.
  bool WaitInSync(std::chrono::milliseconds timeout) const;

  const SyncMetrics& metrics() const { return metrics_; }

 private:
  // Takes `changed` from `clusters` into desired_ and wakes the pass.
  void ApplyDesiredLocked(const ClusterSet& clusters, const std::set<std::string>& changed,
                          std::chrono::steady_clock::time_point observed_at, bool complete)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // What the idle loop waits for (Mutex::Await).
  bool StoppingOrWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || !dirty_.empty() || resync_requested_;
  }

  struct Action {
    enum class Type { kPut, kDelete, kEmpty } type;
    std::string name;
    Instances instances;
    std::string version;              // expected; "" = create
    absl::Status status;              // result
    std::optional<HubCluster> after;  // result of a put
  };

  void Run() ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Pass() ABSL_LOCKS_EXCLUDED(mu_);  // one pass: list if needed, diff, write
  void Execute(std::vector<Action>& actions);

  HubApi* const api_;
  const SyncOptions options_;
  SyncMetrics metrics_;

  mutable absl::Mutex mu_;
  absl::CondVar cv_;  // signalled on a change and on Stop (the debounce wait)
  ClusterSet desired_ ABSL_GUARDED_BY(mu_);
  bool complete_ ABSL_GUARDED_BY(mu_) = false;
  std::set<std::string> dirty_ ABSL_GUARDED_BY(mu_);  // clusters to look at in the next pass
  std::map<std::string, std::chrono::steady_clock::time_point> pending_since_ ABSL_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point first_change_ ABSL_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point last_change_ ABSL_GUARDED_BY(mu_);
  bool resync_requested_ ABSL_GUARDED_BY(mu_) = true;
  bool in_sync_ ABSL_GUARDED_BY(mu_) = false;
  bool busy_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;

  // Owned by the pass (one at a time).
  std::map<std::string, HubCluster> hub_;
  bool hub_loaded_ = false;
  std::chrono::steady_clock::time_point last_list_;
  std::map<std::string, std::string> undeletable_;  // name → version that refused deletion
};

}  // namespace causeway::discovery
