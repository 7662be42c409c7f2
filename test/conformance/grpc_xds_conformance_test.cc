// gRPC's built-in xDS client (target xds:///echo.svc:9000, bootstrap pointing
// at the hub's ADS server) makes RPCs to echo backends routed by causeway
// objects: 80/20 weights over 1,000 RPCs, a route target change, and an
// instance removal. And the same client through an agent's relay on
// loopback, which is how it reaches a hub that requires TLS and tokens: the
// bootstrap of Debian's gRPC (1.51) can carry neither a private CA nor a
// token.
#include <grpcpp/grpcpp.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/time_source.h"
#include "echo.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hub_fixture.h"
#include "model/objects.h"
#include "support/process.h"
#include "support/sqlite_catalog.h"
#include "support/test_certs.h"
#include "xds/server.h"

namespace causeway::conformance {
namespace {

// A backend that answers with its own name.
class Backend final : public Echo::Service {
 public:
  explicit Backend(std::string name) : name_(std::move(name)) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~Backend() override { server_->Shutdown(); }

  grpc::Status Call(grpc::ServerContext*, const EchoRequest* request, EchoReply* reply) override {
    reply->set_backend(name_);
    reply->set_message(request->message());
    return grpc::Status::OK;
  }
  int port() const { return port_; }

 private:
  std::string name_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

class GrpcXdsConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    xds::XdsServer::Options options;
    options.debounce = std::chrono::milliseconds(20);
    options.threads = 1;  // every stream on one completion queue
    server_ = std::make_unique<xds::XdsServer>(catalog_.get(), &RealTime::Instance(), options);
    const int port = ::causeway::testing::FreePort();
    ASSERT_TRUE(server_->Start("127.0.0.1:" + std::to_string(port)).ok());

    const std::string bootstrap = catalog_.dir().File("bootstrap.json");
    std::ofstream(bootstrap) << model::Json{
        {"xds_servers",
         {{{"server_uri", "127.0.0.1:" + std::to_string(port)},
           {"channel_creds", {{{"type", "insecure"}}}},
           {"server_features", {"xds_v3"}}}}},
        {"node",
         {{"id", "grpc-client-1"}, {"cluster", "grpc-client"}, {"locality", {{"zone", "z"}}}}},
    }.dump();
    // gRPC reads the bootstrap when the first xds: channel is created.
    setenv("GRPC_XDS_BOOTSTRAP", bootstrap.c_str(), 1);
  }

  void TearDown() override {
    if (server_) server_->Stop();
    catalog_->Close();
  }

  void Upsert(model::Kind kind, const std::string& name, const model::Json& body) {
    auto parsed = model::ParseObject(kind, body, kind == model::Kind::kZone ? "" : "z", name);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    catalog::Mutation m;
    m.type = catalog::Mutation::Type::kUpsert;
    m.key = parsed->key;
    m.spec = parsed->spec;
    auto result = catalog_->Write({m}, "test");
    ASSERT_TRUE(result.ok()) << result.status();
  }

  static model::Json Instances(const std::vector<const Backend*>& backends) {
    model::Json out = model::Json::array();
    for (const Backend* b : backends) out.push_back({{"host", "127.0.0.1"}, {"port", b->port()}});
    return out;
  }

  // Sends `n` RPCs; counts replies per backend name ("error" for failures).
  std::map<std::string, int> Send(Echo::Stub* stub, int n) {
    std::map<std::string, int> counts;
    for (int i = 0; i < n; ++i) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      context.set_wait_for_ready(true);
      EchoRequest request;
      request.set_message("hi");
      EchoReply reply;
      grpc::Status status = stub->Call(&context, request, &reply);
      counts[status.ok() ? reply.backend() : "error: " + status.error_message()]++;
    }
    return counts;
  }

  // Waits until a batch of RPCs all reach backends satisfying `accept`.
  bool Converges(Echo::Stub* stub, const std::function<bool(const std::string&)>& accept) {
    return ::causeway::testing::WaitFor(
        [&] {
          for (const auto& [backend, count] : Send(stub, 20)) {
            if (!accept(backend)) return false;
          }
          return true;
        },
        std::chrono::seconds(20));
  }

  ::causeway::testing::SqliteCatalog catalog_;
  std::unique_ptr<xds::XdsServer> server_;
};

TEST_F(GrpcXdsConformance, WeightsTargetChangeAndInstanceRemoval) {
  Backend a1("a1"), a2("a2"), b1("b1");
  Upsert(model::Kind::kZone, "z", model::Json::object());
  Upsert(model::Kind::kCluster, "alpha", {{"instances", Instances({&a1, &a2})}});
  Upsert(model::Kind::kCluster, "beta", {{"instances", Instances({&b1})}});
  Upsert(model::Kind::kDomain, "echo.svc:9000", {{"host", "echo.svc"}, {"port", 9000}});
  Upsert(model::Kind::kRouteGroup, "rg",
         {{"default",
           {{{"cluster", "alpha"}, {"weight", 80}}, {{"cluster", "beta"}, {"weight", 20}}}}});
  Upsert(model::Kind::kRoute, "echo",
         {{"domain", "echo.svc:9000"}, {"path", "/"}, {"route_group", "rg"}});

  auto channel = grpc::CreateChannel("xds:///echo.svc:9000", grpc::InsecureChannelCredentials());
  auto stub = Echo::NewStub(channel);

  // 80/20 over 1,000 RPCs (4 standard deviations of tolerance).
  auto counts = Send(stub.get(), 1000);
  RecordProperty("distribution", ::testing::PrintToString(counts));
  std::cout << "1000 RPCs: " << ::testing::PrintToString(counts) << "\n";
  const int alpha = counts["a1"] + counts["a2"];
  const int beta = counts["b1"];
  EXPECT_EQ(alpha + beta, 1000) << ::testing::PrintToString(counts);
  EXPECT_NEAR(alpha / 1000.0, 0.8, 0.05) << ::testing::PrintToString(counts);
  EXPECT_GT(counts["a1"], 0);  // round robin over both instances
  EXPECT_GT(counts["a2"], 0);

  // The route's target changes: RPCs follow it.
  Upsert(model::Kind::kRouteGroup, "rg", {{"default", {{{"cluster", "beta"}}}}});
  EXPECT_TRUE(Converges(stub.get(), [](const std::string& b) { return b == "b1"; }));

  // Back to alpha, then an instance is removed: traffic goes to the other.
  Upsert(model::Kind::kRouteGroup, "rg", {{"default", {{{"cluster", "alpha"}}}}});
  EXPECT_TRUE(Converges(stub.get(), [](const std::string& b) { return b == "a1" || b == "a2"; }));
  Upsert(model::Kind::kCluster, "alpha", {{"instances", Instances({&a1})}});
  EXPECT_TRUE(Converges(stub.get(), [](const std::string& b) { return b == "a1"; }));

  auto status = server_->ZoneStatus("z");
  ASSERT_EQ(status["proxies"].size(), 1u) << status.dump();
  EXPECT_EQ(status["proxies"][0]["node_id"], "grpc-client-1");
  EXPECT_TRUE(status["proxies"][0]["types"]["lds"]["last_nack"].is_null()) << status.dump();
  EXPECT_TRUE(status["proxies"][0]["types"]["cds"]["last_nack"].is_null()) << status.dump();
}

// Sends RPCs until a batch of 20 all reach backends `accept` takes.
bool Converges(Echo::Stub* stub, const std::function<bool(const std::string&)>& accept) {
  return ::causeway::testing::WaitFor(
      [&] {
        for (int i = 0; i < 20; ++i) {
          grpc::ClientContext context;
          context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
          context.set_wait_for_ready(true);
          EchoRequest request;
          EchoReply reply;
          if (!stub->Call(&context, request, &reply).ok() || !accept(reply.backend())) {
            return false;
          }
        }
        return true;
      },
      std::chrono::seconds(30));
}

// The hub with TLS and --xds-auth token; an agent on this host follows it
// over https (--ca) and relays its zone on 127.0.0.1 with --xds-auth none;
// gRPC's xDS client, with an insecure bootstrap and no token, routes through
// the relay and follows a change made on the hub.
TEST(GrpcXdsThroughRelay, ProxylessClientWithoutCaOrTokenUsesTheAgentsLoopbackRelay) {
  using ::causeway::testing::Api;
  using ::causeway::testing::BuiltBinary;
  using ::causeway::testing::FreePort;
  using ::causeway::testing::Subprocess;
  ::causeway::testing::TempDir dir;
  ::causeway::testing::TestCa ca(dir.path(), "hub");
  ASSERT_TRUE(ca.ok());
  auto cert = ca.Issue("hub", "hub");
  ::causeway::testing::HubProcess hub;
  hub.UseTls(ca.cert());
  ASSERT_NO_FATAL_FAILURE(
      hub.Start({"--xds-auth", "token", "--tls-cert", cert.cert, "--tls-key", cert.key}));
  Api admin(hub.url(), hub.admin_token(), ca.cert());
  ASSERT_EQ(admin.Post("/v1/zones", {{"name", "z"}}).status, 201);
  const std::string agent_token = ::causeway::testing::CreateToken(admin, "z-agent", "agent", "z");

  Backend a1("a1"), b1("b1");
  const std::string clusters = dir.File("clusters.yaml");
  std::ofstream(clusters) << "- cluster: alpha\n  instances: [{host: 127.0.0.1, port: " << a1.port()
                          << "}]\n"
                          << "- cluster: beta\n  instances: [{host: 127.0.0.1, port: " << b1.port()
                          << "}]\n";
  const std::vector<std::string> agent_args = {BuiltBinary("causeway"),
                                               "agent",
                                               "--hub",
                                               hub.url(),
                                               "--ca",
                                               ca.cert(),
                                               "--token",
                                               agent_token,
                                               "--zone",
                                               "z",
                                               "--collector",
                                               "file:" + clusters};

  // Off loopback the relay refuses to serve without authentication.
  auto exposed_args = agent_args;
  exposed_args.insert(exposed_args.end(),
                      {"--xds", "0.0.0.0:" + std::to_string(FreePort()), "--xds-auth", "none"});
  Subprocess exposed({.argv = exposed_args, .log_path = dir.File("exposed.log")});
  EXPECT_NE(exposed.Wait(std::chrono::seconds(10)), 0);
  EXPECT_THAT(exposed.Log(), ::testing::HasSubstr("--xds-auth none is refused on 0.0.0.0"));

  const int relay_port = FreePort();
  auto relay_args = agent_args;
  relay_args.insert(relay_args.end(), {"--xds", "127.0.0.1:" + std::to_string(relay_port),
                                       "--xds-auth", "none", "--name", "host-1"});
  Subprocess agent({.argv = relay_args, .log_path = dir.File("agent.log")});

  ASSERT_TRUE(::causeway::testing::WaitFor(
      [&] { return admin.Get("/v1/zones/z/clusters/beta").status == 200; },
      std::chrono::seconds(20)))
      << agent.Log();
  ASSERT_EQ(admin.Post("/v1/zones/z/domains", {{"host", "echo.svc"}, {"port", 9000}}).status, 201);
  ASSERT_EQ(admin
                .Post("/v1/zones/z/route-groups",
                      {{"name", "rg"}, {"default", {{{"cluster", "alpha"}, {"weight", 1}}}}})
                .status,
            201);
  ASSERT_EQ(
      admin
          .Post(
              "/v1/zones/z/routes",
              {{"name", "echo"}, {"domain", "echo.svc:9000"}, {"path", "/"}, {"route_group", "rg"}})
          .status,
      201);

  const std::string bootstrap = dir.File("bootstrap.json");
  std::ofstream(bootstrap) << model::Json{
      {"xds_servers",
       {{{"server_uri", "127.0.0.1:" + std::to_string(relay_port)},
         {"channel_creds", {{{"type", "insecure"}}}},
         {"server_features", {"xds_v3"}}}}},
      {"node",
       {{"id", "grpc-client-1"}, {"cluster", "grpc-client"}, {"locality", {{"zone", "z"}}}}},
  }.dump();
  setenv("GRPC_XDS_BOOTSTRAP", bootstrap.c_str(), 1);
  auto channel = grpc::CreateChannel("xds:///echo.svc:9000", grpc::InsecureChannelCredentials());
  auto stub = Echo::NewStub(channel);
  EXPECT_TRUE(Converges(stub.get(), [](const std::string& b) { return b == "a1"; })) << agent.Log();

  // A change on the hub reaches the client through the relay.
  auto group = admin.Get("/v1/zones/z/route-groups/rg");
  ASSERT_EQ(group.status, 200);
  auto body = group.body;
  body["default"] = {{{"cluster", "beta"}, {"weight", 1}}};
  ASSERT_EQ(admin.Put("/v1/zones/z/route-groups/rg", body).status, 200);
  EXPECT_TRUE(Converges(stub.get(), [](const std::string& b) { return b == "b1"; })) << agent.Log();
  agent.Stop();
}

}  // namespace
}  // namespace causeway::conformance
