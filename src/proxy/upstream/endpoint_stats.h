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
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "proxy/config/proxy_config.h"

namespace causeway::proxy {

// What all workers share about one cluster: its circuit breakers' gauges
// and overflow counters (upstream/circuit_breaker.h) and its outlier
// ejections (upstream/outlier_detector.h).
struct ClusterStats {
  // Circuit breaker gauges, across workers.
  std::atomic<int64_t> open_connections{0};
  std::atomic<int64_t> pending_requests{0};  // waiting for a connection
  std::atomic<int64_t> active_requests{0};
  std::atomic<int64_t> active_retries{0};
  // Named as Envoy names them.
  std::atomic<uint64_t> upstream_cx_overflow{0};
  std::atomic<uint64_t> upstream_rq_pending_overflow{0};
  std::atomic<uint64_t> upstream_rq_retry_overflow{0};
  // Connects whose TLS handshake failed (a certificate not verified, a
  // clear-text endpoint): config/tls_context.h.
  std::atomic<uint64_t> upstream_cx_tls_handshake_failed{0};

  // Outlier detection. Ejecting is rare and must see the other ejections of
  // the cluster (max_ejection_percent), so it takes `outlier_mu`; picks read
  // only each endpoint's ejected_until_ms.
  std::mutex outlier_mu;
  // Weak: an endpoint's stats hold their cluster's, so a strong reference
  // back would keep both alive for ever once one was ejected.
  std::vector<std::weak_ptr<struct EndpointStats>> ejected;  // guarded by outlier_mu
  std::atomic<uint64_t> ejections_active{0};
  std::atomic<uint64_t> ejections_total{0};  // every ejection, Envoy's deprecated total
  std::atomic<uint64_t> ejections_enforced_total{0};
  std::atomic<uint64_t> ejections_detected_consecutive_5xx{0};
  std::atomic<uint64_t> ejections_enforced_consecutive_5xx{0};
  std::atomic<uint64_t> ejections_detected_consecutive_gateway_failure{0};
  std::atomic<uint64_t> ejections_enforced_consecutive_gateway_failure{0};
  std::atomic<uint64_t> ejections_overflow{0};  // held back by max_ejection_percent
};

struct EndpointStats {
  std::atomic<uint64_t> requests{0};  // requests written to a connection to the endpoint
  // Tries that failed there (connect failure, reset, timeout, invalid
  // response) or were answered 5xx.
  std::atomic<uint64_t> errors{0};
  std::atomic<int64_t> active_connections{0};  // open upstream connections, idle ones included
  std::atomic<int64_t> active_requests{0};

  // Outlier detection (upstream/outlier_detector.h). Times are the
  // TimeSource's Monotonic() in milliseconds.
  std::atomic<uint32_t> consecutive_5xx{0};
  std::atomic<uint32_t> consecutive_gateway_failures{0};
  std::atomic<int64_t> ejected_until_ms{0};  // 0: not ejected
  std::atomic<uint32_t> times_ejected{0};    // the ejection time's multiplier
  std::atomic<int64_t> unejected_at_ms{0};   // when the last ejection ended
  // The cluster the endpoint belongs to; set when created, never changed.
  std::shared_ptr<ClusterStats> cluster;
};

class EndpointStatsRegistry {
 public:
  // The counters of `endpoint` ("host:port") in `cluster`, created at zero.
  std::shared_ptr<EndpointStats> Get(const std::string& cluster, const std::string& endpoint);

  // The shared state of `cluster`, created empty.
  std::shared_ptr<ClusterStats> GetCluster(const std::string& cluster);

  struct Values {
    uint64_t requests = 0;
    uint64_t errors = 0;
    int64_t active_connections = 0;
    int64_t active_requests = 0;
    int64_t ejected_until_ms = 0;  // Monotonic ms; 0: not ejected
    uint32_t times_ejected = 0;
  };
  // (cluster, endpoint) → current values; endpoints never used are absent.
  std::map<std::pair<std::string, std::string>, Values> Snapshot() const;
  // Cluster name → its shared state (read its atomics; never null).
  std::map<std::string, std::shared_ptr<ClusterStats>> Clusters() const;

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
  // Kept while the process lives: one per cluster name ever configured.
  std::map<std::string, std::shared_ptr<ClusterStats>, std::less<>> clusters_;
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
