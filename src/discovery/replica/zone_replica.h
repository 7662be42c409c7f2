// ZoneReplica: an agent's copy of its zone, served over xDS by
// `causeway agent --xds` (an xds::ConfigSource).
//
// Two layers. The hub layer holds the zone's objects as the hub last showed
// them (a list, then every watch event). The local layer holds the clusters
// the agent's own collectors report now; for those clusters it wins over the
// hub layer. The collectors own their clusters' instances (the sync writes
// exactly this set to the hub), so the overlay only shows early what the hub
// will hold once the write lands, and keeps showing it while the hub is
// unreachable: proxies of the zone follow their services without the hub.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "discovery/collector.h"
#include "model/objects.h"
#include "xds/config_source.h"

namespace causeway::discovery {

class ZoneReplica final : public xds::ConfigSource {
 public:
  explicit ZoneReplica(std::string zone);

  const std::string& zone() const { return zone_; }

  // --- hub layer (the watcher's thread) -------------------------------------
  // Replaces the hub layer with `objects` (a fresh list of the zone).
  void ResetHub(std::vector<model::Object> objects, int64_t revision);
  // Applies one watch event: `after` is the object after the change, or
  // nullopt when it was deleted. Objects of other zones are ignored.
  void ApplyHub(const model::ObjectKey& key, std::optional<model::Object> after, int64_t revision);
  // The revision of the last change applied (0 = never loaded).
  int64_t hub_revision() const;
  bool hub_loaded() const;

  // --- local layer (the collectors' callback) -------------------------------
  // The clusters the collectors report now (complete sets).
  void SetLocal(const ClusterSet& clusters);
  // The same when the caller knows which clusters moved: only `changed` is
  // read from `clusters` (a CollectorGroup's merged set and its change list).
  void UpdateLocal(const ClusterSet& clusters, const std::set<std::string>& changed);

  // --- xds::ConfigSource ----------------------------------------------------
  int64_t Revision() const override { return hub_revision(); }
  // Stamps are numbered here: every change of an object's content (a watch
  // event, a relist that differs, the collectors moving a cluster's
  // instances) gives it the next number.
  xds::ZoneRead ReadZone(const std::string& zone, const WantFn& want) const override;
  bool HasZone(const std::string& zone) const override;
  int Subscribe(Listener fn) override;
  void Unsubscribe(int id) override;

  // How many keys carry a stamp: the objects of both layers, no more.
  size_t stamped_keys() const;

 private:
  void Notify() ABSL_LOCKS_EXCLUDED(mu_, notify_mu_, listeners_mu_);
  model::ObjectKey ClusterKey(const std::string& name) const;
  // Gives `key` the next stamp, or forgets it when no layer holds it (call
  // after changing the layers).
  void Restamp(const model::ObjectKey& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t StampOf(const model::ObjectKey& key) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string zone_;

  mutable absl::Mutex mu_;
  std::map<model::ObjectKey, model::Object> hub_ ABSL_GUARDED_BY(mu_);
  int64_t hub_revision_ ABSL_GUARDED_BY(mu_) = 0;
  bool hub_loaded_ ABSL_GUARDED_BY(mu_) = false;
  ClusterSet local_ ABSL_GUARDED_BY(mu_);
  std::map<model::ObjectKey, int64_t> stamps_ ABSL_GUARDED_BY(mu_);
  int64_t last_stamp_ ABSL_GUARDED_BY(mu_) = 0;

  // Listeners are called outside mu_, one notification at a time.
  absl::Mutex notify_mu_ ABSL_ACQUIRED_BEFORE(listeners_mu_);
  mutable absl::Mutex listeners_mu_;
  std::map<int, Listener> listeners_ ABSL_GUARDED_BY(listeners_mu_);
  int next_listener_ ABSL_GUARDED_BY(listeners_mu_) = 1;
};

}  // namespace causeway::discovery
