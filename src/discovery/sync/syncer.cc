#include "discovery/sync/syncer.h"

#include <algorithm>
#include <atomic>

#include "common/strings.h"
#include "spdlog/spdlog.h"

namespace causeway::discovery {

using Clock = std::chrono::steady_clock;

Syncer::Syncer(HubApi* api, SyncOptions options) : api_(api), options_(std::move(options)) {}

Syncer::~Syncer() { Stop(); }

void Syncer::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Syncer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    cv_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
}

void Syncer::SetDesired(ClusterSet clusters, Clock::time_point observed_at, bool complete) {
  absl::MutexLock lock(&mu_);
  std::set<std::string> changed;
  for (const auto& [name, instances] : clusters) {
    auto it = desired_.find(name);
    if (it == desired_.end() || it->second != instances) changed.insert(name);
  }
  for (const auto& [name, instances] : desired_) {
    if (!clusters.contains(name)) changed.insert(name);
  }
  ApplyDesiredLocked(clusters, changed, observed_at, complete);
}

void Syncer::UpdateDesired(const ClusterSet& clusters, const std::set<std::string>& changed,
                           Clock::time_point observed_at, bool complete) {
  absl::MutexLock lock(&mu_);
  ApplyDesiredLocked(clusters, changed, observed_at, complete);
}

void Syncer::ApplyDesiredLocked(const ClusterSet& clusters, const std::set<std::string>& changed,
                                Clock::time_point observed_at, bool complete) {
  const auto now = Clock::now();
  const bool was_idle = dirty_.empty() && !resync_requested_;
  for (const std::string& name : changed) {
    auto it = clusters.find(name);
    if (it != clusters.end()) {
      desired_[name] = it->second;
    } else {
      desired_.erase(name);
    }
    dirty_.insert(name);
    pending_since_.emplace(name, observed_at);  // keeps the earliest unsynced event
  }
  if (complete && !complete_) {
    // Deletions were held back until now: look at the whole zone.
    resync_requested_ = true;
  }
  complete_ = complete;
  if (dirty_.empty() && !resync_requested_) return;
  if (was_idle) first_change_ = now;  // max_delay counts from the first change of a burst
  last_change_ = now;
  in_sync_ = false;
  cv_.SignalAll();
}

bool Syncer::InSync() const {
  absl::MutexLock lock(&mu_);
  return in_sync_;
}

bool Syncer::WaitInSync(std::chrono::milliseconds timeout) const {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(&in_sync_), absl::FromChrono(timeout));
}

absl::Status Syncer::SyncOnce() { return Pass(); }

void Syncer::Run() {
  auto backoff = std::chrono::milliseconds(100);
  mu_.Lock();
  while (!stopping_) {
    const auto resync_at = last_list_ + options_.resync_interval;
    if (dirty_.empty() && !resync_requested_) {
      mu_.AwaitWithTimeout(absl::Condition(this, &Syncer::StoppingOrWork),
                           absl::FromChrono(resync_at - Clock::now()));
      if (stopping_) break;
      if (dirty_.empty() && !resync_requested_) {
        if (Clock::now() < resync_at) continue;
        resync_requested_ = true;
      }
    }
    // Coalesce: wait for a quiet moment, but not longer than max_delay.
    while (!stopping_) {
      const auto quiet_at = last_change_ + options_.debounce;
      const auto deadline = std::min(quiet_at, first_change_ + options_.max_delay);
      const auto now = Clock::now();
      if (now >= deadline) break;
      cv_.WaitWithTimeout(&mu_, absl::FromChrono(deadline - now));
    }
    if (stopping_) break;
    busy_ = true;
    mu_.Unlock();
    const absl::Status status = Pass();
    mu_.Lock();
    busy_ = false;
    if (status.ok()) {
      backoff = std::chrono::milliseconds(100);
      if (dirty_.empty() && !resync_requested_) {
        in_sync_ = true;  // wakes WaitInSync (Mutex::Await)
      } else {
        first_change_ = last_change_ = Clock::now() - options_.max_delay;  // no extra wait
      }
    } else {
      spdlog::warn("discovery: zone {}: sync failed: {}; retrying in {} ms", options_.zone,
                   FromAbsl(status.message()), backoff.count());
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::FromChrono(backoff));
      backoff = std::min(backoff * 2, options_.max_backoff);
      first_change_ = last_change_ = Clock::now() - options_.max_delay;
    }
  }
  mu_.Unlock();
}

absl::Status Syncer::Pass() {
  ClusterSet desired;
  bool complete;
  std::set<std::string> work;
  bool relist;
  {
    absl::MutexLock lock(&mu_);
    complete = complete_;
    work.swap(dirty_);
    relist = resync_requested_ || !hub_loaded_;
    resync_requested_ = false;
    // Only what this pass looks at: under churn that is a few clusters of
    // thousands.
    if (relist) {
      desired = desired_;
    } else {
      for (const std::string& name : work) {
        auto it = desired_.find(name);
        if (it != desired_.end()) desired.emplace(name, it->second);
      }
    }
  }
  auto requeue = [&](const std::set<std::string>& names, bool relist_again) {
    absl::MutexLock lock(&mu_);
    dirty_.insert(names.begin(), names.end());
    resync_requested_ = resync_requested_ || relist_again;
  };

  if (relist) {
    auto listed = api_->ListClusters();
    if (!listed.ok()) {
      metrics_.CountError();
      requeue(work, true);
      return listed.status();
    }
    hub_ = *std::move(listed);
    hub_loaded_ = true;
    last_list_ = Clock::now();
    for (const auto& [name, c] : desired) work.insert(name);
    for (const auto& [name, c] : hub_) work.insert(name);
  }

  std::vector<Action> actions;
  std::set<std::string> settled;  // already as desired: nothing to write
  for (const std::string& name : work) {
    auto want = desired.find(name);
    auto have = hub_.find(name);
    if (want != desired.end()) {
      if (have == hub_.end() || have->second.instances != want->second) {
        actions.push_back({Action::Type::kPut, name, want->second,
                           have == hub_.end() ? "" : have->second.version});
      } else {
        settled.insert(name);
      }
    } else if (have != hub_.end() && options_.delete_missing && complete) {
      auto refused = undeletable_.find(name);
      if (refused != undeletable_.end() && refused->second == have->second.version) {
        settled.insert(name);  // referenced and already emptied
      } else {
        actions.push_back({Action::Type::kDelete, name, {}, have->second.version});
      }
    } else {
      settled.insert(name);
    }
  }
  {
    absl::MutexLock lock(&mu_);
    for (const std::string& name : settled) {
      if (!dirty_.contains(name)) pending_since_.erase(name);
    }
  }
  if (actions.empty()) return absl::OkStatus();

  Execute(actions);

  absl::Status first_error;
  std::set<std::string> retry;
  for (Action& a : actions) {
    if (a.status.ok()) {
      Clock::time_point since = Clock::now();
      {
        absl::MutexLock lock(&mu_);
        auto it = pending_since_.find(a.name);
        if (it != pending_since_.end()) {
          since = it->second;
          if (!dirty_.contains(a.name)) pending_since_.erase(it);
        }
      }
      const auto latency = Clock::now() - since;
      const double ms = std::chrono::duration<double, std::milli>(latency).count();
      if (a.type == Action::Type::kDelete) {
        hub_.erase(a.name);
        metrics_.CountWrite("delete", latency);
        spdlog::info("discovery: zone {}: cluster {} deleted; source to hub {:.1f} ms",
                     options_.zone, a.name, ms);
      } else {
        hub_[a.name] = *a.after;
        metrics_.CountWrite("put", latency);
        if (a.type == Action::Type::kEmpty) undeletable_[a.name] = a.after->version;
        spdlog::info(
            "discovery: zone {}: cluster {} {} {} instances (version {}); source to hub "
            "{:.1f} ms",
            options_.zone, a.name, a.version.empty() ? "created with" : "set to",
            a.instances.size(), a.after->version, ms);
      }
      continue;
    }
    if (absl::IsAborted(a.status)) {
      // Someone else wrote this cluster: read what it holds now and decide again.
      metrics_.CountConflict();
      spdlog::info("discovery: zone {}: cluster {} changed on the hub meanwhile; re-reading",
                   options_.zone, a.name);
      auto current = api_->GetCluster(a.name);
      if (current.ok()) {
        hub_[a.name] = *std::move(current);
      } else if (absl::IsNotFound(current.status())) {
        hub_.erase(a.name);
      } else {
        if (first_error.ok()) first_error = current.status();
      }
      retry.insert(a.name);
      continue;
    }
    if (a.type == Action::Type::kDelete && absl::IsFailedPrecondition(a.status)) {
      spdlog::warn(
          "discovery: zone {}: cluster {} is gone from every collector but still "
          "referenced ({}); emptying it instead",
          options_.zone, a.name, FromAbsl(a.status.message()));
      Action empty{Action::Type::kEmpty, a.name, {}, a.version};
      std::vector<Action> one{empty};
      Execute(one);
      if (one[0].status.ok()) {
        hub_[a.name] = *one[0].after;
        undeletable_[a.name] = one[0].after->version;
        continue;
      }
      a.status = one[0].status;
    }
    metrics_.CountError();
    if (first_error.ok()) first_error = a.status;
    retry.insert(a.name);
  }
  requeue(retry, false);
  return first_error;
}

void Syncer::Execute(std::vector<Action>& actions) {
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < actions.size(); i = next++) {
      Action& a = actions[i];
      if (a.type == Action::Type::kDelete) {
        a.status = api_->DeleteCluster(a.name, a.version);
      } else {
        auto after = api_->PutInstances(a.name, a.instances, a.version);
        if (after.ok()) {
          a.after = *std::move(after);
        } else {
          a.status = after.status();
        }
      }
    }
  };
  const size_t threads =
      std::min(actions.size(), static_cast<size_t>(std::max(1, options_.parallelism)));
  std::vector<std::thread> pool;
  for (size_t i = 1; i < threads; ++i) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
}

}  // namespace causeway::discovery
