#include "proxy/server/trace_key_memory.h"

#include <algorithm>
#include <utility>

#include "absl/hash/hash.h"

namespace causeway::proxy {

TraceKeyMemory::TraceKeyMemory(Options options, TimeSource& time) : ttl_(options.ttl), time_(time) {
  const size_t shards = std::max<size_t>(1, std::min(options.shards, options.max_entries));
  shards_.reserve(shards);
  // The bound is exact: the remainder goes one entry each to the first shards.
  for (size_t i = 0; i < shards; ++i) {
    auto shard = std::make_unique<Shard>();
    shard->capacity = options.max_entries / shards + (i < options.max_entries % shards ? 1 : 0);
    shards_.push_back(std::move(shard));
  }
}

TraceKeyMemory::~TraceKeyMemory() = default;

TraceKeyMemory::Shard& TraceKeyMemory::ShardFor(std::string_view trace_id) {
  return *shards_[absl::HashOf(trace_id) % shards_.size()];
}

void TraceKeyMemory::DropExpired(Shard& shard, std::chrono::steady_clock::time_point now) {
  while (!shard.lru.empty() && shard.lru.back().expires <= now) {
    shard.index.erase(shard.lru.back().trace_id);
    shard.lru.pop_back();
    expired_.fetch_add(1, std::memory_order_relaxed);
  }
}

void TraceKeyMemory::Remember(std::string_view trace_id, std::string_view key) {
  Shard& shard = ShardFor(trace_id);
  if (shard.capacity == 0) return;
  const auto now = time_.Monotonic();
  absl::MutexLock lock(&shard.mu);
  DropExpired(shard, now);
  if (auto it = shard.index.find(trace_id); it != shard.index.end()) {
    Entry& entry = *it->second;
    if (entry.key != key) entry.key.assign(key);
    entry.expires = now + ttl_;
    shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
    return;
  }
  if (shard.lru.size() >= shard.capacity) {
    shard.index.erase(shard.lru.back().trace_id);
    shard.lru.pop_back();
    evicted_.fetch_add(1, std::memory_order_relaxed);
  }
  shard.lru.push_front(Entry{std::string(trace_id), std::string(key), now + ttl_});
  shard.index.emplace(shard.lru.front().trace_id, shard.lru.begin());
}

bool TraceKeyMemory::Find(std::string_view trace_id, std::string* key) {
  Shard& shard = ShardFor(trace_id);
  const auto now = time_.Monotonic();
  absl::MutexLock lock(&shard.mu);
  auto it = shard.index.find(trace_id);
  if (it == shard.index.end()) return false;
  Entry& entry = *it->second;
  if (entry.expires <= now) {
    // Everything behind it in the list expired too (the list is in expiry
    // order): drop them all now.
    DropExpired(shard, now);
    return false;
  }
  entry.expires = now + ttl_;
  shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
  key->assign(entry.key);
  return true;
}

size_t TraceKeyMemory::size() const {
  size_t n = 0;
  for (const auto& shard : shards_) {
    absl::MutexLock lock(&shard->mu);
    n += shard->lru.size();
  }
  return n;
}

std::vector<TraceKeyMemory::Entry> TraceKeyMemory::Recent(size_t limit) const {
  std::vector<Entry> out;
  const auto now = time_.Monotonic();
  for (const auto& shard : shards_) {
    absl::MutexLock lock(&shard->mu);
    for (const Entry& entry : shard->lru) {
      if (out.size() >= limit) return out;
      if (entry.expires > now) out.push_back(entry);
    }
  }
  return out;
}

}  // namespace causeway::proxy
