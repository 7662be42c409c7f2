// For the request path's unit tests: runs an io_context the test owns until
// a condition holds.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>

namespace causeway::proxy::testing {

// Runs `io` until `done` holds; false after 10 s of real time (a failure).
template <typename Pred>
bool RunIoUntil(boost::asio::io_context& io, Pred done) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    io.restart();
    io.run_one_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace causeway::proxy::testing
