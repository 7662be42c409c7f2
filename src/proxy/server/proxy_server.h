// The proxy's data plane: N worker threads, each with its own event loop and
// SO_REUSEPORT listening sockets, serving the current ProxyConfigSnapshot.
//
//   ProxyServer server({.workers = 2, .access_log = &log});
//   CW_RETURN_IF_ERROR(server.Start());
//   CW_ASSIGN_OR_RETURN(auto snapshot, BuildConfig(lds, rds, cds, eds));
//   CW_RETURN_IF_ERROR(server.UpdateConfig(snapshot));
//   ...
//   server.Drain(std::chrono::seconds(5));
//
// UpdateConfig and Drain are called from one control thread (the xDS client);
// they hand work to the workers by posting to their event loops.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "common/time_source.h"
#include "proxy/config/proxy_config.h"
#include "proxy/server/access_log.h"
#include "proxy/server/overload_state.h"
#include "proxy/upstream/connection_pool.h"
#include "proxy/upstream/endpoint_stats.h"
#include "proxy/upstream/health_checker.h"
#include "proxy/upstream/strict_dns.h"

namespace causeway::proxy {

class Worker;
struct ServerShared;
class RoutingKeyStamper;

// What causeway-proxy's workers ask for by default (--worker-slice-us): the
// shortest slice the kernel grants. bench/proxy/run measured it against the
// kernel's own (1.4 ms on two CPUs): after a stall of the machine the proxy
// catches up sooner; throughput stayed within the noise between runs
// (README, bench/proxy/HISTORY.md).
inline constexpr std::chrono::microseconds kDefaultWorkerSlice{100};

struct ProxyServerOptions {
  int workers = 0;                  // 0: one per usable CPU
  AccessLog* access_log = nullptr;  // not owned; null disables the access log
  ConnectionPool::Options pool;     // each worker's upstream connection pool
  // The scheduling slice each worker thread asks for (common/thread_slice.h;
  // Linux 6.12 and later); 0 keeps the kernel's.
  std::chrono::microseconds worker_slice = kDefaultWorkerSlice;
  // The DNS server STRICT_DNS clusters' host names are looked up on,
  // "IPv4:PORT" (causeway-proxy --dns-server); empty: the system's resolver
  // (getaddrinfo). See upstream/strict_dns.h.
  std::string dns_server;
  // How long UpdateConfig waits for the first answer about a STRICT_DNS
  // host name it has not looked up before; one not answered by then starts
  // without addresses and gets them when the answer comes.
  std::chrono::milliseconds dns_first_answer_wait{2000};
  // How long UpdateConfig waits for the first health check of endpoints new
  // to it (upstream/health_checker.h); one not checked by then is served as
  // failed (panic routing still reaches it) until its check passes.
  std::chrono::milliseconds health_first_check_wait{2000};
  // The request path's clock and timers (not owned); null: real time.
  TimeSource* time = nullptr;
  // Downstream connections allowed open at once, in the whole process and
  // on each listener (0: no limit but file descriptors); the connection
  // beyond is reset as soon as it is accepted (ServerShared).
  int64_t max_connections = 0;
  int64_t max_connections_per_listener = 0;
  // Stamps the routing key on requests before they are routed (not owned;
  // null: off). server/routing_key_stamp.h.
  RoutingKeyStamper* key_stamper = nullptr;
};

class ProxyServer {
 public:
  explicit ProxyServer(ProxyServerOptions options = {});
  ~ProxyServer();
  ProxyServer(const ProxyServer&) = delete;
  ProxyServer& operator=(const ProxyServer&) = delete;

  // Makes this an edge proxy (ServerShared::edge); before Start().
  void set_edge(bool edge);
  absl::Status Start();

  // Swaps in `config`: listeners new in it are bound (an error leaves the
  // previous configuration in place), removed ones stop accepting and their
  // connections close after the response in flight, and every worker
  // switches to the new snapshot for its next request.
  //
  // STRICT_DNS clusters are served with their host names' addresses
  // (upstream/strict_dns.h): each time those change, the workers get the
  // last snapshot given here with the new addresses. Thread-safe with those
  // updates, which come from the resolver thread.
  absl::Status UpdateConfig(ProxyConfigSnapshot config);

  // The port a listener is bound to (useful with port 0), if it is bound.
  std::optional<uint16_t> ListenerPort(std::string_view name) const;

  // Graceful drain: stop accepting, close idle connections, let requests in
  // flight finish and close their connections. True if every downstream
  // connection closed within `timeout`.
  bool Drain(std::chrono::milliseconds timeout);

  // Stops the workers; connections still open are dropped.
  void Stop();

  int64_t ActiveConnections() const;
  // Requests between their head and the end of their response, all workers.
  int64_t RequestsInProgress() const;
  uint64_t RequestsTotal() const;
  // The request path's counters (proxy_counters.h) by name.
  std::map<std::string, uint64_t> Counters() const;
  // The overload actions the workers obey (overload_state.h).
  OverloadState& overload();
  // Counters of every upstream endpoint used so far, by (cluster, "host:port").
  std::map<std::pair<std::string, std::string>, EndpointStatsRegistry::Values> EndpointStats()
      const;
  // Each cluster's outlier detection and circuit breaker state, by name.
  std::map<std::string, std::shared_ptr<ClusterStats>> ClusterStatsByName() const;
  // STRICT_DNS lookups so far, and how many of them failed.
  struct DnsCounters {
    uint64_t lookups = 0;
    uint64_t failures = 0;
  };
  DnsCounters DnsStats() const;
  // Active health checking of the clusters that ask for it.
  const HealthChecker& health_checker() const { return *health_; }
  int workers() const { return static_cast<int>(workers_.size()); }

 private:
  struct Bound {
    std::string address;
    uint16_t requested_port = 0;
    uint16_t port = 0;
  };

  // The resolver thread's news (`follow_health`: new addresses to check
  // too) or the health checker's: the workers get the last snapshot again,
  // with the current addresses and health (no listener changes).
  void OnEndpointsChange(bool follow_health);

  ProxyServerOptions options_;
  std::unique_ptr<ServerShared> shared_;
  std::vector<std::unique_ptr<Worker>> workers_;
  absl::flat_hash_map<std::string, Bound> bound_;  // UpdateConfig only
  bool started_ = false;
  // Serializes what reaches the workers: UpdateConfig and DNS updates.
  mutable std::mutex publish_mu_;
  ProxyConfigSnapshot base_;  // the last snapshot given to UpdateConfig
  // Started with the first snapshot that has STRICT_DNS host names.
  std::unique_ptr<StrictDnsResolver> dns_;
  std::unique_ptr<HealthChecker> health_;  // its thread starts with the first check
};

}  // namespace causeway::proxy
