#include "store/history_compactor.h"

#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "common/status.h"
#include "common/strings.h"
#include "spdlog/spdlog.h"

namespace causeway::store {

absl::StatusOr<Retention> ParseRetention(const std::string& text) {
  auto bad = [&] {
    return absl::InvalidArgumentError(
        StrCat("--history-retention: \"", text,
               "\" is neither an age (7d, 24h, 30m, 90s) nor a count of changes (100000)"));
  };
  Retention retention;
  if (int64_t count = 0; absl::SimpleAtoi(text, &count)) {
    if (count < 0) return bad();
    retention.max_count = count;
    return retention;
  }
  absl::Duration age;
  int64_t days = 0;
  if (text.size() > 1 && text.back() == 'd' &&
      absl::SimpleAtoi(text.substr(0, text.size() - 1), &days) && days > 0) {
    age = absl::Hours(24) * days;  // absl's durations stop at hours
  } else if (!absl::ParseDuration(text, &age)) {
    return bad();
  }
  if (age < absl::Seconds(1)) return bad();
  retention.max_age_ms = absl::ToInt64Milliseconds(age);
  return retention;
}

std::string RetentionString(const Retention& retention) {
  if (retention.max_count > 0) return StrCat(retention.max_count, " changes");
  if (retention.max_age_ms <= 0) return "everything";
  const int64_t day_ms = 24 * 3600 * 1000;
  if (retention.max_age_ms % day_ms == 0) return StrCat(retention.max_age_ms / day_ms, "d");
  return absl::FormatDuration(absl::Milliseconds(retention.max_age_ms));
}

HistoryCompactor::HistoryCompactor(Store* store, const TimeSource* time, Retention retention,
                                   std::chrono::milliseconds interval)
    : store_(store), time_(time), retention_(retention), interval_(interval) {
  thread_ = std::thread([this] { Run(); });
}

HistoryCompactor::~HistoryCompactor() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

absl::StatusOr<int64_t> HistoryCompactor::RunOnce() {
  int64_t removed = 0;
  for (int i = 0; i < kPassesPerWake; ++i) {
    const int64_t now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(time_->Now().time_since_epoch())
            .count();
    CW_ASSIGN_OR_RETURN(Compaction pass,
                        store_->CompactChangelog(retention_, now_ms, kRowsPerPass));
    removed += pass.removed;
    if (pass.removed > 0) {
      spdlog::info(
          "history: removed {} change(s) from the change log (retention {}); it now starts "
          "after revision {}",
          pass.removed, RetentionString(retention_), pass.compacted_through);
    }
    if (pass.removed < kRowsPerPass) break;
  }
  return removed;
}

void HistoryCompactor::Run() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return;
    }
    absl::StatusOr<int64_t> removed = RunOnce();
    if (!removed.ok()) {
      // The next wake tries again; the log only grows meanwhile.
      spdlog::warn("history: compacting the change log failed: {}", removed.status().ToString());
    }
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stop_), absl::FromChrono(interval_));
  }
}

}  // namespace causeway::store
