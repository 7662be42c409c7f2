// HubList: the hubs an agent may use (`--hub URL1,URL2`), one at a time.
// Several hubs on one PostgreSQL share the objects, the versions and the
// change log's revisions, so the agent's writes, its zone watch and its
// proxy reports can move from one to the next and carry on where they were.
// Every connection asks Current() which hub to use; a part that finds the
// hub unreachable (or answering 5xx, or closing its watch) calls Failed(),
// and the next hub in the list becomes the current one for all parts. Each
// part keeps its own retry backoff, so a list of hubs that are all down is
// tried round and round no faster than a single hub would be.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace causeway::discovery {

class HubList {
 public:
  // Checks the list: at least one URL, each http:// or https:// and given
  // once. Errors name --hub and the value.
  static absl::StatusOr<std::shared_ptr<HubList>> Create(std::vector<std::string> urls);

  // The hub in use.
  std::string Current() const;
  const std::vector<std::string>& urls() const { return urls_; }
  // How many times the agent has moved to another hub.
  uint64_t moves() const;

  // The connection to `url` failed with `why`. When `url` is still the hub in
  // use and `why` says the hub is unavailable (see IsHubFailure), the next
  // hub in the list becomes current and the move is logged. A failure of a
  // hub the agent has already left changes nothing, so parts that notice
  // the same outage one after the other move the agent once.
  void Failed(const std::string& url, const absl::Status& why);

  // True for what another hub could answer better: the hub could not be
  // reached, timed out, or answered 5xx (UNAVAILABLE, DEADLINE_EXCEEDED or
  // INTERNAL; HttpError makes every status but 400, 401, 403, 404, 409 and
  // 412 UNAVAILABLE, so a 429 moves too). A refused token or a version
  // conflict would be the same on every hub, so those stay with the current
  // one.
  static bool IsHubFailure(const absl::Status& why);

 private:
  explicit HubList(std::vector<std::string> urls) : urls_(std::move(urls)) {}

  const std::vector<std::string> urls_;
  mutable absl::Mutex mu_;
  size_t current_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t moves_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace causeway::discovery
