// Injectable clock: production code asks a TimeSource, tests pass a ManualTime.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace causeway {

class TimeSource {
 public:
  virtual ~TimeSource() = default;
  // Wall-clock time (timestamps stored in objects and the change log).
  virtual std::chrono::system_clock::time_point Now() const = 0;
  // Monotonic time (timeouts, durations).
  virtual std::chrono::steady_clock::time_point Monotonic() const = 0;
};

class RealTime final : public TimeSource {
 public:
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::now();
  }
  std::chrono::steady_clock::time_point Monotonic() const override {
    return std::chrono::steady_clock::now();
  }
  static RealTime& Instance();
};

// A clock that moves only when told to.
class ManualTime final : public TimeSource {
 public:
  explicit ManualTime(std::chrono::system_clock::time_point start =
                          std::chrono::system_clock::time_point(std::chrono::seconds(1700000000)))
      : wall_ns_(start.time_since_epoch().count()) {}
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::time_point(
        std::chrono::system_clock::duration(wall_ns_.load()));
  }
  std::chrono::steady_clock::time_point Monotonic() const override {
    return std::chrono::steady_clock::time_point(
        std::chrono::steady_clock::duration(mono_ns_.load()));
  }
  void Advance(std::chrono::nanoseconds d) {
    wall_ns_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d).count();
    mono_ns_ += std::chrono::duration_cast<std::chrono::steady_clock::duration>(d).count();
  }

 private:
  std::atomic<int64_t> wall_ns_;
  std::atomic<int64_t> mono_ns_{0};
};

// RFC 3339 UTC with milliseconds: "2026-11-25T18:11:03.123Z".
std::string FormatRfc3339(std::chrono::system_clock::time_point t);

}  // namespace causeway
