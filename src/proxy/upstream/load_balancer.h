// Endpoint selection for one worker: round robin or least request (power of
// N choices) over a cluster's healthy endpoints, optionally restricted to an
// `envoy.lb` metadata subset. Single-threaded: each worker owns one.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "proxy/config/proxy_config.h"

namespace causeway::proxy {

// True if `endpoint` carries every key/value of `subset`.
bool MatchesSubset(const Endpoint& endpoint, const LbMetadata& subset);

class LoadBalancer {
 public:
  explicit LoadBalancer(uint64_t seed = std::random_device{}()) : rng_(seed) {}

  // Picks a healthy endpoint of `cluster` matching `subset`, preferring one
  // other than `avoid` (the endpoint of a failed previous try). Returns
  // nullptr when none is healthy.
  const Endpoint* Choose(const ClusterConfig& cluster, const LbMetadata& subset,
                         const Endpoint* avoid = nullptr);

  // Outstanding requests per endpoint (least request).
  void OnRequestStart(const Endpoint& e) { ++active_[e.Key()]; }
  void OnRequestEnd(const Endpoint& e);
  uint32_t Active(const Endpoint& e) const;

  uint64_t Random() { return rng_(); }

 private:
  std::mt19937_64 rng_;
  absl::flat_hash_map<std::string, uint64_t> rr_;  // cluster name -> next index
  absl::flat_hash_map<std::string, uint32_t> active_;
  std::vector<const Endpoint*> candidates_;  // reused scratch
};

}  // namespace causeway::proxy
