#include "discovery/agent/hub_list.h"

#include <algorithm>

#include "common/strings.h"
#include "spdlog/spdlog.h"

namespace causeway::discovery {

absl::StatusOr<std::shared_ptr<HubList>> HubList::Create(std::vector<std::string> urls) {
  if (urls.empty()) return absl::InvalidArgumentError("--hub is required");
  for (size_t i = 0; i < urls.size(); ++i) {
    const std::string& url = urls[i];
    if (url.empty()) {
      return absl::InvalidArgumentError(
          ToAbsl(StrCat("--hub: entry ", i + 1, " of the list is empty")));
    }
    if (!url.starts_with("http://") && !url.starts_with("https://")) {
      return absl::InvalidArgumentError(
          ToAbsl(StrCat("--hub: \"", url, "\" is not an http:// or https:// URL")));
    }
    if (std::find(urls.begin(), urls.begin() + i, url) != urls.begin() + i) {
      return absl::InvalidArgumentError(ToAbsl(StrCat("--hub: \"", url, "\" is given twice")));
    }
  }
  return std::shared_ptr<HubList>(new HubList(std::move(urls)));
}

std::string HubList::Current() const {
  absl::MutexLock lock(&mu_);
  return urls_[current_];
}

uint64_t HubList::moves() const {
  absl::MutexLock lock(&mu_);
  return moves_;
}

bool HubList::IsHubFailure(const absl::Status& why) {
  return absl::IsUnavailable(why) || absl::IsDeadlineExceeded(why) || absl::IsInternal(why);
}

void HubList::Failed(const std::string& url, const absl::Status& why) {
  if (urls_.size() < 2 || !IsHubFailure(why)) return;
  absl::MutexLock lock(&mu_);
  if (urls_[current_] != url) return;
  current_ = (current_ + 1) % urls_.size();
  ++moves_;
  spdlog::warn("discovery: hub {} failed ({}); using hub {} ({} of {})", url,
               FromAbsl(why.message()), urls_[current_], current_ + 1, urls_.size());
}

}  // namespace causeway::discovery
