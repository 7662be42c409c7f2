// Upstream connections of one worker: connecting with a timeout and keeping
// idle keep-alive connections per endpoint for reuse. Single-threaded.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "proxy/codec/buffer.h"
#include "proxy/config/proxy_config.h"
#include "proxy/upstream/endpoint_stats.h"

namespace causeway::proxy {

struct UpstreamConnection {
  explicit UpstreamConnection(const boost::asio::any_io_executor& ex) : socket(ex) {}
  ~UpstreamConnection() {
    if (stats != nullptr) stats->active_connections.fetch_sub(1, std::memory_order_relaxed);
  }
  UpstreamConnection(const UpstreamConnection&) = delete;
  UpstreamConnection& operator=(const UpstreamConnection&) = delete;
  boost::asio::ip::tcp::socket socket;
  ByteBuffer buffer;
  std::string key;        // Endpoint::Key()
  std::string peer;       // resolved "ip:port" for the access log
  uint32_t requests = 0;  // requests served, >0 means reused
  // The counters of the endpoint (in the cluster that opened it), counting
  // this connection among the active ones while it lives.
  std::shared_ptr<EndpointStats> stats;
};

class ConnectionPool {
 public:
  explicit ConnectionPool(size_t max_idle_per_endpoint = 64)
      : max_idle_per_endpoint_(max_idle_per_endpoint) {}

  // An idle connection to `key` that the peer has not closed, or nullptr.
  std::unique_ptr<UpstreamConnection> TakeIdle(const std::string& key);
  // Parks a connection whose last exchange completed cleanly.
  void Release(std::unique_ptr<UpstreamConnection> conn);
  void Clear() { idle_.clear(); }
  size_t IdleCount() const;

 private:
  size_t max_idle_per_endpoint_;
  absl::flat_hash_map<std::string, std::vector<std::unique_ptr<UpstreamConnection>>> idle_;
};

// Connects to `endpoint` (resolving a host name if needed) within `timeout`.
// Never throws; errors are Unavailable (refused, reset) or DeadlineExceeded.
boost::asio::awaitable<absl::StatusOr<std::unique_ptr<UpstreamConnection>>> Connect(
    const Endpoint& endpoint, std::chrono::milliseconds timeout);

}  // namespace causeway::proxy
