#include "hub/api/watch_slots.h"

namespace causeway::hub::api {

std::shared_ptr<void> WatchSlots::Acquire(const std::string& token) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    int& n = open_[token];
    if (n >= kPerToken) return nullptr;
    ++n;
  }
  // The slot outlives the request handler: it travels with the stream and is
  // given back however the stream ends (or if it never starts).
  // (Pointing at this registry only so that the slot is not null; the
  // deleter gives the slot back and deletes nothing.)
  return std::shared_ptr<void>(this, [this, token](void*) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = open_.find(token);
    if (it != open_.end() && --it->second <= 0) open_.erase(it);
  });
}

int WatchSlots::open(const std::string& token) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = open_.find(token);
  return it == open_.end() ? 0 : it->second;
}

}  // namespace causeway::hub::api
