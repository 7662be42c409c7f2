// Outlier detection, Envoy's consecutive-failure kinds: an endpoint whose
// tries keep failing is taken out of its cluster's load balancing for a
// while, on every worker at once.
//
// What counts. A try answered 5xx, or one that failed in the proxy's own
// hands (connect failure, reset, timeout: Envoy's local-origin failures,
// which it maps to 5xx unless split_external_local_origin_errors), adds one
// to the endpoint's consecutive_5xx; a 502, 503 or 504 or a local-origin
// failure also adds one to its consecutive_gateway_failure (any other 5xx
// resets that one); any other answer resets both. When a count reaches its
// threshold and that kind is enforcing, the endpoint is ejected.
//
// Ejection, as Envoy does it:
//   - it lasts base_ejection_time × the number of times the endpoint has
//     been ejected, at most max(max_ejection_time, base_ejection_time);
//     every `interval` the endpoint spends in the load balancing set takes
//     one off that number again;
//   - it happens only while the ejected endpoints, this one included, stay
//     within max_ejection_percent of the cluster's endpoints; with
//     always_eject_one_host the first one is ejected regardless (so with the
//     default 10 % a cluster of fewer than ten endpoints ejects none unless
//     that is set: Envoy's rule, kept so the same objects behave alike);
//   - it ends when its time is up; the load balancer reads the end time, so
//     no timer is involved.
//
// When every endpoint a pick may use is ejected, the load balancer picks
// among them anyway (upstream/load_balancer.h): failing every request
// would be worse than trying a doubtful endpoint. Envoy's panic threshold
// (50 % by default) is not implemented: the healthy rest takes the traffic
// for as long as one remains.
//
// State lives in the shared EndpointStats/ClusterStats (endpoint_stats.h):
// counts are atomics, the ejection decision takes the cluster's lock.
#pragma once

#include <cstdint>
#include <memory>

#include "common/time_source.h"
#include "proxy/config/proxy_config.h"
#include "proxy/upstream/endpoint_stats.h"

namespace causeway::proxy {

// The clock outlier detection reads: `time`'s Monotonic() in milliseconds.
int64_t OutlierNowMs(const TimeSource& time);

// The outcome of one try on `endpoint` of `cluster`: the response status, or
// 0 for a failure of the proxy's own (connect failure, reset, timeout).
// Nothing happens when the cluster has no outlier_detection.
void RecordOutlierOutcome(const ClusterConfig& cluster,
                          const std::shared_ptr<EndpointStats>& endpoint, int status,
                          int64_t now_ms);

// True while `endpoint` is ejected at `now_ms`.
inline bool IsEjected(const EndpointStats& endpoint, int64_t now_ms) {
  return endpoint.ejected_until_ms.load(std::memory_order_relaxed) > now_ms;
}

// Ends the ejections of `cluster` whose time is up (so ejections_active and
// max_ejection_percent see them gone). Called before each ejection and
// before the counters are read.
void SweepEjections(ClusterStats& cluster, int64_t now_ms);

}  // namespace causeway::proxy
