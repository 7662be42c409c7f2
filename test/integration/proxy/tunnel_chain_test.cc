// The whole path of two-way routing on the real binaries: a client's keyed
// request to a zone's proxy (following a real hub over xDS) goes by the key
// routes to the holder's forward listener, over the laptop's tunnel, to
// the service on the laptop; unkeyed requests stay in staging; and when the
// laptop goes, keyed requests are served by staging again.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "hub_fixture.h"
#include "proxy/tunnel/tunnel_client.h"
#include "routed_zone.h"
#include "support/process.h"
#include "support/test_certs.h"
#include "support/tunnel_holder_argv.h"
#include "test_origin.h"

namespace causeway::proxy {
namespace {

using causeway::testing::Api;
using causeway::testing::FreePort;
using causeway::testing::HubProcess;
using causeway::testing::Json;
using causeway::testing::PortOpen;
using causeway::testing::ProxyProcess;
using causeway::testing::RoutedZone;
using causeway::testing::Subprocess;
using causeway::testing::TempDir;
using causeway::testing::WaitFor;
using proxy::testing::RawClient;
using proxy::testing::TestOrigin;
using std::chrono::seconds;

constexpr char kChainZone[] = "chain";

class TunnelChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ca_.ok());
    ASSERT_NO_FATAL_FAILURE(hub_.Start());
    admin_ = std::make_unique<Api>(hub_.url(), hub_.admin_token());
    zone_ = std::make_unique<RoutedZone>(admin_.get(), kChainZone, FreePort());
    ASSERT_NO_FATAL_FAILURE(zone_->Seed());
    forwarder_ =
        std::make_unique<ProxyProcess>(zone_.get(), "127.0.0.1:" + std::to_string(hub_.xds_port()));
    ASSERT_NO_FATAL_FAILURE(forwarder_->Start("blue"));
    ana_token_ = CreateToken(*admin_, "ana", "editor");
    Api ana(hub_.url(), ana_token_);
    Json body = {{"cluster", "blue"}, {"key", "ana"}, {"lease_ms", 600000}};
    ASSERT_EQ(ana.Put(zone_->Path("/intercepts/ana-blue"), body).status, 201);
    ASSERT_NO_FATAL_FAILURE(StartHolder());
  }

  void StartHolder() {
    tunnel_port_ = FreePort();
    forward_port_ = FreePort();
    const std::string config = dir_.File("holder.yaml");
    std::FILE* f = std::fopen(config.c_str(), "w");
    std::fputs("kind: Zone\nname: chain\n---\nkind: Proxy\nname: holder\nzone: chain\n", f);
    std::fclose(f);
    causeway::testing::CertFiles cert = ca_.Issue("holder", "localhost");
    holder_ = std::make_unique<Subprocess>(
        Subprocess::Options{.argv = causeway::testing::TunnelHolderArgv(
                                {.config = config,
                                 .proxy = "holder",
                                 .cert = cert.cert,
                                 .key = cert.key,
                                 .tunnel_port = tunnel_port_,
                                 .forward_port = forward_port_,
                                 .hub_url = hub_.url(),
                                 .token = CreateToken(*admin_, "holder", "proxy", kChainZone)}),
                            .log_path = dir_.File("holder.log")});
    ASSERT_TRUE(
        WaitFor([&] { return PortOpen(tunnel_port_) && PortOpen(forward_port_); }, seconds(30)))
        << holder_->Log();
  }

  RawClient::Response Keyed(bool keyed) {
    std::string raw = "GET /chain HTTP/1.1\r\nHost: " + zone_->domain() + "\r\n" +
                      (keyed ? "x-causeway-key: ana\r\n" : "") + "\r\n";
    return proxy::testing::Request(static_cast<uint16_t>(zone_->listen_port()), raw);
  }

  TempDir dir_;
  causeway::testing::TestCa ca_{dir_.path(), "chain"};
  HubProcess hub_;
  std::unique_ptr<Api> admin_;
  std::unique_ptr<RoutedZone> zone_;
  std::unique_ptr<ProxyProcess> forwarder_;
  std::string ana_token_;
  int tunnel_port_ = 0, forward_port_ = 0;
  std::unique_ptr<Subprocess> holder_;
};

TEST_F(TunnelChainTest, KeyedRequestsReachTheLaptopAndFallBackWhenItGoes) {
  TestOrigin laptop_service("laptop");
  tunnel::TunnelClientOptions o;
  o.tunnel = "127.0.0.1:" + std::to_string(tunnel_port_);
  o.ca_file = ca_.cert();
  o.server_name = "localhost";
  o.token = ana_token_;
  o.zone = kChainZone;
  o.intercept = "ana-blue";
  o.to = "127.0.0.1:" + std::to_string(laptop_service.port());
  auto client = tunnel::TunnelClient::Create(o, nullptr);
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->Start().ok());

  RawClient::Response res;
  ASSERT_TRUE(WaitFor(
      [&] {
        res = Keyed(true);
        return res.Header("x-origin") == "laptop";
      },
      seconds(60)))
      << res.status << " " << res.body << "\n--- holder ---\n"
      << holder_->Log() << "\n--- forwarder ---\n"
      << forwarder_->Log();
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.Header("x-causeway-routed"), "laptop");
  EXPECT_EQ(Keyed(false).Header("x-origin"), "blue");

  // The laptop goes: keyed requests are staging's again.
  (*client)->Stop();
  ASSERT_TRUE(WaitFor([&] { return Keyed(true).Header("x-origin") == "blue"; }, seconds(60)))
      << holder_->Log();
}

}  // namespace
}  // namespace causeway::proxy
