// `causeway agent --xds ADDR --xds-auth token` on the real binaries: the
// relay checks each stream's token on the hub (POST /v1/tokens/introspect
// with the agent's token) and keeps the answers for --xds-auth-cache-ms.
// A real causeway-proxy with its zone's proxy token gets its configuration
// through the relay and keeps it while the hub is killed; raw ADS streams
// from this test probe the refusals and the end of a revoked token's stream.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "gmock/gmock.h"
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
using envoy::service::discovery::v3::AggregatedDiscoveryService;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;
using proxy::testing::TestOrigin;
using std::chrono::seconds;

constexpr char kRelayAuthCds[] = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
// The relay's trust in a positive answer, short so that a revocation test
// need not wait the 30 s default.
constexpr int kRelayAuthCacheMs = 2000;

// One ADS stream (a channel of its own) as node `node_id` of proxy "edge"
// in `zone`, with `secret` as its bearer token ("" for none).
class RelayAuthProbe {
 public:
  RelayAuthProbe(int port, const std::string& secret, const std::string& node_id,
                 const std::string& zone = "staging") {
    grpc::ChannelArguments args;
    args.SetString("causeway.test.node", node_id);  // no shared connection
    stub_ = AggregatedDiscoveryService::NewStub(grpc::CreateCustomChannel(
        "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials(), args));
    // Bounds every read: a silent relay fails the test instead of hanging it.
    context_.set_deadline(std::chrono::system_clock::now() + seconds(90));
    if (!secret.empty()) context_.AddMetadata("authorization", "Bearer " + secret);
    stream_ = stub_->StreamAggregatedResources(&context_);
    DiscoveryRequest request;
    request.mutable_node()->set_id(node_id);
    request.mutable_node()->set_cluster("edge");
    request.mutable_node()->mutable_locality()->set_zone(zone);
    request.set_type_url(kRelayAuthCds);
    stream_->Write(request);
  }
  ~RelayAuthProbe() {
    if (!finished_) {
      context_.TryCancel();
      stream_->Finish();
    }
  }

  // Whether a first response came.
  bool Served() {
    DiscoveryResponse response;
    return stream_->Read(&response);
  }
  // Reads until the stream ends; its final status.
  grpc::Status Ended() {
    DiscoveryResponse response;
    while (stream_->Read(&response)) {
    }
    finished_ = true;
    return stream_->Finish();
  }

 private:
  std::unique_ptr<AggregatedDiscoveryService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<DiscoveryRequest, DiscoveryResponse>> stream_;
  bool finished_ = false;
};

class RelayTokenAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(hub_.Start());
    admin_ = std::make_unique<Api>(hub_.url(), hub_.admin_token());
    ASSERT_EQ(admin_->Post("/v1/zones", Json{{"name", "staging"}}).status, 201);
    ASSERT_EQ(admin_->Post("/v1/zones", Json{{"name", "production"}}).status, 201);
    agent_token_ = causeway::testing::CreateToken(*admin_, "staging-agent", "agent", "staging");
    proxy_token_ = causeway::testing::CreateToken(*admin_, "staging-edge", "proxy", "staging");
    listen_port_ = FreePort();
    domain_ = "app.test:" + std::to_string(listen_port_);
    clusters_path_ = dir_.File("clusters.yaml");
  }

  void TearDown() override {
    if (!HasFailure()) return;
    if (agent_) std::cerr << "--- agent log ---\n" << agent_->Log();
    if (proxy_) std::cerr << "--- proxy log ---\n" << proxy_->Log();
    std::cerr << "--- hub log ---\n" << hub_.Log();
  }

  void WriteClusters(const TestOrigin& app) {
    const std::string tmp = dir_.File(".clusters.tmp");
    std::ofstream(tmp, std::ios::trunc)
        << "- cluster: app\n  instances: [{host: 127.0.0.1, port: " << app.port() << "}]\n";
    std::rename(tmp.c_str(), clusters_path_.c_str());
  }

  std::vector<std::string> AgentArgv(const std::string& xds, const std::vector<std::string>& more) {
    std::vector<std::string> argv = {BuiltBinary("causeway"),
                                     "agent",
                                     "--hub",
                                     hub_.url(),
                                     "--token",
                                     agent_token_,
                                     "--zone",
                                     "staging",
                                     "--collector",
                                     "file:" + clusters_path_,
                                     "--xds",
                                     xds};
    argv.insert(argv.end(), more.begin(), more.end());
    return argv;
  }

  // The agent's relay on loopback with --xds-auth token.
  void StartRelay() {
    relay_port_ = FreePort();
    agent_ = std::make_unique<Subprocess>(Subprocess::Options{
        .argv = AgentArgv("127.0.0.1:" + std::to_string(relay_port_),
                          {"--xds-auth", "token", "--xds-auth-cache-ms",
                           std::to_string(kRelayAuthCacheMs), "--status-interval-ms", "500"}),
        .log_path = dir_.File("agent.log")});
  }

  // Domain, route group "main" → app, route and proxy "edge" in staging.
  void RouteToApp() {
    ASSERT_EQ(
        admin_->Post("/v1/zones/staging/domains", {{"host", "app.test"}, {"port", listen_port_}})
            .status,
        201);
    ASSERT_EQ(admin_
                  ->Post("/v1/zones/staging/route-groups",
                         {{"name", "main"}, {"default", {{{"cluster", "app"}, {"weight", 1}}}}})
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

  // causeway-proxy on the relay with the proxy token in its environment.
  void StartProxy() {
    proxy_ = std::make_unique<Subprocess>(Subprocess::Options{
        .argv = {BuiltBinary("causeway-proxy"), "--xds", "127.0.0.1:" + std::to_string(relay_port_),
                 "--proxy", "edge", "--zone", "staging", "--node-id", "edge-1", "--admin",
                 "127.0.0.1:" + std::to_string(FreePort()), "--listen-address", "127.0.0.1",
                 "--access-log", "off"},
        .env = {{"CAUSEWAY_XDS_TOKEN", proxy_token_}},
        .log_path = dir_.File("proxy.log")});
  }

  std::string Origin() {
    auto r = proxy::testing::Request(
        listen_port_, "GET /x HTTP/1.1\r\nHost: " + domain_ + "\r\nConnection: close\r\n\r\n");
    return r.status == 200 ? r.Header("x-origin") : "";
  }

  // The relay serving a causeway-proxy that routes to `app`.
  void ProxyThroughRelay(const TestOrigin& app) {
    WriteClusters(app);
    StartRelay();
    ASSERT_TRUE(
        WaitFor([&] { return admin_->Get("/v1/zones/staging/clusters/app").status == 200; }));
    ASSERT_NO_FATAL_FAILURE(RouteToApp());
    StartProxy();
    ASSERT_TRUE(WaitFor([&] { return Origin() == app.name(); }, seconds(30)));
  }

  HubProcess hub_;
  TempDir dir_;
  std::unique_ptr<Api> admin_;
  std::string agent_token_, proxy_token_;
  int listen_port_ = 0, relay_port_ = 0;
  std::string domain_, clusters_path_;
  std::unique_ptr<Subprocess> agent_, proxy_;
};

// Off loopback the relay checks tokens unless told otherwise, and `none`
// there is refused; the cache bound is checked.
TEST_F(RelayTokenAuthTest, TokenIsTheDefaultOffLoopbackAndNoneIsRefusedThere) {
  TestOrigin blue("blue");
  WriteClusters(blue);
  const std::string wildcard = "0.0.0.0:" + std::to_string(FreePort());
  Subprocess open_relay(
      {.argv = AgentArgv(wildcard, {"--xds-auth", "none"}), .log_path = dir_.File("none.log")});
  int status = open_relay.Wait(seconds(10));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << status;
  EXPECT_THAT(open_relay.Log(), ::testing::HasSubstr("--xds-auth"));
  Subprocess long_cache({.argv = AgentArgv(wildcard, {"--xds-auth-cache-ms", "60000"}),
                         .log_path = dir_.File("cache.log")});
  status = long_cache.Wait(seconds(10));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << status;
  EXPECT_THAT(long_cache.Log(), ::testing::HasSubstr("--xds-auth-cache-ms: 60000"));

  // Without the agent's own token it could ask the hub nothing.
  std::vector<std::string> tokenless = AgentArgv(wildcard, {});
  tokenless.erase(std::find(tokenless.begin(), tokenless.end(), "--token"),
                  std::find(tokenless.begin(), tokenless.end(), "--zone"));
  Subprocess no_token(
      {.argv = tokenless, .env = {{"CAUSEWAY_TOKEN", ""}}, .log_path = dir_.File("no-token.log")});
  status = no_token.Wait(seconds(10));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << status;
  EXPECT_THAT(no_token.Log(), ::testing::HasSubstr("--xds-auth token needs --token"));

  agent_ = std::make_unique<Subprocess>(
      Subprocess::Options{.argv = AgentArgv(wildcard, {}), .log_path = dir_.File("agent.log")});
  ASSERT_TRUE(WaitFor(
      [&] { return agent_->Log().find("tokens checked on the hub") != std::string::npos; }));
}

TEST_F(RelayTokenAuthTest, ProxyTokenOfTheZoneIsServedOthersAreRefused) {
  TestOrigin blue("blue");
  ASSERT_NO_FATAL_FAILURE(ProxyThroughRelay(blue));

  RelayAuthProbe with_token(relay_port_, proxy_token_, "probe-ok");
  EXPECT_TRUE(with_token.Served());

  RelayAuthProbe without(relay_port_, "", "probe-none");
  EXPECT_EQ(without.Ended().error_code(), grpc::StatusCode::UNAUTHENTICATED);

  // Another zone's proxy token: the hub tells an agent nothing about other
  // zones, so the relay cannot tell it from an unknown secret.
  const std::string production =
      causeway::testing::CreateToken(*admin_, "production-edge", "proxy", "production");
  RelayAuthProbe other_zone(relay_port_, production, "probe-production", "production");
  grpc::Status refused = other_zone.Ended();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAUTHENTICATED) << refused.error_message();

  // A valid token of the zone asking for another zone's node is denied.
  RelayAuthProbe wrong_node(relay_port_, proxy_token_, "probe-wrong", "production");
  EXPECT_EQ(wrong_node.Ended().error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(RelayTokenAuthTest, RevocationOnTheHubEndsTheRelayedStream) {
  TestOrigin blue("blue");
  ASSERT_NO_FATAL_FAILURE(ProxyThroughRelay(blue));
  const std::string doomed = causeway::testing::CreateToken(*admin_, "doomed", "proxy", "staging");
  RelayAuthProbe probe(relay_port_, doomed, "probe-doomed");
  ASSERT_TRUE(probe.Served());
  ASSERT_EQ(admin_->Delete("/v1/tokens/doomed").status, 200);
  const auto revoked = std::chrono::steady_clock::now();
  // Ends within the cache bound and a recheck period; the probe's own
  // 90 s deadline would end it with DEADLINE_EXCEEDED instead.
  grpc::Status ended = probe.Ended();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::UNAUTHENTICATED) << ended.error_message();
  std::cerr << "relayed stream ended "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - revoked)
                   .count()
            << " ms after the revocation (cache " << kRelayAuthCacheMs << " ms)\n";
  // The proxy's own token is untouched.
  EXPECT_EQ(Origin(), "blue");
}

TEST_F(RelayTokenAuthTest, HubKilledTheConnectedProxyKeepsItsStream) {
  TestOrigin blue("blue"), green("green");
  ASSERT_NO_FATAL_FAILURE(ProxyThroughRelay(blue));
  hub_.Kill();
  // The relay's answer about the proxy's token outlives its cache and the
  // recheck finds the hub gone: the stream stays.
  ASSERT_TRUE(
      WaitFor([&] { return agent_->Log().find("relay cannot check tokens") != std::string::npos; },
              seconds(30)));
  // Still on its stream: a collector change reaches it through the relay.
  WriteClusters(green);
  EXPECT_TRUE(WaitFor([&] { return Origin() == "green"; }, seconds(30)));
  // A token the relay never saw is refused, not let in.
  RelayAuthProbe unknown(relay_port_, "never-seen-secret", "probe-unknown");
  EXPECT_EQ(unknown.Ended().error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(agent_->Running());
  EXPECT_TRUE(proxy_->Running());
}

}  // namespace
}  // namespace causeway::discovery
