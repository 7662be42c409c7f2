#include "hub/auth/last_used.h"

#include <utility>
#include <vector>

#include "spdlog/spdlog.h"

namespace causeway::hub::auth {

namespace {
// Bounds memory if tokens are created and used in great numbers.
constexpr size_t kMaxRemembered = 100000;

int64_t ToMs(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
}  // namespace

LastUsedRecorder::LastUsedRecorder(store::Store* store, const TimeSource* time,
                                   std::chrono::milliseconds resolution,
                                   std::chrono::milliseconds flush_interval)
    : store_(store),
      time_(time),
      resolution_ms_(resolution.count()),
      flush_interval_(flush_interval),
      thread_([this] { Run(); }) {}

LastUsedRecorder::~LastUsedRecorder() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
  Flush();
}

void LastUsedRecorder::Note(const std::string& token_name) {
  const int64_t now = ToMs(time_->Now());
  std::lock_guard<std::mutex> lock(mu_);
  auto it = noted_ms_.find(token_name);
  if (it != noted_ms_.end() && now - it->second < resolution_ms_) return;
  if (it == noted_ms_.end()) {
    if (noted_ms_.size() >= kMaxRemembered) noted_ms_.clear();
    it = noted_ms_.emplace(token_name, now).first;
  }
  it->second = now;
  pending_ms_[token_name] = now;
}

void LastUsedRecorder::Flush() {
  std::lock_guard<std::mutex> flush_lock(flush_mu_);
  std::map<std::string, int64_t> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batch.swap(pending_ms_);
  }
  if (batch.empty()) return;
  std::vector<std::pair<std::string, int64_t>> used(batch.begin(), batch.end());
  absl::Status written = store_->TouchTokens(used);
  if (written.ok()) return;
  spdlog::warn("recording when {} token(s) were last used failed: {}", used.size(),
               written.ToString());
  // Try again next interval, unless newer uses were noted meanwhile.
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [name, ms] : batch) pending_ms_.emplace(name, ms);
}

void LastUsedRecorder::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    wake_.wait_for(lock, flush_interval_, [this] { return stop_; });
    if (stop_) break;
    lock.unlock();
    Flush();
    lock.lock();
  }
}

}  // namespace causeway::hub::auth
