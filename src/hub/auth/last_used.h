// Remembers when each token was last used and writes it to the Store in the
// background, so authenticating a request never waits for a write.
//
// A token's use is recorded at most once per `resolution` (a minute by
// default): a busy client costs one map lookup per request, and the store
// sees one small batched write per flush interval at most. What has been
// flushed survives a restart; uses noted after the last flush of a process
// that crashes are lost (at most one flush interval of them).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "common/time_source.h"
#include "store/store.h"

namespace causeway::hub::auth {

class LastUsedRecorder {
 public:
  LastUsedRecorder(store::Store* store, const TimeSource* time,
                   std::chrono::milliseconds resolution = std::chrono::minutes(1),
                   std::chrono::milliseconds flush_interval = std::chrono::seconds(1));
  // Flushes what is pending, then stops the writer thread.
  ~LastUsedRecorder();
  LastUsedRecorder(const LastUsedRecorder&) = delete;
  LastUsedRecorder& operator=(const LastUsedRecorder&) = delete;

  // Called on every authentication; cheap, never blocks on the store.
  void Note(const std::string& token_name);
  // Writes what is pending now (the writer thread calls it every interval).
  void Flush();

 private:
  void Run();

  store::Store* const store_;
  const TimeSource* const time_;
  const int64_t resolution_ms_;
  const std::chrono::milliseconds flush_interval_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::map<std::string, int64_t> noted_ms_;    // last time written or queued, per token
  std::map<std::string, int64_t> pending_ms_;  // to write
  std::mutex flush_mu_;                        // one flush at a time
  std::thread thread_;
};

}  // namespace causeway::hub::auth
