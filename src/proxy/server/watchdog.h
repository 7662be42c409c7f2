// Closes a socket when a deadline passes, so that whatever operation is
// pending or next started on it fails promptly. Cheaper than racing every
// operation against a timer, and it needs no cancellation plumbing.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>

#include "common/time_source.h"

namespace causeway::proxy {

// Written here for speed: sessions arm and disarm it several times per
// request (header timeout, then the route timeout), so it keeps one timer wait
// pending and only moves the deadline, instead of cancelling and restarting
// the timer each time. When the pending wait ends before the current
// deadline it simply waits again; the timer is only restarted when a
// deadline earlier than the pending wait is armed.
//
// Time comes from a TimeSource (a SimulatedTime in tests) through the Timer
// abstraction rather than a clock-parameterised Asio timer: the virtual calls
// happen per Arm (a clock read) and per timer restart, a few per request and
// none per read or byte, while a basic_waitable_timer over a simulated clock
// would still sleep in real time between polls of its clock.
class Watchdog {
 public:
  using Clock = std::chrono::steady_clock;

  // The timer is created by the first Arm (and again after Release).
  Watchdog(TimeSource& time, boost::asio::io_context& io) : time_(time), io_(io) {}
  ~Watchdog() = default;  // the timer drops its callback with it
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // What expiry does to the socket: close it, or only cancel its pending
  // operations so that the owner can still answer (a 408) before closing.
  enum class OnExpiry { kClose, kCancel };

  // Arms (or re-arms) for `timeout` from now; a zero timeout disarms.
  void Arm(Clock::duration timeout, boost::asio::ip::tcp::socket* socket,
           OnExpiry action = OnExpiry::kClose) {
    if (timeout <= Clock::duration::zero()) {
      Disarm();
      return;
    }
    ArmAt(time_.Monotonic() + timeout, socket, action);
  }
  // Arms for an absolute deadline of the TimeSource's clock.
  void ArmAt(Clock::time_point deadline, boost::asio::ip::tcp::socket* socket,
             OnExpiry action = OnExpiry::kClose) {
    fired_ = false;
    socket_ = socket;
    action_ = action;
    deadline_ = deadline;
    if (pending_ && expiry_ <= deadline_) return;  // that wait re-waits if need be
    Start();
  }
  void Disarm() { socket_ = nullptr; }
  // Disarms and drops the timer with its pending wait: an idle keep-alive
  // connection keeps neither (about 460 B; idle_list.h has its timeout).
  void Release() {
    socket_ = nullptr;
    pending_ = false;
    timer_.reset();
  }
  bool fired() const { return fired_; }

 private:
  // Starts (or restarts, replacing the pending one) a wait until the deadline.
  // A replaced callback never runs and none runs after the timer is gone
  // (Timer), so capturing `this` is safe.
  void Start() {
    if (timer_ == nullptr) timer_ = time_.CreateTimer(io_);
    pending_ = true;
    expiry_ = deadline_;
    timer_->Schedule(expiry_, [this] { Expire(); });
  }
  void Expire() {
    pending_ = false;
    if (socket_ == nullptr) return;
    if (time_.Monotonic() < deadline_) {
      Start();  // re-armed meanwhile with a later deadline
      return;
    }
    fired_ = true;
    boost::asio::ip::tcp::socket* socket = socket_;
    socket_ = nullptr;
    boost::system::error_code ec;
    if (action_ == OnExpiry::kCancel) {
      socket->cancel(ec);
    } else {
      socket->close(ec);
    }
  }

  TimeSource& time_;
  boost::asio::io_context& io_;
  std::unique_ptr<Timer> timer_;
  boost::asio::ip::tcp::socket* socket_ = nullptr;  // null: disarmed
  Clock::time_point deadline_;
  Clock::time_point expiry_;  // of the pending wait
  OnExpiry action_ = OnExpiry::kClose;
  bool pending_ = false;
  bool fired_ = false;
};

}  // namespace causeway::proxy
