// The sync writing straight into a Catalog (collectors inside the hub).
#include "discovery/sync/catalog_hub_api.h"

#include <gtest/gtest.h>

#include <fstream>

#include "discovery/agent/agent.h"
#include "discovery/sync/syncer.h"
#include "support/sqlite_catalog.h"

namespace causeway::discovery {
namespace {

using catalog::Mutation;
using model::Json;
using model::Kind;

class CatalogHubApiTest : public ::testing::Test {
 protected:
  void SetUp() override { Write(Kind::kZone, "", R"({"name": "staging"})"); }

  void Write(Kind kind, const std::string& zone, const std::string& body,
             Mutation::Type type = Mutation::Type::kCreate) {
    auto parsed = model::ParseObject(kind, Json::parse(body), zone, "");
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    auto r = catalog_->Write({Mutation{type, parsed->key, parsed->spec, parsed->version}}, "test");
    ASSERT_TRUE(r.ok()) << r.status();
  }
  std::vector<std::string> Hosts(const std::string& cluster) {
    auto object = catalog_->Get({Kind::kCluster, "staging", cluster});
    std::vector<std::string> out;
    if (!object) return {"<missing>"};
    for (const Json& i : object->spec["instances"]) out.push_back(i["host"]);
    return out;
  }

  causeway::testing::SqliteCatalog catalog_;
};

Instances One(const std::string& host) { return {model::Instance{host, 80, {}}}; }

TEST_F(CatalogHubApiTest, SyncsConflictsAndDeletes) {
  Write(Kind::kCluster, "staging", R"({"name": "web", "instances": []})");
  Write(Kind::kRouteGroup, "staging", R"({"name": "main", "default": [{"cluster": "web"}]})");
  Write(Kind::kCluster, "staging", R"({"name": "legacy", "instances": []})");
  CatalogHubApi api(catalog_.get(), "staging");
  Syncer syncer(&api, SyncOptions{.zone = "staging", .delete_missing = true});

  syncer.SetDesired({{"users", One("10.0.0.1")}}, std::chrono::steady_clock::now(), true);
  ASSERT_TRUE(syncer.SyncOnce().ok());
  EXPECT_EQ(Hosts("users"), std::vector<std::string>{"10.0.0.1"});
  EXPECT_EQ(Hosts("legacy"), std::vector<std::string>{"<missing>"});  // deleted
  EXPECT_TRUE(Hosts("web").empty());                                  // referenced: kept, emptied

  // A stale version is ABORTED (a conflict), not a referrers error.
  auto current = api.GetCluster("users");
  ASSERT_TRUE(current.ok());
  ASSERT_TRUE(api.PutInstances("users", One("10.0.0.2"), current->version).ok());
  EXPECT_TRUE(
      absl::IsAborted(api.PutInstances("users", One("10.0.0.3"), current->version).status()));
  EXPECT_TRUE(absl::IsFailedPrecondition(api.DeleteCluster("web", api.GetCluster("web")->version)));
  EXPECT_TRUE(api.DeleteCluster("nonexistent", "1").ok());
}

// What `causeway serve --collector-zone staging --collector file:...` runs.
TEST_F(CatalogHubApiTest, InProcessAgentWritesIntoTheCatalog) {
  const std::string path = catalog_.dir().File("clusters.yaml");
  std::ofstream(path) << "- cluster: users\n  instances: [{host: 10.0.0.1, port: 80}]\n";
  AgentOptions options;
  options.collectors = {"file:" + path};
  options.sync.zone = "staging";
  auto agent = Agent::Create(options, std::make_unique<CatalogHubApi>(catalog_.get(), "staging"));
  ASSERT_TRUE(agent.ok()) << agent.status();
  ASSERT_TRUE((*agent)->Start().ok());
  EXPECT_TRUE(causeway::testing::WaitFor(
      [&] { return Hosts("users") == std::vector<std::string>{"10.0.0.1"}; }));
  std::ofstream(path, std::ios::trunc)
      << "- cluster: users\n  instances: [{host: 10.0.0.2, port: 80}]\n";
  EXPECT_TRUE(causeway::testing::WaitFor(
      [&] { return Hosts("users") == std::vector<std::string>{"10.0.0.2"}; }));
  (*agent)->Stop();
}

}  // namespace
}  // namespace causeway::discovery
