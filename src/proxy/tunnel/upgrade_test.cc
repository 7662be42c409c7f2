// The opening exchange's formats: what the laptop sends parses back into
// the same fields, and a request that is not a tunnel upgrade is refused
// naming what is wrong; the forward configuration routes by intercept.
#include "proxy/tunnel/upgrade.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxy/tunnel/forward_config.h"
#include "proxy/tunnel/local_config.h"

namespace causeway::proxy::tunnel {
namespace {

using ::testing::HasSubstr;

TEST(TunnelUpgradeTest, TheLaptopsRequestParsesBack) {
  const std::string head = FormatUpgradeRequest({"holder:443", "s3cret", "dev", "ana-web"});
  absl::StatusOr<UpgradeRequest> parsed = ParseUpgradeRequest(head);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->host, "holder:443");
  EXPECT_EQ(parsed->token, "s3cret");
  EXPECT_EQ(parsed->zone, "dev");
  EXPECT_EQ(parsed->intercept, "ana-web");
}

TEST(TunnelUpgradeTest, OtherRequestsAreRefusedNamingWhatIsWrong) {
  absl::StatusOr<UpgradeRequest> plain =
      ParseUpgradeRequest("GET /v1/tunnel HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_THAT(plain.status().message(), HasSubstr("Upgrade: causeway-tunnel"));
  absl::StatusOr<UpgradeRequest> no_token = ParseUpgradeRequest(
      "GET /v1/tunnel HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: causeway-tunnel\r\n"
      "x-causeway-zone: dev\r\nx-causeway-intercept: a\r\n\r\n");
  EXPECT_TRUE(absl::IsUnauthenticated(no_token.status())) << no_token.status();
  absl::StatusOr<UpgradeRequest> no_zone = ParseUpgradeRequest(
      "GET /v1/tunnel HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: causeway-tunnel\r\n"
      "Authorization: Bearer t\r\nx-causeway-intercept: a\r\n\r\n");
  EXPECT_THAT(no_zone.status().message(), HasSubstr("x-causeway-zone"));
  absl::StatusOr<UpgradeRequest> other_path =
      ParseUpgradeRequest("POST /v1/other HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_THAT(other_path.status().message(), HasSubstr("/v1/other"));
}

TEST(TunnelUpgradeTest, RefusalCarriesTheMessageAsJson) {
  const std::string refusal = FormatRefusal(403, "permission_denied", "owned by \"ana\"");
  EXPECT_THAT(refusal, HasSubstr("HTTP/1.1 403 "));
  EXPECT_THAT(refusal,
              HasSubstr(R"({"error":{"code":"permission_denied","message":"owned by \"ana\""}})"));
  EXPECT_THAT(FormatSwitchingProtocols(), HasSubstr("Upgrade: causeway-tunnel"));
}

TEST(TunnelConfigTest, HostPortErrorsNameTheOption) {
  std::string host;
  uint16_t port = 0;
  absl::Status bad = SplitHostPort("to", "localhost", &host, &port);
  EXPECT_THAT(bad.message(), HasSubstr("to: \"localhost\" is not host:port"));
  EXPECT_FALSE(SplitHostPort("to", "a:70000", &host, &port).ok());
  ASSERT_TRUE(SplitHostPort("to", "[::1]:8080", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 8080);
  EXPECT_FALSE(BuildLaptopConfig("nope", false).ok());
}

TEST(TunnelConfigTest, ForwardConfigRoutesByInterceptAndElseSaysNoTunnel) {
  Endpoint e;
  e.address = "127.0.0.2";
  e.port = 9;
  ListenerConfig listener;
  ProxyConfigSnapshot config = BuildForwardConfig(listener, {{"ana-web", e}});
  const RouteTable* table = config->RoutesFor(config->listeners.front());
  ASSERT_NE(table, nullptr);
  ASSERT_EQ(table->virtual_hosts.size(), 1u);
  const std::vector<Route>& routes = table->virtual_hosts[0].routes;
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0].clusters[0].name, "tunnel:ana-web");
  EXPECT_EQ(routes[0].headers[0].name, "x-causeway-intercept");
  EXPECT_EQ(routes[0].request_headers.remove, std::vector<std::string>{"x-causeway-intercept"});
  EXPECT_EQ(routes[1].direct_status, 503u);
  EXPECT_EQ(routes[1].response_headers.add[0].value, "no-tunnel");
  ASSERT_NE(config->FindCluster("tunnel:ana-web"), nullptr);
  EXPECT_EQ(config->FindCluster("tunnel:ana-web")->protocol, ClusterConfig::Protocol::kHttp2);
}

}  // namespace
}  // namespace causeway::proxy::tunnel
