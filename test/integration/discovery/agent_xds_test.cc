// `causeway agent --xds`: the real hub, the real agent serving xDS from its
// copy of the zone, and the real causeway-proxy connected to the agent,
// routing to test origins. Instances change through the agent's file
// collector; the proxy follows, also while the hub is killed (-9), and hub
// edits reach it again once the hub is back, also when the hub comes back
// from a backup with an older history.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "hub_fixture.h"
#include "support/process.h"
#include "test_origin.h"

namespace causeway::discovery {
namespace {

using causeway::testing::Api;
using causeway::testing::BuiltBinary;
using causeway::testing::FreePort;
using causeway::testing::HubProcess;
using causeway::testing::Json;
using causeway::testing::Subprocess;
using causeway::testing::TempDir;
using causeway::testing::WaitFor;
using proxy::testing::TestOrigin;
using std::chrono::milliseconds;
using std::chrono::seconds;

class AgentXdsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(hub_.Start());
    admin_ = std::make_unique<Api>(hub_.url(), hub_.admin_token());
    ASSERT_EQ(admin_->Post("/v1/zones", Json{{"name", "staging"}}).status, 201);
    agent_token_ = causeway::testing::CreateToken(*admin_, "staging-agent", "agent", "staging");
    listen_port_ = FreePort();
    domain_ = "app.test:" + std::to_string(listen_port_);
    path_ = dir_.File("clusters.yaml");
  }

  void TearDown() override {
    if (!HasFailure()) return;
    if (agent_) std::cerr << "--- agent log ---\n" << agent_->Log();
    if (proxy_) std::cerr << "--- proxy log ---\n" << proxy_->Log();
    std::cerr << "--- hub log ---\n" << hub_.Log();
  }

  // Cluster "app" pointing at `origin`, cluster "other" at `other`.
  void WriteClusters(const TestOrigin& app, const TestOrigin& other) {
    const std::string tmp = dir_.File(".clusters.tmp");
    std::ofstream(tmp, std::ios::trunc)
        << "- cluster: app\n  instances: [{host: 127.0.0.1, port: " << app.port() << "}]\n"
        << "- cluster: other\n  instances: [{host: 127.0.0.1, port: " << other.port() << "}]\n";
    std::rename(tmp.c_str(), path_.c_str());
  }

  // The agent with the file collector and --xds; returns its xDS port.
  int StartAgent() {
    const int agent_xds = FreePort();
    agent_ = std::make_unique<Subprocess>(Subprocess::Options{
        .argv = {BuiltBinary("causeway"), "agent", "--hub", hub_.url(), "--token", agent_token_,
                 "--zone", "staging", "--collector", "file:" + path_, "--xds",
                 "127.0.0.1:" + std::to_string(agent_xds)},
        .log_path = dir_.File("agent.log")});
    return agent_xds;
  }

  bool ClustersOnHub() {
    return admin_->Get("/v1/zones/staging/clusters/app").status == 200 &&
           admin_->Get("/v1/zones/staging/clusters/other").status == 200;
  }

  // Domain, route group "main" sending everything to `cluster`, route, proxy.
  void RouteTo(const std::string& cluster) {
    ASSERT_EQ(
        admin_->Post("/v1/zones/staging/domains", {{"host", "app.test"}, {"port", listen_port_}})
            .status,
        201);
    ASSERT_EQ(admin_
                  ->Post("/v1/zones/staging/route-groups",
                         {{"name", "main"}, {"default", {{{"cluster", cluster}, {"weight", 1}}}}})
                  .status,
              201);
    ASSERT_EQ(
        admin_
            ->Post("/v1/zones/staging/routes",
                   {{"name", "root"}, {"domain", domain_}, {"path", "/"}, {"route_group", "main"}})
            .status,
        201);
    ASSERT_EQ(
        admin_->Post("/v1/zones/staging/proxies", {{"name", "edge"}, {"domains", {domain_}}})
            .status,
        201);
  }

  void StartProxy(int xds_port) {
    proxy_ = std::make_unique<Subprocess>(Subprocess::Options{
        .argv = {BuiltBinary("causeway-proxy"), "--xds", "127.0.0.1:" + std::to_string(xds_port),
                 "--proxy", "edge", "--zone", "staging", "--node-id", "edge-1", "--admin",
                 "127.0.0.1:" + std::to_string(FreePort()), "--listen-address", "127.0.0.1",
                 "--access-log", "off"},
        .log_path = dir_.File("proxy.log")});
  }

  // Cluster "app" at `app` and "other" at `other` through the agent's file
  // collector, every request routed to "app", the proxy on the agent's xDS;
  // returns once the proxy answers from `app`.
  void RouteThroughAgent(const TestOrigin& app, const TestOrigin& other) {
    WriteClusters(app, other);
    const int agent_xds = StartAgent();
    // The clusters reach the hub; routes to them can be made now.
    ASSERT_TRUE(WaitFor([&] { return ClustersOnHub(); }));
    ASSERT_NO_FATAL_FAILURE(RouteTo("app"));
    StartProxy(agent_xds);
    // The hub's objects reached the agent's copy and the proxy over the agent.
    ASSERT_TRUE(WaitFor([&] { return Origin() == app.name(); }, seconds(30)));
  }

  std::string Origin() {
    auto r = proxy::testing::Request(
        listen_port_, "GET /x HTTP/1.1\r\nHost: " + domain_ + "\r\nConnection: close\r\n\r\n");
    return r.status == 200 ? r.Header("x-origin") : "";
  }

  HubProcess hub_;
  TempDir dir_;
  std::unique_ptr<Api> admin_;
  std::string agent_token_;
  int listen_port_ = 0;
  std::string domain_;
  std::string path_;
  std::unique_ptr<Subprocess> agent_;
  std::unique_ptr<Subprocess> proxy_;
};

TEST_F(AgentXdsTest, ProxyFollowsTheCollectorsWithAndWithoutTheHub) {
  TestOrigin blue("blue"), green("green");
  ASSERT_NO_FATAL_FAILURE(RouteThroughAgent(blue, green));

  // An instance change through the collector.
  WriteClusters(green, blue);
  ASSERT_TRUE(WaitFor([&] { return Origin() == "green"; }, seconds(10)));

  // The hub dies; the collector's next change still reaches the proxy, from
  // the agent's copy, within a second.
  hub_.Kill();
  WriteClusters(blue, green);
  const auto changed = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor([&] { return Origin() == "blue"; }, seconds(10)));
  EXPECT_LT(std::chrono::steady_clock::now() - changed, seconds(1));
  ASSERT_TRUE(agent_->Running());

  // The hub is back: the agent's write lands there, and an edit on the hub
  // reaches the proxy again through the agent's resumed watch.
  ASSERT_NO_FATAL_FAILURE(hub_.Start());
  admin_ = std::make_unique<Api>(hub_.url(), hub_.admin_token());
  ASSERT_TRUE(WaitFor(
      [&] {
        auto c = admin_->Get("/v1/zones/staging/clusters/app");
        return c.status == 200 && c.body["instances"].size() == 1 &&
               c.body["instances"][0]["port"] == blue.port();
      },
      seconds(30)));
  auto group = admin_->Get("/v1/zones/staging/route-groups/main");
  ASSERT_EQ(group.status, 200);
  Json body = group.body;
  body["default"] = {{{"cluster", "other"}, {"weight", 1}}};
  ASSERT_EQ(admin_->Put("/v1/zones/staging/route-groups/main", body).status, 200);
  ASSERT_TRUE(WaitFor([&] { return Origin() == "green"; }, seconds(30)));

  const int status = agent_->Stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

// The hub comes back from a backup taken before the routes existed: its
// revisions restart below the agent's. The agent must notice (410 Gone on
// its watch) and load the zone again; following from its own revision would
// skip every change the restored hub makes until it passes that revision.
TEST_F(AgentXdsTest, HubRestoredFromAnOlderBackupIsLoadedAgain) {
  namespace fs = std::filesystem;
  ASSERT_EQ(hub_.Stop(), 0);
  const std::string backup = dir_.File("backup");
  fs::copy(hub_.data_dir(), backup, fs::copy_options::recursive);
  ASSERT_NO_FATAL_FAILURE(hub_.Start());

  TestOrigin blue("blue"), green("green");
  ASSERT_NO_FATAL_FAILURE(RouteThroughAgent(blue, green));

  // Restore: the zone and the tokens, nothing else, at an older revision.
  hub_.Kill();
  for (const auto& entry : fs::directory_iterator(hub_.data_dir())) fs::remove_all(entry.path());
  fs::copy(backup, hub_.data_dir(), fs::copy_options::recursive);
  ASSERT_NO_FATAL_FAILURE(hub_.Start());
  admin_ = std::make_unique<Api>(hub_.url(), hub_.admin_token());
  // Nothing writes to the restored hub until the agent has reconnected and
  // found it behind (a hub that passes the agent's revision first is not
  // told apart; see the watcher).
  ASSERT_TRUE(WaitFor([&] { return agent_->Log().find("its history was replaced") !=
                                   std::string::npos; },
                      seconds(30)));
  // A new collector event makes the agent write its clusters to the hub.
  WriteClusters(green, blue);
  ASSERT_TRUE(WaitFor([&] { return ClustersOnHub(); }, seconds(30)));
  // The restored hub routes to "other" (blue now); the agent's old copy said
  // "app" (green now).
  ASSERT_NO_FATAL_FAILURE(RouteTo("other"));
  ASSERT_TRUE(WaitFor([&] { return Origin() == "blue"; }, seconds(30)))
      << "last answer: " << Origin();
}

}  // namespace
}  // namespace causeway::discovery
