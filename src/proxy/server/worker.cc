#include "proxy/server/worker.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <future>

#include "common/thread_slice.h"
#include "proxy/server/accept_backoff.h"
#include "proxy/server/session.h"
#include "proxy/server/sleep_until.h"
#include "spdlog/spdlog.h"

namespace causeway::proxy {
namespace asio = boost::asio;
using asio::ip::tcp;

Worker::Worker(int index, ServerShared* shared, ConnectionPool::Options pool_options,
               std::chrono::microseconds slice)
    : ioc_(std::make_unique<asio::io_context>(1)),
      index_(index),
      slice_(slice),
      shared_(shared),
      pool_(pool_options, *shared->time),
      endpoint_stats_(&shared->endpoint_stats) {
  lb_.SetEjectionSource(&shared->endpoint_stats, shared->time);
}

Worker::~Worker() {
  Stop();
  // Sockets must go before their io_context; session frames are destroyed
  // by the io_context while the rest of the worker is still alive.
  listeners_.clear();
  pool_.Clear();
  h2_pool_.Clear();
  ioc_.reset();
}

void Worker::Start() {
  // Returns once the thread has set itself up, so that whatever Start's
  // caller observes next (a test reading the threads' slices) sees it done.
  std::promise<void> set_up;
  auto ready = set_up.get_future();
  thread_ = std::thread([this, &set_up] {
    if (slice_.count() > 0) {
      auto slice = SetThreadSlice(slice_);
      // One line for all workers: they all get the same answer.
      if (index_ == 0 && slice.ok()) {
        spdlog::debug("workers run with a scheduling slice of {} us",
                      std::chrono::duration_cast<std::chrono::microseconds>(*slice).count());
      } else if (index_ == 0) {
        spdlog::info("workers keep the kernel's scheduling slice: {}",
                     std::string(slice.status().message()));
      }
    }
    auto guard = asio::make_work_guard(*ioc_);
    set_up.set_value();
    ioc_->run();
  });
  ready.wait();
}

void Worker::Stop() {
  ioc_->stop();
  if (thread_.joinable()) thread_.join();
}

void Worker::Apply(ProxyConfigSnapshot config, std::vector<ListenerAdd> adds,
                   std::vector<std::string> removes) {
  config_ = std::move(config);
  for (const std::string& name : removes) {
    auto it = listeners_.find(name);
    if (it == listeners_.end()) continue;
    // Existing connections keep going and close after their current
    // response (see Session); only accepting stops.
    it->second.state->draining = true;
    boost::system::error_code ec;
    it->second.acceptor->close(ec);
    listeners_.erase(it);
  }
  for (const auto& [name, active] : listeners_) {
    if (const ListenerConfig* l = config_->FindListener(name)) active.state->config = *l;
  }
  for (ListenerAdd& add : adds) {
    auto state = std::make_shared<ListenerState>();
    state->name = add.config.name;
    state->config = add.config;
    state->connections = shared_->ListenerConnections(state->name);
    auto acceptor = std::make_unique<tcp::acceptor>(*ioc_);
    boost::system::error_code ec;
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    ::getsockname(add.fd, reinterpret_cast<sockaddr*>(&ss), &len);
    acceptor->assign(ss.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), add.fd, ec);
    if (ec) {
      ::close(add.fd);
      continue;
    }
    if (draining_) acceptor->close(ec);
    std::string name = state->name;
    ActiveListener& active = listeners_[name] =
        ActiveListener{std::move(state), std::move(acceptor), shared_->time->CreateTimer(*ioc_)};
    StartAccepting(active);
  }
}

std::shared_ptr<std::atomic<int64_t>> ServerShared::ListenerConnections(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu);
  auto& counter = listener_connections[name];
  if (counter == nullptr) counter = std::make_shared<std::atomic<int64_t>>(0);
  return counter;
}

bool Worker::Admits(const ListenerState& listener) const {
  if (shared_->max_connections > 0 &&
      shared_->active_connections.load(std::memory_order_relaxed) >= shared_->max_connections) {
    return false;
  }
  return shared_->max_connections_per_listener <= 0 ||
         listener.connections->load(std::memory_order_relaxed) <
             shared_->max_connections_per_listener;
}

void Worker::StartAccepting(ActiveListener& listener) {
  asio::co_spawn(*ioc_,
                 AcceptLoop(listener.state, listener.acceptor.get(), listener.accept_timer.get()),
                 asio::detached);
}

asio::awaitable<void> Worker::AcceptLoop(std::shared_ptr<ListenerState> state,
                                         tcp::acceptor* acceptor, Timer* timer) {
  AcceptBackoff backoff;
  while (acceptor->is_open()) {
    // Overloaded: new connections wait in the kernel's queue (checked every
    // 100 ms, the monitor's pace) while the open ones are served.
    while (shared_->overload.accepting_stopped() && acceptor->is_open()) {
      co_await SleepUntil(*timer, shared_->time->Monotonic() + std::chrono::milliseconds(100));
    }
    auto [ec, socket] = co_await acceptor->async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) break;
    if (ec && !AcceptBackoff::IsResourceError(ec)) continue;  // ECONNABORTED...
    if (ec) {
      Count(shared_->counters.downstream_cx_accept_resource_errors);
      const auto now = shared_->time->Monotonic();
      if (!backoff.backing_off()) {
        spdlog::warn("listener {}: accept failed: {}; backing off ({} ms, doubling up to {} ms)",
                     state->name, ec.message(), AcceptBackoff::kFirst.count(),
                     AcceptBackoff::kMax.count());
      }
      const auto delay = backoff.OnFailure(now);
      co_await SleepUntil(*timer, now + delay);
      continue;
    }
    if (backoff.backing_off()) {
      const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
          shared_->time->Monotonic() - backoff.since());
      spdlog::info("listener {}: accepting again after {} failures in {} ms", state->name,
                   backoff.failures(), took.count());
      backoff.Reset();
    }
    if (!Admits(*state)) {
      // Refused with a reset: the client learns at once, and no TIME_WAIT
      // is left behind on the proxy's side.
      Count(shared_->counters.downstream_cx_overflow);
      boost::system::error_code ignored;
      socket.set_option(asio::socket_base::linger(true, 0), ignored);
      socket.close(ignored);
      continue;
    }
    auto session = std::make_shared<Session>(this, state, std::move(socket));
    if (state->config.tls != nullptr) {
      asio::co_spawn(*ioc_, Session::RunTls(std::move(session)), asio::detached);
    } else {
      asio::co_spawn(*ioc_, Session::Run(std::move(session)), asio::detached);
    }
  }
}

void Worker::BeginDrain() {
  draining_ = true;
  for (auto& [name, active] : listeners_) {
    boost::system::error_code ec;
    active.acceptor->close(ec);
  }
  // Copy: closing a session may unregister it.
  std::vector<Session*> sessions(sessions_.begin(), sessions_.end());
  for (Session* s : sessions) s->OnDrain();
  pool_.Clear();
  h2_pool_.Drain();
}

void Worker::Register(Session* s) {
  sessions_.insert(s);
  shared_->active_connections.fetch_add(1, std::memory_order_relaxed);
}

void Worker::Unregister(Session* s) {
  sessions_.erase(s);
  if (shared_->active_connections.fetch_sub(1) == 1) {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->cv.notify_all();
  }
}

}  // namespace causeway::proxy
