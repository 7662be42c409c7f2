// `causeway intercept --tunnel` against a real holder: a causeway-proxy
// started with --tunnel-listen reports the laptop's tunnel to the hub,
// `causeway intercepts` shows its state, requests the holder forwards reach
// the local service, and SIGTERM closes the tunnel and deletes the intercept.
#include <signal.h>

#include <cstdio>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "intercept_command_fixture.h"
#include "net/http_client.h"
#include "support/test_certs.h"
#include "support/tunnel_holder_argv.h"
#include "test_origin.h"

namespace causeway::testing {
namespace {

using std::chrono::seconds;

class InterceptCommandTunnelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ca_.ok());
    hub_.MustRun({"apply", "-f", hub_.WriteFile("zone.yaml", kInterceptCommandZoneYaml)});
    ana_ = CreateInterceptToken(hub_, "ana", "editor", "staging");
    StartHolder();
  }

  void StartHolder() {
    const CertFiles cert = ca_.Issue("edge", "localhost");
    const std::string config = hub_.WriteFile(
        "edge.yaml", "kind: Zone\nname: staging\n---\nkind: Proxy\nname: edge\nzone: staging\n");
    tunnel_port_ = FreePort();
    forward_port_ = FreePort();
    Subprocess::Options options;
    options.argv = causeway::testing::TunnelHolderArgv(
        {.config = config,
         .proxy = "edge",
         .cert = cert.cert,
         .key = cert.key,
         .tunnel_port = tunnel_port_,
         .forward_port = forward_port_,
         .hub_url = hub_.url(),
         .token = CreateInterceptToken(hub_, "edge", "proxy", "staging")});
    options.log_path = hub_.File("edge.log");
    holder_ = std::make_unique<Subprocess>(options);
    ASSERT_TRUE(
        WaitFor([&] { return PortOpen(tunnel_port_) && PortOpen(forward_port_); }, seconds(30)))
        << holder_->Log();
  }

  // A request for intercept `name` at the holder's forward listener, as the
  // zone's proxies send it.
  HttpResponse Forward(const std::string& name) {
    auto client = HttpClient::Create("127.0.0.1:" + std::to_string(forward_port_));
    if (!client.ok()) return {};
    absl::StatusOr<HttpResponse> res =
        (*client)->Send("GET", "/hello", "", {{"x-causeway-intercept", name}});
    return res.ok() ? *res : HttpResponse{};
  }

  CliHub hub_;
  TempDir certs_;
  TestCa ca_{certs_.path(), "tunnel"};
  std::string ana_;
  int tunnel_port_ = 0;
  int forward_port_ = 0;
  std::unique_ptr<Subprocess> holder_;
};

TEST_F(InterceptCommandTunnelTest, TheTunnelServesUntilSigterm) {
  proxy::testing::TestOrigin laptop_service("laptop");
  ASSERT_TRUE(laptop_service.listening());
  InterceptCommand cmd(hub_, ana_,
                       {"color", "-z", "staging", "--key", "ana", "--to",
                        "127.0.0.1:" + std::to_string(laptop_service.port()), "--tunnel",
                        "localhost:" + std::to_string(tunnel_port_)},
                       {{"CAUSEWAY_TUNNEL_CA", ca_.cert()}});
  ASSERT_TRUE(cmd.WaitForOutput("tunnel connected to localhost:"))
      << cmd.Output() << holder_->Log();

  Json tunnel;
  ASSERT_TRUE(WaitFor(
      [&] {
        tunnel = GetStagingIntercept(hub_, "ana-color").value("tunnel", Json());
        return tunnel.is_object() && tunnel.value("state", "") == "connected";
      },
      seconds(30)))
      << tunnel.dump() << "\n"
      << holder_->Log();
  EXPECT_EQ(tunnel.value("proxy", ""), "edge");
  std::string table = hub_.MustRun({"intercepts", "-z", "staging"});
  EXPECT_NE(table.find("STATE"), std::string::npos) << table;
  EXPECT_NE(table.find("CONNECTED AT"), std::string::npos) << table;
  EXPECT_NE(table.find("connected"), std::string::npos) << table;
  EXPECT_NE(table.find(tunnel.value("connected_at", "?")), std::string::npos) << table;

  HttpResponse res;
  EXPECT_TRUE(WaitFor(
      [&] {
        res = Forward("ana-color");
        return res.status == 200;
      },
      seconds(30)))
      << res.status << " " << res.body << "\n"
      << holder_->Log();
  EXPECT_EQ(res.Header("x-origin"), "laptop");

  EXPECT_EQ(cmd.Signal(SIGTERM), 0) << cmd.Output();
  EXPECT_TRUE(GetStagingIntercept(hub_, "ana-color").is_null()) << cmd.Output();
  EXPECT_NE(cmd.Output().find("stopped (terminated): intercept ana-color deleted; 1 request "
                              "served over the tunnel"),
            std::string::npos)
      << cmd.Output();
  // The holder notices the closed tunnel on its own loop: soon, not at once.
  EXPECT_TRUE(
      WaitFor([&] { return Forward("ana-color").Header("x-causeway-fallback") == "no-tunnel"; },
              seconds(30)))
      << holder_->Log();
}

TEST_F(InterceptCommandTunnelTest, AnInterceptWrittenAnewGetsItsTunnelBack) {
  proxy::testing::TestOrigin laptop_service("laptop");
  InterceptCommand cmd(hub_, ana_,
                       {"color", "-z", "staging", "--key", "ana", "--to",
                        "127.0.0.1:" + std::to_string(laptop_service.port()), "--tunnel",
                        "localhost:" + std::to_string(tunnel_port_), "--lease-ms", "1500"},
                       {{"CAUSEWAY_TUNNEL_CA", ca_.cert()}});
  ASSERT_TRUE(cmd.WaitForOutput("tunnel connected to")) << cmd.Output() << holder_->Log();
  // What the sweeper does after a hub outage longer than the lease: the
  // intercept goes, and the next renewal writes it without the tunnel.
  hub_.MustRun({"delete", "intercept", "ana-color", "-z", "staging"});
  ASSERT_TRUE(cmd.WaitForOutput("the hub has no record of the tunnel")) << cmd.Output();
  Json tunnel;
  EXPECT_TRUE(WaitFor(
      [&] {
        tunnel = GetStagingIntercept(hub_, "ana-color").value("tunnel", Json());
        return tunnel.is_object() && tunnel.value("state", "") == "connected";
      },
      seconds(30)))
      << tunnel.dump() << "\n"
      << cmd.Output() << holder_->Log();
  HttpResponse res;
  EXPECT_TRUE(WaitFor(
      [&] {
        res = Forward("ana-color");
        return res.status == 200;
      },
      seconds(30)))
      << res.status << " " << res.body << "\n"
      << holder_->Log();
  EXPECT_EQ(cmd.Signal(SIGTERM), 0) << cmd.Output();
  EXPECT_NE(cmd.Output().find("1 request served over the tunnel"), std::string::npos)
      << cmd.Output();
}

TEST_F(InterceptCommandTunnelTest, ATunnelRefusedForGoodEndsTheCommand) {
  // The holder's proxy token is limited to staging, so the hub refuses the
  // tunnel of an intercept in another zone: 403, which no retry can mend.
  hub_.MustRun({"apply", "-f",
                hub_.WriteFile("other.yaml",
                               "kind: Zone\nname: other\n---\nkind: Cluster\nzone: other\n"
                               "name: color\ninstances:\n  - {host: 127.0.0.1, port: 8080}\n")});
  const std::string cy = CreateInterceptToken(hub_, "cy", "editor");
  InterceptCommand cmd(hub_, cy,
                       {"color", "-z", "other", "--key", "cy", "--to", "127.0.0.1:8080", "--tunnel",
                        "localhost:" + std::to_string(tunnel_port_)},
                       {{"CAUSEWAY_TUNNEL_CA", ca_.cert()}});
  EXPECT_EQ(cmd.Wait(), 4) << cmd.Output() << holder_->Log();
  EXPECT_NE(
      cmd.Output().find("tunnel refused by localhost:" + std::to_string(tunnel_port_) + ": 403 "),
      std::string::npos)
      << cmd.Output();
  EXPECT_NE(cmd.Output().find("stopped (the tunnel was refused): intercept cy-color deleted"),
            std::string::npos)
      << cmd.Output();
  CliResult gone = hub_.Run({"get", "intercept", "cy-color", "-z", "other"});
  EXPECT_EQ(gone.exit_code, 5) << gone.out << gone.err;
}

}  // namespace
}  // namespace causeway::testing
