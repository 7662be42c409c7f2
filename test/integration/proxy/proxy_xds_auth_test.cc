// xDS with TLS and tokens on the real binaries: `causeway serve --tls-cert
// ... --xds-auth token`, causeway-proxy dialing it with a CA and a token
// file, raw ADS streams from this test (gRPC's client), certificates from
// the openssl command line, all on loopback ports chosen at run time.
#include <grpcpp/grpcpp.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hub_fixture.h"
#include "routed_zone.h"
#include "support/process.h"
#include "support/test_certs.h"

namespace causeway::proxy {
namespace {

using causeway::testing::Api;
using causeway::testing::CertFiles;
using causeway::testing::FreePort;
using causeway::testing::HubProcess;
using causeway::testing::Json;
using causeway::testing::ProxyProcess;
using causeway::testing::RoutedZone;
using causeway::testing::Subprocess;
using causeway::testing::TempDir;
using causeway::testing::TestCa;
using causeway::testing::WaitFor;
using envoy::service::discovery::v3::AggregatedDiscoveryService;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

constexpr char kZone[] = "shop";
constexpr char kProxy[] = "edge";
constexpr char kCds[] = "type.googleapis.com/envoy.config.cluster.v3.Cluster";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// What one raw ADS stream to the hub got: the status it ended with (OK
// when it was still open after its first response), how many responses,
// and the server certificate's common name.
struct Probe {
  grpc::Status status;
  int responses = 0;
  std::string peer_name;
};

class ProxyXdsAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ca_.ok()) << "openssl could not make a CA";
    server_ = ca_.Issue("hub", "hub-one");
    ASSERT_FALSE(server_.cert.empty());
    hub_.UseTls(ca_.cert());
    ASSERT_NO_FATAL_FAILURE(hub_.Start({"--xds-threads", "1", "--xds-auth", "token", "--tls-cert",
                                        server_.cert, "--tls-key", server_.key}));
    api_ = std::make_unique<Api>(hub_.url(), hub_.admin_token(), ca_.cert());
    zone_ = std::make_unique<RoutedZone>(api_.get(), kZone, FreePort());
    ASSERT_NO_FATAL_FAILURE(zone_->Seed());
    ASSERT_EQ(api_->Post("/v1/zones", {{"name", "other"}}).status, 201);
  }

  void TearDown() override {
    if (HasFailure()) {
      if (proxy_) std::cerr << "--- causeway-proxy log ---\n" << proxy_->Log();
      std::cerr << "--- hub log (xDS lines) ---\n";
      std::istringstream log(hub_.Log());
      for (std::string line; std::getline(log, line);) {
        if (line.find("xds") != std::string::npos) std::cerr << line << "\n";
      }
    }
  }

  std::string ZonePath(const std::string& rest) const { return zone_->Path(rest); }
  void PointMainAt(const std::string& cluster) { zone_->PointMainAt(cluster); }
  std::string Through() { return zone_->Through("/x"); }

  // causeway-proxy over TLS (trusting the test CA) with the token in
  // `token_file`, or, without one, from its environment (CAUSEWAY_XDS_TLS,
  // CAUSEWAY_XDS_CA, CAUSEWAY_XDS_TOKEN = `token`); waits until a request
  // through it reaches blue.
  void StartProxy(const std::string& token_file, const std::string& token = "") {
    const std::string xds = "127.0.0.1:" + std::to_string(hub_.xds_port());
    if (!token_file.empty()) {
      proxy_ = std::make_unique<ProxyProcess>(
          zone_.get(), xds,
          std::vector<std::string>{"--xds-ca", ca_.cert(), "--xds-token-file", token_file});
    } else {
      proxy_ = std::make_unique<ProxyProcess>(
          zone_.get(), xds, std::vector<std::string>{},
          std::map<std::string, std::string>{{"CAUSEWAY_XDS_TLS", "1"},
                                             {"CAUSEWAY_XDS_CA", ca_.cert()},
                                             {"CAUSEWAY_XDS_TOKEN", token}});
    }
    ASSERT_NO_FATAL_FAILURE(proxy_->Start("blue"));
  }

  Json Status() {
    Api::Result r = api_->Get(ZonePath("/status"));
    EXPECT_EQ(r.status, 200) << r.raw.body;
    return r.body;
  }

  // The names of the tokens of the proxies connected to the hub.
  std::vector<std::string> ConnectedTokens() {
    std::vector<std::string> out;
    Json status = Status();
    if (!status.contains("proxies")) return out;
    for (const auto& p : status["proxies"]) out.push_back(p.value("token", "(none)"));
    return out;
  }

  // One raw ADS stream (a channel of its own) as node `kProxy` of `zone`,
  // with `secret` ("" for none): reads until the first response or the end.
  Probe Open(const std::string& secret, const std::string& zone = kZone) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadAll(ca_.cert());
    grpc::ChannelArguments args;
    args.SetInt("causeway.test.probe", ++probes_);  // no shared connection
    auto channel = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(hub_.xds_port()),
                                             grpc::SslCredentials(ssl), args);
    auto stub = AggregatedDiscoveryService::NewStub(channel);
    grpc::ClientContext context;
    if (!secret.empty()) context.AddMetadata("authorization", "Bearer " + secret);
    context.set_deadline(std::chrono::system_clock::now() + seconds(10));
    auto stream = stub->StreamAggregatedResources(&context);
    DiscoveryRequest request;
    request.set_type_url(kCds);
    request.mutable_node()->set_id("probe");
    request.mutable_node()->set_cluster(kProxy);
    request.mutable_node()->mutable_locality()->set_zone(zone);
    Probe probe;
    stream->Write(request);
    DiscoveryResponse response;
    if (stream->Read(&response)) {
      ++probe.responses;
      for (const auto& v : context.auth_context()->FindPropertyValues("x509_common_name")) {
        probe.peer_name = std::string(v.data(), v.size());
      }
      context.TryCancel();
      stream->Finish();
      return probe;  // status OK: it was served
    }
    probe.status = stream->Finish();
    return probe;
  }

  double Stat(const std::string& name) {
    auto client = HttpClient::Create("127.0.0.1:" + std::to_string(proxy_->admin_port()),
                                     HttpClient::Options{seconds(5)});
    if (!client.ok()) return -1;
    auto res = (*client)->Send("GET", "/stats?format=json");
    if (!res.ok() || res->status != 200) return -1;
    Json stats = Json::parse(res->body, nullptr, false);
    return stats.is_object() && stats.contains(name) ? stats[name].get<double>() : -1;
  }

  TempDir dir_;
  TestCa ca_{dir_.path(), "hub"};
  CertFiles server_;
  HubProcess hub_;
  std::unique_ptr<Api> api_;
  std::unique_ptr<RoutedZone> zone_;
  std::unique_ptr<ProxyProcess> proxy_;
  int probes_ = 0;
};

TEST_F(ProxyXdsAuthTest, NoTokenIsUnauthenticatedAndATokenOfAnotherZoneIsPermissionDenied) {
  Probe none = Open("");
  EXPECT_EQ(none.status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << none.status.error_message();
  EXPECT_EQ(none.responses, 0);

  const std::string other = CreateToken(*api_, "other-proxy", "proxy", "other");
  Probe denied = Open(other);
  EXPECT_EQ(denied.status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << denied.status.error_message();
  EXPECT_THAT(denied.status.error_message(), HasSubstr("limited to zone \"other\""));
  EXPECT_EQ(denied.responses, 0);

  // A viewer token may read the zone over REST but not open xDS streams.
  const std::string viewer = CreateToken(*api_, "reader", "viewer", kZone);
  EXPECT_EQ(Open(viewer).status.error_code(), grpc::StatusCode::PERMISSION_DENIED);

  // The same node with a token of its zone is served.
  const std::string mine = CreateToken(*api_, "shop-proxy", "proxy", kZone);
  Probe served = Open(mine);
  EXPECT_TRUE(served.status.ok()) << served.status.error_message();
  EXPECT_EQ(served.responses, 1);
  EXPECT_EQ(served.peer_name, "hub-one");
}

// The proxy dials over TLS with a token file; the hub's status names the
// token. Revoking it ends the stream within a second, the proxy keeps
// serving its last configuration and says why; a new token written to the
// file is used on the next connection.
TEST_F(ProxyXdsAuthTest, RevokedTokenEndsTheStreamAndTheProxyKeepsServing) {
  const std::string token_file = dir_.File("xds.token");
  std::ofstream(token_file) << CreateToken(*api_, "edge-1", "proxy", kZone) << "\n";
  ASSERT_NO_FATAL_FAILURE(StartProxy(token_file));
  EXPECT_THAT(ConnectedTokens(), ::testing::ElementsAre("edge-1"));
  // `causeway status` shows it too (its TOKEN column).
  Subprocess cli({.argv = {causeway::testing::BuiltBinary("causeway"), "status", "--zone", kZone,
                           "--hub", hub_.url(), "--ca", ca_.cert(), "--token", hub_.admin_token()},
                  .log_path = dir_.File("status.out")});
  ASSERT_EQ(cli.Wait(), 0) << cli.Log();
  EXPECT_THAT(cli.Log(), HasSubstr("TOKEN")) << cli.Log();
  EXPECT_THAT(cli.Log(), HasSubstr("edge-1")) << cli.Log();

  const auto revoked_at = std::chrono::steady_clock::now();
  ASSERT_EQ(api_->Delete("/v1/tokens/edge-1").status, 200);
  ASSERT_TRUE(WaitFor([&] { return ConnectedTokens().empty(); }, seconds(5))) << Status().dump();
  const auto took = std::chrono::steady_clock::now() - revoked_at;
  EXPECT_LT(took, seconds(1)) << std::chrono::duration<double>(took).count() << " s";
  std::cout << "revocation to stream gone from the hub's status: "
            << std::chrono::duration<double, std::milli>(took).count() << " ms\n";

  // The proxy noticed (a refusal, not a broken connection), logged why and
  // still serves what it had.
  EXPECT_TRUE(WaitFor([&] { return Stat("xds_auth_refusals_total") >= 1; }, seconds(5)));
  EXPECT_TRUE(WaitFor(
      [&] { return proxy_->Log().find("refused this proxy's credentials") != std::string::npos; },
      seconds(5)))
      << proxy_->Log();
  EXPECT_EQ(Through(), "blue");

  // A change made while it is refused does not reach it...
  ASSERT_NO_FATAL_FAILURE(PointMainAt("green"));
  EXPECT_EQ(Through(), "blue");
  // ...until a valid token is in the file: the next attempt uses it.
  std::ofstream(token_file, std::ios::trunc) << CreateToken(*api_, "edge-2", "proxy", kZone);
  EXPECT_TRUE(
      WaitFor([&] { return ConnectedTokens() == std::vector<std::string>{"edge-2"}; }, seconds(20)))
      << Status().dump();
  EXPECT_TRUE(WaitFor([&] { return Through() == "green"; }, seconds(10)));
}

// A new token written to the token file while the old one is still valid
// is used at once: the proxy replaces its stream, and is never refused.
TEST_F(ProxyXdsAuthTest, RotatedTokenFileIsUsedAtOnceWithoutARefusal) {
  const std::string token_file = dir_.File("xds.token");
  std::ofstream(token_file) << CreateToken(*api_, "edge-1", "proxy", kZone);
  ASSERT_NO_FATAL_FAILURE(StartProxy(token_file));
  ASSERT_THAT(ConnectedTokens(), ::testing::ElementsAre("edge-1"));

  const std::string next = CreateToken(*api_, "edge-2", "proxy", kZone);
  const std::string tmp = dir_.File("xds.token.tmp");
  std::ofstream(tmp) << next;
  std::filesystem::rename(tmp, token_file);
  EXPECT_TRUE(
      WaitFor([&] { return ConnectedTokens() == std::vector<std::string>{"edge-2"}; }, seconds(10)))
      << Status().dump();
  // The old token can go now: nothing depends on it.
  ASSERT_EQ(api_->Delete("/v1/tokens/edge-1").status, 200);
  ASSERT_NO_FATAL_FAILURE(PointMainAt("green"));
  EXPECT_TRUE(WaitFor([&] { return Through() == "green"; }, seconds(10)));
  EXPECT_EQ(Stat("xds_auth_refusals_total"), 0);
  EXPECT_THAT(proxy_->Log(), HasSubstr("changed; reconnecting with it"));
}

// Certificate files replaced on disk: a new connection is served the new
// certificate, while the proxy's stream, opened before, stays up and keeps
// receiving changes.
TEST_F(ProxyXdsAuthTest, ReplacedCertificateReachesNewConnectionsAndTheProxyStaysConnected) {
  const std::string secret = CreateToken(*api_, "edge-1", "proxy", kZone);
  ASSERT_NO_FATAL_FAILURE(StartProxy("", secret));  // TLS and token from the environment
  ASSERT_EQ(Open(secret).peer_name, "hub-one");
  ASSERT_EQ(Stat("xds_connects_total"), 1);

  ASSERT_FALSE(ca_.Issue("hub", "hub-two").cert.empty());
  EXPECT_TRUE(WaitFor([&] { return Open(secret).peer_name == "hub-two"; }, seconds(15)));

  ASSERT_NO_FATAL_FAILURE(PointMainAt("green"));
  EXPECT_TRUE(WaitFor([&] { return Through() == "green"; }, seconds(10)));
  EXPECT_EQ(Stat("xds_connects_total"), 1) << "the proxy's stream was re-established";
  EXPECT_EQ(Stat("xds_connected"), 1);
}

// Off loopback the hub asks for tokens unless told otherwise, and refuses
// to serve xDS without them.
TEST(HubXdsAuthFlagsTest, NoneIsRefusedOffLoopbackAndTokenIsTheDefaultThere) {
  TempDir dir;
  const std::string xds = "0.0.0.0:" + std::to_string(FreePort());
  Subprocess refused({.argv = {causeway::testing::BuiltBinary("causeway"), "serve", "--api",
                               "127.0.0.1:" + std::to_string(FreePort()), "--xds", xds,
                               "--xds-auth", "none", "--data-dir", dir.path()},
                      .log_path = dir.File("refused.log")});
  const int status = refused.Wait(seconds(20));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0) << status;
  EXPECT_THAT(refused.Log(), HasSubstr("--xds-auth none is refused on " + xds));

  Subprocess hub({.argv = {causeway::testing::BuiltBinary("causeway"), "serve", "--api",
                           "127.0.0.1:" + std::to_string(FreePort()), "--xds", xds, "--data-dir",
                           dir.path(), "--log-format", "text"},
                  .log_path = dir.File("hub.log")});
  EXPECT_TRUE(WaitFor(
      [&] { return hub.Log().find("tokens required") != std::string::npos || !hub.Running(); },
      seconds(20)))
      << hub.Log();
  EXPECT_THAT(hub.Log(), HasSubstr("tokens required"));
  EXPECT_THAT(hub.Log(), HasSubstr("they cross the network in clear text"));
  hub.Stop();
}

}  // namespace
}  // namespace causeway::proxy
