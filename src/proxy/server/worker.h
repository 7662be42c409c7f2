// One event loop thread: its listeners' acceptors (SO_REUSEPORT sockets),
// its downstream sessions, load balancer and upstream connection pool, and
// its own pointer to the current configuration snapshot. Everything here is
// touched only on the worker's thread, so the request path takes no locks.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "common/time_source.h"
#include "proxy/config/proxy_config.h"
#include "proxy/server/access_log.h"
#include "proxy/server/idle_list.h"
#include "proxy/server/overload_state.h"
#include "proxy/server/proxy_counters.h"
#include "proxy/upstream/connection_pool.h"
#include "proxy/upstream/endpoint_stats.h"
#include "proxy/upstream/http2_pool.h"
#include "proxy/upstream/load_balancer.h"

namespace causeway::proxy {

class Session;
class RoutingKeyStamper;

// State shared by all workers of a server (thread-safe members only).
struct ServerShared {
  AccessLog* access_log = nullptr;
  // Adds the routing key to requests without one (routing_key_stamp.h);
  // null: requests keep what they carry.
  RoutingKeyStamper* key_stamper = nullptr;
  // The clock and timers of the request path: timeouts, retry back-off,
  // the pools' idle expiry (a SimulatedTime in tests).
  TimeSource* time = &RealTime::Instance();
  std::atomic<int64_t> active_connections{0};
  std::atomic<uint64_t> requests_total{0};
  ProxyCounters counters;
  // An edge proxy (--edge): routing keys must carry their proof
  // (server/routing_key_guard.h).
  bool edge = false;
  OverloadState overload;  // set by the overload monitor (app/overload_monitor.h)
  // Downstream connection limits (0: none): beyond them a new connection is
  // closed as soon as it is accepted, and the ones open are served on.
  int64_t max_connections = 0;               // for the whole process
  int64_t max_connections_per_listener = 0;  // for each listener, over all workers
  // Open connections per listener name, shared by the workers' acceptors of
  // that listener.
  std::shared_ptr<std::atomic<int64_t>> ListenerConnections(const std::string& name);
  EndpointStatsRegistry endpoint_stats;
  std::mutex mu;
  std::condition_variable cv;  // signalled when active_connections drops to 0
  // Guarded by mu.
  absl::flat_hash_map<std::string, std::shared_ptr<std::atomic<int64_t>>> listener_connections;
};

// A listener as one worker sees it.
struct ListenerState {
  std::string name;
  ListenerConfig config;  // as last configured; sessions prefer the snapshot's
  bool draining = false;  // removed from the configuration
  // Open connections of this listener on every worker (ServerShared).
  std::shared_ptr<std::atomic<int64_t>> connections;
  // The idle timeouts of this worker's idle connections of the listener.
  IdleLists idle;
};

class Worker {
 public:
  // `slice`: the scheduling slice the worker thread asks for
  // (common/thread_slice.h); 0 keeps the kernel's.
  Worker(int index, ServerShared* shared, ConnectionPool::Options pool_options = {},
         std::chrono::microseconds slice = {});
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void Start();
  void Stop();  // stops the loop and joins the thread
  boost::asio::io_context& io_context() { return *ioc_; }

  struct ListenerAdd {
    ListenerConfig config;
    int fd;  // a bound, listening socket owned by this worker from now on
  };
  // Runs on the worker thread (posted by ProxyServer).
  void Apply(ProxyConfigSnapshot config, std::vector<ListenerAdd> adds,
             std::vector<std::string> removes);
  void BeginDrain();

  // Request-path accessors (worker thread only).
  const ProxyConfigSnapshot& config() const { return config_; }
  LoadBalancer& lb() { return lb_; }
  ConnectionPool& pool() { return pool_; }
  Http2Pool& h2_pool() { return h2_pool_; }  // HTTP/2 clusters' connections
  std::shared_ptr<EndpointStats> EndpointStatsFor(const std::string& cluster,
                                                  const std::string& endpoint) {
    return endpoint_stats_.Get(cluster, endpoint);
  }
  ServerShared& shared() { return *shared_; }
  TimeSource& time() { return *shared_->time; }
  bool draining() const { return draining_; }
  // Responses close their connections: draining, or keep-alive disabled by
  // the overload monitor (which, unlike draining, leaves a connection that
  // has not sent its request yet alone).
  bool ResponsesClose() const { return draining_ || shared_->overload.keepalive_disabled(); }
  int index() const { return index_; }

  void Register(Session* s);
  void Unregister(Session* s);

  // Requests this worker is in the middle of (head read, response not yet
  // written): how loaded it is right now, for sessions choosing between
  // finishing a step at once and queueing it (server/immediate_io.h), and
  // the admin's downstream_requests_active. Only the worker thread writes,
  // so a plain load and store do (no locked instruction per request).
  void RequestBegan() { AddInProgress(1); }
  void RequestEnded() { AddInProgress(-1); }
  int requests_in_progress() const { return requests_in_progress_.load(std::memory_order_relaxed); }
  const std::atomic<int>& requests_in_progress_counter() const { return requests_in_progress_; }

 private:
  struct ActiveListener {
    std::shared_ptr<ListenerState> state;
    std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor;
    // The accept loop's back-off and overload waits. Owned here, not by the
    // loop's coroutine frame: a frame owning the timer that holds its own
    // resumption would keep itself alive when the worker goes; dropping
    // the timer with the listener ends a waiting loop.
    std::unique_ptr<Timer> accept_timer;
  };
  void AddInProgress(int delta) {
    requests_in_progress_.store(requests_in_progress_.load(std::memory_order_relaxed) + delta,
                                std::memory_order_relaxed);
  }
  void StartAccepting(ActiveListener& listener);
  boost::asio::awaitable<void> AcceptLoop(std::shared_ptr<ListenerState> state,
                                          boost::asio::ip::tcp::acceptor* acceptor, Timer* timer);
  // Whether a new connection of `listener` stays within the limits.
  bool Admits(const ListenerState& listener) const;

  std::unique_ptr<boost::asio::io_context> ioc_;
  int index_;
  const std::chrono::microseconds slice_;
  ServerShared* shared_;
  std::thread thread_;
  ProxyConfigSnapshot config_;
  LoadBalancer lb_;
  ConnectionPool pool_;
  Http2Pool h2_pool_;
  EndpointStatsCache endpoint_stats_;
  absl::flat_hash_map<std::string, ActiveListener> listeners_;
  absl::flat_hash_set<Session*> sessions_;
  bool draining_ = false;
  std::atomic<int> requests_in_progress_{0};
};

}  // namespace causeway::proxy
