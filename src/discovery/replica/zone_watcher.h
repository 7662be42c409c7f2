// ZoneWatcher: keeps a ZoneReplica's hub layer current from the hub's REST
// API. It lists the zone once, then follows `/v1/watch?since=REV&zone=Z`
// (server-sent events). When the hub goes away it retries with backoff
// (250 ms doubling to 5 s) and resumes from the last revision it applied;
// the replica keeps serving its last copy meanwhile.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "discovery/replica/zone_replica.h"
#include "net/http_client.h"

namespace causeway::discovery {

class ZoneWatcher {
 public:
  struct Options {
    std::chrono::milliseconds min_backoff{250};
    std::chrono::milliseconds max_backoff{5000};
    std::string ca_file;  // PEM roots for an https:// hub ("" = the system's)
    // With several hubs: the URL of each new connection (instead of
    // hub_url), and told when the watch on one failed or closed.
    std::function<std::string()> hub_url;
    std::function<void(const std::string& url, const absl::Status& why)> hub_failed;
  };

  ZoneWatcher(std::string hub_url, std::string token, ZoneReplica* replica, Options options);
  ZoneWatcher(std::string hub_url, std::string token, ZoneReplica* replica)
      : ZoneWatcher(std::move(hub_url), std::move(token), replica, Options{}) {}
  ~ZoneWatcher();
  ZoneWatcher(const ZoneWatcher&) = delete;
  ZoneWatcher& operator=(const ZoneWatcher&) = delete;

  void Start();
  void Stop();

  // True while a watch stream to the hub is open.
  bool connected() const { return connected_.load(); }

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_);
  // Lists the zone into the replica's hub layer.
  absl::Status Load(HttpClient& client);
  // Follows the watch from the replica's revision until the stream ends, an
  // error, or Stop().
  absl::Status Follow(HttpClient& client) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status ApplyEvent(const std::string& data);
  HttpClient::Headers Auth() const;

  const std::string hub_url_;
  const std::string token_;
  ZoneReplica* const replica_;
  const Options options_;

  std::atomic<bool> connected_{false};
  // The hub answered 410 Gone: load the zone again before following (the
  // watch thread's own flag).
  bool relist_ = false;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace causeway::discovery
