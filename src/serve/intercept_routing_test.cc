// The key routes of an intercept as causeway-proxy runs them: the zone is
// translated as the xDS server does, built by the proxy's BuildConfig, and
// requests are matched by the proxy's router. A request carrying the key in
// any of its three carriers goes to the tunnel's cluster; near misses stay in
// the zone.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "proxy/config/build_config.h"
#include "proxy/router/router.h"
#include "serve/explain.h"
#include "support/xds/translate_test_util.h"
#include "xds/translate.h"

namespace causeway::serve {
namespace {

using proxy::http1::Header;

class InterceptRoutingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    xds::testing::ZoneBuilder zone = xds::testing::SeedZone();
    xds::ZoneView view = zone.View();
    model::Intercept intercept{.name = "ana", .cluster = "envoy-simple", .key = "ana.1"};
    intercept.lease_ms = 30000;
    intercept.owner = "ana";
    intercept.expires_at_ms = 1796637605250;
    intercept.tunnel = model::InterceptTunnel{"edge", "127.0.0.1:15001"};
    view.objects.push_back(
        xds::testing::MakeObject(model::Kind::kIntercept, intercept.name, intercept));
    objects_ = view.objects;
    absl::StatusOr<xds::ProxyResources> r = xds::TranslateProxy(view, "dev-proxy");
    ASSERT_TRUE(r.ok()) << r.status();
    absl::StatusOr<proxy::ProxyConfigSnapshot> config =
        proxy::BuildConfig(r->listeners, r->routes, r->clusters, r->endpoints);
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = *std::move(config);
  }

  // The cluster the proxy's router picks for GET /api with `headers`.
  std::string ClusterFor(const std::vector<Header>& headers) {
    const proxy::ListenerConfig* listener = config_->FindListener("dev-proxy:8888");
    if (listener == nullptr) return "<no listener>";
    const proxy::RouteTable* table = config_->RoutesFor(*listener);
    const proxy::VirtualHost* vhost = proxy::SelectVirtualHost(*table, "demo.turbinelabs.io:8888");
    if (vhost == nullptr) return "<no virtual host>";
    proxy::RouteRequest request{"GET", "demo.turbinelabs.io:8888", "/api/users", &headers};
    const proxy::Route* route = proxy::SelectRoute(*vhost, request);
    if (route == nullptr || route->clusters.size() != 1) return "<no route>";
    return route->clusters[0].name;
  }

  proxy::ProxyConfigSnapshot config_;
  std::vector<model::Object> objects_;
};

TEST_F(InterceptRoutingTest, EachCarrierOfTheKeyReachesTheTunnel) {
  const std::vector<std::vector<Header>> keyed = {
      {{"x-causeway-key", "ana.1"}},
      {{"baggage", "causeway-key=ana.1"}},
      {{"baggage", "userId=7, causeway-key = ana.1;ttl=30, other=x"}},
      {{"cookie", "causeway-key=ana.1"}},
      {{"cookie", "session=abc; causeway-key=ana.1; theme=dark"}},
  };
  for (const auto& headers : keyed) {
    EXPECT_EQ(ClusterFor(headers), "intercept:ana") << headers[0].name << ": " << headers[0].value;
  }
}

TEST_F(InterceptRoutingTest, NearMissesStayInTheZone) {
  const std::vector<std::vector<Header>> unkeyed = {
      {},
      {{"x-causeway-key", "ana.1x"}},
      {{"x-causeway-key", "bo"}},
      {{"baggage", "causeway-key=ana.1x"}},
      {{"baggage", "xcauseway-key=ana.1"}},
      {{"baggage", "a=1;causeway-key=ana.1"}},
      {{"cookie", "causeway-key=ana.1x"}},
      {{"cookie", "xcauseway-key=ana.1"}},
      {{"cookie", "causeway-key=anaX1"}},
  };
  for (const auto& headers : unkeyed) {
    EXPECT_EQ(ClusterFor(headers), "envoy-simple")
        << (headers.empty() ? "no headers" : std::string(headers[0].value));
  }
}

TEST_F(InterceptRoutingTest, ExplainNamesTheIntercept) {
  ExplainRequest request{.host = "demo.turbinelabs.io:8888", .path = "/api/users"};
  request.headers.push_back({"baggage", "causeway-key=ana.1"});
  absl::StatusOr<model::Json> keyed = Explain(objects_, "dev-proxy", request);
  ASSERT_TRUE(keyed.ok()) << keyed.status();
  EXPECT_EQ((*keyed)["rule_of"], "intercept");
  EXPECT_EQ((*keyed)["intercept"], "ana");
  EXPECT_EQ((*keyed)["cluster"], "intercept:ana");
  EXPECT_NE((*keyed)["reason"].get<std::string>().find("intercept \"ana\" (in its baggage)"),
            std::string::npos)
      << (*keyed)["reason"];

  request.headers.clear();
  absl::StatusOr<model::Json> plain = Explain(objects_, "dev-proxy", request);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ((*plain)["rule_of"], "default");
  EXPECT_TRUE((*plain)["intercept"].is_null());
  EXPECT_EQ((*plain)["cluster"], "envoy-simple");
}

}  // namespace
}  // namespace causeway::serve
