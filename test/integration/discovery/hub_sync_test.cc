// The sync and the agent against a real `causeway serve`: versioned writes,
// a concurrent edit answered with 409 and re-read, --delete-missing (and a
// referenced cluster emptied instead), and `causeway agent` following a file
// end to end.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>

#include "discovery/sync/rest_hub_api.h"
#include "discovery/sync/syncer.h"
#include "hub_fixture.h"
#include "support/process.h"

namespace causeway::discovery {
namespace {

using causeway::testing::Api;
using causeway::testing::HubProcess;
using causeway::testing::Json;
using causeway::testing::WaitFor;

Instances Hosts(std::initializer_list<std::string> hosts) {
  Instances out;
  for (const auto& h : hosts) out.push_back(model::Instance{h, 8080, {{"source", "test"}}});
  Normalize(out);
  return out;
}

class HubSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hub_.Start();
    admin_ = std::make_unique<Api>(hub_.url(), hub_.admin_token());
    ASSERT_EQ(admin_->Post("/v1/zones", Json{{"name", "staging"}}).status, 201);
    agent_token_ = causeway::testing::CreateToken(*admin_, "staging-agent", "agent", "staging");
  }

  // Host lists of the zone's clusters as the hub holds them.
  std::map<std::string, std::vector<std::string>> HubClusters() {
    auto result = admin_->Get("/v1/zones/staging/clusters");
    std::map<std::string, std::vector<std::string>> out;
    if (result.status != 200) return out;
    for (const Json& c : result.body["items"]) {
      auto& hosts = out[c["name"].get<std::string>()];
      for (const Json& i : c.value("instances", Json::array())) hosts.push_back(i["host"]);
      std::sort(hosts.begin(), hosts.end());
    }
    return out;
  }

  HubProcess hub_;
  std::unique_ptr<Api> admin_;
  std::string agent_token_;
};

TEST_F(HubSyncTest, WritesChangedClustersAndRetriesAConcurrentEdit) {
  RestHubApi api(hub_.url(), agent_token_, "staging");
  Syncer syncer(&api, SyncOptions{.zone = "staging"});
  syncer.SetDesired({{"users", Hosts({"10.0.0.1"})}, {"billing", Hosts({"10.0.1.1"})}},
                    std::chrono::steady_clock::now(), true);
  ASSERT_TRUE(syncer.SyncOnce().ok());
  EXPECT_EQ(HubClusters(), (std::map<std::string, std::vector<std::string>>{
                               {"users", {"10.0.0.1"}}, {"billing", {"10.0.1.1"}}}));
  const auto writes = syncer.metrics().values().puts;
  EXPECT_EQ(writes, 2u);

  // Unchanged: no write at all.
  syncer.SetDesired({{"users", Hosts({"10.0.0.1"})}, {"billing", Hosts({"10.0.1.1"})}},
                    std::chrono::steady_clock::now(), true);
  ASSERT_TRUE(syncer.SyncOnce().ok());
  EXPECT_EQ(syncer.metrics().values().puts, writes);

  // Someone edits "users" on the hub; the agent's next write carries the
  // version it read, gets 409, re-reads and only then writes.
  auto edit = admin_->Put("/v1/zones/staging/clusters/users/instances",
                          Json{{"instances", {{{"host", "10.9.9.9"}, {"port", 80}}}}});
  ASSERT_EQ(edit.status, 200) << edit.raw.body;
  syncer.SetDesired({{"users", Hosts({"10.0.0.2"})}, {"billing", Hosts({"10.0.1.1"})}},
                    std::chrono::steady_clock::now(), true);
  ASSERT_TRUE(syncer.SyncOnce().ok());
  EXPECT_EQ(syncer.metrics().values().conflicts, 1u);
  ASSERT_TRUE(syncer.SyncOnce().ok());
  EXPECT_EQ(HubClusters()["users"], std::vector<std::string>{"10.0.0.2"});
}

TEST_F(HubSyncTest, DeleteMissingRemovesVanishedAndEmptiesReferencedClusters) {
  // Cluster "web", which a route group refers to.
  ASSERT_EQ(admin_
                ->Post("/v1/zones/staging/clusters",
                       Json{{"name", "web"}, {"instances", {{{"host", "10.0.0.1"}, {"port", 80}}}}})
                .status,
            201);
  ASSERT_EQ(admin_
                ->Post("/v1/zones/staging/route-groups",
                       Json{{"name", "main"}, {"default", {{{"cluster", "web"}, {"weight", 1}}}}})
                .status,
            201);
  ASSERT_EQ(admin_
                ->Put("/v1/zones/staging/clusters/legacy/instances",
                      Json{{"instances", {{{"host", "10.7.7.7"}, {"port", 80}}}}})
                .status,
            200);
  RestHubApi api(hub_.url(), agent_token_, "staging");

  // Without --delete-missing nothing is removed.
  {
    Syncer keep(&api, SyncOptions{.zone = "staging"});
    keep.SetDesired({{"users", Hosts({"10.0.0.1"})}}, std::chrono::steady_clock::now(), true);
    ASSERT_TRUE(keep.SyncOnce().ok());
    auto clusters = HubClusters();
    EXPECT_TRUE(clusters.contains("legacy"));
    EXPECT_TRUE(clusters.contains("web"));
  }
  Syncer syncer(&api, SyncOptions{.zone = "staging", .delete_missing = true});
  syncer.SetDesired({{"users", Hosts({"10.0.0.1"})}}, std::chrono::steady_clock::now(), true);
  ASSERT_TRUE(syncer.SyncOnce().ok());
  auto clusters = HubClusters();
  EXPECT_FALSE(clusters.contains("legacy"));
  ASSERT_TRUE(clusters.contains("web"));  // routes still use it
  EXPECT_TRUE(clusters["web"].empty());
  EXPECT_EQ(clusters["users"], std::vector<std::string>{"10.0.0.1"});
}

TEST_F(HubSyncTest, AgentTokenCannotWriteAnotherZone) {
  ASSERT_EQ(admin_->Post("/v1/zones", Json{{"name", "prod"}}).status, 201);
  RestHubApi api(hub_.url(), agent_token_, "prod");
  auto put = api.PutInstances("users", Hosts({"10.0.0.1"}), "");
  ASSERT_FALSE(put.ok());
  EXPECT_TRUE(absl::IsPermissionDenied(put.status()) || absl::IsNotFound(put.status()))
      << put.status();
}

TEST_F(HubSyncTest, AgentFollowsAFileEndToEnd) {
  causeway::testing::TempDir dir;
  const std::string path = dir.File("clusters.yaml");
  auto write = [&](const std::string& text) {
    const std::string tmp = dir.File(".clusters.tmp");
    std::ofstream(tmp, std::ios::trunc) << text;
    std::rename(tmp.c_str(), path.c_str());
  };
  write("- cluster: envoy-simple\n  instances: [{host: 10.0.0.1, port: 8080}]\n");
  const int metrics_port = causeway::testing::FreePort();
  causeway::testing::Subprocess agent(
      {.argv = {causeway::testing::BuiltBinary("causeway"), "agent", "--hub", hub_.url(), "--token",
                agent_token_, "--zone", "staging", "--collector", "file:" + path, "--metrics",
                "127.0.0.1:" + std::to_string(metrics_port)},
       .log_path = dir.File("agent.log")});
  ASSERT_TRUE(WaitFor([&] {
    return HubClusters()["envoy-simple"] == std::vector<std::string>{"10.0.0.1"};
  })) << agent.Log();

  // The pod is "rescheduled": the file changes, the hub follows within a second.
  const auto changed = std::chrono::steady_clock::now();
  write("- cluster: envoy-simple\n  instances: [{host: 10.0.0.2, port: 8080}]\n");
  ASSERT_TRUE(WaitFor([&] {
    return HubClusters()["envoy-simple"] == std::vector<std::string>{"10.0.0.2"};
  })) << agent.Log();
  EXPECT_LT(std::chrono::steady_clock::now() - changed, std::chrono::seconds(1));
  EXPECT_NE(agent.Log().find("source to hub"), std::string::npos);

  // The agent's own endpoints: ready once in sync, and the latency histogram.
  auto metrics = HttpClient::Create("127.0.0.1:" + std::to_string(metrics_port));
  ASSERT_TRUE(metrics.ok());
  ASSERT_TRUE(WaitFor([&] {
    auto ready = (*metrics)->Send("GET", "/readyz");
    return ready.ok() && ready->status == 200;
  }));
  auto text = (*metrics)->Send("GET", "/metrics");
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->body.find("causeway_agent_source_to_hub_seconds_count 2"), std::string::npos)
      << text->body;

  const int status = agent.Stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << agent.Log();
}

}  // namespace
}  // namespace causeway::discovery
