// Change-log compaction on both backends: what a pass removes, what stays,
// that objects are never touched, two stores compacting one database at
// once, and a writer killed while it compacts.
#include <signal.h>

#include <atomic>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "common/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/history_compactor.h"
#include "store/store.h"
#include "support/store/store_test_env.h"

namespace causeway::store::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::vector<int64_t> CompactionRevisions(const std::vector<Change>& changes) {
  std::vector<int64_t> out;
  for (const Change& c : changes) out.push_back(c.revision);
  return out;
}

class StoreCompaction : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    env_ = std::make_unique<StoreEnv>(GetParam());
    auto store = env_->Open();
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  // Commits `n` creations, one per commit; change r is stamped r seconds
  // after the epoch the helpers use.
  void CommitMany(int n) {
    auto rev = store_->Revision();
    ASSERT_TRUE(rev.ok());
    for (int64_t r = *rev + 1; r <= *rev + n; ++r) {
      ASSERT_TRUE(
          store_->Commit(r - 1, {Create(r, MakeObject("z", "o" + std::to_string(r), r, ""))}).ok());
    }
  }

  Compaction Pass(const Retention& retention, int64_t now_ms, int64_t max_rows) {
    auto pass = store_->CompactChangelog(retention, now_ms, max_rows);
    EXPECT_TRUE(pass.ok()) << pass.status();
    return pass.value_or(Compaction{});
  }

  int64_t Compacted() {
    auto compacted = store_->CompactedRevision();
    EXPECT_TRUE(compacted.ok()) << compacted.status();
    return compacted.value_or(-1);
  }

  size_t ObjectCount() {
    auto snapshot = store_->Load();
    EXPECT_TRUE(snapshot.ok()) << snapshot.status();
    return snapshot.ok() ? snapshot->objects.size() : 0;
  }

  std::unique_ptr<StoreEnv> env_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreCompaction, CountKeepsTheNewestAndRefusesOlderReads) {
  CommitMany(20);
  EXPECT_EQ(Compacted(), 0);
  Compaction pass = Pass({.max_count = 5}, 0, 1000);
  EXPECT_EQ(pass.removed, 15);
  EXPECT_EQ(pass.compacted_through, 15);
  EXPECT_EQ(Compacted(), 15);

  auto kept = store_->ChangesSince(15, 100);
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_THAT(CompactionRevisions(*kept), ElementsAre(16, 17, 18, 19, 20));
  auto gone = store_->ChangesSince(14, 100);
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kOutOfRange) << gone.status();
  EXPECT_THAT(std::string(gone.status().message()), ::testing::HasSubstr("revision 15"));
  // A filter that matches nothing old still says the history is gone.
  EXPECT_EQ(store_->ChangesSince(0, 100, {.zone = "elsewhere"}).status().code(),
            absl::StatusCode::kOutOfRange);
  // Objects are never compacted.
  EXPECT_EQ(ObjectCount(), 20u);
  // Nothing more to do until the log grows past the count again.
  EXPECT_EQ(Pass({.max_count = 5}, 0, 1000).removed, 0);

  store_.reset();
  auto reopened = env_->Open();
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  store_ = std::move(*reopened);
  EXPECT_EQ(Compacted(), 15);
  EXPECT_EQ(ObjectCount(), 20u);
}

TEST_P(StoreCompaction, PassesAreBounded) {
  CommitMany(20);
  std::vector<int64_t> removed;
  for (int i = 0; i < 6; ++i) removed.push_back(Pass({.max_count = 5}, 0, 4).removed);
  EXPECT_THAT(removed, ElementsAre(4, 4, 4, 3, 0, 0));
  EXPECT_EQ(Compacted(), 15);
}

TEST_P(StoreCompaction, AgeRemovesTheOldPrefixOnly) {
  // Changes 1..10 at epoch + r s; then one stamped older than all (a hub
  // whose clock is behind) and two more.
  CommitMany(10);
  model::Object late = MakeObject("z", "late", 11, "");
  Change behind = Create(11, late);
  behind.time_ms = 1'700'000'000'000;
  ASSERT_TRUE(store_->Commit(10, {behind}).ok());
  CommitMany(2);
  const int64_t now = 1'700'000'000'000 + 100'000;
  // Older than 94.5 s at `now`: changes 1..5 (their stamps are 1..5 s).
  Compaction pass = Pass({.max_age_ms = 94'500}, now, 1000);
  EXPECT_EQ(pass.removed, 5);
  EXPECT_EQ(Compacted(), 5);
  // Older than 50 s: 6..10, the one stamped behind, and 12..13 (12 and 13 s).
  pass = Pass({.max_age_ms = 50'000}, now, 1000);
  EXPECT_EQ(pass.removed, 8);
  EXPECT_EQ(Compacted(), 13);
  auto rest = store_->ChangesSince(13, 100);
  ASSERT_TRUE(rest.ok());
  EXPECT_THAT(*rest, IsEmpty());
  EXPECT_EQ(ObjectCount(), 13u);
}

TEST_P(StoreCompaction, AYoungEntryStopsThePass) {
  CommitMany(3);
  model::Object fresh = MakeObject("z", "fresh", 4, "");
  Change young = Create(4, fresh);
  young.time_ms = 1'700'000'000'000 + 1'000'000;
  ASSERT_TRUE(store_->Commit(3, {young}).ok());
  CommitMany(3);  // stamped 5..7 s: old, but after a young one
  Compaction pass = Pass({.max_age_ms = 10'000}, 1'700'000'000'000 + 1'005'000, 1000);
  EXPECT_EQ(pass.removed, 3);
  EXPECT_EQ(Compacted(), 3);
}

TEST_P(StoreCompaction, NoRetentionKeepsEverything) {
  CommitMany(10);
  EXPECT_EQ(Pass({}, 1'800'000'000'000, 1000).removed, 0);
  EXPECT_EQ(Compacted(), 0);
  auto all = store_->ChangesSince(0, 100);
  ASSERT_TRUE(all.ok());
  EXPECT_THAT(*all, SizeIs(10));
}

TEST_P(StoreCompaction, TwoStoresCompactingWhileOneWrites) {
  // Two handles compact the same database at once (two hubs) while a third
  // commits: the log stays one dense run after the compacted revision and
  // every object stays.
  auto a = env_->Open();
  auto b = env_->Open();
  ASSERT_TRUE(a.ok() && b.ok());
  std::atomic<bool> done{false};
  std::atomic<int64_t> removed{0};
  auto compact = [&](Store* store) {
    while (!done) {
      auto pass = store->CompactChangelog({.max_count = 10}, 0, 3);
      ASSERT_TRUE(pass.ok()) << pass.status();
      removed += pass->removed;
    }
  };
  std::thread ta(compact, a->get());
  std::thread tb(compact, b->get());
  CommitMany(120);
  done = true;
  ta.join();
  tb.join();
  while (Pass({.max_count = 10}, 0, 1000).removed > 0) {
  }
  EXPECT_EQ(Compacted(), 110);
  auto rest = store_->ChangesSince(110, 1000);
  ASSERT_TRUE(rest.ok()) << rest.status();
  std::vector<int64_t> want;
  for (int64_t r = 111; r <= 120; ++r) want.push_back(r);
  EXPECT_EQ(CompactionRevisions(*rest), want);
  EXPECT_EQ(ObjectCount(), 120u);
  RecordProperty("removed_by_concurrent_passes", static_cast<int>(removed.load()));
}

// Complete lines of `path` as revisions (a partial last line was cut by the kill).
std::vector<int64_t> CompactionAcks(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::vector<int64_t> revisions;
  std::string s = text.str();
  size_t start = 0;
  for (size_t nl = s.find('\n'); nl != std::string::npos; nl = s.find('\n', start)) {
    revisions.push_back(std::stoll(s.substr(start, nl - start)));
    start = nl + 1;
  }
  return revisions;
}

TEST_P(StoreCompaction, KilledWhileCompactingLeavesAConsistentStore) {
  ::causeway::testing::TempDir logs;
  store_.reset();
  for (int round = 0; round < 2; ++round) {
    std::string out = logs.File("acks-" + std::to_string(round));
    ::causeway::testing::Subprocess writer(
        {.argv = {CAUSEWAY_STORE_CRASH_WRITER, env_->spec(), env_->data_dir() + "/data", "compact"},
         .log_path = out});
    ASSERT_TRUE(::causeway::testing::WaitFor(
        [&] { return CompactionAcks(out).size() >= 150 || !writer.Running(); },
        std::chrono::seconds(60)));
    ASSERT_TRUE(writer.Running()) << "writer exited early:\n" << writer.Log();
    writer.Signal(SIGKILL);
    writer.Wait();

    std::vector<int64_t> acked = CompactionAcks(out);
    auto store = env_->Open();
    ASSERT_TRUE(store.ok()) << store.status();
    auto snapshot = (*store)->Load();
    ASSERT_TRUE(snapshot.ok()) << snapshot.status();
    EXPECT_GE(snapshot->revision, acked.back());
    std::set<std::string> names;
    for (const auto& o : snapshot->objects) names.insert(o.key.name);
    for (int64_t rev : acked) ASSERT_TRUE(names.count("c-" + std::to_string(rev))) << rev;
    EXPECT_EQ(static_cast<int64_t>(snapshot->objects.size()), snapshot->revision);
    // The log is exactly the revisions after the compacted one.
    auto compacted = (*store)->CompactedRevision();
    ASSERT_TRUE(compacted.ok());
    EXPECT_GT(*compacted, 0);
    EXPECT_GE(snapshot->revision - *compacted, 50);
    auto changes = (*store)->ChangesSince(*compacted, 1'000'000);
    ASSERT_TRUE(changes.ok()) << changes.status();
    ASSERT_EQ(static_cast<int64_t>(changes->size()), snapshot->revision - *compacted);
    for (size_t i = 0; i < changes->size(); ++i) {
      ASSERT_EQ((*changes)[i].revision, *compacted + static_cast<int64_t>(i) + 1);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreCompaction,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const auto& info) { return BackendName(info.param); });

TEST(CompactionLimit, BoundsAndCounts) {
  EXPECT_EQ(CompactionLimit({}, 100, 0, 10), 0);
  EXPECT_EQ(CompactionLimit({.max_count = 30}, 100, 0, 1000), 70);
  EXPECT_EQ(CompactionLimit({.max_count = 30}, 100, 0, 10), 10);
  EXPECT_EQ(CompactionLimit({.max_count = 30}, 100, 70, 10), 70);
  EXPECT_EQ(CompactionLimit({.max_count = 300}, 100, 0, 10), 0);
  EXPECT_EQ(CompactionLimit({.max_age_ms = 1}, 100, 95, 10), 100);
}

}  // namespace
}  // namespace causeway::store::testing

namespace causeway::store::testing {
namespace {

TEST(ParseRetention, AgesCountsAndErrors) {
  auto days = ParseRetention("7d");
  ASSERT_TRUE(days.ok()) << days.status();
  EXPECT_EQ(days->max_age_ms, int64_t{7} * 24 * 3600 * 1000);
  EXPECT_EQ(days->max_count, 0);
  EXPECT_EQ(RetentionString(*days), "7d");
  EXPECT_EQ(ParseRetention("24h")->max_age_ms, int64_t{24} * 3600 * 1000);
  EXPECT_EQ(ParseRetention("30m")->max_age_ms, int64_t{30} * 60 * 1000);
  auto count = ParseRetention("100000");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->max_count, 100000);
  EXPECT_EQ(RetentionString(*count), "100000 changes");
  EXPECT_EQ(RetentionString(*ParseRetention("0")), "everything");
  for (const char* bad : {"", "7x", "-5", "d", "0d", "-1h", "10ms", "seven days"}) {
    auto parsed = ParseRetention(bad);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(parsed.status().message()),
                ::testing::HasSubstr(StrCat("\"", bad, "\"")));
  }
}

TEST(HistoryCompactor, CompactsOnItsOwnThreadWhenStarted) {
  StoreEnv env(Backend::kSqlite);
  auto store = env.Open();
  ASSERT_TRUE(store.ok()) << store.status();
  for (int64_t r = 1; r <= 30; ++r) {
    ASSERT_TRUE(
        (*store)->Commit(r - 1, {Create(r, MakeObject("z", "o" + std::to_string(r), r, ""))}).ok());
  }
  HistoryCompactor compactor(store->get(), &RealTime::Instance(), {.max_count = 10},
                             std::chrono::hours(1));
  EXPECT_TRUE(::causeway::testing::WaitFor(
      [&] { return (*store)->CompactedRevision().value_or(0) == 20; }));
  // Another wake finds nothing to do.
  auto removed = compactor.RunOnce();
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 0);
}

}  // namespace
}  // namespace causeway::store::testing
