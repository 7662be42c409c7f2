// Intercept translation: the key routes go before the route's own rules, only
// on routes that send to the intercepted cluster, only once a tunnel exists,
// and the regexes accept exactly the carriers that hold the key.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "re2/re2.h"
#include "support/xds/translate_test_util.h"
#include "xds/translate.h"
#include "xds/translate_internal.h"

namespace causeway::xds {
namespace {

using envoy::config::route::v3::HeaderMatcher;
using envoy::config::route::v3::Route;
using envoy::config::route::v3::VirtualHost;
using ::testing::ElementsAre;
using testing::SeedZone;
using testing::Target;
using testing::ZoneBuilder;

constexpr char kInterceptDomain[] = "demo.turbinelabs.io:8888";

model::Object InterceptObject(const std::string& name, const std::string& cluster,
                              const std::string& key, bool tunnel) {
  model::Intercept v{.name = name, .cluster = cluster, .key = key, .lease_ms = 30000};
  v.owner = "dev";
  v.expires_at_ms = 1796637605250;
  if (tunnel) v.tunnel = model::InterceptTunnel{"edge", "10.0.0.7:15001"};
  return testing::MakeObject(model::Kind::kIntercept, name, v);
}

absl::StatusOr<ProxyResources> TranslateWith(const ZoneBuilder& zone,
                                             std::vector<model::Object> intercepts) {
  ZoneView view = zone.View();
  for (model::Object& o : intercepts) view.objects.push_back(std::move(o));
  return TranslateProxy(view, "dev-proxy");
}

std::vector<std::string> EnvoyRouteNames(const ProxyResources& r) {
  std::vector<std::string> names;
  for (const Route& route : r.routes.at(0).virtual_hosts(0).routes()) names.push_back(route.name());
  return names;
}

std::vector<std::string> ClusterNames(const ProxyResources& r) {
  std::vector<std::string> names;
  for (const auto& c : r.clusters) names.push_back(c.name());
  return names;
}

TEST(TranslateInterceptTest, KeyRoutesComeFirstAndSendToTheTunnel) {
  ZoneBuilder zone = SeedZone();
  zone.AddCluster("laptop");
  model::Route& svc = zone.AddRoute("svc", kInterceptDomain, "/svc/v1", "default");
  svc.rules.push_back({{}, {{"header", "x-dev", "me", "exact"}}, {Target("laptop")}});
  auto r = TranslateWith(zone, {InterceptObject("ana", "envoy-simple", "ana-1", true)});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(EnvoyRouteNames(*r),
              ElementsAre("svc/intercept/ana/header", "svc/intercept/ana/baggage",
                          "svc/intercept/ana/cookie", "svc/rules/0", "svc/default",
                          "api/intercept/ana/header", "api/intercept/ana/baggage",
                          "api/intercept/ana/cookie", "api/default"));
  const VirtualHost& host = r->routes[0].virtual_hosts(0);
  const Route& header = host.routes(0);
  EXPECT_EQ(header.match().prefix(), "/svc/v1");
  EXPECT_EQ(header.route().cluster(), "intercept:ana");
  ASSERT_EQ(header.match().headers_size(), 1);
  EXPECT_EQ(header.match().headers(0).name(), "x-causeway-key");
  EXPECT_EQ(header.match().headers(0).string_match().exact(), "ana-1");
  EXPECT_EQ(host.routes(1).match().headers(0).name(), "baggage");
  EXPECT_EQ(host.routes(2).match().headers(0).name(), "cookie");
  EXPECT_THAT(ClusterNames(*r), ElementsAre("envoy-simple", "intercept:ana", "laptop"));
  const auto& endpoints = r->endpoints[1];
  EXPECT_EQ(endpoints.cluster_name(), "intercept:ana");
  const auto& address = endpoints.endpoints(0).lb_endpoints(0).endpoint().address();
  EXPECT_EQ(address.socket_address().address(), "10.0.0.7");
  EXPECT_EQ(address.socket_address().port_value(), 15001u);
}

TEST(TranslateInterceptTest, NoTunnelNoRoutes) {
  ZoneBuilder zone = SeedZone();
  auto r = TranslateWith(zone, {InterceptObject("ana", "envoy-simple", "ana-1", false)});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(EnvoyRouteNames(*r), ElementsAre("api/default"));
  EXPECT_THAT(ClusterNames(*r), ElementsAre("envoy-simple"));
}

TEST(TranslateInterceptTest, RoutesToOtherClustersAreLeftAlone) {
  ZoneBuilder zone = SeedZone();
  zone.AddCluster("billing");
  zone.AddGroup("billing", {Target("billing")});
  zone.AddRoute("bill", kInterceptDomain, "/bill", "billing");
  auto r = TranslateWith(zone, {InterceptObject("ana", "billing", "ana-1", true),
                                InterceptObject("bo", "billing", "bo", true)});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(EnvoyRouteNames(*r),
              ElementsAre("bill/intercept/ana/header", "bill/intercept/ana/baggage",
                          "bill/intercept/ana/cookie", "bill/intercept/bo/header",
                          "bill/intercept/bo/baggage", "bill/intercept/bo/cookie", "bill/default",
                          "api/default"));
}

TEST(TranslateInterceptTest, ClusterOfAGroupRuleCountsToo) {
  ZoneBuilder zone = SeedZone();
  zone.AddCluster("beta");
  model::RouteGroup& group = zone.AddGroup("g", {Target("envoy-simple")});
  group.rules.push_back({{}, {{"header", "x-beta", "1", "exact"}}, {Target("beta")}});
  zone.AddRoute("b", kInterceptDomain, "/b", "g");
  auto r = TranslateWith(zone, {InterceptObject("ana", "beta", "k", true)});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(EnvoyRouteNames(*r),
              ElementsAre("api/default", "b/intercept/ana/header", "b/intercept/ana/baggage",
                          "b/intercept/ana/cookie", "b/g/rules/0", "b/default"));
}

TEST(TranslateInterceptTest, KeyRoutesNameTheInterceptInARequestHeader) {
  ZoneBuilder zone = SeedZone();
  auto r = TranslateWith(zone, {InterceptObject("ana", "envoy-simple", "ana-1", true)});
  ASSERT_TRUE(r.ok()) << r.status();
  const VirtualHost& host = r->routes[0].virtual_hosts(0);
  ASSERT_EQ(host.routes_size(), 4);
  for (int i = 0; i < 3; ++i) {
    const Route& key_route = host.routes(i);
    ASSERT_EQ(key_route.request_headers_to_add_size(), 1) << key_route.name();
    const auto& add = key_route.request_headers_to_add(0);
    EXPECT_EQ(add.header().key(), "x-causeway-intercept");
    EXPECT_EQ(add.header().value(), "ana");
    // Overwrite, so a client cannot name another intercept itself.
    EXPECT_EQ(add.append_action(),
              envoy::config::core::v3::HeaderValueOption::OVERWRITE_IF_EXISTS_OR_ADD);
  }
  EXPECT_EQ(host.routes(3).name(), "api/default");
  EXPECT_EQ(host.routes(3).request_headers_to_add_size(), 0);
}

// The regexes as Envoy runs them: RE2, matching the whole header value.
std::string RegexOf(const ProxyResources& r, size_t route, std::string_view header) {
  for (const HeaderMatcher& h : r.routes[0].virtual_hosts(0).routes(route).match().headers()) {
    if (h.name() == header) return h.string_match().safe_regex().regex();
  }
  return "";
}

TEST(TranslateInterceptTest, BaggageAndCookieRegexesHoldTheKeyOnly) {
  ZoneBuilder zone = SeedZone();
  auto r = TranslateWith(zone, {InterceptObject("ana", "envoy-simple", "ana.1", true)});
  ASSERT_TRUE(r.ok()) << r.status();
  RE2 baggage(RegexOf(*r, 1, "baggage"));
  ASSERT_TRUE(baggage.ok()) << baggage.error();
  for (const char* yes :
       {"causeway-key=ana.1", "a=1,causeway-key=ana.1", "a=1, causeway-key = ana.1 ;p=2, b=3",
        "causeway-key=ana.1;ttl=5", "x=1;p=q,causeway-key=ana.1,y=2"}) {
    EXPECT_TRUE(RE2::FullMatch(yes, baggage)) << yes;
  }
  for (const char* no :
       {"causeway-key=ana.1x", "xcauseway-key=ana.1", "causeway-key=anax1", "a=causeway-key=ana.1",
        "a=1;causeway-key=ana.1", "causeway-key=ana", "other=ana.1"}) {
    EXPECT_FALSE(RE2::FullMatch(no, baggage)) << no;
  }
  RE2 cookie(RegexOf(*r, 2, "cookie"));
  ASSERT_TRUE(cookie.ok()) << cookie.error();
  for (const char* yes :
       {"causeway-key=ana.1", "a=1; causeway-key=ana.1", "causeway-key=ana.1; b=2"}) {
    EXPECT_TRUE(RE2::FullMatch(yes, cookie)) << yes;
  }
  for (const char* no : {"causeway-key=ana.1x", "xcauseway-key=ana.1", "a=1; causeway-key=anaX1",
                         "causeway-key=ana"}) {
    EXPECT_FALSE(RE2::FullMatch(no, cookie)) << no;
  }
}

}  // namespace
}  // namespace causeway::xds
