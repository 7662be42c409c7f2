#include "proxy/upstream/load_balancer.h"

#include <algorithm>

namespace causeway::proxy {

bool MatchesSubset(const Endpoint& endpoint, const LbMetadata& subset) {
  for (const auto& [k, v] : subset) {
    bool found = false;
    for (const auto& [ek, ev] : endpoint.metadata) {
      if (ek == k) {
        found = ev == v;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

const Endpoint* LoadBalancer::Choose(const ClusterConfig& cluster, const LbMetadata& subset,
                                     const Endpoint* avoid) {
  candidates_.clear();
  for (const Endpoint& e : cluster.endpoints) {
    if (e.healthy && MatchesSubset(e, subset)) candidates_.push_back(&e);
  }
  if (candidates_.empty()) return nullptr;
  if (avoid != nullptr && candidates_.size() > 1) {
    auto it = std::find(candidates_.begin(), candidates_.end(), avoid);
    if (it != candidates_.end()) candidates_.erase(it);
  }
  if (candidates_.size() == 1) return candidates_[0];
  if (cluster.lb_policy == ClusterConfig::LbPolicy::kRoundRobin) {
    uint64_t& next = rr_[cluster.name];
    return candidates_[next++ % candidates_.size()];
  }
  // Least request: the least loaded of N random choices (Envoy's default
  // for equal weights), so load spreads without a global scan.
  const Endpoint* best = nullptr;
  uint32_t best_active = 0;
  for (uint32_t i = 0; i < cluster.least_request_choices; ++i) {
    const Endpoint* e = candidates_[rng_() % candidates_.size()];
    uint32_t a = Active(*e);
    if (best == nullptr || a < best_active) {
      best = e;
      best_active = a;
    }
  }
  return best;
}

void LoadBalancer::OnRequestEnd(const Endpoint& e) {
  auto it = active_.find(e.Key());
  if (it == active_.end()) return;
  if (--it->second == 0) active_.erase(it);
}

uint32_t LoadBalancer::Active(const Endpoint& e) const {
  auto it = active_.find(e.Key());
  return it == active_.end() ? 0 : it->second;
}

}  // namespace causeway::proxy
