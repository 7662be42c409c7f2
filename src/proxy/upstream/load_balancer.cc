#include "proxy/upstream/load_balancer.h"

#include <algorithm>

#include "proxy/upstream/outlier_detector.h"

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

LoadBalancer::PerCluster& LoadBalancer::PerClusterFor(const ClusterConfig& cluster) {
  auto it = clusters_.find(cluster.name);
  if (it == clusters_.end()) it = clusters_.try_emplace(cluster.name).first;
  PerCluster& per = it->second;
  if (per.id != cluster.id.value()) {
    // Another snapshot of the cluster: every picker is rebuilt when next
    // asked for (their endpoints belong to the snapshot they came from).
    per.id = cluster.id.value();
    for (Picker& p : per.pickers) p.current = false;
    per.stats.clear();
    if (cluster.outlier_detection && registry_ != nullptr && time_ != nullptr) {
      // The registry's lock, once per endpoint per configuration change.
      per.stats.reserve(cluster.endpoints.size());
      for (const Endpoint& e : cluster.endpoints) {
        per.stats.push_back(registry_->Get(cluster.name, e.Key()));
      }
    }
  }
  return per;
}

LoadBalancer::Picker& LoadBalancer::PickerFor(PerCluster& per, const ClusterConfig& cluster,
                                              const LbMetadata& subset) {
  Picker* picker = nullptr;
  for (Picker& p : per.pickers) {
    if (p.subset == subset) {
      picker = &p;
      break;
    }
  }
  if (picker == nullptr) {
    picker = &per.pickers.emplace_back();
    picker->subset = subset;
  }
  if (!picker->current) Build(cluster, *picker);
  return *picker;
}

void LoadBalancer::Build(const ClusterConfig& cluster, Picker& picker) {
  picker.current = true;
  picker.hosts.clear();
  picker.heap.clear();
  for (const Endpoint& e : cluster.endpoints) {
    if (e.healthy && !e.failed_active_hc && MatchesSubset(e, picker.subset)) {
      picker.hosts.push_back(&e);
    }
  }
  // Panic (upstream/health_checker.h): every endpoint failed its health
  // checks, so all of them are tried rather than none.
  if (picker.hosts.empty()) {
    for (const Endpoint& e : cluster.endpoints) {
      if (e.healthy && MatchesSubset(e, picker.subset)) picker.hosts.push_back(&e);
    }
  }
  picker.weighted = false;
  for (const Endpoint* e : picker.hosts) {
    if (e->weight != picker.hosts.front()->weight) {
      picker.weighted = true;
      break;
    }
  }
  if (!picker.weighted) return;
  // Every deadline starts at 1/weight; ties go to configuration order.
  picker.heap.reserve(picker.hosts.size());
  for (uint32_t i = 0; i < picker.hosts.size(); ++i) {
    picker.heap.push_back(Entry{1, std::max<uint32_t>(picker.hosts[i]->weight, 1), i, i});
  }
  picker.next_order = picker.hosts.size();
  for (size_t i = picker.heap.size() / 2; i-- > 0;) SiftDown(picker.heap, i);
}

bool LoadBalancer::Earlier(const Entry& a, const Entry& b) {
  // a.deadline / a.weight < b.deadline / b.weight, exactly.
  const unsigned __int128 lhs = static_cast<unsigned __int128>(a.deadline) * b.weight;
  const unsigned __int128 rhs = static_cast<unsigned __int128>(b.deadline) * a.weight;
  if (lhs != rhs) return lhs < rhs;
  return a.order < b.order;
}

void LoadBalancer::SiftDown(std::vector<Entry>& heap, size_t i) {
  const size_t n = heap.size();
  while (true) {
    size_t first = i;
    const size_t l = 2 * i + 1, r = l + 1;
    if (l < n && Earlier(heap[l], heap[first])) first = l;
    if (r < n && Earlier(heap[r], heap[first])) first = r;
    if (first == i) return;
    std::swap(heap[i], heap[first]);
    i = first;
  }
}

const Endpoint* LoadBalancer::PickEdf(Picker& picker, const Endpoint* avoid, bool least_request) {
  std::vector<Entry>& heap = picker.heap;
  size_t i = 0;
  if (picker.hosts[heap[0].host] == avoid) {
    // The next earliest is one of the root's children.
    i = heap.size() > 2 && Earlier(heap[2], heap[1]) ? 2 : 1;
  }
  Entry& entry = heap[i];
  const Endpoint* chosen = picker.hosts[entry.host];
  entry.deadline += least_request ? uint64_t{Active(*chosen)} + 1 : 1;
  entry.order = picker.next_order++;
  // Only this entry's key grew: it can only move down its own subtree.
  SiftDown(heap, i);
  return chosen;
}

const Endpoint* LoadBalancer::Choose(const ClusterConfig& cluster, const LbMetadata& subset,
                                     const Endpoint* avoid) {
  PerCluster& per = PerClusterFor(cluster);
  Picker& picker = PickerFor(per, cluster, subset);
  if (per.stats.empty() || picker.hosts.size() < 2) return Pick(cluster, picker, avoid);
  return PickNotEjected(cluster, per, picker, avoid);
}

const Endpoint* LoadBalancer::PickNotEjected(const ClusterConfig& cluster, const PerCluster& per,
                                             Picker& picker, const Endpoint* avoid) {
  const int64_t now_ms = OutlierNowMs(*time_);
  // Endpoints point into cluster.endpoints, which per.stats follows.
  auto ejected = [&](const Endpoint* e) {
    return IsEjected(*per.stats[static_cast<size_t>(e - cluster.endpoints.data())], now_ms);
  };
  // As many picks as there are endpoints visit each of them under round
  // robin; the other policies may repeat one, hence the scan after.
  const Endpoint* first = nullptr;
  for (size_t i = 0; i < picker.hosts.size(); ++i) {
    const Endpoint* e = Pick(cluster, picker, avoid);
    if (!ejected(e)) return e;
    if (first == nullptr) first = e;
  }
  for (const Endpoint* e : picker.hosts) {
    if (!ejected(e)) return e;
  }
  return first;  // every one is ejected: panic
}

const Endpoint* LoadBalancer::Pick(const ClusterConfig& cluster, Picker& picker,
                                   const Endpoint* avoid) {
  const std::vector<const Endpoint*>& hosts = picker.hosts;
  const size_t n = hosts.size();
  if (n == 0) return nullptr;
  if (n == 1) return hosts[0];
  const bool least_request = cluster.lb_policy == ClusterConfig::LbPolicy::kLeastRequest;
  if (picker.weighted) return PickEdf(picker, avoid, least_request);
  if (!least_request) {
    const Endpoint* e = hosts[picker.rr_next++ % n];
    if (e == avoid) e = hosts[picker.rr_next++ % n];
    return e;
  }
  // Least request with equal weights: the least loaded of N random choices
  // (Envoy's rule), so load spreads without a scan of every endpoint.
  const Endpoint* best = nullptr;
  uint32_t best_active = 0;
  for (uint32_t i = 0; i < cluster.least_request_choices; ++i) {
    const size_t k = rng_() % n;
    const Endpoint* e = hosts[k];
    if (e == avoid) e = hosts[(k + 1) % n];
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
