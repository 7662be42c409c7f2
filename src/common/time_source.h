// Injectable clock and timers: production code asks a TimeSource, tests pass
// a SimulatedTime that moves (and fires its timers) only when told to.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace causeway {

// A one-shot timer on an io_context. Schedule replaces any pending callback;
// a callback that was replaced or cancelled (or whose timer is gone) never
// runs. Callbacks run on the io_context's thread, never inside Schedule.
class Timer {
 public:
  virtual ~Timer() = default;
  virtual void Schedule(std::chrono::steady_clock::time_point at,
                        absl::AnyInvocable<void()> callback) = 0;
  virtual void Cancel() = 0;
};

class TimeSource {
 public:
  virtual ~TimeSource() = default;
  // Wall-clock time (timestamps stored in objects and the change log).
  virtual std::chrono::system_clock::time_point Now() const = 0;
  // Monotonic time (timeouts, durations).
  virtual std::chrono::steady_clock::time_point Monotonic() const = 0;
  // A timer that expires by this clock's Monotonic() time. The proxy arms
  // one per connection and per pool, not per byte or per read, so the
  // virtual calls stay off the hot loops (see proxy/server/watchdog.h).
  virtual std::unique_ptr<Timer> CreateTimer(boost::asio::io_context& io) = 0;
};

class RealTime final : public TimeSource {
 public:
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::now();
  }
  std::chrono::steady_clock::time_point Monotonic() const override {
    return std::chrono::steady_clock::now();
  }
  // An Asio steady_timer.
  std::unique_ptr<Timer> CreateTimer(boost::asio::io_context& io) override;
  static RealTime& Instance();
};

// A clock that moves only when told to. Advance(d) moves it and fires the
// timers that are due by then, in deadline order: their callbacks are posted
// to their io_contexts, so a test runs (or polls) the io_context afterwards.
// Reads are thread-safe; timers are scheduled on their io_context's thread.
class SimulatedTime final : public TimeSource {
 public:
  explicit SimulatedTime(
      std::chrono::system_clock::time_point start =
          std::chrono::system_clock::time_point(std::chrono::seconds(1700000000)))
      : wall_ns_(start.time_since_epoch().count()) {}
  ~SimulatedTime() override;
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::time_point(
        std::chrono::system_clock::duration(wall_ns_.load()));
  }
  std::chrono::steady_clock::time_point Monotonic() const override {
    return std::chrono::steady_clock::time_point(
        std::chrono::steady_clock::duration(mono_ns_.load()));
  }
  std::unique_ptr<Timer> CreateTimer(boost::asio::io_context& io) override;
  void Advance(std::chrono::nanoseconds d);
  // The earliest pending deadline, if any timer is scheduled (tests step to it).
  bool NextDeadline(std::chrono::steady_clock::time_point* at) const;
  // Timers with a callback pending.
  size_t PendingTimers() const;

  struct TimerState;  // simulated_timer in time_source.cc

 private:
  std::atomic<int64_t> wall_ns_;
  std::atomic<int64_t> mono_ns_{0};
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<TimerState>> timers_;  // every live timer
};

// The name the hub's tests know the simulated clock by.
using ManualTime = SimulatedTime;

// RFC 3339 UTC with milliseconds: "2026-11-25T18:11:03.123Z".
std::string FormatRfc3339(std::chrono::system_clock::time_point t);

}  // namespace causeway
