// Endpoint selection for one worker: round robin or least request over a
// cluster's healthy endpoints, optionally restricted to an `envoy.lb`
// metadata subset, honouring each endpoint's load_balancing_weight as Envoy
// does. Single-threaded: each worker owns one.
//
// What a pick costs. The endpoints a pick may return (healthy, in the
// subset) are listed once per cluster snapshot and subset, on the first pick
// that needs them, and kept with the pick state:
//   - equal weights, round robin: the next index, O(1), as before weights;
//   - equal weights, least request: the least loaded of N random endpoints
//     (power of N choices), O(N);
//   - unequal weights, either policy: an earliest-deadline-first schedule
//     (a binary heap), O(log n) per pick.
// No pick allocates; only the first pick after a configuration change
// rebuilds the list and the heap of the subsets it is asked for.
//
// Why EDF and not nginx's smooth weighted round robin: smooth WRR visits
// every endpoint on each pick (O(n)); EDF gives the same proportions and
// interleaves as evenly, is what Envoy uses for weighted round robin and
// weighted least request, and keeps a pick O(log n).
//
// EDF: each endpoint has a deadline, initially 1/weight. A pick takes the
// endpoint with the earliest deadline (ties: the one scheduled longest ago)
// and moves its deadline on by 1/weight, so over any stretch of picks an
// endpoint of weight w is picked w/W of the time (W the sum of weights);
// weights 3:1 give A A B A, A A B A, ... Deadlines are exact fractions
// (numerator over the endpoint's weight, compared by cross-multiplying), so
// sequences do not depend on floating-point rounding.
//
// Weighted least request (Envoy's rule with active_request_bias 1): after a
// pick an endpoint's deadline moves on by (active requests + 1)/weight, so a
// loaded endpoint is picked later in proportion to its load.
//
// Outlier ejections (upstream/outlier_detector.h) are read at pick time from
// the endpoints' shared counters, so an ejection on one worker takes effect
// on all at once and its end needs no timer: a picked endpoint that is
// ejected is passed over for the next, and when every endpoint the pick may
// use is ejected one of them is returned anyway (panic: better a doubtful
// endpoint than a certain 503).
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/time_source.h"
#include "proxy/config/proxy_config.h"
#include "proxy/upstream/endpoint_stats.h"

namespace causeway::proxy {

// True if `endpoint` carries every key/value of `subset`.
bool MatchesSubset(const Endpoint& endpoint, const LbMetadata& subset);

class LoadBalancer {
 public:
  explicit LoadBalancer(uint64_t seed = std::random_device{}()) : rng_(seed) {}

  // Where ejections are read (clusters with outlier_detection): the shared
  // counters and the clock they are timed by. Without this nothing is
  // skipped.
  void SetEjectionSource(EndpointStatsRegistry* registry, const TimeSource* time) {
    registry_ = registry;
    time_ = time;
  }

  // Picks a healthy endpoint of `cluster` matching `subset`, preferring one
  // other than `avoid` (the endpoint of a failed previous try; compared by
  // address only, never read). Returns nullptr when none is healthy.
  //
  // `cluster` must not change once picked from (configuration snapshots
  // never do): its pick state is kept by ClusterConfig::id, and a changed
  // cluster is a new ClusterConfig with a new id.
  const Endpoint* Choose(const ClusterConfig& cluster, const LbMetadata& subset,
                         const Endpoint* avoid = nullptr);

  // Outstanding requests per endpoint (least request).
  void OnRequestStart(const Endpoint& e) { ++active_[e.Key()]; }
  void OnRequestEnd(const Endpoint& e);
  uint32_t Active(const Endpoint& e) const;

  uint64_t Random() { return rng_(); }

 private:
  // One EDF entry: deadline numerator / weight.
  struct Entry {
    uint64_t deadline = 1;  // numerator; the deadline is deadline / weight
    uint32_t weight = 1;
    uint32_t host = 0;   // index into Picker::hosts
    uint64_t order = 0;  // when last scheduled (ties go to the oldest)
  };
  // The endpoints one subset of one cluster snapshot may pick, and where the
  // picking is.
  struct Picker {
    LbMetadata subset;
    bool current = false;  // built from the cluster's present id
    std::vector<const Endpoint*> hosts;
    bool weighted = false;  // weights differ: EDF
    uint64_t rr_next = 0;   // equal weights, round robin (kept across rebuilds)
    std::vector<Entry> heap;
    uint64_t next_order = 0;
  };
  struct PerCluster {
    uint64_t id = 0;  // ClusterConfig::id the pickers were built from
    std::vector<Picker> pickers;
    // Shared counters of each of the cluster's endpoints (same index), when
    // it has outlier detection and there is a registry.
    std::vector<std::shared_ptr<EndpointStats>> stats;
  };

  Picker& PickerFor(PerCluster& per, const ClusterConfig& cluster, const LbMetadata& subset);
  PerCluster& PerClusterFor(const ClusterConfig& cluster);
  const Endpoint* Pick(const ClusterConfig& cluster, Picker& picker, const Endpoint* avoid);
  // A pick passing over ejected endpoints (see the top of this file).
  const Endpoint* PickNotEjected(const ClusterConfig& cluster, const PerCluster& per,
                                 Picker& picker, const Endpoint* avoid);
  static void Build(const ClusterConfig& cluster, Picker& picker);
  const Endpoint* PickEdf(Picker& picker, const Endpoint* avoid, bool least_request);
  static bool Earlier(const Entry& a, const Entry& b);
  static void SiftDown(std::vector<Entry>& heap, size_t i);

  EndpointStatsRegistry* registry_ = nullptr;
  const TimeSource* time_ = nullptr;
  std::mt19937_64 rng_;
  absl::flat_hash_map<std::string, PerCluster> clusters_;  // by cluster name
  absl::flat_hash_map<std::string, uint32_t> active_;
};

}  // namespace causeway::proxy
