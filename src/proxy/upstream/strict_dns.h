// STRICT_DNS clusters as Envoy has them: every host name among a cluster's
// endpoints is resolved continually, and every address it has (of the
// cluster's dns_lookup_family) is an endpoint of its own, with the weight,
// health and metadata of the endpoint that named it.
//
// Where it happens. A StrictDnsResolver thread looks the names up (with
// DnsLookup, blocking calls that never run on a worker), each again every
// dns_refresh_rate of the clusters that name it (the shortest if several
// do). When a name's addresses change, ProxyServer (server/proxy_server.h)
// builds a snapshot with those addresses (ExpandStrictDns) and hands it to
// every worker as it does any configuration update: requests in flight keep
// the snapshot they started with, the next ones pick from the new
// addresses, and load balancing, the connection pool and endpoint counters
// see plain IP endpoints. Resolving on one thread for the whole process
// rather than on each worker asks the server once per refresh, not once per
// worker, and workers keep one way of learning about endpoints.
//
// A lookup that fails (timeout, SERVFAIL, refused) keeps the name's last
// good addresses; a definite answer with none (NXDOMAIN, no records) leaves
// the name with none, as in Envoy. A name never answered yet has no
// addresses; UpdateConfig waits a bounded time for new names' first answers
// (like Envoy's cluster warming) before it serves a snapshot.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "proxy/config/proxy_config.h"
#include "proxy/upstream/dns_lookup.h"

namespace causeway::proxy {

// A host name to follow and how often to look it up again.
struct DnsName {
  std::string host;
  std::chrono::milliseconds refresh{5000};
  bool operator==(const DnsName&) const = default;
};

// The host names of `config`'s STRICT_DNS clusters (IP literals need no
// lookup), each once with the shortest refresh rate asking for it, sorted.
std::vector<DnsName> StrictDnsNames(const ProxyConfig& config);

// Addresses by host name (the last good answer); a name that has none yet
// is absent.
using DnsAddresses =
    absl::flat_hash_map<std::string, std::shared_ptr<const std::vector<std::string>>>;

// `config` with each STRICT_DNS cluster that names a host replaced by a copy
// (with its own id) in which every host-name endpoint has become one
// endpoint per address in `addresses` of the cluster's lookup family.
// Everything else is shared with `config`.
ProxyConfigSnapshot ExpandStrictDns(const ProxyConfig& config, const DnsAddresses& addresses);

// The addresses of `all` that a cluster with `family` uses (as Envoy reads
// dns_lookup_family).
std::vector<std::string> ForFamily(const std::vector<std::string>& all,
                                   ClusterConfig::DnsFamily family);

class StrictDnsResolver {
 public:
  // `server`: see DnsLookup::Create. `on_change` runs on the resolver
  // thread whenever a name's addresses change (not when a refresh finds the
  // same ones, nor when a lookup fails).
  StrictDnsResolver(std::string server, std::function<void()> on_change);
  ~StrictDnsResolver();  // Stop()
  StrictDnsResolver(const StrictDnsResolver&) = delete;
  StrictDnsResolver& operator=(const StrictDnsResolver&) = delete;

  // Checks the server and starts the thread.
  absl::Status Start();
  // Ends the thread, after the lookup in progress (its DnsLookup timeouts
  // bound that).
  void Stop();

  // Follows exactly `names` from now on (names left out are forgotten; new
  // ones are looked up at once). Returns when every name new to it has had a
  // first lookup, or when `wait` has passed.
  void Follow(const std::vector<DnsName>& names, std::chrono::milliseconds wait);

  DnsAddresses Current() const;

  uint64_t lookups() const;
  uint64_t failures() const;

 private:
  struct Entry {
    std::chrono::milliseconds refresh{5000};
    std::chrono::steady_clock::time_point due;
    bool looked_up = false;  // at least once (answered or failed)
    bool failing = false;    // the last lookup failed
    std::shared_ptr<const std::vector<std::string>> addresses;  // null: no answer yet
  };
  void Run();

  const std::string server_;
  const std::function<void()> on_change_;
  std::unique_ptr<DnsLookup> lookup_;
  mutable std::mutex mu_;
  std::condition_variable wake_;      // the thread: names changed, or stop
  std::condition_variable answered_;  // Follow: a first lookup finished
  absl::flat_hash_map<std::string, Entry> names_;
  bool stopping_ = false;
  uint64_t lookups_ = 0;
  uint64_t failures_ = 0;
  std::thread thread_;
};

}  // namespace causeway::proxy
