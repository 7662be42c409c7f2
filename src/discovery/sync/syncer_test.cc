// The sync's diffing, conflict handling, deletion rules and coalescing,
// against an in-memory hub (the real hub is exercised by the integration
// tests in test/integration/discovery).
#include "discovery/sync/syncer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <future>
#include <mutex>

#include "common/strings.h"

namespace causeway::discovery {
namespace {

Instances Hosts(std::initializer_list<std::string> hosts) {
  Instances out;
  for (const auto& h : hosts) out.push_back(model::Instance{h, 80, {}});
  Normalize(out);
  return out;
}

class FakeHub final : public HubApi {
 public:
  absl::StatusOr<std::map<std::string, HubCluster>> ListClusters() override {
    std::lock_guard lock(mu_);
    if (failures_ > 0) {
      --failures_;
      return absl::UnavailableError("hub down");
    }
    ++lists;
    return clusters_;
  }
  absl::StatusOr<HubCluster> GetCluster(const std::string& name) override {
    std::lock_guard lock(mu_);
    auto it = clusters_.find(name);
    if (it == clusters_.end()) return absl::NotFoundError("no such cluster");
    return it->second;
  }
  absl::StatusOr<HubCluster> PutInstances(const std::string& name, const Instances& instances,
                                          const std::string& expected_version) override {
    std::function<void()> hook;
    {
      std::lock_guard lock(mu_);
      hook = std::move(before_write_);
      before_write_ = nullptr;
    }
    if (hook) hook();
    std::lock_guard lock(mu_);
    if (failures_ > 0) {
      --failures_;
      return absl::UnavailableError("hub down");
    }
    auto it = clusters_.find(name);
    if (!expected_version.empty() &&
        (it == clusters_.end() || it->second.version != expected_version)) {
      return absl::AbortedError("stale version");
    }
    ++puts;
    put_log.push_back(name);
    HubCluster& c = clusters_[name];
    c.instances = instances;
    c.version = std::to_string(++revision_);
    return c;
  }
  absl::Status DeleteCluster(const std::string& name,
                             const std::string& expected_version) override {
    std::lock_guard lock(mu_);
    auto it = clusters_.find(name);
    if (it == clusters_.end()) return absl::OkStatus();
    if (it->second.version != expected_version) return absl::AbortedError("stale version");
    if (referenced_.contains(name)) return absl::FailedPreconditionError("referenced by a route");
    ++deletes;
    clusters_.erase(it);
    return absl::OkStatus();
  }

  // Test controls.
  void Set(const std::string& name, Instances instances) {
    std::lock_guard lock(mu_);
    clusters_[name] = HubCluster{std::to_string(++revision_), std::move(instances)};
  }
  std::map<std::string, HubCluster> clusters() {
    std::lock_guard lock(mu_);
    return clusters_;
  }
  void BeforeNextWrite(std::function<void()> hook) {
    std::lock_guard lock(mu_);
    before_write_ = std::move(hook);
  }
  void FailNext(int n) {
    std::lock_guard lock(mu_);
    failures_ = n;
  }
  void Reference(const std::string& name) {
    std::lock_guard lock(mu_);
    referenced_.insert(name);
  }

  int lists = 0, puts = 0, deletes = 0;
  std::vector<std::string> put_log;

 private:
  std::mutex mu_;
  std::map<std::string, HubCluster> clusters_;
  std::set<std::string> referenced_;
  int revision_ = 0;
  int failures_ = 0;
  std::function<void()> before_write_;
};

const auto kNow = std::chrono::steady_clock::now;

// The syncer writes up to `parallelism` clusters at once, so the order of one
// sync's writes is not fixed: compared sorted.
std::vector<std::string> Sorted(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  return names;
}

TEST(SyncerTest, WritesOnlyChangedClustersWithTheirVersions) {
  FakeHub hub;
  hub.Set("same", Hosts({"10.0.0.1"}));
  hub.Set("changed", Hosts({"10.0.0.2"}));
  Syncer syncer(&hub, SyncOptions{.zone = "z"});
  syncer.SetDesired({{"same", Hosts({"10.0.0.1"})},
                     {"changed", Hosts({"10.0.0.3"})},
                     {"new", Hosts({"10.0.0.4"})}},
                    kNow(), true);
  ASSERT_TRUE(syncer.SyncOnce().ok());
  EXPECT_EQ(hub.puts, 2);
  EXPECT_EQ(Sorted(hub.put_log), (std::vector<std::string>{"changed", "new"}));
  EXPECT_EQ(hub.clusters().at("changed").instances, Hosts({"10.0.0.3"}));

  // Nothing changed: nothing written.
  syncer.SetDesired({{"same", Hosts({"10.0.0.1"})},
                     {"changed", Hosts({"10.0.0.3"})},
                     {"new", Hosts({"10.0.0.4"})}},
                    kNow(), true);
  ASSERT_TRUE(syncer.SyncOnce().ok());
  EXPECT_EQ(hub.puts, 2);
  EXPECT_EQ(syncer.metrics().values().puts, 2u);
}

// UpdateDesired reads only the named clusters of the set it is given (the
// collectors' merged set), so a cluster it is not told about stays as it was.
TEST(SyncerTest, UpdateDesiredTakesOnlyTheChangedNames) {
  FakeHub hub;
  Syncer syncer(&hub, SyncOptions{.zone = "z", .delete_missing = true});
  ClusterSet merged{{"a", Hosts({"10.0.0.1"})}, {"b", Hosts({"10.0.0.2"})}};
  syncer.UpdateDesired(merged, {"a", "b"}, kNow(), true);
  ASSERT_TRUE(syncer.SyncOnce().ok());
  EXPECT_EQ(Sorted(hub.put_log), (std::vector<std::string>{"a", "b"}));

  merged["a"] = Hosts({"10.0.0.9"});
  merged["b"] = Hosts({"10.0.0.8"});  // not named as changed: not read
  syncer.UpdateDesired(merged, {"a"}, kNow(), true);
  ASSERT_TRUE(syncer.SyncOnce().ok());
  ASSERT_EQ(hub.put_log.size(), 3u);
  EXPECT_EQ(hub.put_log.back(), "a");
  EXPECT_EQ(hub.clusters().at("a").instances, Hosts({"10.0.0.9"}));
  EXPECT_EQ(hub.clusters().at("b").instances, Hosts({"10.0.0.2"}));

  // A changed name missing from the set is a vanished cluster.
  merged.erase("a");
  syncer.UpdateDesired(merged, {"a"}, kNow(), true);
  ASSERT_TRUE(syncer.SyncOnce().ok());
  EXPECT_EQ(hub.clusters().count("a"), 0u);
  EXPECT_EQ(hub.clusters().count("b"), 1u);
}

TEST(SyncerTest, ConcurrentEditIsReReadNotOverwrittenBlindly) {
  FakeHub hub;
  hub.Set("c", Hosts({"10.0.0.1"}));
  Syncer syncer(&hub, SyncOptions{.zone = "z"});
  syncer.SetDesired({{"c", Hosts({"10.0.0.1"})}}, kNow(), true);
  ASSERT_TRUE(syncer.SyncOnce().ok());  // lists; in sync

  // Someone edits the cluster between the agent's read and its write.
  hub.BeforeNextWrite([&] { hub.Set("c", Hosts({"10.0.0.9"})); });
  syncer.SetDesired({{"c", Hosts({"10.0.0.2"})}}, kNow(), true);
  ASSERT_TRUE(syncer.SyncOnce().ok());  // stale version → re-read
  EXPECT_EQ(syncer.metrics().values().conflicts, 1u);
  EXPECT_EQ(hub.clusters().at("c").instances, Hosts({"10.0.0.9"}));
  ASSERT_TRUE(syncer.SyncOnce().ok());  // decides again from the re-read cluster
  EXPECT_EQ(hub.clusters().at("c").instances, Hosts({"10.0.0.2"}));

  // A concurrent edit that already made the cluster right needs no write.
  hub.BeforeNextWrite([&] { hub.Set("c", Hosts({"10.0.0.3"})); });
  syncer.SetDesired({{"c", Hosts({"10.0.0.3"})}}, kNow(), true);
  const int puts = hub.puts;
  ASSERT_TRUE(syncer.SyncOnce().ok());
  ASSERT_TRUE(syncer.SyncOnce().ok());
  EXPECT_EQ(hub.puts, puts);
  EXPECT_EQ(hub.clusters().at("c").instances, Hosts({"10.0.0.3"}));
}

TEST(SyncerTest, VanishedClustersKeptWithoutDeleteMissing) {
  FakeHub hub;
  hub.Set("manual", Hosts({"10.0.0.1"}));
  Syncer syncer(&hub, SyncOptions{.zone = "z"});
  syncer.SetDesired({{"a", Hosts({"10.0.0.2"})}}, kNow(), true);
  ASSERT_TRUE(syncer.SyncOnce().ok());
  syncer.SetDesired({}, kNow(), true);
  ASSERT_TRUE(syncer.SyncOnce().ok());
  EXPECT_EQ(hub.deletes, 0);
  EXPECT_EQ(hub.clusters().size(), 2u);
}

TEST(SyncerTest, DeleteMissingWaitsForEveryCollectorAndEmptiesReferencedClusters) {
  FakeHub hub;
  hub.Set("stale", Hosts({"10.0.0.1"}));
  hub.Set("routed", Hosts({"10.0.0.2"}));
  hub.Reference("routed");
  Syncer syncer(&hub, SyncOptions{.zone = "z", .delete_missing = true});
  // Not every collector has reported yet: nothing is deleted.
  syncer.SetDesired({{"a", Hosts({"10.0.0.3"})}}, kNow(), false);
  ASSERT_TRUE(syncer.SyncOnce().ok());
  EXPECT_EQ(hub.clusters().size(), 3u);

  syncer.SetDesired({{"a", Hosts({"10.0.0.3"})}}, kNow(), true);
  ASSERT_TRUE(syncer.SyncOnce().ok());
  auto clusters = hub.clusters();
  EXPECT_FALSE(clusters.contains("stale"));
  ASSERT_TRUE(clusters.contains("routed"));
  EXPECT_TRUE(clusters.at("routed").instances.empty());
  EXPECT_EQ(hub.deletes, 1);

  // The emptied cluster is not retried on every pass.
  const int puts = hub.puts;
  syncer.SetDesired({{"a", Hosts({"10.0.0.4"})}}, kNow(), true);
  ASSERT_TRUE(syncer.SyncOnce().ok());
  EXPECT_EQ(hub.puts, puts + 1);
}

TEST(SyncerTest, CoalescesChurnIntoFewWrites) {
  FakeHub hub;
  Syncer syncer(&hub, SyncOptions{.zone = "z",
                                  .debounce = std::chrono::milliseconds(20),
                                  .max_delay = std::chrono::milliseconds(200)});
  // The hub is slower than the source, as in life: the first write waits
  // until all 200 changes are in, however slowly this thread runs (a loaded
  // or sanitized build could otherwise let passes start between changes).
  std::promise<void> changes_in;
  std::shared_future<void> all_in = changes_in.get_future().share();
  hub.BeforeNextWrite([all_in] { all_in.wait(); });
  syncer.Start();
  for (int i = 0; i < 200; ++i) {
    syncer.SetDesired({{"x", Hosts({StrCat("10.0.0.", i % 250)})}, {"y", Hosts({"10.0.1.1"})}},
                      kNow(), true);
  }
  changes_in.set_value();
  ASSERT_TRUE(syncer.WaitInSync(std::chrono::seconds(10)));
  EXPECT_EQ(hub.clusters().at("x").instances, Hosts({"10.0.0.199"}));
  EXPECT_LE(hub.puts, 10);  // 200 changes, a handful of writes
  syncer.Stop();
}

TEST(SyncerTest, RetriesAfterHubErrors) {
  FakeHub hub;
  hub.FailNext(3);
  Syncer syncer(&hub, SyncOptions{.zone = "z"});
  syncer.Start();
  syncer.SetDesired({{"a", Hosts({"10.0.0.1"})}}, kNow(), true);
  ASSERT_TRUE(syncer.WaitInSync(std::chrono::seconds(10)));
  EXPECT_EQ(hub.clusters().at("a").instances, Hosts({"10.0.0.1"}));
  EXPECT_GE(syncer.metrics().values().errors, 1u);
  EXPECT_NE(
      syncer.metrics().RenderPrometheus().find("causeway_agent_source_to_hub_seconds_count 1"),
      std::string::npos);
  syncer.Stop();
}

TEST(SyncerTest, ParallelWritesOfManyClusters) {
  FakeHub hub;
  Syncer syncer(&hub, SyncOptions{.zone = "z", .parallelism = 4});
  ClusterSet set;
  for (int i = 0; i < 100; ++i) set[StrCat("c", i)] = Hosts({StrCat("10.1.0.", i)});
  syncer.SetDesired(set, kNow(), true);
  ASSERT_TRUE(syncer.SyncOnce().ok());
  EXPECT_EQ(hub.puts, 100);
  EXPECT_EQ(hub.clusters().size(), 100u);
}

}  // namespace
}  // namespace causeway::discovery
