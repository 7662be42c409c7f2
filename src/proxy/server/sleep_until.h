// Suspends a coroutine of the request path until a TimeSource's timer fires
// (retry back-off, accept back-off), so that simulated time drives it in
// tests.
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "common/time_source.h"

namespace causeway::proxy {

// Resumes the awaiting coroutine when `timer` fires (on its io_context).
inline boost::asio::awaitable<void> SleepUntil(Timer& timer,
                                               std::chrono::steady_clock::time_point at) {
  co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void()>(
      [&timer, at](auto handler) {
        timer.Schedule(at, [h = std::move(handler)]() mutable { std::move(h)(); });
      },
      boost::asio::use_awaitable);
}

}  // namespace causeway::proxy
