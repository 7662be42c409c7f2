#include "discovery/replica/zone_replica.h"

namespace causeway::discovery {

ZoneReplica::ZoneReplica(std::string zone) : zone_(std::move(zone)) {}

void ZoneReplica::ResetHub(std::vector<model::Object> objects, int64_t revision) {
  {
    std::lock_guard lock(mu_);
    hub_.clear();
    for (auto& object : objects) {
      if (object.key.zone != zone_) continue;
      model::ObjectKey key = object.key;
      hub_[key] = std::move(object);
    }
    hub_revision_ = revision;
    hub_loaded_ = true;
  }
  Notify();
}

void ZoneReplica::ApplyHub(const model::ObjectKey& key, std::optional<model::Object> after,
                           int64_t revision) {
  if (key.zone != zone_) return;
  {
    std::lock_guard lock(mu_);
    if (after) {
      hub_[key] = *std::move(after);
    } else {
      hub_.erase(key);
    }
    hub_revision_ = std::max(hub_revision_, revision);
  }
  Notify();
}

int64_t ZoneReplica::hub_revision() const {
  std::lock_guard lock(mu_);
  return hub_revision_;
}

bool ZoneReplica::hub_loaded() const {
  std::lock_guard lock(mu_);
  return hub_loaded_;
}

void ZoneReplica::SetLocal(const ClusterSet& clusters) {
  {
    std::lock_guard lock(mu_);
    if (clusters == local_) return;
    local_ = clusters;
  }
  Notify();
}

std::vector<model::Object> ZoneReplica::ZoneObjects(const std::string& zone) const {
  std::vector<model::Object> out;
  if (zone != zone_) return out;
  std::lock_guard lock(mu_);
  for (model::Kind kind : model::kAllKinds) {
    if (kind == model::Kind::kCluster) continue;
    for (auto it = hub_.lower_bound(model::ObjectKey{kind, zone_, ""});
         it != hub_.end() && it->first.kind == kind; ++it) {
      out.push_back(it->second);
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
    if (take_hub) {
      model::Object object = hub_it->second;
      if (local_it != local_.end() && local_it->first == hub_it->first.name) {
        object.spec["instances"] = model::InstancesToJson(local_it->second);
        ++local_it;
      }
      out.push_back(std::move(object));
      ++hub_it;
    } else {
      model::Object object;
      object.key = model::ObjectKey{model::Kind::kCluster, zone_, local_it->first};
      object.spec = model::Json{{"instances", model::InstancesToJson(local_it->second)}};
      out.push_back(std::move(object));
      ++local_it;
    }
  }
  return out;
}

bool ZoneReplica::HasZone(const std::string& zone) const {
  if (zone != zone_) return false;
  std::lock_guard lock(mu_);
  return hub_.count(model::ObjectKey{model::Kind::kZone, zone_, zone_}) != 0;
}

int ZoneReplica::Subscribe(Listener fn) {
  std::lock_guard lock(listeners_mu_);
  int id = next_listener_++;
  listeners_[id] = std::move(fn);
  return id;
}

void ZoneReplica::Unsubscribe(int id) {
  std::lock_guard notifying(notify_mu_);  // no call of it is running after this
  std::lock_guard lock(listeners_mu_);
  listeners_.erase(id);
}

void ZoneReplica::Notify() {
  std::lock_guard notifying(notify_mu_);
  std::vector<Listener> listeners;
  {
    std::lock_guard lock(listeners_mu_);
    for (const auto& [id, fn] : listeners_) listeners.push_back(fn);
  }
  const std::vector<std::string> zones = {zone_};
  for (const auto& fn : listeners) fn(zones);
}

}  // namespace causeway::discovery
