// Closes a socket when a deadline passes, so that whatever operation is
// pending or next started on it fails promptly. Cheaper than racing every
// operation against a timer, and it needs no cancellation plumbing.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>

namespace causeway::proxy {

class Watchdog {
 public:
  explicit Watchdog(const boost::asio::any_io_executor& ex) : state_(std::make_shared<State>(ex)) {}
  ~Watchdog() { Disarm(); }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Arms (or re-arms) for `timeout` from now; a zero timeout disarms.
  void Arm(std::chrono::steady_clock::duration timeout, boost::asio::ip::tcp::socket* socket) {
    Disarm();
    if (timeout <= std::chrono::steady_clock::duration::zero()) return;
    state_->fired = false;
    state_->socket = socket;
    state_->timer.expires_after(timeout);
    // The handler owns the state: it may run after this Watchdog is gone.
    state_->timer.async_wait(
        [state = state_, gen = state_->generation](boost::system::error_code ec) {
          if (ec || gen != state->generation || state->socket == nullptr) return;
          state->fired = true;
          state->socket->close(ec);
        });
  }
  void Disarm() {
    ++state_->generation;
    state_->socket = nullptr;
    state_->timer.cancel();
  }
  bool fired() const { return state_->fired; }

 private:
  struct State {
    explicit State(const boost::asio::any_io_executor& ex) : timer(ex) {}
    boost::asio::steady_timer timer;
    boost::asio::ip::tcp::socket* socket = nullptr;
    uint64_t generation = 0;
    bool fired = false;
  };
  std::shared_ptr<State> state_;
};

}  // namespace causeway::proxy
