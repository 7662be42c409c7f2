// Static mode kept current: the proxy's --config file (or directory) is
// checked for a change every `check_interval` and at once on Reload() (what
// SIGHUP asks for). A change is loaded and applied exactly as an xDS update
// is (translated, validated, then swapped in); a file that does not load or
// apply changes nothing: the last good configuration keeps serving, and the
// error is logged and shown in /config_dump until a good file replaces it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "nlohmann/json.hpp"
#include "proxy/xds_client/resources.h"

namespace causeway::proxy {

class StaticConfigWatcher {
 public:
  using Apply = std::function<absl::Status(const XdsResources&)>;

  StaticConfigWatcher(std::string path, std::string proxy_name, Apply apply,
                      std::chrono::milliseconds check_interval);
  ~StaticConfigWatcher();
  StaticConfigWatcher(const StaticConfigWatcher&) = delete;
  StaticConfigWatcher& operator=(const StaticConfigWatcher&) = delete;

  // The first load, before serving: an error here is the program's (exit 2).
  absl::Status LoadFirst();
  // Starts watching (after LoadFirst succeeded); Stop() joins.
  void Start();
  void Stop();
  // Loads the file again now, changed or not.
  void Reload();

  // {file, loads, failures, loaded_at_ms, last_error?} for /config_dump.
  nlohmann::json Dump() const;
  uint64_t loads() const;
  uint64_t failures() const;

 private:
  absl::Status LoadAndApply() ABSL_LOCKS_EXCLUDED(mu_);
  void Run() ABSL_LOCKS_EXCLUDED(mu_);
  // What the loop waits for (Mutex::Await).
  bool StoppingOrReloadRequested() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || reload_requested_;
  }

  const std::string path_;
  const std::string proxy_name_;
  const Apply apply_;
  const std::chrono::milliseconds check_interval_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool reload_requested_ ABSL_GUARDED_BY(mu_) = false;
  std::string fingerprint_ ABSL_GUARDED_BY(mu_);  // of the files last loaded (good or not)
  uint64_t loads_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t failures_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t loaded_at_ms_ ABSL_GUARDED_BY(mu_) = 0;  // wall clock of the last good load
  std::string last_error_ ABSL_GUARDED_BY(mu_);    // of the last load, empty when it was good
  std::thread thread_;
};

// What identifies the current contents of `path` without reading them: the
// inode, size and modification time (ns) of the file, or of every entry of a
// directory. Editors that replace a file and Kubernetes ConfigMap volumes
// (which swap a symlink) change it too.
std::string ConfigFingerprint(const std::string& path);

}  // namespace causeway::proxy
