// Route translation: prefix order, rule order, matches, targets, retries.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "re2/re2.h"
#include "support/xds/translate_test_util.h"
#include "xds/translate.h"

namespace causeway::xds {
namespace {

using envoy::config::route::v3::HeaderMatcher;
using envoy::config::route::v3::Route;
using envoy::config::route::v3::VirtualHost;
using ::testing::ElementsAre;
using testing::SeedZone;
using testing::Target;
using testing::ZoneBuilder;

constexpr char kDomain[] = "demo.turbinelabs.io:8888";

VirtualHost SeedHost(const ZoneBuilder& zone) {
  absl::StatusOr<ProxyResources> r = TranslateProxy(zone.View(), "dev-proxy");
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok() || r->routes.empty() || r->routes[0].virtual_hosts_size() == 0) return {};
  return r->routes[0].virtual_hosts(0);
}

std::vector<std::string> RouteNames(const VirtualHost& host) {
  std::vector<std::string> names;
  for (const Route& route : host.routes()) names.push_back(route.name());
  return names;
}

// The Envoy routes generated for causeway route `name` (the seed's "/api"
// sorts before the shorter prefixes tests add).
std::vector<Route> RoutesOf(const VirtualHost& host, std::string_view name) {
  std::vector<Route> out;
  const std::string prefix = std::string(name) + "/";
  for (const Route& route : host.routes()) {
    if (route.name().starts_with(prefix)) out.push_back(route);
  }
  return out;
}

const HeaderMatcher* FindHeader(const Route& route, std::string_view name) {
  for (const HeaderMatcher& h : route.match().headers()) {
    if (h.name() == name) return &h;
  }
  return nullptr;
}

TEST(TranslateRouteTest, LongestPrefixFirst) {
  ZoneBuilder zone = SeedZone();
  zone.AddRoute("root", kDomain, "/", "default");
  zone.AddRoute("v2", kDomain, "/api/v2", "default");
  zone.AddRoute("apx", kDomain, "/apx", "default");  // same length as /api: by path
  VirtualHost host = SeedHost(zone);
  std::vector<std::string> prefixes;
  for (const Route& route : host.routes()) prefixes.push_back(route.match().prefix());
  EXPECT_THAT(prefixes, ElementsAre("/api/v2", "/api", "/apx", "/"));
}

TEST(TranslateRouteTest, RouteRulesThenGroupRulesThenDefault) {
  ZoneBuilder zone = SeedZone();
  zone.AddCluster("staging");
  zone.AddCluster("laptop");
  model::RouteGroup& group = zone.AddGroup("g", {Target("staging")});
  group.rules.push_back({{}, {{"header", "x-group", "1", "exact"}}, {Target("staging")}});
  group.rules.push_back({{}, {{"header", "x-group", "2", "exact"}}, {Target("staging")}});
  model::Route& route = zone.AddRoute("svc", kDomain, "/svc", "g");
  route.rules.push_back({{}, {{"header", "x-dev", "me", "exact"}}, {Target("laptop")}});
  VirtualHost host = SeedHost(zone);
  EXPECT_THAT(RouteNames(host), ElementsAre("api/default", "svc/rules/0", "svc/g/rules/0",
                                            "svc/g/rules/1", "svc/default"));
  host.mutable_routes()->DeleteSubrange(0, 1);
  EXPECT_EQ(host.routes(0).route().cluster(), "laptop");
  EXPECT_EQ(host.routes(3).route().cluster(), "staging");
  EXPECT_EQ(host.routes(3).match().headers_size(), 0);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(host.routes(i).match().prefix(), "/svc");
}

TEST(TranslateRouteTest, HeaderAndQueryMatches) {
  ZoneBuilder zone = SeedZone();
  model::RouteGroup& group = zone.AddGroup("g", {Target("envoy-simple")});
  group.rules.push_back({{},
                         {{"header", "x-exact", "a", "exact"},
                          {"header", "x-prefix", "b", "prefix"},
                          {"header", "x-suffix", "c", "suffix"},
                          {"header", "x-regex", "v[0-9]+", "regex"},
                          {"header", "x-present", "", "present"},
                          {"query", "q-exact", "1", "exact"},
                          {"query", "q-present", "", "present"},
                          {"query", "q-regex", "a|b", "regex"}},
                         {Target("envoy-simple")}});
  zone.AddRoute("r", kDomain, "/r", "g");
  const Route route = RoutesOf(SeedHost(zone), "r").at(0);
  const auto& headers = route.match().headers();
  ASSERT_EQ(headers.size(), 5);
  EXPECT_EQ(headers[0].name(), "x-exact");
  EXPECT_EQ(headers[0].string_match().exact(), "a");
  EXPECT_EQ(headers[1].string_match().prefix(), "b");
  EXPECT_EQ(headers[2].string_match().suffix(), "c");
  EXPECT_EQ(headers[3].string_match().safe_regex().regex(), "v[0-9]+");
  EXPECT_TRUE(headers[4].present_match());
  const auto& query = route.match().query_parameters();
  ASSERT_EQ(query.size(), 3);
  EXPECT_EQ(query[0].name(), "q-exact");
  EXPECT_EQ(query[0].string_match().exact(), "1");
  EXPECT_TRUE(query[1].present_match());
  EXPECT_EQ(query[2].string_match().safe_regex().regex(), "a|b");
}

TEST(TranslateRouteTest, MethodsMatchTheMethodPseudoHeader) {
  ZoneBuilder zone = SeedZone();
  model::RouteGroup& group = zone.AddGroup("g", {Target("envoy-simple")});
  group.rules.push_back({{"GET"}, {}, {Target("envoy-simple")}});
  group.rules.push_back({{"GET", "POST"}, {}, {Target("envoy-simple")}});
  zone.AddRoute("r", kDomain, "/r", "g");
  std::vector<Route> routes = RoutesOf(SeedHost(zone), "r");
  ASSERT_EQ(routes.size(), 3u);  // two rules and the default
  const HeaderMatcher* one = FindHeader(routes[0], ":method");
  ASSERT_NE(one, nullptr);
  EXPECT_EQ(one->string_match().exact(), "GET");
  const HeaderMatcher* two = FindHeader(routes[1], ":method");
  ASSERT_NE(two, nullptr);
  const std::string& regex = two->string_match().safe_regex().regex();
  EXPECT_TRUE(RE2::FullMatch("GET", regex));
  EXPECT_TRUE(RE2::FullMatch("POST", regex));
  EXPECT_FALSE(RE2::FullMatch("PUT", regex));
  EXPECT_FALSE(RE2::FullMatch("GETX", regex));
}

// Cookie matches become a regex over the whole cookie header; check the
// regex the way Envoy applies it (RE2, full match).
struct CookieCase {
  std::string behavior;
  std::string value;
  std::vector<std::string> matching;
  std::vector<std::string> not_matching;
};

class CookieMatchTest : public ::testing::TestWithParam<CookieCase> {};

TEST_P(CookieMatchTest, RegexOverCookieHeader) {
  const CookieCase& c = GetParam();
  ZoneBuilder zone = SeedZone();
  model::RouteGroup& group = zone.AddGroup("g", {Target("envoy-simple")});
  group.rules.push_back(
      {{}, {{"cookie", "dev.id", c.value, c.behavior}}, {Target("envoy-simple")}});
  zone.AddRoute("r", kDomain, "/r", "g");
  const Route route = RoutesOf(SeedHost(zone), "r").at(0);
  const HeaderMatcher* cookie = FindHeader(route, "cookie");
  ASSERT_NE(cookie, nullptr);
  const std::string& regex = cookie->string_match().safe_regex().regex();
  for (const std::string& header : c.matching) {
    EXPECT_TRUE(RE2::FullMatch(header, regex)) << regex << " vs " << header;
  }
  for (const std::string& header : c.not_matching) {
    EXPECT_FALSE(RE2::FullMatch(header, regex)) << regex << " vs " << header;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Behaviors, CookieMatchTest,
    ::testing::Values(
        CookieCase{
            "exact",
            "alice",
            {"dev.id=alice", "a=1; dev.id=alice", "dev.id=alice; b=2", "a=1;dev.id=alice;b=2"},
            {"dev.id=alicex", "devXid=alice", "xdev.id=alice", "a=dev.id=alice", ""}},
        CookieCase{"prefix", "ali", {"dev.id=alice", "a=1; dev.id=ali"}, {"dev.id=bob", "x=ali"}},
        CookieCase{"suffix", "ice", {"dev.id=alice; b=2"}, {"dev.id=icebob", "b=ice"}},
        CookieCase{"regex", "a.*e", {"q=1; dev.id=alice"}, {"dev.id=bob"}},
        CookieCase{"present", "", {"dev.id=", "a=1; dev.id=x"}, {"a=1", "dev.idx=1"}}));

TEST(TranslateRouteTest, SingleTargetWithoutMetadataIsPlainCluster) {
  VirtualHost host = SeedHost(SeedZone());
  EXPECT_EQ(host.routes(0).route().cluster(), "envoy-simple");
  EXPECT_FALSE(host.routes(0).route().has_weighted_clusters());
}

TEST(TranslateRouteTest, WeightedTargets) {
  ZoneBuilder zone = SeedZone();
  zone.AddCluster("new");
  zone.AddGroup("g", {Target("envoy-simple", 80), Target("new", 20)});
  zone.AddRoute("r", kDomain, "/r", "g");
  const Route route = RoutesOf(SeedHost(zone), "r").at(0);
  const auto& action = route.route();
  ASSERT_TRUE(action.has_weighted_clusters());
  const auto& weighted = action.weighted_clusters();
  ASSERT_EQ(weighted.clusters_size(), 2);
  EXPECT_EQ(weighted.clusters(0).name(), "envoy-simple");
  EXPECT_EQ(weighted.clusters(0).weight().value(), 80u);
  EXPECT_EQ(weighted.clusters(1).name(), "new");
  EXPECT_EQ(weighted.clusters(1).weight().value(), 20u);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  EXPECT_EQ(weighted.total_weight().value(), 100u);  // gRPC 1.51 checks it
#pragma GCC diagnostic pop
  EXPECT_FALSE(weighted.clusters(0).has_metadata_match());
}

TEST(TranslateRouteTest, TargetMetadataBecomesMetadataMatch) {
  ZoneBuilder zone = SeedZone();
  zone.AddGroup("g", {Target("envoy-simple", 1, {{"version", "2"}, {"stage", "canary"}})});
  zone.AddRoute("r", kDomain, "/r", "g");
  const Route route = RoutesOf(SeedHost(zone), "r").at(0);
  const auto& action = route.route();
  // A single target with metadata still needs weighted_clusters: only a
  // cluster weight carries its own metadata_match.
  ASSERT_TRUE(action.has_weighted_clusters());
  ASSERT_EQ(action.weighted_clusters().clusters_size(), 1);
  const auto& match = action.weighted_clusters().clusters(0).metadata_match();
  const auto& fields = match.filter_metadata().at("envoy.lb").fields();
  EXPECT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields.at("version").string_value(), "2");
  EXPECT_EQ(fields.at("stage").string_value(), "canary");
}

TEST(TranslateRouteTest, GroupRetryPolicy) {
  ZoneBuilder zone = SeedZone();
  model::RouteGroup& group = zone.AddGroup("g", {Target("envoy-simple")});
  group.retry_policy = model::RetryPolicy{3, 250, 2000};
  zone.AddRoute("r", kDomain, "/r", "g");
  const Route route = RoutesOf(SeedHost(zone), "r").at(0);
  const auto& action = route.route();
  ASSERT_TRUE(action.has_retry_policy());
  EXPECT_EQ(action.retry_policy().retry_on(), "connect-failure,reset,5xx");
  EXPECT_EQ(action.retry_policy().num_retries().value(), 3u);
  EXPECT_EQ(action.retry_policy().per_try_timeout().nanos(), 250'000'000);
  // No route timeout: the policy's overall timeout applies.
  EXPECT_EQ(action.timeout().seconds(), 2);
}

TEST(TranslateRouteTest, RouteRetryPolicyAndTimeoutWin) {
  ZoneBuilder zone = SeedZone();
  model::RouteGroup& group = zone.AddGroup("g", {Target("envoy-simple")});
  group.retry_policy = model::RetryPolicy{3, 250, 2000};
  model::Route& route = zone.AddRoute("r", kDomain, "/r", "g");
  route.retry_policy = model::RetryPolicy{0, 0, 0};
  route.timeout_ms = 1500;
  const Route translated = RoutesOf(SeedHost(zone), "r").at(0);
  const auto& action = translated.route();
  ASSERT_TRUE(action.has_retry_policy());
  // Zero is explicit: Envoy reads an unset num_retries as 1.
  ASSERT_TRUE(action.retry_policy().has_num_retries());
  EXPECT_EQ(action.retry_policy().num_retries().value(), 0u);
  EXPECT_FALSE(action.retry_policy().has_per_try_timeout());
  EXPECT_EQ(action.timeout().seconds(), 1);
  EXPECT_EQ(action.timeout().nanos(), 500'000'000);
}

TEST(TranslateRouteTest, NoPolicyNoRetryNoTimeout) {
  const VirtualHost host = SeedHost(SeedZone());
  const auto& action = host.routes(0).route();
  EXPECT_FALSE(action.has_retry_policy());
  EXPECT_FALSE(action.has_timeout());
}

TEST(TranslateRouteTest, GroupWithoutDefaultFallsThrough) {
  ZoneBuilder zone = SeedZone();
  model::RouteGroup& group = zone.AddGroup("rules-only", {});
  group.rules.push_back({{}, {{"header", "x-dev", "me", "exact"}}, {Target("envoy-simple")}});
  zone.AddRoute("r", kDomain, "/api/r", "rules-only");
  EXPECT_THAT(RouteNames(SeedHost(zone)),
              ElementsAre("r/rules-only/rules/0", "api/default"));  // "/api/r" first
}

TEST(TranslateRouteTest, RoutesOfOtherDomainsAreIgnored) {
  ZoneBuilder zone = SeedZone();
  zone.AddDomain("other.example.com", 8888);
  zone.AddRoute("elsewhere", "other.example.com:8888", "/x", "default");
  EXPECT_THAT(RouteNames(SeedHost(zone)), ElementsAre("api/default"));
}

}  // namespace
}  // namespace causeway::xds
