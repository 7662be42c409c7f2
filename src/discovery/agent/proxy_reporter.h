// ProxyReporter: tells the hub which proxies are connected to the agent's
// relay xDS server (`causeway agent --xds`) and how far each is in sync, so
// that `causeway status` and GET /v1/zones/{z}/status show them beside the
// hub's own (as `istioctl proxy-status` shows every istiod's proxies).
//
//   PUT    /v1/zones/{zone}/agents/{agent}/proxies   every `interval`, and soon
//                                                    after a stream changes
//   DELETE /v1/zones/{zone}/agents/{agent}/proxies   on Stop
//
// The hub keeps the report in memory and drops it when three intervals pass
// without a new one (xds/relay_report.h has the body). A change (a stream
// connected or gone, a push, an ACK, a NACK) is reported after `quiet`
// without further changes, or `max_delay` after the first, and never sooner
// than `min_gap` after the previous report, so a churning zone costs at most
// one report per `min_gap`. A report that fails (hub away, 4xx) is retried
// on the next change or interval; failures are logged when they start, change
// or end, not on every attempt.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "discovery/agent/hub_list.h"
#include "net/http_client.h"
#include "nlohmann/json.hpp"

namespace causeway::discovery {

// The body of a report: the streams of `zone_status` (XdsServer::ZoneStatus)
// sorted by proxy and node, without the names each subscribes to, with
// strings cut to the hub's limits, and as many as fit in `max_bytes`; the
// rest are counted in "omitted".
std::string BuildProxyReport(const nlohmann::json& zone_status, std::chrono::milliseconds interval,
                             size_t max_bytes);

class ProxyReporter {
 public:
  struct Options {
    std::string zone;
    std::string agent;  // this agent's name on the hub
    std::chrono::milliseconds interval{10000};
    std::chrono::milliseconds quiet{200};
    std::chrono::milliseconds max_delay{1000};
    std::chrono::milliseconds min_gap{1000};
    // Below the hub's request body limit (1 MiB), with room for headers.
    size_t max_bytes = (1u << 20) - 4096;
  };
  // Sends one request to the hub; any HTTP status is a response.
  using Sender = std::function<absl::StatusOr<HttpResponse>(
      std::string_view method, const std::string& target, const std::string& body)>;

  // `zone_status` yields XdsServer::ZoneStatus of the agent's zone.
  ProxyReporter(Options options, std::function<nlohmann::json()> zone_status, Sender sender);
  ~ProxyReporter();
  ProxyReporter(const ProxyReporter&) = delete;
  ProxyReporter& operator=(const ProxyReporter&) = delete;

  // A sender over one keep-alive connection to the current hub of `hubs`'s
  // REST API; a hub that cannot be reached or answers 5xx is reported to
  // `hubs`, and the next report goes to the hub in use then.
  static Sender HttpSender(std::shared_ptr<HubList> hubs, std::string token,
                           std::string ca_file = "");

  // Sends the first report at once, then keeps reporting.
  void Start();
  // Stops reporting and withdraws the report (DELETE, best effort).
  void Stop();
  // A stream changed. Cheap; called on the xDS server's threads.
  void Changed();

  uint64_t reports_ok() const { return reports_ok_.load(); }
  uint64_t reports_failed() const { return reports_failed_.load(); }

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_);
  void Report() ABSL_LOCKS_EXCLUDED(mu_);
  // Logs `error` ("" = the report went through) when it differs from the last.
  void Note(const std::string& error);
  std::string Target() const;

  const Options options_;
  const std::function<nlohmann::json()> zone_status_;
  const Sender sender_;

  absl::Mutex mu_;
  absl::CondVar cv_;  // signalled on a first change and on Stop
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  bool dirty_ ABSL_GUARDED_BY(mu_) = false;
  std::chrono::steady_clock::time_point first_change_ ABSL_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point last_change_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;

  // The reporting thread's own (and Stop's, after the join).
  std::optional<std::string> last_error_;  // nullopt before the first report
  std::atomic<uint64_t> reports_ok_{0}, reports_failed_{0};
};

}  // namespace causeway::discovery
