// The laptop's hold on its Intercept: written once at the start, renewed
// every third of the lease so that one lost renewal does not end it, and
// deleted on the way out (docs/two-way-routing.md, "The lease").
//
// Renewals run as timers of a TimeSource on one io_context (the command's
// main loop; tests drive it with SimulatedTime). A renewal that cannot
// reach the hub is retried with a back-off while the tunnel keeps serving;
// one the hub refuses (the key taken by someone else once the lease ran
// out, the token revoked) ends the hold.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/time_source.h"
#include "nlohmann/json.hpp"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace causeway::laptop {

using Json = nlohmann::json;

// What the lease needs of the hub's REST API (paths as in
// docs/two-way-routing.md). Errors are the CLI's: Unavailable when the hub
// cannot be reached, FailedPrecondition for a 409, and so on.
class LeaseHub {
 public:
  virtual ~LeaseHub() = default;
  virtual absl::StatusOr<Json> Put(const std::string& path, const Json& body) = 0;
  virtual absl::StatusOr<Json> Get(const std::string& path) = 0;
  virtual absl::StatusOr<Json> Delete(const std::string& path) = 0;
};

struct LeaseSpec {
  std::string zone;
  std::string name;
  std::string cluster;
  std::string key;
  uint32_t lease_ms = 30000;
};

struct LeaseEvent {
  enum class Kind {
    kRenewed,      // a renewal succeeded (current() is the hub's answer)
    kRenewFailed,  // a renewal did not reach the hub; retried after `retry_in`
    kRecovered,    // a renewal succeeded after `failures` failed ones
    kLost,         // the hub refused a renewal; renewing stopped
  };
  Kind kind = Kind::kRenewFailed;
  absl::Status status;  // kRenewFailed, kLost: why
  int failures = 0;     // consecutive failed renewals (kRenewFailed: this one included)
  std::chrono::milliseconds retry_in{0};
  std::string expires_at;  // the last expiry the hub confirmed (RFC 3339)
};

class InterceptLease {
 public:
  using EventCallback = std::function<void(const LeaseEvent&)>;

  // Events run on `io`'s thread. `hub`, `time` and `io` outlive the lease.
  InterceptLease(LeaseSpec spec, LeaseHub& hub, TimeSource& time, boost::asio::io_context& io,
                 EventCallback on_event);
  ~InterceptLease();
  InterceptLease(const InterceptLease&) = delete;
  InterceptLease& operator=(const InterceptLease&) = delete;

  // Writes the intercept (PUT, no version: create or renew) and returns the
  // hub's answer; the error is the hub's (409 key_held names the holder).
  absl::StatusOr<Json> Acquire();
  // Renews every lease/3 from now on, on `io`.
  void StartRenewing();
  // Cancels the pending renewal.
  void StopRenewing();
  // Deletes the intercept with the version last seen. When the version has
  // moved (the tunnel's holder writes `tunnel`), reads it again and retries
  // if this token still owns it. An intercept already gone is success.
  absl::Status Release();

  // The hub's last answer for the intercept.
  const Json& current() const { return current_; }
  std::string path() const;
  // How long after a success the next renewal runs.
  std::chrono::milliseconds interval() const;
  // How long after the n-th consecutive failure (1, 2, ...) the next try runs:
  // 1 s doubling, never later than the interval.
  std::chrono::milliseconds RetryDelay(int failures) const;

 private:
  void ScheduleRenewal(std::chrono::milliseconds after);
  void Renew();

  LeaseSpec spec_;
  LeaseHub& hub_;
  TimeSource& time_;
  EventCallback on_event_;
  std::unique_ptr<Timer> timer_;
  Json current_;
  int failures_ = 0;
};

// The error of a renewal or of Acquire that no retry can mend (the hub
// answered and said no), as opposed to one of reaching the hub.
bool IsPermanentLeaseError(const absl::Status& status);

}  // namespace causeway::laptop
