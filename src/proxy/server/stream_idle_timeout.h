// Envoy's stream idle timeout for the parts of a request that wait on a
// peer with no bound of their own: a request body the client uploads, a
// response body the client reads, the bytes of an upgrade tunnel. Each
// completed read or write is progress (Touch); when none happens for the
// timeout, the watched sockets' pending operations are cancelled (the
// stream's code sees operation_aborted and asks fired()), or, for a tunnel
// where nothing is left to answer, the sockets are closed.
//
// An optional absolute deadline (Envoy's request_timeout: the whole request
// received by then) is enforced by the same timer.
//
// Created only on the paths that wait on a peer mid-stream (a body that is
// not wholly buffered, a tunnel), so a request whose body and response fit
// in one read each costs nothing. Touch reads the clock once per chunk; the
// timer is only rescheduled when it fires early (as Watchdog does).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <optional>

#include "common/time_source.h"

namespace causeway::proxy {

class StreamIdleTimeout {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Action { kCancel, kClose };
  enum class Fired { kNo, kIdle, kDeadline };

  // `idle` 0: no idle timeout.
  StreamIdleTimeout(TimeSource& time, boost::asio::io_context& io, std::chrono::milliseconds idle);
  ~StreamIdleTimeout() = default;  // the timer drops its callback with it
  StreamIdleTimeout(const StreamIdleTimeout&) = delete;
  StreamIdleTimeout& operator=(const StreamIdleTimeout&) = delete;

  // Starts watching `a` and `b` (either may be null); progress counts from now.
  void Watch(boost::asio::ip::tcp::socket* a, boost::asio::ip::tcp::socket* b, Action action);
  // Also fires at `at` however much progress there is.
  void SetDeadline(Clock::time_point at);
  // Stops watching (the sockets may go).
  void Stop();
  // A read or write completed.
  void Touch() {
    if (idle_.count() > 0) last_activity_ = time_.Monotonic();
  }
  Fired fired() const { return fired_; }

 private:
  void Schedule();
  void OnTimer();

  TimeSource& time_;
  std::unique_ptr<Timer> timer_;
  const std::chrono::milliseconds idle_;
  Clock::time_point last_activity_;
  std::optional<Clock::time_point> deadline_;
  boost::asio::ip::tcp::socket* sockets_[2] = {nullptr, nullptr};
  Action action_ = Action::kCancel;
  bool watching_ = false;
  Fired fired_ = Fired::kNo;
};

}  // namespace causeway::proxy
