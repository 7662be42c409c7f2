#include "proxy/server/stream_idle_timeout.h"

#include <algorithm>

namespace causeway::proxy {

StreamIdleTimeout::StreamIdleTimeout(TimeSource& time, boost::asio::io_context& io,
                                     std::chrono::milliseconds idle)
    : time_(time), timer_(time.CreateTimer(io)), idle_(idle) {}

void StreamIdleTimeout::Watch(boost::asio::ip::tcp::socket* a, boost::asio::ip::tcp::socket* b,
                              Action action) {
  sockets_[0] = a;
  sockets_[1] = b;
  action_ = action;
  watching_ = true;
  fired_ = Fired::kNo;
  last_activity_ = time_.Monotonic();
  Schedule();
}

void StreamIdleTimeout::SetDeadline(Clock::time_point at) {
  deadline_ = at;
  if (watching_) Schedule();
}

void StreamIdleTimeout::Stop() {
  watching_ = false;
  sockets_[0] = sockets_[1] = nullptr;
  timer_->Cancel();
}

void StreamIdleTimeout::Schedule() {
  std::optional<Clock::time_point> at = deadline_;
  if (idle_.count() > 0) {
    const Clock::time_point idle_at = last_activity_ + idle_;
    at = at ? std::min(*at, idle_at) : idle_at;
  }
  if (!at) return;
  // The timer (a member) drops its callback when it goes: `this` is safe.
  timer_->Schedule(*at, [this] { OnTimer(); });
}

void StreamIdleTimeout::OnTimer() {
  if (!watching_) return;
  const Clock::time_point now = time_.Monotonic();
  if (deadline_ && now >= *deadline_) {
    fired_ = Fired::kDeadline;
  } else if (idle_.count() > 0 && now >= last_activity_ + idle_) {
    fired_ = Fired::kIdle;
  } else {
    Schedule();  // progress meanwhile
    return;
  }
  watching_ = false;
  for (boost::asio::ip::tcp::socket* s : sockets_) {
    if (s == nullptr) continue;
    boost::system::error_code ec;
    if (action_ == Action::kClose) {
      s->close(ec);
    } else {
      s->cancel(ec);
    }
  }
}

}  // namespace causeway::proxy
