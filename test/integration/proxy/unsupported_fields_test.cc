// The real causeway-proxy binary against a scripted ADS server: a
// configuration with an Envoy field the proxy does not implement (a TLS
// field of a cluster, an http filter other than the router) is NACKed with the field's
// path in error_detail, and traffic keeps flowing on the last good one.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>

#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "support/process.h"
#include "support/proxy/fake_ads_server.h"
#include "support/proxy/test_resources.h"
#include "test_origin.h"

namespace causeway::proxy {
namespace {

using ::causeway::testing::BuiltBinary;
using ::causeway::testing::FreePort;
using ::causeway::testing::Subprocess;
using ::causeway::testing::TempDir;
using ::causeway::testing::WaitFor;
using ::testing::HasSubstr;
using namespace ::causeway::proxy::testing;  // NOLINT(google-build-using-namespace)
using namespace std::chrono_literals;        // NOLINT(google-build-using-namespace)

// Generous: the machine is shared and the sanitizer builds are slow.
constexpr auto kUnsupportedWait = 30s;

class UnsupportedFieldsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ads_.Start();
    Subprocess::Options options;
    options.argv = {BuiltBinary("causeway-proxy"),
                    "--xds",
                    ads_.address(),
                    "--proxy",
                    "edge",
                    "--zone",
                    "staging",
                    "--admin",
                    "127.0.0.1:" + std::to_string(FreePort()),
                    "--listen-address",
                    "127.0.0.1",
                    "--workers",
                    "1",
                    "--access-log",
                    "off"};
    options.log_path = dir_.File("proxy.log");
    proxy_ = std::make_unique<Subprocess>(options);
  }

  // The origin that answered a request through the proxy ("" if none did).
  std::string Through() const {
    RawClient::Response r = Request(listen_port_, "GET / HTTP/1.1\r\nHost: app.test\r\n\r\n");
    return r.status == 200 ? r.Header("x-origin") : "";
  }

  // A static cluster whose one endpoint is the origin.
  envoy::config::cluster::v3::Cluster OriginCluster() const {
    auto cluster = Cluster("blue", /*eds=*/false);
    *cluster.mutable_load_assignment() = Assignment("blue", origin_.port());
    return cluster;
  }

  // The listener as the hub writes it: the router as its one http filter.
  envoy::config::listener::v3::Listener RoutedListener() const {
    auto listener = Listener("edge:80", listen_port_, "edge:80");
    envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager hcm;
    listener.filter_chains(0).filters(0).typed_config().UnpackTo(&hcm);
    auto* router = hcm.add_http_filters();
    router->set_name("envoy.filters.http.router");
    router->mutable_typed_config()->PackFrom(
        envoy::extensions::filters::http::router::v3::Router());
    listener.mutable_filter_chains(0)->mutable_filters(0)->mutable_typed_config()->PackFrom(hcm);
    return listener;
  }

  // The next request of `type_url`, which must be there.
  FakeAdsServer::Request NextOf(const std::string& type_url) {
    std::optional<FakeAdsServer::Request> request = ads_.Next(type_url, kUnsupportedWait);
    EXPECT_TRUE(request.has_value()) << "no " << type_url << " request\n" << proxy_->Log();
    return request.value_or(FakeAdsServer::Request());
  }

  // Serves blue, the listener and its routes, and waits for traffic.
  void ServeGoodConfig() {
    const std::string cds(TypeUrl(XdsType::kCluster)), lds(TypeUrl(XdsType::kListener));
    const std::string rds(TypeUrl(XdsType::kRoute));
    NextOf(cds);
    NextOf(lds);
    ads_.Send(Response(XdsType::kCluster, "c1", "n1", std::vector{OriginCluster()}));
    EXPECT_FALSE(NextOf(cds).has_error_detail());
    ads_.Send(Response(XdsType::kListener, "l1", "n2", std::vector{RoutedListener()}));
    NextOf(rds);
    ads_.Send(Response(XdsType::kRoute, "r1", "n3", std::vector{RouteConfig("edge:80", "blue")}));
    ASSERT_TRUE(WaitFor([&] { return Through() == "blue"; }, kUnsupportedWait)) << proxy_->Log();
    ads_.ClearQueues();
  }

  FakeAdsServer ads_;
  TestOrigin origin_{"blue"};
  const int listen_port_ = FreePort();
  TempDir dir_;
  std::unique_ptr<Subprocess> proxy_;
};

TEST_F(UnsupportedFieldsTest, ClusterWithUnsupportedTlsFieldIsNackedAndTrafficKeepsFlowing) {
  ServeGoodConfig();
  auto tls = OriginCluster();
  envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext context;
  context.set_allow_renegotiation(true);  // a TLS field the proxy does not implement
  tls.mutable_transport_socket()->set_name("envoy.transport_sockets.tls");
  tls.mutable_transport_socket()->mutable_typed_config()->PackFrom(context);
  ads_.Send(Response(XdsType::kCluster, "c2", "n4", std::vector{tls}));

  FakeAdsServer::Request nack = NextOf(std::string(TypeUrl(XdsType::kCluster)));
  EXPECT_EQ(nack.response_nonce(), "n4");
  EXPECT_EQ(nack.version_info(), "c1") << "a NACK carries the last accepted version";
  ASSERT_TRUE(nack.has_error_detail());
  EXPECT_THAT(nack.error_detail().message(),
              HasSubstr("cluster 'blue': transport_socket.typed_config.allow_renegotiation is not "
                        "supported by causeway-proxy"));
  // Still in clear text to the origin, on the configuration before.
  EXPECT_EQ(Through(), "blue");
  EXPECT_EQ(Through(), "blue");
}

TEST_F(UnsupportedFieldsTest, ListenerWithAnotherHttpFilterIsNackedAndTrafficKeepsFlowing) {
  ServeGoodConfig();
  auto listener = RoutedListener();
  envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager hcm;
  listener.filter_chains(0).filters(0).typed_config().UnpackTo(&hcm);
  auto* rbac = hcm.add_http_filters();
  rbac->set_name("envoy.filters.http.rbac");
  rbac->mutable_typed_config()->set_type_url(
      "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC");
  hcm.mutable_http_filters()->SwapElements(0, 1);  // authorization first, then the router
  listener.mutable_filter_chains(0)->mutable_filters(0)->mutable_typed_config()->PackFrom(hcm);
  ads_.Send(Response(XdsType::kListener, "l2", "n5", std::vector{listener}));

  FakeAdsServer::Request nack = NextOf(std::string(TypeUrl(XdsType::kListener)));
  EXPECT_EQ(nack.response_nonce(), "n5");
  EXPECT_EQ(nack.version_info(), "l1");
  ASSERT_TRUE(nack.has_error_detail());
  EXPECT_THAT(nack.error_detail().message(),
              HasSubstr("listener 'edge:80': filter_chains[0].filters[0].typed_config."
                        "http_filters[0] (http filter 'envoy.filters.http.rbac', "
                        "envoy.extensions.filters.http.rbac.v3.RBAC) is not supported by "
                        "causeway-proxy"));
  EXPECT_EQ(Through(), "blue");

  // A later update without the field is accepted again.
  ads_.Send(Response(XdsType::kListener, "l3", "n6", std::vector{RoutedListener()}));
  FakeAdsServer::Request ack = NextOf(std::string(TypeUrl(XdsType::kListener)));
  EXPECT_EQ(ack.version_info(), "l3");
  EXPECT_FALSE(ack.has_error_detail()) << ack.error_detail().message();
  EXPECT_EQ(Through(), "blue");
}

}  // namespace
}  // namespace causeway::proxy
