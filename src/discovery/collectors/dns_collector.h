// `dns:CLUSTER=HOST:PORT` (A and AAAA records of HOST, each with PORT) and
// `dns:CLUSTER=_svc._tcp.DOMAIN` (SRV records; each target's A/AAAA records
// with the SRV port). One cluster per collector.
//
// Names are re-resolved when the shortest TTL of the answer runs out (at
// least every second, at most every 5 minutes). A name that does not exist
// or has no records gives the cluster no instances, re-checked every 5 s; a
// failed lookup (SERVFAIL, timeout) keeps the last good set and is retried
// with backoff.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "discovery/collector.h"

namespace causeway::discovery {

struct DnsTarget {
  std::string cluster;
  std::string name;   // HOST, or the SRV name
  uint32_t port = 0;  // 0 for SRV
  bool srv() const { return port == 0; }
};

// Parses "CLUSTER=HOST:PORT" or "CLUSTER=_svc._tcp.DOMAIN".
absl::StatusOr<DnsTarget> ParseDnsTarget(std::string_view text);

class DnsCollector final : public Collector {
 public:
  struct Options {
    std::string server;  // "IP:PORT" overriding /etc/resolv.conf, or ""
    std::chrono::seconds min_interval{1};
    std::chrono::seconds max_interval{300};
    std::chrono::seconds negative_interval{5};
    std::chrono::seconds max_backoff{30};
  };
  DnsCollector(DnsTarget target, Options options);
  ~DnsCollector() override;

  std::string Describe() const override;
  absl::Status Start(Callback on_change) override;
  void Stop() override;

 private:
  struct Result {
    Instances instances;
    std::chrono::seconds ttl;
  };
  void Run();
  absl::StatusOr<Result> Resolve();

  const DnsTarget target_;
  const Options options_;
  Callback on_change_;
  std::unique_ptr<class DnsResolver> resolver_;
  std::optional<Instances> last_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace causeway::discovery
