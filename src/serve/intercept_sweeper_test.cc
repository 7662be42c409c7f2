// The sweeper deletes intercepts whose lease has run out by the TimeSource's
// clock, as ordinary changes, and leaves live ones alone.
#include "serve/intercept_sweeper.h"

#include <gtest/gtest.h>

#include "support/sqlite_catalog.h"

namespace causeway::serve {
namespace {

using model::Json;
using model::Kind;
using model::ObjectKey;

catalog::Mutation CreateMutation(Kind kind, const Json& body) {
  auto parsed = model::ParseObject(kind, body, kind == Kind::kZone ? "" : "staging", "");
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return catalog::Mutation{catalog::Mutation::Type::kCreate, parsed->key, parsed->spec, {}};
}

class InterceptSweeperTest : public ::testing::Test {
 protected:
  InterceptSweeperTest() : catalog_(&time_) {
    std::vector<catalog::Mutation> m;
    m.push_back(CreateMutation(Kind::kZone, {{"name", "staging"}}));
    m.push_back(CreateMutation(Kind::kCluster, {{"name", "api"}}));
    EXPECT_TRUE(catalog_->Write(std::move(m), "test").ok());
  }

  int64_t NowMs() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(time_.Now().time_since_epoch())
        .count();
  }

  // An intercept whose lease runs out `in_ms` from now.
  void AddIntercept(const std::string& name, int64_t in_ms) {
    model::Intercept v{.name = name, .cluster = "api", .key = name, .lease_ms = 30000};
    v.owner = "dev";
    v.expires_at_ms = NowMs() + in_ms;
    Json body = model::ToSpec(v);
    body["name"] = name;
    std::vector<catalog::Mutation> m;
    m.push_back(CreateMutation(Kind::kIntercept, body));
    ASSERT_TRUE(catalog_->Write(std::move(m), "dev").ok());
  }

  bool Exists(const std::string& name) const {
    return catalog_->Get(ObjectKey{Kind::kIntercept, "staging", name}).has_value();
  }

  SimulatedTime time_;
  testing::SqliteCatalog catalog_;
};

TEST_F(InterceptSweeperTest, DeletesOnlyWhatHasExpired) {
  AddIntercept("soon", 1000);
  AddIntercept("later", 20000);
  InterceptSweeper sweeper(catalog_.get(), &time_);
  EXPECT_EQ(sweeper.SweepOnce(), 0);
  time_.Advance(std::chrono::milliseconds(999));
  EXPECT_EQ(sweeper.SweepOnce(), 0);
  EXPECT_TRUE(Exists("soon"));
  time_.Advance(std::chrono::milliseconds(1));
  EXPECT_EQ(sweeper.SweepOnce(), 1);
  EXPECT_FALSE(Exists("soon"));
  EXPECT_TRUE(Exists("later"));
  time_.Advance(std::chrono::seconds(20));
  EXPECT_EQ(sweeper.SweepOnce(), 1);
  EXPECT_FALSE(Exists("later"));
}

TEST_F(InterceptSweeperTest, TheDeleteIsInTheChangeLogUnderItsActor) {
  AddIntercept("gone", 1000);
  time_.Advance(std::chrono::seconds(2));
  InterceptSweeper sweeper(catalog_.get(), &time_);
  ASSERT_EQ(sweeper.SweepOnce(), 1);
  auto changes = catalog_.store()->ChangesSince(catalog_->Revision() - 1, 10, {});
  ASSERT_TRUE(changes.ok()) << changes.status();
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].key, (ObjectKey{Kind::kIntercept, "staging", "gone"}));
  EXPECT_EQ((*changes)[0].op, store::Op::kDelete);
  EXPECT_EQ((*changes)[0].actor, kLeaseExpiryActor);
}

}  // namespace
}  // namespace causeway::serve
