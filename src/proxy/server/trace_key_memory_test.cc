// The trace → key memory: LRU order, the entry bound, expiry by its
// TimeSource, and workers using it at once.
#include "proxy/server/trace_key_memory.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace causeway::proxy {
namespace {

using std::chrono::milliseconds;

std::string TraceKeyMemoryTestId(int i) { return "t" + std::to_string(1000000 + i); }

TEST(TraceKeyMemoryTest, RemembersAndFinds) {
  SimulatedTime time;
  TraceKeyMemory memory({.max_entries = 10, .ttl = milliseconds(1000)}, time);
  std::string key;
  EXPECT_FALSE(memory.Find("t1", &key));
  memory.Remember("t1", "alice");
  ASSERT_TRUE(memory.Find("t1", &key));
  EXPECT_EQ(key, "alice");
  // A later key for the same trace replaces the older one.
  memory.Remember("t1", "bob");
  ASSERT_TRUE(memory.Find("t1", &key));
  EXPECT_EQ(key, "bob");
  EXPECT_EQ(memory.size(), 1u);
  EXPECT_FALSE(memory.Find("t2", &key));
}

TEST(TraceKeyMemoryTest, MoreTracesThanEntriesForgetsTheOldest) {
  SimulatedTime time;
  // One shard: exactly one LRU list, so "the oldest" is exact.
  TraceKeyMemory memory({.max_entries = 100, .ttl = milliseconds(60000), .shards = 1}, time);
  for (int i = 0; i < 150; ++i) {
    memory.Remember(TraceKeyMemoryTestId(i), "k" + std::to_string(i));
    time.Advance(milliseconds(1));
  }
  EXPECT_EQ(memory.size(), 100u);
  EXPECT_EQ(memory.evicted(), 50u);
  std::string key;
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(memory.Find(TraceKeyMemoryTestId(i), &key)) << i;
  for (int i = 50; i < 150; ++i) {
    ASSERT_TRUE(memory.Find(TraceKeyMemoryTestId(i), &key)) << i;
    EXPECT_EQ(key, "k" + std::to_string(i));
  }
}

TEST(TraceKeyMemoryTest, AHitKeepsAnEntryAmongTheNewest) {
  SimulatedTime time;
  TraceKeyMemory memory({.max_entries = 3, .ttl = milliseconds(60000), .shards = 1}, time);
  memory.Remember("a", "1");
  memory.Remember("b", "2");
  memory.Remember("c", "3");
  std::string key;
  ASSERT_TRUE(memory.Find("a", &key));  // "a" is now the newest; "b" the oldest
  memory.Remember("d", "4");
  EXPECT_TRUE(memory.Find("a", &key));
  EXPECT_FALSE(memory.Find("b", &key));
  EXPECT_TRUE(memory.Find("c", &key));
  EXPECT_TRUE(memory.Find("d", &key));
}

TEST(TraceKeyMemoryTest, ShardedBoundIsExact) {
  SimulatedTime time;
  TraceKeyMemory memory({.max_entries = 1000, .ttl = milliseconds(60000), .shards = 16}, time);
  for (int i = 0; i < 5000; ++i) memory.Remember(TraceKeyMemoryTestId(i), "k");
  // Five times the bound: every shard filled up to its share.
  EXPECT_EQ(memory.size(), 1000u);
  EXPECT_EQ(memory.evicted(), 4000u);
  // The newest is never the one forgotten.
  std::string key;
  EXPECT_TRUE(memory.Find(TraceKeyMemoryTestId(4999), &key));
}

TEST(TraceKeyMemoryTest, UnseenForTheTtlIsForgotten) {
  SimulatedTime time;
  TraceKeyMemory memory({.max_entries = 10, .ttl = milliseconds(1000)}, time);
  memory.Remember("old", "alice");
  memory.Remember("renewed", "bob");
  time.Advance(milliseconds(999));
  std::string key;
  ASSERT_TRUE(memory.Find("renewed", &key));  // seen again: another full ttl
  time.Advance(milliseconds(1));
  EXPECT_FALSE(memory.Find("old", &key));  // exactly ttl after it was last seen
  EXPECT_EQ(memory.expired(), 1u);
  time.Advance(milliseconds(998));
  EXPECT_TRUE(memory.Find("renewed", &key));
  time.Advance(milliseconds(1000));
  EXPECT_FALSE(memory.Find("renewed", &key));
  EXPECT_EQ(memory.size(), 0u);
}

TEST(TraceKeyMemoryTest, RememberTakesExpiredEntriesFirst) {
  SimulatedTime time;
  TraceKeyMemory memory({.max_entries = 2, .ttl = milliseconds(100), .shards = 1}, time);
  memory.Remember("a", "1");
  memory.Remember("b", "2");
  time.Advance(milliseconds(100));
  memory.Remember("c", "3");
  // Both had expired: dropped as expired, not evicted for room.
  EXPECT_EQ(memory.expired(), 2u);
  EXPECT_EQ(memory.evicted(), 0u);
  EXPECT_EQ(memory.size(), 1u);
}

TEST(TraceKeyMemoryTest, ZeroEntriesRemembersNothing) {
  SimulatedTime time;
  TraceKeyMemory memory({.max_entries = 0}, time);
  memory.Remember("a", "alice");
  std::string key;
  EXPECT_FALSE(memory.Find("a", &key));
  EXPECT_EQ(memory.size(), 0u);
}

TEST(TraceKeyMemoryTest, RecentListsLiveEntriesNewestFirst) {
  SimulatedTime time;
  TraceKeyMemory memory({.max_entries = 10, .ttl = milliseconds(100), .shards = 1}, time);
  memory.Remember("a", "1");
  time.Advance(milliseconds(60));
  memory.Remember("b", "2");
  time.Advance(milliseconds(50));  // "a" expired, "b" not
  std::vector<TraceKeyMemory::Entry> recent = memory.Recent(10);
  ASSERT_EQ(recent.size(), 1u);
  EXPECT_EQ(recent[0].trace_id, "b");
  EXPECT_EQ(recent[0].key, "2");
}

TEST(TraceKeyMemoryTest, WorkersAtOnce) {
  SimulatedTime time;
  TraceKeyMemory memory({.max_entries = 500, .ttl = milliseconds(60000)}, time);
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&memory, w] {
      std::string key;
      for (int i = 0; i < 2000; ++i) {
        const std::string id = TraceKeyMemoryTestId(w * 10000 + i);
        memory.Remember(id, "k" + std::to_string(w));
        if (memory.Find(id, &key)) {
          EXPECT_EQ(key, "k" + std::to_string(w));
        }
      }
    });
  }
  for (std::thread& t : workers) t.join();
  EXPECT_LE(memory.size(), 500u);
  EXPECT_EQ(memory.evicted(), 8000u - memory.size());
}

}  // namespace
}  // namespace causeway::proxy
