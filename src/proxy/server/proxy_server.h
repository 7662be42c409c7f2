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
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "proxy/config/proxy_config.h"
#include "proxy/server/access_log.h"
#include "proxy/upstream/connection_pool.h"
#include "proxy/upstream/endpoint_stats.h"

namespace causeway::proxy {

class Worker;
struct ServerShared;

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
};

class ProxyServer {
 public:
  explicit ProxyServer(ProxyServerOptions options = {});
  ~ProxyServer();
  ProxyServer(const ProxyServer&) = delete;
  ProxyServer& operator=(const ProxyServer&) = delete;

  absl::Status Start();

  // Swaps in `config`: listeners new in it are bound (an error leaves the
  // previous configuration in place), removed ones stop accepting and their
  // connections close after the response in flight, and every worker
  // switches to the new snapshot for its next request.
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
  // Counters of every upstream endpoint used so far, by (cluster, "host:port").
  std::map<std::pair<std::string, std::string>, EndpointStatsRegistry::Values> EndpointStats()
      const;
  int workers() const { return static_cast<int>(workers_.size()); }

 private:
  struct Bound {
    std::string address;
    uint16_t requested_port = 0;
    uint16_t port = 0;
  };

  ProxyServerOptions options_;
  std::unique_ptr<ServerShared> shared_;
  std::vector<std::unique_ptr<Worker>> workers_;
  absl::flat_hash_map<std::string, Bound> bound_;  // control thread only
  bool started_ = false;
};

}  // namespace causeway::proxy
