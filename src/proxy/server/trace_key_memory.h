// The proxy's memory of which trace carries which routing key
// (docs/two-way-routing.md, "Stamping the key"): a request that carried a
// key and a trace id teaches it; a later request of the same trace that lost
// the key (its service propagated only the trace context) gets it back.
//
// One per process, shared by the workers, so it is on the request path:
// sharded by the trace id's hash, each shard an LRU list under its own
// absl::Mutex, so workers rarely wait on one another. Bounded two ways: at
// most `max_entries` in all (each shard holds its share; the least recently
// used entry of a full shard goes first) and an entry not seen for `ttl` is
// forgotten. Seeing an entry again (remembering it, or finding it) makes it
// the newest and starts its `ttl` again, so each shard's list is also in
// expiry order and expired entries are taken from its tail.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "common/time_source.h"

namespace causeway::proxy {

class TraceKeyMemory {
 public:
  struct Options {
    size_t max_entries = 100000;  // 0: remember nothing
    std::chrono::milliseconds ttl{60000};
    // More shards, less waiting between workers; fewer, an order closer to
    // one global LRU. Never more shards than entries.
    size_t shards = 16;
  };
  struct Entry {
    std::string trace_id;
    std::string key;
    std::chrono::steady_clock::time_point expires;
  };

  TraceKeyMemory(Options options, TimeSource& time);
  TraceKeyMemory(const TraceKeyMemory&) = delete;
  TraceKeyMemory& operator=(const TraceKeyMemory&) = delete;
  ~TraceKeyMemory();

  // Remembers that `trace_id` carries `key` (replacing an older key), as
  // the newest entry of its shard; a full shard forgets its oldest.
  void Remember(std::string_view trace_id, std::string_view key);
  // Copies the key remembered for `trace_id` into `*key`; false when there
  // is none or it expired. A hit makes the entry the newest.
  bool Find(std::string_view trace_id, std::string* key);

  size_t size() const;
  // Entries forgotten to make room, and forgotten because unseen for ttl.
  uint64_t evicted() const { return evicted_.load(std::memory_order_relaxed); }
  uint64_t expired() const { return expired_.load(std::memory_order_relaxed); }
  // Up to `limit` live entries, newest first within each shard (the admin
  // page's view; it takes each shard's lock in turn).
  std::vector<Entry> Recent(size_t limit) const;

 private:
  struct Shard {
    size_t capacity = 0;
    mutable absl::Mutex mu;
    // Newest first. The index's keys view the entries' trace ids, which
    // stay put while the entry lives (list nodes never move).
    std::list<Entry> lru ABSL_GUARDED_BY(mu);
    absl::flat_hash_map<std::string_view, std::list<Entry>::iterator> index ABSL_GUARDED_BY(mu);
  };
  Shard& ShardFor(std::string_view trace_id);
  void DropExpired(Shard& shard, std::chrono::steady_clock::time_point now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);

  const std::chrono::milliseconds ttl_;
  TimeSource& time_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<uint64_t> evicted_{0};
  std::atomic<uint64_t> expired_{0};
};

}  // namespace causeway::proxy
