#include "proxy/upstream/endpoint_stats.h"

namespace causeway::proxy {

std::shared_ptr<EndpointStats> EndpointStatsRegistry::Get(const std::string& cluster,
                                                          const std::string& endpoint) {
  std::lock_guard lock(mu_);
  auto& slot = stats_[{cluster, endpoint}];
  if (slot == nullptr) {
    slot = std::make_shared<EndpointStats>();
    auto& owner = clusters_[cluster];
    if (owner == nullptr) owner = std::make_shared<ClusterStats>();
    slot->cluster = owner;
  }
  return slot;
}

std::shared_ptr<ClusterStats> EndpointStatsRegistry::GetCluster(const std::string& cluster) {
  std::lock_guard lock(mu_);
  auto& owner = clusters_[cluster];
  if (owner == nullptr) owner = std::make_shared<ClusterStats>();
  return owner;
}

std::map<std::string, std::shared_ptr<ClusterStats>> EndpointStatsRegistry::Clusters() const {
  std::lock_guard lock(mu_);
  return {clusters_.begin(), clusters_.end()};
}

std::map<std::pair<std::string, std::string>, EndpointStatsRegistry::Values>
EndpointStatsRegistry::Snapshot() const {
  std::map<std::pair<std::string, std::string>, Values> out;
  std::lock_guard lock(mu_);
  for (const auto& [key, s] : stats_) {
    out[key] = Values{s->requests.load(std::memory_order_relaxed),
                      s->errors.load(std::memory_order_relaxed),
                      s->active_connections.load(std::memory_order_relaxed),
                      s->active_requests.load(std::memory_order_relaxed),
                      s->ejected_until_ms.load(std::memory_order_relaxed),
                      s->times_ejected.load(std::memory_order_relaxed)};
  }
  return out;
}

size_t EndpointStatsRegistry::Retain(const std::set<std::pair<std::string, std::string>>& keep) {
  size_t dropped = 0;
  std::lock_guard lock(mu_);
  for (auto it = stats_.begin(); it != stats_.end();) {
    const EndpointStats& s = *it->second;
    // A worker may open a connection to a dropped endpoint a moment later
    // (a request routed with the previous configuration): it counts into
    // the dropped entry, which no page shows any more.
    if (keep.count(it->first) == 0 && s.active_connections.load(std::memory_order_relaxed) == 0 &&
        s.active_requests.load(std::memory_order_relaxed) == 0) {
      it = stats_.erase(it);
      ++dropped;
    } else {
      ++it;
    }
  }
  if (dropped > 0) generation_.fetch_add(1, std::memory_order_release);
  return dropped;
}

size_t EndpointStatsRegistry::RetainConfigured(const ProxyConfig& config) {
  size_t configured = 0;
  for (const auto& [name, cluster] : config.clusters) configured += cluster->endpoints.size();
  if (size() <= configured + configured / 2 + kRetainMargin) return 0;
  std::set<std::pair<std::string, std::string>> keep;
  for (const auto& [name, cluster] : config.clusters) {
    for (const Endpoint& endpoint : cluster->endpoints) keep.emplace(cluster->name, endpoint.Key());
  }
  return Retain(keep);
}

size_t EndpointStatsRegistry::size() const {
  std::lock_guard lock(mu_);
  return stats_.size();
}

const std::shared_ptr<EndpointStats>& EndpointStatsCache::Get(const std::string& cluster,
                                                              const std::string& endpoint) {
  if (registry_ == nullptr) return none_;
  if (uint64_t generation = registry_->generation(); generation != generation_) {
    cache_.clear();
    generation_ = generation;
  }
  std::string key;
  key.reserve(cluster.size() + 1 + endpoint.size());
  key.append(cluster).push_back('\0');
  key.append(endpoint);
  auto it = cache_.find(key);
  if (it == cache_.end())
    it = cache_.emplace(std::move(key), registry_->Get(cluster, endpoint)).first;
  return it->second;
}

}  // namespace causeway::proxy
