#include "serve/intercept_sweeper.h"

#include <vector>

#include "model/objects.h"
#include "spdlog/spdlog.h"

namespace causeway::serve {

InterceptSweeper::InterceptSweeper(catalog::Catalog* catalog, const TimeSource* time)
    : catalog_(catalog), time_(time) {}

InterceptSweeper::~InterceptSweeper() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void InterceptSweeper::Start(std::chrono::milliseconds interval) {
  thread_ = std::thread([this, interval] { Run(interval); });
}

int InterceptSweeper::SweepOnce() {
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(time_->Now().time_since_epoch())
          .count();
  int deleted = 0;
  for (const model::Object& object : catalog_->List(model::Kind::kIntercept, "")) {
    absl::StatusOr<model::Intercept> intercept = model::InterceptFromObject(object);
    // An intercept that does not parse was not written by this hub's
    // handlers; it is left for an admin to look at.
    if (!intercept.ok() || intercept->expires_at_ms > now_ms) continue;
    std::vector<catalog::Mutation> mutations(1);
    mutations[0].type = catalog::Mutation::Type::kDelete;
    mutations[0].key = object.key;
    mutations[0].expected_version = object.version;
    absl::StatusOr<catalog::WriteResult> result =
        catalog_->Write(std::move(mutations), kLeaseExpiryActor);
    if (result.ok()) {
      ++deleted;
      spdlog::info("{}: lease of token \"{}\" ran out, deleted", model::KeyString(object.key),
                   intercept->owner);
    } else if (result.status().code() != absl::StatusCode::kFailedPrecondition &&
               result.status().code() != absl::StatusCode::kNotFound) {
      // Renewed or deleted meanwhile is the normal race; anything else is
      // worth a line, and the next sweep tries again.
      spdlog::warn("{}: deleting the expired intercept failed: {}", model::KeyString(object.key),
                   result.status().ToString());
    }
  }
  return deleted;
}

void InterceptSweeper::Run(std::chrono::milliseconds interval) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    SweepOnce();
    lock.lock();
    wake_.wait_for(lock, interval, [this] { return stop_; });
  }
}

}  // namespace causeway::serve
