#include "common/time_source.h"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <ctime>

#include "absl/strings/str_format.h"

namespace causeway {
namespace {

// A steady_timer whose callback is dropped on Cancel and on re-Schedule:
// Asio may already have queued the old wait's completion when the timer is
// moved, so the generation tells a stale completion from the current one.
class AsioTimer final : public Timer {
 public:
  explicit AsioTimer(boost::asio::io_context& io) : state_(std::make_shared<State>(io)) {}
  ~AsioTimer() override { Cancel(); }
  void Schedule(std::chrono::steady_clock::time_point at,
                absl::AnyInvocable<void()> callback) override {
    State& s = *state_;
    const uint64_t gen = ++s.generation;
    s.callback = std::move(callback);
    s.timer.expires_at(at);
    // The handler holds the state: it may complete after this timer is gone.
    s.timer.async_wait([state = state_, gen](boost::system::error_code ec) {
      if (ec || gen != state->generation || !state->callback) return;
      absl::AnyInvocable<void()> callback = std::move(state->callback);
      state->callback = nullptr;
      callback();
    });
  }
  void Cancel() override {
    ++state_->generation;
    state_->callback = nullptr;
    state_->timer.cancel();
  }

 private:
  struct State {
    explicit State(boost::asio::io_context& io) : timer(io) {}
    boost::asio::steady_timer timer;
    uint64_t generation = 0;
    absl::AnyInvocable<void()> callback;
  };
  std::shared_ptr<State> state_;
};

}  // namespace

RealTime& RealTime::Instance() {
  static RealTime instance;
  return instance;
}

std::unique_ptr<Timer> RealTime::CreateTimer(boost::asio::io_context& io) {
  return std::make_unique<AsioTimer>(io);
}

struct SimulatedTime::TimerState {
  explicit TimerState(boost::asio::io_context& i) : io(i) {}
  boost::asio::io_context& io;
  bool pending = false;
  bool alive = true;
  uint64_t generation = 0;
  std::chrono::steady_clock::time_point at;
  // Shared with the posted handler, which checks the generation first.
  std::shared_ptr<absl::AnyInvocable<void()>> callback;
};

namespace {
class SimulatedTimer final : public Timer {
 public:
  SimulatedTimer(std::shared_ptr<SimulatedTime::TimerState> state, std::mutex* mu)
      : state_(std::move(state)), mu_(mu) {}
  ~SimulatedTimer() override {
    std::lock_guard<std::mutex> lock(*mu_);
    Drop();
    state_->alive = false;
  }
  void Schedule(std::chrono::steady_clock::time_point at,
                absl::AnyInvocable<void()> callback) override {
    std::lock_guard<std::mutex> lock(*mu_);
    Drop();
    state_->pending = true;
    state_->at = at;
    state_->callback = std::make_shared<absl::AnyInvocable<void()>>(std::move(callback));
  }
  void Cancel() override {
    std::lock_guard<std::mutex> lock(*mu_);
    Drop();
  }

 private:
  void Drop() {
    ++state_->generation;
    state_->pending = false;
    state_->callback = nullptr;
  }
  std::shared_ptr<SimulatedTime::TimerState> state_;
  std::mutex* mu_;
};
}  // namespace

SimulatedTime::~SimulatedTime() = default;

std::unique_ptr<Timer> SimulatedTime::CreateTimer(boost::asio::io_context& io) {
  auto state = std::make_shared<TimerState>(io);
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(timers_, [](const std::shared_ptr<TimerState>& t) { return !t->alive; });
  timers_.push_back(state);
  return std::make_unique<SimulatedTimer>(state, &mu_);
}

void SimulatedTime::Advance(std::chrono::nanoseconds d) {
  wall_ns_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d).count();
  mono_ns_ += std::chrono::duration_cast<std::chrono::steady_clock::duration>(d).count();
  const auto now = Monotonic();
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<TimerState>> due;
  for (const auto& t : timers_) {
    if (t->alive && t->pending && t->at <= now) due.push_back(t);
  }
  std::stable_sort(due.begin(), due.end(),
                   [](const auto& a, const auto& b) { return a->at < b->at; });
  for (const std::shared_ptr<TimerState>& t : due) {
    t->pending = false;
    // Runs unless the timer is rescheduled, cancelled or destroyed first.
    boost::asio::post(t->io, [this, t, gen = t->generation, callback = t->callback] {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (!t->alive || t->generation != gen) return;
        t->callback = nullptr;
      }
      (*callback)();
    });
  }
}

bool SimulatedTime::NextDeadline(std::chrono::steady_clock::time_point* at) const {
  std::lock_guard<std::mutex> lock(mu_);
  bool any = false;
  for (const auto& t : timers_) {
    if (!t->alive || !t->pending) continue;
    if (!any || t->at < *at) *at = t->at;
    any = true;
  }
  return any;
}

size_t SimulatedTime::PendingTimers() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& t : timers_) n += (t->alive && t->pending) ? 1 : 0;
  return n;
}

std::string FormatRfc3339(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return absl::StrFormat("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
}

}  // namespace causeway
