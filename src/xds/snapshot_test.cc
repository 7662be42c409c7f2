// ZoneSnapshot::Read: a change that only moves existing clusters is
// translated alone, and the result is what a whole-zone build gives.
#include "xds/snapshot.h"

#include "gtest/gtest.h"
#include "support/sqlite_catalog.h"

namespace causeway::xds {
namespace {

class SnapshotReadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    source_ = std::make_unique<CatalogConfigSource>(catalog_.get());
    Upsert(model::Kind::kZone, "z", model::Json::object());
    for (const char* name : {"a", "b", "c"}) SetHosts(name, {"10.0.0.1"});
    Upsert(model::Kind::kDomain, "api.svc:80", {{"host", "api.svc"}, {"port", 80}});
    // "a" is also targeted by subset, so its Cluster carries subset selectors
    // that come from the routes, not from the cluster itself.
    Upsert(model::Kind::kRouteGroup, "rg",
           {{"default", {{{"cluster", "a"}, {"weight", 1}}}},
            {"rules",
             {{{"matches", {{{"kind", "header"}, {"key", "x-v"}, {"value", "2"}}}},
               {"targets", {{{"cluster", "a"}, {"metadata", {{"version", "v2"}}}}}}}}}});
    Upsert(model::Kind::kRouteGroup, "rg-b", {{"default", {{{"cluster", "b"}}}}});
    Upsert(model::Kind::kRoute, "r",
           {{"domain", "api.svc:80"}, {"path", "/"}, {"route_group", "rg"}});
    Upsert(model::Kind::kRoute, "r-b",
           {{"domain", "api.svc:80"}, {"path", "/b"}, {"route_group", "rg-b"}});
    Upsert(model::Kind::kProxy, "front", {{"domains", {"api.svc:80"}}});
  }

  void Upsert(model::Kind kind, const std::string& name, const model::Json& body) {
    auto parsed = model::ParseObject(kind, body, kind == model::Kind::kZone ? "" : "z", name);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    catalog::Mutation m{catalog::Mutation::Type::kUpsert, parsed->key, parsed->spec, std::nullopt};
    auto result = catalog_->Write({m}, "test");
    ASSERT_TRUE(result.ok()) << result.status();
  }
  void Delete(model::Kind kind, const std::string& name) {
    catalog::Mutation m{catalog::Mutation::Type::kDelete, {kind, "z", name}, {}, std::nullopt};
    auto result = catalog_->Write({m}, "test");
    ASSERT_TRUE(result.ok()) << result.status();
  }
  void SetHosts(const std::string& cluster, std::initializer_list<std::string> hosts) {
    model::Json instances = model::Json::array();
    for (const auto& host : hosts) {
      instances.push_back({{"host", host}, {"port", 8080}, {"metadata", {{"version", "v2"}}}});
    }
    Upsert(model::Kind::kCluster, cluster, {{"instances", instances}});
  }

  std::shared_ptr<const ZoneSnapshot> Next() {
    last_ = ZoneSnapshot::Read("z", catalog_->Revision(), ++sequence_,
                               std::chrono::steady_clock::now(), *source_, last_.get());
    return last_;
  }
  // What a whole-zone build of the same objects gives.
  std::shared_ptr<const ZoneSnapshot> Whole() {
    return ZoneSnapshot::Build("z", catalog_->Revision(), 0, std::chrono::steady_clock::now(),
                               catalog_->ZoneObjects("z"), nullptr);
  }

  static std::map<std::string, std::string> Versions(const ResourceMap& map) {
    std::map<std::string, std::string> out;
    for (const auto& [name, resource] : map) out[name] = resource->version;
    return out;
  }
  static void ExpectSameContent(const ZoneSnapshot& got, const ZoneSnapshot& want) {
    EXPECT_EQ(Versions(got.clusters()), Versions(want.clusters()));
    EXPECT_EQ(Versions(got.endpoints()), Versions(want.endpoints()));
    ASSERT_EQ(got.proxies().size(), want.proxies().size());
    for (const auto& [name, entry] : want.proxies()) {
      const auto* other = got.FindProxy(name);
      ASSERT_NE(other, nullptr) << name;
      EXPECT_EQ(Versions(other->listeners), Versions(entry.listeners));
      EXPECT_EQ(Versions(other->routes), Versions(entry.routes));
      EXPECT_EQ(other->clusters, entry.clusters);
    }
    EXPECT_EQ(got.errors(), want.errors());
  }

  ::causeway::testing::SqliteCatalog catalog_;
  std::unique_ptr<CatalogConfigSource> source_;
  std::shared_ptr<const ZoneSnapshot> last_;
  uint64_t sequence_ = 0;
};

TEST_F(SnapshotReadTest, MovedClustersAloneAreTranslated) {
  auto first = Next();
  EXPECT_EQ(first->clusters_translated(), 3u);
  ASSERT_TRUE(first->FindCluster("a"));
  EXPECT_TRUE(first->FindCluster("a")->any.value().find("version") != std::string::npos)
      << "cluster a carries the subset keys of its routes";

  SetHosts("a", {"10.0.0.1", "10.0.0.2"});
  auto second = Next();
  EXPECT_EQ(second->clusters_translated(), 1u);
  EXPECT_NE(second->FindEndpoints("a")->version, first->FindEndpoints("a")->version);
  // Everything else is the same shared resource.
  EXPECT_EQ(second->FindEndpoints("b"), first->FindEndpoints("b"));
  EXPECT_EQ(second->FindCluster("a"), first->FindCluster("a"));
  EXPECT_EQ(second->FindProxy("front")->routes.begin()->second,
            first->FindProxy("front")->routes.begin()->second);
  EXPECT_EQ(second->revision(), catalog_->Revision());
  ExpectSameContent(*second, *Whole());

  // Nothing moved: nothing translated, nothing changed.
  auto third = Next();
  EXPECT_EQ(third->clusters_translated(), 0u);
  EXPECT_EQ(third->FindEndpoints("a"), second->FindEndpoints("a"));
}

TEST_F(SnapshotReadTest, RoutingChangesAndClusterSetChangesRebuildTheZone) {
  Next();
  // A route now sends /b to "c": routes and the clusters each proxy uses move.
  Upsert(model::Kind::kRouteGroup, "rg-b", {{"default", {{{"cluster", "c"}}}}});
  auto rerouted = Next();
  EXPECT_EQ(rerouted->clusters_translated(), 3u);
  ExpectSameContent(*rerouted, *Whole());

  SetHosts("d", {"10.0.0.9"});  // created
  auto created = Next();
  EXPECT_EQ(created->clusters_translated(), 4u);
  ASSERT_TRUE(created->FindEndpoints("d"));
  ExpectSameContent(*created, *Whole());

  Delete(model::Kind::kCluster, "d");
  auto deleted = Next();
  EXPECT_EQ(deleted->clusters_translated(), 3u);
  EXPECT_FALSE(deleted->FindEndpoints("d"));
  ExpectSameContent(*deleted, *Whole());

  // Subset keys follow a route change even for a cluster whose own object
  // did not move: "a" loses its selectors when no rule targets a subset.
  Upsert(model::Kind::kRouteGroup, "rg", {{"default", {{{"cluster", "a"}}}}});
  auto plain = Next();
  EXPECT_NE(plain->FindCluster("a")->version, deleted->FindCluster("a")->version);
  ExpectSameContent(*plain, *Whole());

  SetHosts("b", {"10.0.0.3"});
  auto moved = Next();
  EXPECT_EQ(moved->clusters_translated(), 1u);
  ExpectSameContent(*moved, *Whole());
}

// Readers' derived values: computed once per key and snapshot, shared by
// every later reader, and not carried into a copy (the next snapshot).
TEST(DerivedValuesTest, ComputedOncePerKeyAndNotCopied) {
  DerivedValues values;
  int computed = 0;
  auto compute = [&computed] {
    ++computed;
    return std::shared_ptr<const void>(std::make_shared<const int>(computed));
  };
  auto first = values.Get("a", compute);
  auto again = values.Get("a", compute);
  EXPECT_EQ(computed, 1);
  EXPECT_EQ(first, again);
  auto other = values.Get("b", compute);
  EXPECT_EQ(computed, 2);
  EXPECT_NE(first, other);

  DerivedValues copy(values);
  auto in_copy = copy.Get("a", compute);
  EXPECT_EQ(computed, 3);
  EXPECT_EQ(*std::static_pointer_cast<const int>(in_copy), 3);
}

}  // namespace
}  // namespace causeway::xds
