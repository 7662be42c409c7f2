// `causeway agent` given several hubs (`--hub URL1,URL2`, a repeated --hub,
// or CAUSEWAY_HUB with a comma list): two real `causeway serve` processes
// on one real PostgreSQL, the real agent with its file collector and --xds
// relay, and the real causeway-proxy on the relay routing to test origins.
// The agent's first hub is killed (-9): the relay keeps serving, the next
// change of the collector's file is written to the second hub, and the
// agent's zone watch follows the second hub's edits. A hub that is not
// there at all is passed over, and a bad list is refused naming the value.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "hub_fixture.h"
#include "support/postgres_server.h"
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
using std::chrono::seconds;

class AgentFailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string store = postgres_.CreateDatabase();
    // The first hub creates the schema and the admin token; the second
    // finds both in the database, so readiness is all it waits for.
    ASSERT_NO_FATAL_FAILURE(first_.Start({"--store", store}));
    second_.Launch({"--store", store});
    ASSERT_TRUE(WaitFor(
        [&] {
          auto client = HttpClient::Create(second_.url(), HttpClient::Options{seconds(2)});
          if (!client.ok()) return false;
          auto res = (*client)->Send("GET", "/readyz");
          return res.ok() && res->status == 200;
        },
        seconds(30)))
        << "the second hub did not become ready:\n"
        << second_.Log();
    admin1_ = std::make_unique<Api>(first_.url(), first_.admin_token());
    admin2_ = std::make_unique<Api>(second_.url(), first_.admin_token());
    ASSERT_EQ(admin1_->Post("/v1/zones", Json{{"name", "staging"}}).status, 201);
    agent_token_ = causeway::testing::CreateToken(*admin1_, "staging-agent", "agent", "staging");
    listen_port_ = FreePort();
    domain_ = "app.test:" + std::to_string(listen_port_);
  }

  void TearDown() override {
    if (!HasFailure()) return;
    for (const auto& [name, agent] : agents_) {
      std::cerr << "--- agent " << name << " log ---\n" << agent->Log();
    }
    if (proxy_) std::cerr << "--- proxy log ---\n" << proxy_->Log();
    std::cerr << "--- first hub log ---\n" << first_.Log();
    std::cerr << "--- second hub log ---\n" << second_.Log();
  }

  // The file `name`.yaml with cluster "app" at `app` and "other" at `other`.
  std::string WriteFailoverClusters(const std::string& name, const TestOrigin& app,
                                    const TestOrigin& other) {
    const std::string path = dir_.File(name + ".yaml");
    const std::string tmp = dir_.File("." + name + ".tmp");
    std::ofstream(tmp, std::ios::trunc)
        << "- cluster: app\n  instances: [{host: 127.0.0.1, port: " << app.port() << "}]\n"
        << "- cluster: other\n  instances: [{host: 127.0.0.1, port: " << other.port() << "}]\n";
    std::rename(tmp.c_str(), path.c_str());
    return path;
  }

  // Starts agent `name` of zone staging with `args` after the token and zone,
  // and `env` added to its environment.
  Subprocess& StartFailoverAgent(const std::string& name, const std::vector<std::string>& args,
                                 const std::map<std::string, std::string>& env = {}) {
    std::vector<std::string> argv = {
        BuiltBinary("causeway"), "agent", "--token", agent_token_, "--zone", "staging"};
    argv.insert(argv.end(), args.begin(), args.end());
    agents_[name] = std::make_unique<Subprocess>(
        Subprocess::Options{.argv = argv, .env = env, .log_path = dir_.File(name + ".log")});
    return *agents_[name];
  }

  // The port of cluster `name`'s only instance on the hub `api` reads, or 0.
  static int InstancePort(Api& api, const std::string& name) {
    auto c = api.Get("/v1/zones/staging/clusters/" + name);
    if (c.status != 200 || c.body["instances"].size() != 1) return 0;
    return c.body["instances"][0]["port"].get<int>();
  }

  // Domain, route group "main" sending everything to `cluster`, route and
  // proxy "edge", written on the first hub.
  void RouteFailoverZoneTo(const std::string& cluster) {
    ASSERT_EQ(
        admin1_->Post("/v1/zones/staging/domains", {{"host", "app.test"}, {"port", listen_port_}})
            .status,
        201);
    ASSERT_EQ(admin1_
                  ->Post("/v1/zones/staging/route-groups",
                         {{"name", "main"}, {"default", {{{"cluster", cluster}, {"weight", 1}}}}})
                  .status,
              201);
    ASSERT_EQ(
        admin1_
            ->Post("/v1/zones/staging/routes",
                   {{"name", "root"}, {"domain", domain_}, {"path", "/"}, {"route_group", "main"}})
            .status,
        201);
    ASSERT_EQ(admin1_->Post("/v1/zones/staging/proxies", {{"name", "edge"}, {"domains", {domain_}}})
                  .status,
              201);
  }

  void StartFailoverProxy(int xds_port) {
    proxy_ = std::make_unique<Subprocess>(Subprocess::Options{
        .argv = {BuiltBinary("causeway-proxy"), "--xds", "127.0.0.1:" + std::to_string(xds_port),
                 "--proxy", "edge", "--zone", "staging", "--node-id", "edge-1", "--admin",
                 "127.0.0.1:" + std::to_string(FreePort()), "--listen-address", "127.0.0.1",
                 "--access-log", "off"},
        .log_path = dir_.File("proxy.log")});
  }

  // The x-origin of the proxy's answer, or "".
  std::string ProxiedOrigin() {
    auto r = proxy::testing::Request(
        listen_port_, "GET /x HTTP/1.1\r\nHost: " + domain_ + "\r\nConnection: close\r\n\r\n");
    return r.status == 200 ? r.Header("x-origin") : "";
  }

  // The agent's /metrics text, or "".
  static std::string AgentMetrics(int port) {
    auto client = HttpClient::Create("127.0.0.1:" + std::to_string(port));
    if (!client.ok()) return "";
    auto res = (*client)->Send("GET", "/metrics");
    return res.ok() && res->status == 200 ? res->body : "";
  }

  static bool Has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  }

  causeway::testing::PostgresServer postgres_;
  HubProcess first_, second_;
  TempDir dir_;
  std::unique_ptr<Api> admin1_, admin2_;
  std::string agent_token_;
  int listen_port_ = 0;
  std::string domain_;
  std::map<std::string, std::unique_ptr<Subprocess>> agents_;
  std::unique_ptr<Subprocess> proxy_;
};

TEST_F(AgentFailoverTest, FirstHubKilledTheAgentMovesToTheSecond) {
  TestOrigin blue("blue"), green("green");
  const std::string path = WriteFailoverClusters("clusters", blue, green);
  const int xds_port = FreePort(), metrics_port = FreePort();
  Subprocess& agent =
      StartFailoverAgent("relay", {"--hub", first_.url() + "," + second_.url(), "--collector",
                                   "file:" + path, "--xds", "127.0.0.1:" + std::to_string(xds_port),
                                   "--metrics", "127.0.0.1:" + std::to_string(metrics_port)});
  // Written through the first hub, read on the second: one store.
  ASSERT_TRUE(WaitFor([&] { return InstancePort(*admin2_, "app") == blue.port(); }, seconds(30)));
  ASSERT_NO_FATAL_FAILURE(RouteFailoverZoneTo("app"));
  StartFailoverProxy(xds_port);
  ASSERT_TRUE(WaitFor([&] { return ProxiedOrigin() == "blue"; }, seconds(30)));
  EXPECT_TRUE(Has(agent.Log(), "syncing to hub " + first_.url() + " (first of " + first_.url() +
                                   ", " + second_.url() + ")"))
      << agent.Log();
  EXPECT_TRUE(
      Has(AgentMetrics(metrics_port), "causeway_agent_hub_in_use{url=\"" + first_.url() + "\"} 1"));

  first_.Kill();
  const auto killed = std::chrono::steady_clock::now();
  // The relay keeps serving its copy and follows the collector meanwhile.
  WriteFailoverClusters("clusters", green, blue);
  ASSERT_TRUE(WaitFor([&] { return ProxiedOrigin() == "green"; }, seconds(10)));
  // The change reaches the second hub.
  ASSERT_TRUE(WaitFor([&] { return InstancePort(*admin2_, "app") == green.port(); }, seconds(30)));
  std::cout << "kill -9 of the agent's hub → its next discovery change written to the other: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - killed)
                   .count()
            << " ms\n";
  EXPECT_TRUE(Has(agent.Log(), "using hub " + second_.url() + " (2 of 2)")) << agent.Log();
  const std::string metrics = AgentMetrics(metrics_port);
  EXPECT_TRUE(Has(metrics, "causeway_agent_hub_in_use{url=\"" + second_.url() + "\"} 1"))
      << metrics;
  EXPECT_TRUE(Has(metrics, "causeway_agent_hub_in_use{url=\"" + first_.url() + "\"} 0")) << metrics;
  EXPECT_FALSE(Has(metrics, "causeway_agent_hub_moves_total 0")) << metrics;

  // The zone watch follows the second hub: an edit made there reaches the
  // proxy through the relay ("other" is blue now).
  auto group = admin2_->Get("/v1/zones/staging/route-groups/main");
  ASSERT_EQ(group.status, 200);
  Json body = group.body;
  body["default"] = {{{"cluster", "other"}, {"weight", 1}}};
  ASSERT_EQ(admin2_->Put("/v1/zones/staging/route-groups/main", body).status, 200);
  ASSERT_TRUE(WaitFor([&] { return ProxiedOrigin() == "blue"; }, seconds(30)));
  ASSERT_TRUE(WaitFor(
      [&] { return Has(AgentMetrics(metrics_port), "causeway_agent_hub_watch_connected 1"); },
      seconds(30)));

  const int status = agent.Stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

// A first hub where nothing listens is passed over, whether the list comes
// from CAUSEWAY_HUB or from --hub given twice.
TEST_F(AgentFailoverTest, HubThatIsNotThereIsPassedOverFromEnvOrRepeatedFlag) {
  TestOrigin blue("blue"), green("green");
  const std::string dead = "http://127.0.0.1:" + std::to_string(FreePort());
  const std::string from_env = WriteFailoverClusters("env", blue, green);
  const std::string from_flags = dir_.File("flags.yaml");
  std::ofstream(from_flags) << "- cluster: flagged\n  instances: [{host: 127.0.0.1, port: "
                            << green.port() << "}]\n";
  Subprocess& env_agent = StartFailoverAgent("env", {"--collector", "file:" + from_env},
                                             {{"CAUSEWAY_HUB", dead + "," + second_.url()}});
  Subprocess& flag_agent = StartFailoverAgent(
      "flags", {"--hub", dead, "--hub", first_.url(), "--collector", "file:" + from_flags});
  ASSERT_TRUE(WaitFor([&] { return InstancePort(*admin1_, "app") == blue.port(); }, seconds(30)));
  ASSERT_TRUE(
      WaitFor([&] { return InstancePort(*admin1_, "flagged") == green.port(); }, seconds(30)));
  EXPECT_TRUE(Has(env_agent.Log(), "hub " + dead + " failed")) << env_agent.Log();
  EXPECT_TRUE(Has(env_agent.Log(), "using hub " + second_.url() + " (2 of 2)")) << env_agent.Log();
  EXPECT_TRUE(Has(flag_agent.Log(), "using hub " + first_.url() + " (2 of 2)")) << flag_agent.Log();
}

TEST(AgentHubFlagTest, BadHubListIsRefusedNamingTheValue) {
  TempDir dir;
  const std::string path = dir.File("clusters.yaml");
  std::ofstream(path) << "[]\n";
  Subprocess agent(
      {.argv = {BuiltBinary("causeway"), "agent", "--hub", "http://127.0.0.1:1,ftp://hub.example",
                "--zone", "staging", "--collector", "file:" + path},
       .log_path = dir.File("agent.log")});
  const int status = agent.Wait(seconds(10));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << status << "\n" << agent.Log();
  EXPECT_THAT(agent.Log(), ::testing::HasSubstr(
                               "--hub: \"ftp://hub.example\" is not an http:// or https:// URL"));

  Subprocess help(
      {.argv = {BuiltBinary("causeway"), "agent", "--help"}, .log_path = dir.File("help.log")});
  EXPECT_EQ(help.Wait(seconds(10)), 0);
  EXPECT_THAT(help.Log(), ::testing::HasSubstr("URL1,URL2"));
}

}  // namespace
}  // namespace causeway::discovery
