// Deletes intercepts whose lease has run out. An intercept is a developer's
// claim that lives only while the laptop renews it; once `expires_at` has
// passed, the hub removes it with an ordinary delete, so the change log,
// watchers and the xDS server see it go like any other change.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "catalog/catalog.h"
#include "common/time_source.h"

namespace causeway::serve {

// The actor recorded in the change log for these deletes.
inline constexpr char kLeaseExpiryActor[] = "lease-expiry";

class InterceptSweeper {
 public:
  // No thread runs until Start; tests call SweepOnce with a SimulatedTime.
  InterceptSweeper(catalog::Catalog* catalog, const TimeSource* time);
  // Stops the thread, if one was started (a sweep under way finishes first).
  ~InterceptSweeper();
  InterceptSweeper(const InterceptSweeper&) = delete;
  InterceptSweeper& operator=(const InterceptSweeper&) = delete;

  // Sweeps every `interval` on a thread of its own.
  void Start(std::chrono::milliseconds interval);

  // One sweep on the calling thread: deletes every intercept whose
  // expires_at is at or before the TimeSource's now. Each delete carries the
  // version that was read, so an intercept renewed meanwhile stays. Returns
  // how many were deleted.
  int SweepOnce();

 private:
  void Run(std::chrono::milliseconds interval);

  catalog::Catalog* const catalog_;
  const TimeSource* const time_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace causeway::serve
