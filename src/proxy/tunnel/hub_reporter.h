// The holder's calls to the hub: POST .../intercepts/NAME/tunnel when a
// laptop asks for a tunnel (the hub checks its token and ownership and
// records the tunnel), DELETE ...?proxy=P when the tunnel ends. net's
// HttpClient is synchronous, so the calls run on a thread of their own, in
// order, and never block the event loop that carries the tunnels.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "net/http_client.h"

namespace causeway::proxy::tunnel {

struct HubReporterOptions {
  std::string hub;        // the hub's URL (http:// or https://)
  std::string hub_ca;     // PEM CA file for an https:// hub ("": the system's)
  std::string token;      // this proxy's token (proxy role, limited to its zone)
  std::string proxy;      // this proxy's name
  std::string advertise;  // host:port where the zone's proxies reach this one
};

// The hub's answer: its status and error message (status 0: unreachable).
struct HubAnswer {
  int status = 0;
  std::string message;
};

class HubReporter {
 public:
  explicit HubReporter(HubReporterOptions options);
  ~HubReporter();  // finishes the calls queued, then joins
  HubReporter(const HubReporter&) = delete;
  HubReporter& operator=(const HubReporter&) = delete;

  // Queues the report of a tunnel for `laptop_token`; `done` runs on the
  // reporter's thread with the hub's answer.
  void Report(std::string zone, std::string intercept, std::string laptop_token,
              std::function<void(HubAnswer)> done);
  // Queues the withdrawal of this proxy's tunnel of the intercept.
  void Withdraw(std::string zone, std::string intercept);

 private:
  void Run();
  void Enqueue(std::function<void()> task) ABSL_LOCKS_EXCLUDED(mu_);
  HubAnswer Call(const std::string& method, const std::string& target, const std::string& body);

  const HubReporterOptions options_;
  std::unique_ptr<HttpClient> client_;  // reporter thread only
  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace causeway::proxy::tunnel
