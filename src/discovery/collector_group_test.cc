#include "discovery/collector_group.h"

#include <gtest/gtest.h>

namespace causeway::discovery {
namespace {

// A collector the test drives by hand.
class ManualCollector final : public Collector {
 public:
  std::string Describe() const override { return "manual"; }
  absl::Status Start(Callback on_change) override {
    on_change_ = std::move(on_change);
    return absl::OkStatus();
  }
  void Stop() override {}
  void Report(ClusterSet set) { on_change_(Snapshot{std::move(set), {}}); }

 private:
  Callback on_change_;
};

TEST(CollectorGroupTest, MergesAndReportsCompleteness) {
  auto a = std::make_unique<ManualCollector>();
  auto b = std::make_unique<ManualCollector>();
  ManualCollector* ra = a.get();
  ManualCollector* rb = b.get();
  CollectorGroup group;
  group.Add(std::move(a));
  group.Add(std::move(b));
  ClusterSet last;
  std::set<std::string> changed;
  bool complete = true;
  ASSERT_TRUE(group
                  .Start([&](const ClusterSet& set, const std::set<std::string>& moved,
                             std::chrono::steady_clock::time_point, bool c) {
                    last = set;
                    changed = moved;
                    complete = c;
                  })
                  .ok());
  using Names = std::set<std::string>;
  const model::Instance x{"10.0.0.1", 80, {}}, y{"10.0.0.2", 80, {}};
  ra->Report({{"shared", {x}}, {"only-a", {x}}});
  EXPECT_FALSE(complete);
  EXPECT_EQ(last.size(), 2u);
  EXPECT_EQ(changed, (Names{"only-a", "shared"}));
  rb->Report({{"shared", {y, x}}});
  EXPECT_TRUE(complete);
  EXPECT_EQ(last.at("shared"), (Instances{x, y}));  // union without duplicates
  EXPECT_EQ(changed, (Names{"shared"}));
  // b now reports what a already gives: the merged set does not move.
  rb->Report({{"shared", {x}}});
  EXPECT_EQ(changed, (Names{"shared"})) << "x, y -> x";
  rb->Report({{"shared", {x}}, {"only-a", {x}}});
  EXPECT_EQ(changed, Names{}) << "only-a already had x from a";
  EXPECT_EQ(last.at("only-a"), (Instances{x}));
  rb->Report({});
  EXPECT_EQ(changed, Names{});
  ra->Report({});
  EXPECT_TRUE(complete);
  EXPECT_TRUE(last.empty());
  EXPECT_EQ(changed, (Names{"only-a", "shared"}));
  // An empty cluster is still a cluster.
  ra->Report({{"empty", {}}});
  EXPECT_EQ(last.count("empty"), 1u);
  EXPECT_EQ(changed, (Names{"empty"}));
}

}  // namespace
}  // namespace causeway::discovery
