#include "discovery/replica/zone_replica.h"

namespace causeway::discovery {

ZoneReplica::ZoneReplica(std::string zone) : zone_(std::move(zone)) {}

void ZoneReplica::ResetHub(std::vector<model::Object> objects, int64_t revision) {
  {
    absl::MutexLock lock(&mu_);
    std::map<model::ObjectKey, model::Object> fresh;
    for (auto& object : objects) {
      if (object.key.zone != zone_) continue;
      model::ObjectKey key = object.key;
      fresh[key] = std::move(object);
    }
    // Objects the relist shows unchanged keep their stamps, so a reader that
    // remembers them rereads only what moved while the watch was down. The
    // content is compared too: a hub restored from a backup can give another
    // object the same version.
    std::vector<model::ObjectKey> moved;
    for (const auto& [key, object] : fresh) {
      auto before = hub_.find(key);
      if (before == hub_.end() || before->second.version != object.version ||
          before->second.spec != object.spec) {
        moved.push_back(key);
      }
    }
    for (const auto& [key, object] : hub_) {
      if (fresh.count(key) == 0) moved.push_back(key);
    }
    hub_ = std::move(fresh);
    for (const auto& key : moved) Restamp(key);
    hub_revision_ = revision;
    hub_loaded_ = true;
  }
  Notify();
}

void ZoneReplica::ApplyHub(const model::ObjectKey& key, std::optional<model::Object> after,
                           int64_t revision) {
  if (key.zone != zone_) return;
  {
    absl::MutexLock lock(&mu_);
    if (after) {
      hub_[key] = *std::move(after);
    } else {
      hub_.erase(key);
    }
    Restamp(key);
    hub_revision_ = std::max(hub_revision_, revision);
  }
  Notify();
}

int64_t ZoneReplica::hub_revision() const {
  absl::MutexLock lock(&mu_);
  return hub_revision_;
}

bool ZoneReplica::hub_loaded() const {
  absl::MutexLock lock(&mu_);
  return hub_loaded_;
}

void ZoneReplica::SetLocal(const ClusterSet& clusters) {
  std::set<std::string> names;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, instances] : local_) names.insert(name);
  }
  for (const auto& [name, instances] : clusters) names.insert(name);
  UpdateLocal(clusters, names);  // restamps only the clusters that moved
}

void ZoneReplica::UpdateLocal(const ClusterSet& clusters, const std::set<std::string>& changed) {
  {
    absl::MutexLock lock(&mu_);
    bool moved = false;
    for (const std::string& name : changed) {
      auto want = clusters.find(name);
      auto have = local_.find(name);
      if (want == clusters.end()) {
        if (have == local_.end()) continue;
        local_.erase(have);
      } else if (have == local_.end()) {
        local_.emplace(name, want->second);
      } else if (have->second != want->second) {
        have->second = want->second;
      } else {
        continue;
      }
      Restamp(ClusterKey(name));
      moved = true;
    }
    if (!moved) return;
  }
  Notify();
}

model::ObjectKey ZoneReplica::ClusterKey(const std::string& name) const {
  return model::ObjectKey{model::Kind::kCluster, zone_, name};
}

void ZoneReplica::Restamp(const model::ObjectKey& key) {
  // A key neither layer holds any more is forgotten, not kept stamped: under
  // discovery churn (clusters and objects coming and going all day) the map
  // would otherwise grow without bound. Readers see a key they knew go
  // missing, and a key that comes back gets a number never given before.
  const bool held =
      hub_.count(key) > 0 || (key.kind == model::Kind::kCluster && local_.count(key.name) > 0);
  if (held) {
    stamps_[key] = ++last_stamp_;
  } else {
    stamps_.erase(key);
  }
}

size_t ZoneReplica::stamped_keys() const {
  absl::MutexLock lock(&mu_);
  return stamps_.size();
}

int64_t ZoneReplica::StampOf(const model::ObjectKey& key) const {
  auto it = stamps_.find(key);
  return it == stamps_.end() ? 0 : it->second;
}

xds::ZoneRead ZoneReplica::ReadZone(const std::string& zone, const WantFn& want) const {
  xds::ZoneRead out;
  if (zone != zone_) return out;
  absl::MutexLock lock(&mu_);
  for (model::Kind kind : model::kAllKinds) {
    if (kind == model::Kind::kCluster) continue;
    for (auto it = hub_.lower_bound(model::ObjectKey{kind, zone_, ""});
         it != hub_.end() && it->first.kind == kind; ++it) {
      int64_t stamp = StampOf(it->first);
      out.stamps.emplace_back(it->first, stamp);
      if (want(it->first, stamp)) out.objects.push_back(it->second);
    }
  }
  // Clusters: the hub's, with the collectors' instances where they report the
  // cluster; clusters only the collectors know (not yet written) are added.
  auto hub_it = hub_.lower_bound(model::ObjectKey{model::Kind::kCluster, zone_, ""});
  auto hub_end = hub_it;
  while (hub_end != hub_.end() && hub_end->first.kind == model::Kind::kCluster) ++hub_end;
  auto local_it = local_.begin();
  while (hub_it != hub_end || local_it != local_.end()) {
    bool take_hub =
        local_it == local_.end() || (hub_it != hub_end && hub_it->first.name <= local_it->first);
    const bool overlaid =
        take_hub && local_it != local_.end() && local_it->first == hub_it->first.name;
    model::ObjectKey key = take_hub ? hub_it->first : ClusterKey(local_it->first);
    int64_t stamp = StampOf(key);
    out.stamps.emplace_back(key, stamp);
    if (want(key, stamp)) {
      model::Object object;
      if (take_hub) {
        object = hub_it->second;
        if (overlaid) object.spec["instances"] = model::InstancesToJson(local_it->second);
      } else {
        object.key = key;
        object.spec = model::Json{{"instances", model::InstancesToJson(local_it->second)}};
      }
      out.objects.push_back(std::move(object));
    }
    if (take_hub) ++hub_it;
    if (!take_hub || overlaid) ++local_it;
  }
  return out;
}

bool ZoneReplica::HasZone(const std::string& zone) const {
  if (zone != zone_) return false;
  absl::MutexLock lock(&mu_);
  return hub_.count(model::ObjectKey{model::Kind::kZone, zone_, zone_}) != 0;
}

int ZoneReplica::Subscribe(Listener fn) {
  absl::MutexLock lock(&listeners_mu_);
  int id = next_listener_++;
  listeners_[id] = std::move(fn);
  return id;
}

void ZoneReplica::Unsubscribe(int id) {
  absl::MutexLock notifying(&notify_mu_);  // no call of it is running after this
  absl::MutexLock lock(&listeners_mu_);
  listeners_.erase(id);
}

void ZoneReplica::Notify() {
  absl::MutexLock notifying(&notify_mu_);
  std::vector<Listener> listeners;
  {
    absl::MutexLock lock(&listeners_mu_);
    for (const auto& [id, fn] : listeners_) listeners.push_back(fn);
  }
  const std::vector<std::string> zones = {zone_};
  for (const auto& fn : listeners) fn(zones);
}

}  // namespace causeway::discovery
