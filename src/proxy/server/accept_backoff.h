// What a listener does when accept() fails for lack of resources (EMFILE,
// ENFILE, ENOBUFS, ENOMEM): the pending connection stays in the kernel's
// queue and the listening socket stays readable, so accepting again at once
// fails again at once: a loop that burns a core and floods the log. Instead
// the listener waits, 10 ms at first and twice as long after each failure
// up to 1 s, and logs once when it starts backing off and once when it
// accepts again (with how many failures and for how long).
#pragma once

#include <algorithm>
#include <boost/system/error_code.hpp>
#include <cerrno>
#include <chrono>
#include <cstdint>

namespace causeway::proxy {

class AcceptBackoff {
 public:
  static constexpr std::chrono::milliseconds kFirst{10};
  static constexpr std::chrono::milliseconds kMax{1000};

  // Errors that waiting can cure; others (ECONNABORTED: the client left
  // before accept) are skipped at once.
  static bool IsResourceError(const boost::system::error_code& ec) {
    if (ec.category() != boost::system::system_category()) return false;
    const int v = ec.value();
    return v == EMFILE || v == ENFILE || v == ENOBUFS || v == ENOMEM;
  }

  // A failure at `now`: how long to wait before accepting again.
  std::chrono::milliseconds OnFailure(std::chrono::steady_clock::time_point now) {
    if (failures_ == 0) {
      since_ = now;
      delay_ = kFirst;
    } else {
      delay_ = std::min(delay_ * 2, kMax);
    }
    ++failures_;
    return delay_;
  }
  bool backing_off() const { return failures_ > 0; }
  uint64_t failures() const { return failures_; }
  std::chrono::steady_clock::time_point since() const { return since_; }
  // An accept succeeded: the next failure starts over.
  void Reset() { failures_ = 0; }

 private:
  uint64_t failures_ = 0;
  std::chrono::milliseconds delay_{0};
  std::chrono::steady_clock::time_point since_;
};

}  // namespace causeway::proxy
