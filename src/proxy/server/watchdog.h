// Closes a socket when a deadline passes, so that whatever operation is
// pending or next started on it fails promptly. Cheaper than racing every
// operation against a timer, and it needs no cancellation plumbing.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>

namespace causeway::proxy {

// Written here for speed: sessions arm and disarm it several times per
// request (idle timeout, then the route timeout), so it keeps one timer wait
// pending and only moves the deadline, instead of cancelling and restarting
// the timer each time. When the pending wait ends before the current
// deadline it simply waits again; the timer is only restarted when a
// deadline earlier than the pending wait is armed.
class Watchdog {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Watchdog(const boost::asio::any_io_executor& ex) : state_(std::make_shared<State>(ex)) {}
  ~Watchdog() {
    Disarm();
    if (state_->pending) state_->timer.cancel();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Arms (or re-arms) for `timeout` from now; a zero timeout disarms.
  void Arm(Clock::duration timeout, boost::asio::ip::tcp::socket* socket) {
    if (timeout <= Clock::duration::zero()) {
      Disarm();
      return;
    }
    State& s = *state_;
    s.fired = false;
    s.socket = socket;
    s.deadline = Clock::now() + timeout;
    if (s.pending && s.expiry <= s.deadline) return;  // that wait re-waits if need be
    Start(state_);
  }
  void Disarm() { state_->socket = nullptr; }
  bool fired() const { return state_->fired; }

 private:
  struct State {
    explicit State(const boost::asio::any_io_executor& ex) : timer(ex) {}
    boost::asio::steady_timer timer;
    boost::asio::ip::tcp::socket* socket = nullptr;  // null: disarmed
    Clock::time_point deadline;
    Clock::time_point expiry;  // of the pending wait
    bool pending = false;
    uint64_t generation = 0;  // of the latest wait; older ones were cancelled
    bool fired = false;
  };

  // Starts (or restarts, cancelling the pending one) a wait until the deadline.
  static void Start(const std::shared_ptr<State>& state) {
    ++state->generation;
    state->pending = true;
    state->expiry = state->deadline;
    state->timer.expires_at(state->expiry);
    // The handler owns the state: it may run after this Watchdog is gone.
    state->timer.async_wait([state, gen = state->generation](boost::system::error_code ec) {
      if (gen != state->generation) return;  // superseded by a later Start
      state->pending = false;
      if (ec || state->socket == nullptr) return;
      if (Clock::now() < state->deadline) {
        Start(state);  // re-armed meanwhile with a later deadline
        return;
      }
      state->fired = true;
      boost::asio::ip::tcp::socket* socket = state->socket;
      state->socket = nullptr;
      socket->close(ec);
    });
  }

  std::shared_ptr<State> state_;
};

}  // namespace causeway::proxy
