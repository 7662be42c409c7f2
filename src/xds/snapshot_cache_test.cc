// Debouncing of snapshot rebuilds (docs/xds.md, rule 18), on an injected clock.
#include "xds/snapshot_cache.h"

#include <atomic>

#include "gtest/gtest.h"
#include "support/sqlite_catalog.h"

namespace causeway::xds {
namespace {

using std::chrono::milliseconds;

class SnapshotCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Write(model::Kind::kZone, "z", model::Json::object());
    cache_ = std::make_unique<SnapshotCache>(
        catalog_.get(), &clock_, SnapshotCache::Options{milliseconds(100), milliseconds(1000)},
        [this](const std::shared_ptr<const ZoneSnapshot>&) { published_++; });
    cache_->Start();
  }
  void TearDown() override {
    cache_->Stop();
    catalog_->Close();
  }

  void Write(model::Kind kind, const std::string& name, const model::Json& body) {
    auto parsed = model::ParseObject(kind, body, kind == model::Kind::kZone ? "" : "z", name);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    catalog::Mutation m{catalog::Mutation::Type::kUpsert, parsed->key, parsed->spec, std::nullopt};
    ASSERT_TRUE(catalog_->Write({m}, "test").ok());
  }
  void WriteInstance(int i) {
    Write(model::Kind::kCluster, "c",
          {{"instances", {{{"host", "10.0.0." + std::to_string(i)}, {"port", 80}}}}});
  }

  ManualTime clock_;
  ::causeway::testing::SqliteCatalog catalog_;
  std::unique_ptr<SnapshotCache> cache_;
  std::atomic<int> published_{0};
};

TEST_F(SnapshotCacheTest, BurstBecomesOneRebuildAfterQuiet) {
  auto first = cache_->Get("z");
  for (int i = 1; i <= 10; ++i) WriteInstance(i);
  // No time has passed on the cache's clock: nothing is rebuilt.
  EXPECT_FALSE(::causeway::testing::WaitFor([&] { return published_ > 0; }, milliseconds(100)));
  clock_.Advance(milliseconds(100));
  ASSERT_TRUE(::causeway::testing::WaitFor([&] { return published_ == 1; }));
  EXPECT_FALSE(::causeway::testing::WaitFor([&] { return published_ > 1; }, milliseconds(100)));
  auto latest = cache_->Get("z");
  EXPECT_GT(latest->sequence(), first->sequence());
  EXPECT_EQ(latest->revision(), catalog_->Revision());
}

TEST_F(SnapshotCacheTest, ChangeToAQuietZoneIsRebuiltAtOnceAndTheRestOfItsBurstAfterQuiet) {
  auto first = cache_->Get("z");
  clock_.Advance(milliseconds(100));  // the snapshot is now `quiet` old
  WriteInstance(1);
  // The leading edge: no time passes on the cache's clock, yet it rebuilds.
  ASSERT_TRUE(::causeway::testing::WaitFor([&] { return published_ == 1; }));
  for (int i = 2; i <= 10; ++i) WriteInstance(i);
  EXPECT_FALSE(::causeway::testing::WaitFor([&] { return published_ > 1; }, milliseconds(100)));
  clock_.Advance(milliseconds(100));
  ASSERT_TRUE(::causeway::testing::WaitFor([&] { return published_ == 2; }));
  EXPECT_EQ(cache_->Get("z")->revision(), catalog_->Revision());
  EXPECT_GT(cache_->Get("z")->sequence(), first->sequence());
}

TEST_F(SnapshotCacheTest, ConstantChurnRebuildsAtMaxDelay) {
  cache_->Get("z");
  // A change every 90 ms: never 100 ms of quiet.
  for (int i = 1; i <= 11; ++i) {
    WriteInstance(i);
    clock_.Advance(milliseconds(90));  // after the 11th: 990 ms since the first
  }
  EXPECT_FALSE(::causeway::testing::WaitFor([&] { return published_ > 0; }, milliseconds(100)));
  WriteInstance(12);
  clock_.Advance(milliseconds(90));  // 1080 ms since the first change: max delay
  ASSERT_TRUE(::causeway::testing::WaitFor([&] { return published_ >= 1; }));
}

TEST_F(SnapshotCacheTest, ZonesNobodyAskedForAreNotRebuilt) {
  WriteInstance(1);
  clock_.Advance(milliseconds(200));
  EXPECT_FALSE(::causeway::testing::WaitFor([&] { return published_ > 0; }, milliseconds(100)));
  EXPECT_EQ(cache_->Peek("z"), nullptr);
}

TEST_F(SnapshotCacheTest, MadeUpZonesAreDroppedOnceNoStreamHoldsThem) {
  // A client cycling through zone names that do not exist, each stream
  // closing before the next: the cache keeps no more than a sweep's worth.
  auto held = cache_->Get("later");  // a stream waiting for a zone to be made
  for (int i = 0; i < 100000; ++i) cache_->Get("made-up-" + std::to_string(i));
  EXPECT_LE(cache_->size(), 260u);
  EXPECT_EQ(cache_->Peek("later"), held);  // held by its stream: kept

  // When the zone is made, the waiting stream is sent its snapshot.
  const int before = published_;
  Write(model::Kind::kZone, "later", model::Json::object());
  clock_.Advance(milliseconds(200));  // past the debounce
  EXPECT_TRUE(::causeway::testing::WaitFor([&] { return published_ > before; }));
  EXPECT_NE(cache_->Peek("later"), held);
}

TEST(DerivedValuesTest, KeysBeyondTheBoundAreComputedButNotKept) {
  DerivedValues values;
  int computed = 0;
  auto make = [&] {
    ++computed;
    return std::make_shared<const int>(computed);
  };
  for (size_t i = 0; i < DerivedValues::kMaxValues + 1000; ++i) {
    values.Get("key-" + std::to_string(i), make);
  }
  EXPECT_EQ(values.size(), DerivedValues::kMaxValues);
  // A kept key still hits; one past the bound is computed again each time.
  const int before = computed;
  values.Get("key-0", make);
  EXPECT_EQ(computed, before);
  values.Get("key-" + std::to_string(DerivedValues::kMaxValues + 10), make);
  EXPECT_EQ(computed, before + 1);
}

}  // namespace
}  // namespace causeway::xds
