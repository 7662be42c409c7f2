#include "catalog/catalog.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/status.h"
#include "support/sqlite_catalog.h"

namespace causeway::catalog {
namespace {

using model::Json;
using model::Kind;
using model::ObjectKey;

Mutation Make(Mutation::Type type, Kind kind, const std::string& zone, const char* body,
              std::optional<int64_t> version = std::nullopt) {
  auto parsed = model::ParseObject(kind, Json::parse(body), zone, "");
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return Mutation{type, parsed->key, parsed->spec, version};
}

class CatalogTest : public ::testing::Test {
 protected:
  absl::StatusOr<WriteResult> Write(std::vector<Mutation> m) {
    return catalog_->Write(std::move(m), "test");
  }

  // The seed's zone: dev-local with proxy dev-proxy → domain → route → group → cluster.
  void SeedZone() {
    auto r = Write({
        Make(Mutation::Type::kCreate, Kind::kZone, "", R"({"name":"dev-local"})"),
        Make(Mutation::Type::kCreate, Kind::kCluster, "dev-local", R"({"name":"envoy-simple"})"),
        Make(
            Mutation::Type::kCreate, Kind::kRoute, "dev-local",
            R"({"name":"api","domain":"demo.turbinelabs.io:8888","path":"/api","route_group":"default"})"),
        Make(Mutation::Type::kCreate, Kind::kRouteGroup, "dev-local",
             R"({"name":"default","default":[{"cluster":"envoy-simple"}]})"),
        Make(Mutation::Type::kCreate, Kind::kDomain, "dev-local",
             R"({"host":"demo.turbinelabs.io","port":8888})"),
        Make(Mutation::Type::kCreate, Kind::kProxy, "dev-local",
             R"({"name":"dev-proxy","domains":["demo.turbinelabs.io:8888"]})"),
    });
    ASSERT_TRUE(r.ok()) << r.status();
  }

  ManualTime time_;
  causeway::testing::SqliteCatalog catalog_{&time_};
};

TEST_F(CatalogTest, OneRequestMayReferToObjectsItCreatesLater) {
  SeedZone();
  EXPECT_EQ(catalog_->Revision(), 6);
  EXPECT_EQ(catalog_->List(Kind::kRoute, "dev-local").size(), 1u);
  EXPECT_EQ(catalog_->ZoneObjects("dev-local").size(), 6u);
  auto users = catalog_->Referrers(ObjectKey{Kind::kCluster, "dev-local", "envoy-simple"});
  ASSERT_EQ(users.size(), 1u);
  EXPECT_EQ(users[0].target.name, "default");
  EXPECT_EQ(users[0].field, "default[0].cluster");
}

TEST_F(CatalogTest, MissingReferenceNamesTheFieldAndWritesNothing) {
  SeedZone();
  auto r =
      Write({Make(Mutation::Type::kCreate, Kind::kRoute, "dev-local",
                  R"({"name":"web","domain":"demo.turbinelabs.io:8888","route_group":"nope"})")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorField(r.status()), "route_group");
  EXPECT_EQ(catalog_->Revision(), 6);
  auto stored = catalog_.store()->Revision();
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(*stored, 6);
}

TEST_F(CatalogTest, DeletingUsedObjectNamesReferrers) {
  SeedZone();
  auto r = Write(
      {Make(Mutation::Type::kDelete, Kind::kCluster, "dev-local", R"({"name":"envoy-simple"})")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("RouteGroup default"), std::string_view::npos) << r.status();
  EXPECT_TRUE(r.status().GetPayload(ToAbsl(kReferrersPayload)).has_value());
  auto zone = Write({Make(Mutation::Type::kDelete, Kind::kZone, "", R"({"name":"dev-local"})")});
  EXPECT_EQ(zone.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(zone.status().message().find("holds 5 objects"), std::string_view::npos)
      << zone.status();
}

TEST_F(CatalogTest, StaleVersionConflictsWithCurrentObject) {
  SeedZone();
  auto cluster = catalog_->Get(ObjectKey{Kind::kCluster, "dev-local", "envoy-simple"});
  ASSERT_TRUE(cluster.has_value());
  auto body = R"({"name":"envoy-simple","instances":[{"host":"10.0.0.1","port":80}]})";
  auto first =
      Write({Make(Mutation::Type::kReplace, Kind::kCluster, "dev-local", body, cluster->version)});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->results[0].outcome, Outcome::kUpdated);
  auto second = Write({Make(Mutation::Type::kReplace, Kind::kCluster, "dev-local",
                            R"({"name":"envoy-simple"})", cluster->version)});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  auto current = second.status().GetPayload(ToAbsl(kCurrentPayload));
  ASSERT_TRUE(current.has_value());
  EXPECT_EQ(Json::parse(std::string(*current))["version"], std::to_string(first->revision));
  auto missing = Write({Make(Mutation::Type::kReplace, Kind::kCluster, "dev-local", body)});
  EXPECT_EQ(ErrorField(missing.status()), "version");
}

TEST_F(CatalogTest, SetInstancesKeepsTheClusterPolicies) {
  SeedZone();
  auto cluster = catalog_->Get(ObjectKey{Kind::kCluster, "dev-local", "envoy-simple"});
  ASSERT_TRUE(cluster.has_value());
  auto policies = Write({Make(Mutation::Type::kReplace, Kind::kCluster, "dev-local",
                              R"({"name":"envoy-simple","outlier_detection":{},)"
                              R"("circuit_breakers":{"max_requests":2},)"
                              R"("health_check":{"path":"/healthz"}})",
                              cluster->version)});
  ASSERT_TRUE(policies.ok()) << policies.status();
  // What an agent's instance sync sends: the instances alone.
  auto sync =
      Write({Make(Mutation::Type::kSetInstances, Kind::kCluster, "dev-local",
                  R"({"name":"envoy-simple","instances":[{"host":"10.0.0.9","port":80}]})")});
  ASSERT_TRUE(sync.ok()) << sync.status();
  EXPECT_EQ(sync->results[0].outcome, Outcome::kUpdated);
  const Json& spec = sync->results[0].object->spec;
  EXPECT_EQ(spec["instances"][0]["host"], "10.0.0.9");
  EXPECT_EQ(spec["circuit_breakers"]["max_requests"], 2);
  EXPECT_EQ(spec["outlier_detection"]["consecutive_5xx"], 5);
  EXPECT_EQ(spec["health_check"]["path"], "/healthz");
  // The same list again changes nothing.
  auto again =
      Write({Make(Mutation::Type::kSetInstances, Kind::kCluster, "dev-local",
                  R"({"name":"envoy-simple","instances":[{"host":"10.0.0.9","port":80}]})")});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->results[0].outcome, Outcome::kUnchanged);
}

TEST_F(CatalogTest, ConcurrentReplacesWithOneVersionExactlyOneWins) {
  SeedZone();
  auto cluster = catalog_->Get(ObjectKey{Kind::kCluster, "dev-local", "envoy-simple"});
  std::atomic<int> ok{0}, conflict{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      std::string body = R"({"name":"envoy-simple","instances":[{"host":"10.0.0.)" +
                         std::to_string(i + 1) + R"(","port":80}]})";
      auto r = Write({Make(Mutation::Type::kReplace, Kind::kCluster, "dev-local", body.c_str(),
                           cluster->version)});
      if (r.ok()) ++ok;
      if (r.status().code() == absl::StatusCode::kFailedPrecondition) ++conflict;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(conflict.load(), 7);
}

TEST_F(CatalogTest, UpsertOfEqualSpecIsUnchangedAndMovesNoRevision) {
  SeedZone();
  auto again = Write(
      {Make(Mutation::Type::kUpsert, Kind::kCluster, "dev-local", R"({"name":"envoy-simple"})")});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->results[0].outcome, Outcome::kUnchanged);
  EXPECT_EQ(catalog_->Revision(), 6);
}

TEST_F(CatalogTest, FailedRequestInBatchDoesNotAffectOthersAndStateSurvivesReopen) {
  SeedZone();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 50; ++i) {
    threads.emplace_back([&, i] {
      std::string body = R"({"name":"c)" + std::to_string(i) + R"("})";
      // Every 5th request names a zone that does not exist and must fail alone.
      auto r = Write({Make(Mutation::Type::kCreate, Kind::kCluster, i % 5 ? "dev-local" : "ghost",
                           body.c_str())});
      if (r.ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 40);
  EXPECT_EQ(catalog_->Revision(), 46);
  catalog_->Close();
  Catalog reopened(catalog_.store(), &time_);
  ASSERT_TRUE(reopened.Open().ok());
  EXPECT_EQ(reopened.Revision(), 46);
  EXPECT_EQ(reopened.List(Kind::kCluster, "dev-local").size(), 41u);
  auto log = catalog_.store()->ChangesSince(0, 1000);
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->size(), 46u);
  for (size_t i = 0; i < log->size(); ++i)
    EXPECT_EQ((*log)[i].revision, static_cast<int64_t>(i + 1));
}

TEST_F(CatalogTest, SubscribersSeeEveryChangeInOrder) {
  std::vector<int64_t> seen;
  std::mutex mu;
  catalog_->Subscribe([&](const std::vector<store::Change>& changes) {
    std::lock_guard lock(mu);
    for (const auto& c : changes) seen.push_back(c.revision);
  });
  SeedZone();
  std::lock_guard lock(mu);
  ASSERT_EQ(seen.size(), 6u);
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], static_cast<int64_t>(i + 1));
}

TEST_F(CatalogTest, RefreshCatchesUpWithAnotherWriter) {
  SeedZone();
  // A second catalog on the same store plays the part of another hub.
  Catalog other(catalog_.store(), &time_);
  ASSERT_TRUE(other.Open().ok());
  auto w = other.Write(
      {Make(Mutation::Type::kCreate, Kind::kCluster, "dev-local", R"({"name":"extra"})")}, "b");
  ASSERT_TRUE(w.ok()) << w.status();
  // This catalog is now behind; its next write loses the race, catches up and succeeds.
  auto mine =
      Write({Make(Mutation::Type::kCreate, Kind::kCluster, "dev-local", R"({"name":"mine"})")});
  ASSERT_TRUE(mine.ok()) << mine.status();
  EXPECT_EQ(mine->revision, 8);
  EXPECT_TRUE(catalog_->Get(ObjectKey{Kind::kCluster, "dev-local", "extra"}).has_value());
}

TEST_F(CatalogTest, RefreshAfterTheLogWasCompactedReloadsAndPublishesTheDifference) {
  SeedZone();
  Catalog other(catalog_.store(), &time_);
  ASSERT_TRUE(other.Open().ok());
  std::mutex mu;
  std::vector<store::Change> seen;
  catalog_->Subscribe([&](const std::vector<store::Change>& changes) {
    std::lock_guard lock(mu);
    seen.insert(seen.end(), changes.begin(), changes.end());
  });
  // The other hub creates, updates and deletes while this one hears nothing.
  auto created = other.Write(
      {Make(Mutation::Type::kCreate, Kind::kCluster, "dev-local", R"({"name":"extra"})")}, "b");
  ASSERT_TRUE(created.ok()) << created.status();
  auto current = other.Get(ObjectKey{Kind::kCluster, "dev-local", "envoy-simple"});
  ASSERT_TRUE(current.has_value());
  auto replaced =
      other.Write({Make(Mutation::Type::kReplace, Kind::kCluster, "dev-local",
                        R"({"name":"envoy-simple","instances":[{"host":"10.0.0.1","port":80}]})",
                        current->version)},
                  "b");
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  auto deleted =
      other.Write({Make(Mutation::Type::kDelete, Kind::kProxy, "dev-local",
                        R"({"name":"dev-proxy","domains":["demo.turbinelabs.io:8888"]})")},
                  "b");
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  // Retention then drops every change this hub has not seen.
  auto pass = catalog_.store()->CompactChangelog({.max_count = 1}, 0, 1000);
  ASSERT_TRUE(pass.ok()) << pass.status();
  ASSERT_GT(pass->compacted_through, catalog_->Revision());

  ASSERT_TRUE(catalog_->Refresh().ok());
  EXPECT_EQ(catalog_->Revision(), other.Revision());
  EXPECT_TRUE(catalog_->Get(ObjectKey{Kind::kCluster, "dev-local", "extra"}).has_value());
  EXPECT_FALSE(catalog_->Get(ObjectKey{Kind::kProxy, "dev-local", "dev-proxy"}).has_value());
  auto cluster = catalog_->Get(ObjectKey{Kind::kCluster, "dev-local", "envoy-simple"});
  ASSERT_TRUE(cluster.has_value());
  EXPECT_EQ(cluster->spec["instances"].size(), 1u);
  std::vector<store::Change> published;
  {
    std::lock_guard lock(mu);
    published = seen;
  }
  ASSERT_EQ(published.size(), 3u);  // exactly what differs, nothing else
  std::map<std::string, store::Op> ops;
  for (const store::Change& c : published) {
    ops[c.key.name] = c.op;
    EXPECT_EQ(c.revision, other.Revision());
  }
  EXPECT_EQ(ops["extra"], store::Op::kCreate);
  EXPECT_EQ(ops["envoy-simple"], store::Op::kUpdate);
  EXPECT_EQ(ops["dev-proxy"], store::Op::kDelete);
  // And it writes again: the next write is not refused as behind.
  auto mine =
      Write({Make(Mutation::Type::kCreate, Kind::kCluster, "dev-local", R"({"name":"mine"})")});
  ASSERT_TRUE(mine.ok()) << mine.status();
}

}  // namespace
}  // namespace causeway::catalog
