// Counters per upstream endpoint of each cluster, for the admin /clusters
// page: requests, errors, open connections and requests in flight. Every
// worker adds to the same counters (relaxed atomics); the registry's lock is
// taken only when a worker first meets an endpoint, after that it uses its
// own cache (EndpointStatsCache), so the request path takes no lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "proxy/config/proxy_config.h"

namespace causeway::proxy {

struct EndpointStats {
  std::atomic<uint64_t> requests{0};  // requests written to a connection to the endpoint
  // Tries that failed there (connect failure, reset, timeout, invalid
  // response) or were answered 5xx.
  std::atomic<uint64_t> errors{0};
  std::atomic<int64_t> active_connections{0};  // open upstream connections, idle ones included
  std::atomic<int64_t> active_requests{0};
};

class EndpointStatsRegistry {
 public:
  // The counters of `endpoint` ("host:port") in `cluster`, created at zero.
  std::shared_ptr<EndpointStats> Get(const std::string& cluster, const std::string& endpoint);

  struct Values {
    uint64_t requests = 0;
    uint64_t errors = 0;
    int64_t active_connections = 0;
    int64_t active_requests = 0;
  };
  // (cluster, endpoint) → current values; endpoints never used are absent.
  std::map<std::pair<std::string, std::string>, Values> Snapshot() const;

  // Drops the counters of endpoints outside `keep` ((cluster, "host:port"))
  // that have no connection or request open. Entries otherwise stay when an
  // endpoint leaves the configuration (its totals survive a quick return,
  // and connections to it may still be open), so without this a proxy whose
  // clusters churn (discovery moving instances all day) would keep a counter
  // for every endpoint it ever met. Returns how many were dropped.
  size_t Retain(const std::set<std::pair<std::string, std::string>>& keep);
  // Retain over the endpoints `config` has, once the registry holds half as
  // many again as those (plus a margin): each configuration update costs a
  // count, the walk over every endpoint happens once per that much churn.
  size_t RetainConfigured(const ProxyConfig& config);
  static constexpr size_t kRetainMargin = 64;
  size_t size() const;
  // Moves whenever Retain drops something; worker caches then start over so
  // that none keeps counting into a dropped entry.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<EndpointStats>> stats_;
  std::atomic<uint64_t> generation_{0};
};

// One worker's lookups into the registry (single-threaded).
class EndpointStatsCache {
 public:
  explicit EndpointStatsCache(EndpointStatsRegistry* registry) : registry_(registry) {}
  // Null when there is no registry (a server built without one). The
  // reference is valid until the next call.
  const std::shared_ptr<EndpointStats>& Get(const std::string& cluster,
                                            const std::string& endpoint);

 private:
  EndpointStatsRegistry* registry_;
  absl::flat_hash_map<std::string, std::shared_ptr<EndpointStats>> cache_;  // "cluster\0ep"
  uint64_t generation_ = 0;  // of the registry when cache_ was last valid
  std::shared_ptr<EndpointStats> none_;
};

}  // namespace causeway::proxy
