// Active HTTP health checking (Envoy's http_health_check): for every cluster
// with a health check, a GET of its path on each endpoint every interval
// (plus up to interval_jitter), on a connection of its own, one check per
// endpoint at a time.
//
// What a result does, as in Envoy:
//   - a response with an expected status (200 unless expected_statuses
//     says otherwise) is a success; healthy_threshold successes in a row
//     make an unhealthy endpoint healthy again;
//   - a response with any other status marks the endpoint unhealthy at once
//     (the origin asked to be left alone), whatever unhealthy_threshold;
//   - no response (connect failure, reset, invalid response, timeout) is a
//     failure; unhealthy_threshold of them in a row make it unhealthy.
// A new endpoint (a cluster's first, or one added later) is unhealthy until
// its first check: one success makes it healthy, as Envoy does for hosts
// pending their first check. So that a new cluster does not start out all
// unhealthy, Follow can wait (boundedly, like Envoy's cluster warming) for
// the first checks of new endpoints before the configuration is served.
// An endpoint that stays across configuration changes keeps its health,
// even when the check itself changed; one that leaves is forgotten and its
// checks stop.
//
// Where it runs. One checker per process, on its own thread and io_context,
// for every worker: a worker never waits on a check. A health change reaches
// the workers as a configuration update, as STRICT_DNS answers do
// (strict_dns.h): ProxyServer builds the snapshot again with Apply(), which
// sets Endpoint::failed_active_hc, and hands it to every worker. That costs
// a snapshot per change (rare: endpoints flip, they do not flap every
// request), and nothing on the request path: the load balancer lists the
// endpoints it may pick once per snapshot, so skipping unhealthy ones is
// free, where shared atomics would be a load per candidate on every pick.
//
// Panic: when every endpoint a pick may choose from has failed its checks,
// the load balancer picks among them all anyway (load_balancer.cc), as
// Envoy's panic mode does: a request that may fail beats a certain 503.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "common/time_source.h"
#include "proxy/config/proxy_config.h"

namespace causeway::proxy {

// One endpoint's standing with its cluster's health check.
struct EndpointHealth {
  bool healthy = false;      // new endpoints wait for their first check
  bool checked = false;      // at least one check has finished
  uint32_t successes = 0;    // in a row
  uint32_t failures = 0;     // in a row
  std::string last_failure;  // why the last failed check failed ("" if none)
};

// What one check found.
struct CheckResult {
  enum class Kind { kSuccess, kUnexpectedStatus, kNoResponse };
  Kind kind = Kind::kSuccess;
  std::string reason;  // for failures: "status 503", "connect: ...", "timeout"
};

// Applies `result` to `health` under `config`'s thresholds. True if the
// endpoint went from healthy to unhealthy or back.
bool RecordCheck(const HealthCheckConfig& config, const CheckResult& result,
                 EndpointHealth& health);

// Whether `status` is among `config`'s expected statuses.
bool ExpectedStatus(const HealthCheckConfig& config, uint32_t status);

class HealthChecker {
 public:
  // `time`: the clock and timers of intervals and timeouts (not owned).
  // `on_change` runs on the checker's thread whenever an endpoint's health
  // flips (never while the checker holds its lock).
  HealthChecker(TimeSource* time, std::function<void()> on_change);
  ~HealthChecker();  // Stop()
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  // Checks exactly the endpoints of `config`'s clusters that have a health
  // check from now on (the thread starts with the first). Endpoints new to
  // it are checked at once; Follow returns when each has had its first
  // check, or after `wait`.
  void Follow(const ProxyConfig& config, std::chrono::milliseconds wait);

  // `config` with Endpoint::failed_active_hc set in each health-checked
  // cluster (a copy with its own id); other clusters are shared.
  ProxyConfigSnapshot Apply(const ProxyConfigSnapshot& config) const;

  // Ends the checks in progress and the thread.
  void Stop();

  // Endpoint health by (cluster, "host:port").
  std::map<std::pair<std::string, std::string>, EndpointHealth> Endpoints() const;
  // Envoy's cluster.<name>.health_check.* statistics.
  struct Counters {
    uint64_t attempt = 0;
    uint64_t success = 0;
    uint64_t failure = 0;
    uint64_t healthy = 0;  // endpoints healthy now
  };
  std::map<std::string, Counters> ClusterCounters() const;

 private:
  struct Target;
  struct Probe;
  class Io;
  using Key = std::pair<std::string, std::string>;

  void Finish(const Key& key, const HealthCheckConfig& config, const CheckResult& result);

  TimeSource* const time_;
  const std::function<void()> on_change_;
  mutable std::mutex mu_;
  std::condition_variable first_checks_;
  std::map<Key, EndpointHealth> health_;
  std::map<std::string, Counters> counters_;
  bool stopping_ = false;
  std::unique_ptr<Io> io_;  // started with the first health-checked cluster
};

}  // namespace causeway::proxy
