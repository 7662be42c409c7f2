#include "proxy/upstream/endpoint_stats.h"

namespace causeway::proxy {

std::shared_ptr<EndpointStats> EndpointStatsRegistry::Get(const std::string& cluster,
                                                          const std::string& endpoint) {
  std::lock_guard lock(mu_);
  auto& slot = stats_[{cluster, endpoint}];
  if (slot == nullptr) slot = std::make_shared<EndpointStats>();
  return slot;
}

std::map<std::pair<std::string, std::string>, EndpointStatsRegistry::Values>
EndpointStatsRegistry::Snapshot() const {
  std::map<std::pair<std::string, std::string>, Values> out;
  std::lock_guard lock(mu_);
  for (const auto& [key, s] : stats_) {
    out[key] = Values{s->requests.load(std::memory_order_relaxed),
                      s->errors.load(std::memory_order_relaxed),
                      s->active_connections.load(std::memory_order_relaxed),
                      s->active_requests.load(std::memory_order_relaxed)};
  }
  return out;
}

const std::shared_ptr<EndpointStats>& EndpointStatsCache::Get(const std::string& cluster,
                                                              const std::string& endpoint) {
  if (registry_ == nullptr) return none_;
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
