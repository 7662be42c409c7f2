// `causeway agent --xds`: the real hub, the real agent serving xDS from its
// copy of the zone, and the real causeway-proxy connected to the agent,
// routing to test origins. Instances change through the agent's file
// collector; the proxy follows, also while the hub is killed (-9), and hub
// edits reach it again once the hub is back, also when the hub comes back
// from a backup with an older history. The proxies on the agent's xDS show
// in the hub's zone status, as the agent reports them.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "gmock/gmock.h"
#include "hub_fixture.h"
#include "support/process.h"
#include "support/test_certs.h"
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

  // The agent with the file collector and --xds (and `extra` arguments);
  // returns its xDS port.
  int StartAgent(const std::vector<std::string>& extra = {}) {
    const int agent_xds = FreePort();
    std::vector<std::string> argv = {BuiltBinary("causeway"),
                                     "agent",
                                     "--hub",
                                     hub_.url(),
                                     "--token",
                                     agent_token_,
                                     "--zone",
                                     "staging",
                                     "--collector",
                                     "file:" + path_,
                                     "--xds",
                                     "127.0.0.1:" + std::to_string(agent_xds)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    agent_ = std::make_unique<Subprocess>(
        Subprocess::Options{.argv = argv, .log_path = dir_.File("agent.log")});
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
    ASSERT_EQ(admin_->Post("/v1/zones/staging/proxies", {{"name", "edge"}, {"domains", {domain_}}})
                  .status,
              201);
  }

  // `extra`: more causeway-proxy arguments (e.g. --xds-ca).
  void StartProxy(int xds_port, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {BuiltBinary("causeway-proxy"),
                                     "--xds",
                                     "127.0.0.1:" + std::to_string(xds_port),
                                     "--proxy",
                                     "edge",
                                     "--zone",
                                     "staging",
                                     "--node-id",
                                     "edge-1",
                                     "--admin",
                                     "127.0.0.1:" + std::to_string(FreePort()),
                                     "--listen-address",
                                     "127.0.0.1",
                                     "--access-log",
                                     "off"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    proxy_ = std::make_unique<Subprocess>(
        Subprocess::Options{.argv = argv, .log_path = dir_.File("proxy.log")});
  }

  // Cluster "app" at `app` and "other" at `other` through the agent's file
  // collector, every request routed to "app", the proxy on the agent's xDS;
  // returns once the proxy answers from `app`.
  // `agent_args` are added to the agent's; its xDS port is kept in agent_xds_.
  void RouteThroughAgent(const TestOrigin& app, const TestOrigin& other,
                         const std::vector<std::string>& agent_args = {}) {
    WriteClusters(app, other);
    agent_xds_ = StartAgent(agent_args);
    // The clusters reach the hub; routes to them can be made now.
    ASSERT_TRUE(WaitFor([&] { return ClustersOnHub(); }));
    ASSERT_NO_FATAL_FAILURE(RouteTo("app"));
    StartProxy(agent_xds_);
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
  int agent_xds_ = 0;
  std::unique_ptr<Subprocess> agent_;
  std::unique_ptr<Subprocess> proxy_;
};

// The relay's own server options: TLS from PEM files (the proxy dials it
// trusting the relay's CA). Its --xds-auth token is in relay_auth_test.cc.
TEST_F(AgentXdsTest, RelayServesOverTlsOnly) {
  TestOrigin blue("blue"), green("green");
  WriteClusters(blue, green);
  causeway::testing::TestCa ca(dir_.path(), "relay");
  ASSERT_TRUE(ca.ok());
  auto cert = ca.Issue("relay", "relay");
  agent_xds_ = StartAgent({"--tls-cert", cert.cert, "--tls-key", cert.key});
  ASSERT_TRUE(WaitFor([&] { return ClustersOnHub(); }));
  ASSERT_NO_FATAL_FAILURE(RouteTo("app"));
  StartProxy(agent_xds_, {"--xds-ca", ca.cert()});
  EXPECT_TRUE(WaitFor([&] { return Origin() == "blue"; }, seconds(30)));
  // A client that does not speak TLS gets nothing from it.
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(agent_xds_),
                                     grpc::InsecureChannelCredentials());
  auto stub = envoy::service::discovery::v3::AggregatedDiscoveryService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + seconds(5));
  auto stream = stub->StreamAggregatedResources(&context);
  envoy::service::discovery::v3::DiscoveryRequest request;
  request.set_type_url("type.googleapis.com/envoy.config.cluster.v3.Cluster");
  request.mutable_node()->set_cluster("edge");
  request.mutable_node()->mutable_locality()->set_zone("staging");
  stream->Write(request);
  envoy::service::discovery::v3::DiscoveryResponse response;
  EXPECT_FALSE(stream->Read(&response)) << "a plaintext client was served";
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

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
  ASSERT_TRUE(
      WaitFor([&] { return agent_->Log().find("its history was replaced") != std::string::npos; },
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

// --- the relay's proxies in the hub's zone status ---------------------------

using envoy::service::discovery::v3::AggregatedDiscoveryService;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

constexpr char kCds[] = "type.googleapis.com/envoy.config.cluster.v3.Cluster";

// A bare ADS stream (state of the world) that asks for every cluster and
// answers the first response as the test says.
class RawAdsClient {
 public:
  RawAdsClient(int port, const std::string& node_id, const std::string& proxy,
               const std::string& zone)
      : stub_(AggregatedDiscoveryService::NewStub(grpc::CreateChannel(
            "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()))) {
    // Bounds every read: a silent server fails the test instead of hanging it.
    context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    stream_ = stub_->StreamAggregatedResources(&context_);
    DiscoveryRequest request;
    request.mutable_node()->set_id(node_id);
    request.mutable_node()->set_cluster(proxy);
    request.mutable_node()->mutable_locality()->set_zone(zone);
    request.set_type_url(kCds);
    stream_->Write(request);
  }
  ~RawAdsClient() {
    context_.TryCancel();
    stream_->Finish();
  }

  // Reads the first CDS response and rejects it with `message`.
  bool Nack(const std::string& message) {
    DiscoveryResponse response;
    if (!stream_->Read(&response)) return false;
    DiscoveryRequest nack;
    nack.set_type_url(kCds);
    nack.set_response_nonce(response.nonce());
    nack.mutable_error_detail()->set_code(3);  // INVALID_ARGUMENT
    nack.mutable_error_detail()->set_message(message);
    return stream_->Write(nack);
  }

 private:
  std::unique_ptr<AggregatedDiscoveryService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<DiscoveryRequest, DiscoveryResponse>> stream_;
};

class RelayedProxyStatusTest : public AgentXdsTest {
 protected:
  // The hub's status entries of streams relayed by an agent.
  Json Relayed() {
    auto r = admin_->Get("/v1/zones/staging/status");
    Json out = Json::array();
    if (r.status != 200 || !r.body.contains("proxies")) return out;
    for (const Json& p : r.body["proxies"]) {
      if (p.value("via", "") == "agent") out.push_back(p);
    }
    return out;
  }

  // The relayed entry of `node_id`, or null.
  Json RelayedNode(const std::string& node_id) {
    for (const Json& p : Relayed()) {
      if (p.value("node_id", "") == node_id) return p;
    }
    return nullptr;
  }

  // Every type the stream asked for was ACKed at the version it was sent.
  static bool AllAcked(const Json& p) {
    if (!p.is_object() || !p.contains("types") || p["types"].size() < 4) return false;
    for (const auto& [name, t] : p["types"].items()) {
      const std::string sent = t.value("version_sent", "");
      if (sent.empty() || sent != t.value("version_acked", "") || t.value("pending", true)) {
        return false;
      }
    }
    return true;
  }

  // `causeway status -z staging` as the admin; stdout and stderr.
  std::string CliStatus() {
    Subprocess cli(Subprocess::Options{
        .argv = {BuiltBinary("causeway"), "status", "-z", "staging", "--hub", hub_.url(), "--token",
                 hub_.admin_token()},
        .env = {{"HOME", dir_.path()}, {"XDG_CONFIG_HOME", ""}, {"CAUSEWAY_TOKEN", ""}},
        .log_path = dir_.File("cli.log")});
    cli.Wait();
    return cli.Log();
  }
};

TEST_F(RelayedProxyStatusTest, ProxiesOnTheAgentsXdsShowInTheHubsStatusUntilTheAgentGoes) {
  TestOrigin blue("blue"), green("green");
  ASSERT_NO_FATAL_FAILURE(
      RouteThroughAgent(blue, green, {"--name", "staging-relay", "--status-interval-ms", "500"}));

  // The proxy on the agent's xDS, with the agent's name and everything ACKed.
  ASSERT_TRUE(WaitFor([&] { return AllAcked(RelayedNode("edge-1")); }, seconds(10)))
      << admin_->Get("/v1/zones/staging/status").body.dump(2);
  Json status = admin_->Get("/v1/zones/staging/status").body;
  Json edge = RelayedNode("edge-1");
  EXPECT_EQ(edge["agent"], "staging-relay");
  EXPECT_EQ(edge["proxy"], "edge");
  EXPECT_EQ(edge["zone"], "staging");
  EXPECT_EQ(edge["registered"], true);
  EXPECT_FALSE(edge.value("connected_at", "").empty());
  EXPECT_FALSE(edge.value("reported_at", "").empty());
  EXPECT_TRUE(edge["types"]["lds"]["last_nack"].is_null());
  ASSERT_EQ(status["agents"].size(), 1u) << status.dump(2);
  EXPECT_EQ(status["agents"][0]["name"], "staging-relay");
  EXPECT_EQ(status["agents"][0]["interval_ms"], 500);
  for (const Json& p : status["proxies"])
    EXPECT_EQ(p["via"], "agent") << p.dump();  // none on the hub

  // `causeway status` lists it with the agent it is attached to.
  const std::string table = CliStatus();
  EXPECT_NE(table.find("VIA"), std::string::npos) << table;
  EXPECT_NE(table.find("edge-1"), std::string::npos) << table;
  EXPECT_NE(table.find("agent/staging-relay"), std::string::npos) << table;

  // A client of the agent rejects its clusters: the NACK reaches the hub.
  RawAdsClient nacker(agent_xds_, "nacker-1", "edge", "staging");
  ASSERT_TRUE(nacker.Nack("rejected by the test"));
  ASSERT_TRUE(WaitFor(
      [&] {
        Json p = RelayedNode("nacker-1");
        return p.is_object() && p["types"].contains("cds") &&
               p["types"]["cds"]["last_nack"].is_object() &&
               p["types"]["cds"]["last_nack"].value("message", "") == "rejected by the test";
      },
      seconds(10)))
      << admin_->Get("/v1/zones/staging/status").body.dump(2);
  EXPECT_EQ(RelayedNode("nacker-1")["agent"], "staging-relay");
  const std::string nacked = CliStatus();
  EXPECT_NE(nacked.find("cds: NACK rejected by the test"), std::string::npos) << nacked;

  // The agent dies without a word: its proxies leave the status once three
  // of its intervals (1.5 s) pass without a report.
  ASSERT_FALSE(Relayed().empty());
  agent_->Signal(SIGKILL);
  agent_->Wait();
  const auto killed = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor([&] { return Relayed().empty(); }, seconds(10)))
      << admin_->Get("/v1/zones/staging/status").body.dump(2);
  EXPECT_LT(std::chrono::steady_clock::now() - killed, seconds(5));
  EXPECT_TRUE(admin_->Get("/v1/zones/staging/status").body["agents"].empty());
}

TEST_F(RelayedProxyStatusTest, AnAgentThatStopsWithdrawsItsReportAtOnce) {
  TestOrigin blue("blue"), green("green");
  // An interval long enough that expiry (3 minutes) cannot be what removes it.
  ASSERT_NO_FATAL_FAILURE(
      RouteThroughAgent(blue, green, {"--name", "staging-relay", "--status-interval-ms", "60000"}));
  // Reported soon after the change, not a minute later.
  ASSERT_TRUE(WaitFor([&] { return AllAcked(RelayedNode("edge-1")); }, seconds(10)))
      << admin_->Get("/v1/zones/staging/status").body.dump(2);
  const int status = agent_->Stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_TRUE(Relayed().empty()) << admin_->Get("/v1/zones/staging/status").body.dump(2);
}

TEST_F(RelayedProxyStatusTest, ReportsAreCheckedAndLimitedToTheTokensZone) {
  ASSERT_EQ(admin_->Post("/v1/zones", Json{{"name", "production"}}).status, 201);
  Api agent(hub_.url(), agent_token_);
  const Json report = {
      {"interval_ms", 10000},
      {"proxies",
       {{{"node_id", "edge-9"},
         {"proxy", "edge"},
         {"types",
          {{"cds", {{"version_sent", "3"}, {"version_acked", "3"}, {"pending", false}}}}}}}}};

  // An agent token of zone staging cannot report into production.
  auto other = agent.Put("/v1/zones/production/agents/relay/proxies", report);
  EXPECT_EQ(other.status, 403) << other.raw.body;
  EXPECT_EQ(other.code(), "permission_denied");
  // Nor can a viewer, even of the right zone.
  Api viewer(hub_.url(), causeway::testing::CreateToken(*admin_, "v", "viewer", "staging"));
  EXPECT_EQ(viewer.Put("/v1/zones/staging/agents/relay/proxies", report).status, 403);
  // Bad reports are 400 naming the field; bad agent names too.
  Json bad = report;
  bad["proxies"][0].erase("node_id");
  auto invalid = agent.Put("/v1/zones/staging/agents/relay/proxies", bad);
  EXPECT_EQ(invalid.status, 400) << invalid.raw.body;
  EXPECT_EQ(invalid.field(), "proxies[0].node_id") << invalid.raw.body;
  EXPECT_EQ(agent.Put("/v1/zones/staging/agents/Relay_1/proxies", report).field(), "agent");
  EXPECT_EQ(
      agent.Put("/v1/zones/staging/agents/relay/proxies", Json{{"proxies", Json::array()}}).field(),
      "interval_ms");
  EXPECT_TRUE(Relayed().empty());

  // Its own zone: listed under the agent's name, then withdrawn.
  auto put = agent.Put("/v1/zones/staging/agents/relay/proxies", report);
  ASSERT_EQ(put.status, 200) << put.raw.body;
  EXPECT_EQ(put.body["streams"], 1);
  Json edge = RelayedNode("edge-9");
  ASSERT_TRUE(edge.is_object()) << admin_->Get("/v1/zones/staging/status").body.dump(2);
  EXPECT_EQ(edge["agent"], "relay");
  EXPECT_EQ(edge["types"]["cds"]["version_acked"], "3");
  // Production's status has none of it.
  EXPECT_TRUE(admin_->Get("/v1/zones/production/status").body["agents"].empty());
  EXPECT_EQ(agent.Delete("/v1/zones/production/agents/relay/proxies").status, 403);
  auto deleted = agent.Delete("/v1/zones/staging/agents/relay/proxies");
  EXPECT_EQ(deleted.status, 200) << deleted.raw.body;
  EXPECT_EQ(deleted.body["deleted"], true);
  EXPECT_TRUE(Relayed().empty());
}

}  // namespace
}  // namespace causeway::discovery
