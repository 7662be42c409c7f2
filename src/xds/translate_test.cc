// Listeners, clusters, endpoints, the proxyless api_listener, determinism and
// errors. Route translation is covered in translate_route_test.cc.
#include "xds/translate.h"

#include <algorithm>
#include <random>

#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "support/xds/translate_test_util.h"

namespace causeway::xds {
namespace {

using envoy::config::cluster::v3::Cluster;
using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::SeedZone;
using testing::Target;
using testing::ZoneBuilder;

constexpr char kRouterType[] = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router";

std::string Json(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(message, &out, options).ok());
  return out;
}

template <typename T>
std::vector<std::string> Names(const std::vector<T>& resources) {
  std::vector<std::string> names;
  for (const T& r : resources) names.push_back(r.name());
  return names;
}

template <typename T>
std::vector<std::string> Bytes(const std::vector<T>& resources) {
  std::vector<std::string> bytes;
  for (const T& r : resources) bytes.push_back(SerializeDeterministic(r));
  return bytes;
}

ProxyResources MustTranslate(const ZoneView& zone, std::string_view proxy) {
  absl::StatusOr<ProxyResources> resources = TranslateProxy(zone, proxy);
  EXPECT_TRUE(resources.ok()) << resources.status();
  return resources.ok() ? *std::move(resources) : ProxyResources{};
}

void ExpectRouterLast(const HttpConnectionManager& hcm) {
  ASSERT_GT(hcm.http_filters_size(), 0);
  const auto& last = hcm.http_filters(hcm.http_filters_size() - 1);
  EXPECT_EQ(last.name(), "envoy.filters.http.router");
  EXPECT_EQ(last.typed_config().type_url(), kRouterType);
  envoy::extensions::filters::http::router::v3::Router router;
  EXPECT_TRUE(last.typed_config().UnpackTo(&router));
}

TEST(TranslateProxyTest, SeedListenerUsesRdsOverAds) {
  ProxyResources r = MustTranslate(SeedZone().View(), "dev-proxy");
  ASSERT_EQ(r.listeners.size(), 1u);
  const auto& listener = r.listeners[0];
  EXPECT_EQ(listener.name(), "dev-proxy:8888");
  EXPECT_EQ(listener.address().socket_address().address(), "0.0.0.0");
  EXPECT_EQ(listener.address().socket_address().port_value(), 8888u);
  ASSERT_EQ(listener.filter_chains_size(), 1);
  ASSERT_EQ(listener.filter_chains(0).filters_size(), 1);
  const auto& filter = listener.filter_chains(0).filters(0);
  EXPECT_EQ(filter.name(), "envoy.filters.network.http_connection_manager");
  HttpConnectionManager hcm;
  ASSERT_TRUE(filter.typed_config().UnpackTo(&hcm));
  EXPECT_FALSE(hcm.stat_prefix().empty());
  ASSERT_TRUE(hcm.has_rds());
  EXPECT_EQ(hcm.rds().route_config_name(), "dev-proxy:8888");
  EXPECT_TRUE(hcm.rds().config_source().has_ads());
  EXPECT_EQ(hcm.rds().config_source().resource_api_version(), envoy::config::core::v3::V3);
  ExpectRouterLast(hcm);
  // A trickled head cannot hold a connection (Envoy leaves this off).
  EXPECT_EQ(hcm.request_headers_timeout().seconds(), 10);
}

TEST(TranslateProxyTest, SeedRouteConfiguration) {
  ProxyResources r = MustTranslate(SeedZone().View(), "dev-proxy");
  ASSERT_EQ(r.routes.size(), 1u);
  EXPECT_EQ(Json(r.routes[0]),
            R"({"name":"dev-proxy:8888","virtual_hosts":[{"name":"demo.turbinelabs.io:8888",)"
            R"("domains":["demo.turbinelabs.io","demo.turbinelabs.io:8888"],"routes":[{"match":)"
            R"({"prefix":"/api"},"route":{"cluster":"envoy-simple"},"name":"api/default"}]}]})");
}

TEST(TranslateProxyTest, SeedClusterIsEdsOverAds) {
  ProxyResources r = MustTranslate(SeedZone().View(), "dev-proxy");
  ASSERT_EQ(r.clusters.size(), 1u);
  const Cluster& cluster = r.clusters[0];
  EXPECT_EQ(cluster.name(), "envoy-simple");
  EXPECT_EQ(cluster.type(), Cluster::EDS);
  EXPECT_TRUE(cluster.eds_cluster_config().eds_config().has_ads());
  EXPECT_EQ(cluster.eds_cluster_config().eds_config().resource_api_version(),
            envoy::config::core::v3::V3);
  EXPECT_EQ(cluster.lb_policy(), Cluster::ROUND_ROBIN);
  EXPECT_GT(cluster.connect_timeout().seconds(), 0);
  EXPECT_FALSE(cluster.has_lb_subset_config());
}

TEST(TranslateProxyTest, SeedEndpointsHaveOneWeightedLocality) {
  ProxyResources r = MustTranslate(SeedZone().View(), "dev-proxy");
  ASSERT_EQ(r.endpoints.size(), 1u);
  EXPECT_EQ(Json(r.endpoints[0]),
            R"({"cluster_name":"envoy-simple","endpoints":[{"locality":{},"lb_endpoints":[)"
            R"({"endpoint":{"address":{"socket_address":{"address":"127.0.0.1",)"
            R"("port_value":8080}}}}],"load_balancing_weight":1}]})");
  // priority 0 is the proto default, so JSON omits it; check it directly.
  EXPECT_EQ(r.endpoints[0].endpoints(0).priority(), 0u);
}

TEST(TranslateProxyTest, OneListenerPerPortSortedByName) {
  ZoneBuilder zone;
  zone.AddProxy("edge", {"b.example.com:8080", "a.example.com:80", "c.example.com:80"});
  zone.AddDomain("a.example.com", 80);
  zone.AddDomain("b.example.com", 8080);
  zone.AddDomain("c.example.com", 80);
  ProxyResources r = MustTranslate(zone.View(), "edge");
  EXPECT_THAT(Names(r.listeners), ElementsAre("edge:80", "edge:8080"));
  EXPECT_THAT(Names(r.routes), ElementsAre("edge:80", "edge:8080"));
  ASSERT_EQ(r.routes[0].virtual_hosts_size(), 2);
  EXPECT_EQ(r.routes[0].virtual_hosts(0).name(), "a.example.com:80");
  EXPECT_EQ(r.routes[0].virtual_hosts(1).name(), "c.example.com:80");
  ASSERT_EQ(r.routes[1].virtual_hosts_size(), 1);
  EXPECT_EQ(r.routes[1].virtual_hosts(0).name(), "b.example.com:8080");
  EXPECT_TRUE(r.clusters.empty());
}

TEST(TranslateProxyTest, AliasesWithAndWithoutPort) {
  ZoneBuilder zone = SeedZone();
  zone.AddProxy("p", {"demo.example.com:8888"});
  zone.AddDomain("demo.example.com", 8888, {"*.demo.example.com", "demo.*", "www.example.com"});
  ProxyResources r = MustTranslate(zone.View(), "p");
  ASSERT_EQ(r.routes.size(), 1u);
  ASSERT_EQ(r.routes[0].virtual_hosts_size(), 1);
  // "demo.*" is an Envoy prefix wildcard that already matches any port.
  EXPECT_THAT(
      r.routes[0].virtual_hosts(0).domains(),
      ElementsAre("demo.example.com", "demo.example.com:8888", "*.demo.example.com",
                  "*.demo.example.com:8888", "demo.*", "www.example.com", "www.example.com:8888"));
}

TEST(TranslateProxyTest, ServesOnlyReferencedClustersSorted) {
  ZoneBuilder zone = SeedZone();
  zone.AddCluster("unused");
  zone.AddCluster("beta", {{"10.0.0.2", 80, {}}});
  zone.AddCluster("alpha", {{"10.0.0.1", 80, {}}});
  model::RouteGroup& group = zone.AddGroup("split", {Target("beta"), Target("alpha")});
  group.rules.push_back({{}, {{"header", "x-dev", "me", "exact"}}, {Target("envoy-simple")}});
  zone.AddRoute("root", "demo.turbinelabs.io:8888", "/", "split");
  ProxyResources r = MustTranslate(zone.View(), "dev-proxy");
  EXPECT_THAT(Names(r.clusters), ElementsAre("alpha", "beta", "envoy-simple"));
  std::vector<std::string> assignments;
  for (const auto& cla : r.endpoints) assignments.push_back(cla.cluster_name());
  EXPECT_THAT(assignments, ElementsAre("alpha", "beta", "envoy-simple"));
}

TEST(TranslateClusterTest, SubsetSelectorsFromTargetMetadata) {
  ZoneBuilder zone = SeedZone();
  model::RouteGroup& group = zone.AddGroup(
      "canary", {Target("envoy-simple", 90, {{"stage", "prod"}}),
                 Target("envoy-simple", 10, {{"stage", "canary"}, {"version", "2"}})});
  group.rules.push_back({{}, {}, {Target("envoy-simple", 1, {{"version", "1"}})}});
  zone.AddRoute("v", "demo.turbinelabs.io:8888", "/v", "canary");
  ZoneIndex index = *ZoneIndex::Build(zone.View());
  absl::StatusOr<Cluster> cluster = TranslateCluster(index, "envoy-simple");
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_TRUE(cluster->has_lb_subset_config());
  EXPECT_EQ(Json(cluster->lb_subset_config()),
            R"({"subset_selectors":[{"keys":["stage"]},{"keys":["stage","version"]},)"
            R"({"keys":["version"]}]})");  // fallback NO_FALLBACK is the default value
  EXPECT_EQ(cluster->lb_subset_config().fallback_policy(), Cluster::LbSubsetConfig::NO_FALLBACK);
}

TEST(TranslateClusterTest, InstancesSortedWithLbMetadata) {
  ZoneBuilder zone;
  zone.AddCluster(
      "svc", {{"10.0.0.9", 81, {{"version", "2"}, {"stage", "canary"}}}, {"10.0.0.1", 80, {}}});
  ZoneIndex index = *ZoneIndex::Build(zone.View());
  auto cla = TranslateEndpoints(index, "svc");
  ASSERT_TRUE(cla.ok()) << cla.status();
  ASSERT_EQ(cla->endpoints_size(), 1);
  const auto& locality = cla->endpoints(0);
  EXPECT_EQ(locality.load_balancing_weight().value(), 1u);
  ASSERT_EQ(locality.lb_endpoints_size(), 2);
  EXPECT_EQ(locality.lb_endpoints(0).endpoint().address().socket_address().address(), "10.0.0.1");
  EXPECT_FALSE(locality.lb_endpoints(0).has_metadata());
  const auto& second = locality.lb_endpoints(1);
  EXPECT_EQ(second.endpoint().address().socket_address().port_value(), 81u);
  const auto& lb = second.metadata().filter_metadata().at("envoy.lb").fields();
  EXPECT_EQ(lb.size(), 2u);
  EXPECT_EQ(lb.at("stage").string_value(), "canary");
  EXPECT_EQ(lb.at("version").string_value(), "2");
}

TEST(TranslateClusterTest, InstanceWeightBecomesLoadBalancingWeight) {
  ZoneBuilder zone;
  model::Instance heavy{"10.0.0.1", 80, {}};
  heavy.weight = 3;
  zone.AddCluster("svc", {heavy, {"10.0.0.2", 80, {}}});
  ZoneIndex index = *ZoneIndex::Build(zone.View());
  auto cla = TranslateEndpoints(index, "svc");
  ASSERT_TRUE(cla.ok()) << cla.status();
  ASSERT_EQ(cla->endpoints_size(), 1);
  const auto& locality = cla->endpoints(0);
  ASSERT_EQ(locality.lb_endpoints_size(), 2);
  EXPECT_EQ(locality.lb_endpoints(0).load_balancing_weight().value(), 3u);
  // The default weight is left unset (1 to Envoy and gRPC), so a cluster
  // without weights translates to the bytes it did before weights existed.
  EXPECT_FALSE(locality.lb_endpoints(1).has_load_balancing_weight());
}

TEST(TranslateClusterTest, PoliciesBecomeEnvoyClusterFields) {
  ZoneBuilder zone;
  zone.AddCluster("svc", {{"10.0.0.1", 80, {}}});
  ZoneIndex index = *ZoneIndex::Build(zone.View());
  model::Cluster svc{"svc", {{"10.0.0.1", 80, {}}}};
  svc.health_check = model::HealthCheck{"/healthz", 2000, 500, 2, 4};
  svc.outlier_detection = model::OutlierDetection{3, 1500, 40};
  svc.circuit_breakers = model::CircuitBreakers{10, 20, 30, 4};
  Cluster out = TranslateCluster(index, svc);

  ASSERT_EQ(out.health_checks_size(), 1);
  const auto& hc = out.health_checks(0);
  EXPECT_EQ(hc.http_health_check().path(), "/healthz");
  EXPECT_EQ(hc.interval().seconds(), 2);
  EXPECT_EQ(hc.timeout().nanos(), 500000000);
  EXPECT_EQ(hc.healthy_threshold().value(), 2u);
  EXPECT_EQ(hc.unhealthy_threshold().value(), 4u);

  EXPECT_EQ(out.outlier_detection().consecutive_5xx().value(), 3u);
  EXPECT_EQ(out.outlier_detection().base_ejection_time().seconds(), 1);
  EXPECT_EQ(out.outlier_detection().base_ejection_time().nanos(), 500000000);
  EXPECT_EQ(out.outlier_detection().max_ejection_percent().value(), 40u);

  ASSERT_EQ(out.circuit_breakers().thresholds_size(), 1);
  const auto& t = out.circuit_breakers().thresholds(0);
  EXPECT_EQ(t.priority(), envoy::config::core::v3::DEFAULT);
  EXPECT_EQ(t.max_connections().value(), 10u);
  EXPECT_EQ(t.max_pending_requests().value(), 20u);
  EXPECT_EQ(t.max_requests().value(), 30u);
  EXPECT_EQ(t.max_retries().value(), 4u);
  EXPECT_FALSE(t.has_retry_budget());

  svc.circuit_breakers->retry_budget = model::RetryBudget{25, 5};
  Cluster budgeted = TranslateCluster(index, svc);
  const auto& bt = budgeted.circuit_breakers().thresholds(0);
  EXPECT_EQ(bt.retry_budget().budget_percent().value(), 25.0);
  EXPECT_EQ(bt.retry_budget().min_retry_concurrency().value(), 5u);
}

TEST(TranslateClusterTest, NoPoliciesMeansNoPolicyFields) {
  ZoneBuilder zone;
  zone.AddCluster("svc", {{"10.0.0.1", 80, {}}});
  ZoneIndex index = *ZoneIndex::Build(zone.View());
  Cluster out = *TranslateCluster(index, "svc");
  EXPECT_EQ(out.health_checks_size(), 0);
  EXPECT_FALSE(out.has_outlier_detection());
  EXPECT_FALSE(out.has_circuit_breakers());
}

TEST(TranslateClusterTest, NoInstancesMeansNoLocality) {
  ZoneBuilder zone;
  zone.AddCluster("empty");
  ZoneIndex index = *ZoneIndex::Build(zone.View());
  auto cla = TranslateEndpoints(index, "empty");
  ASSERT_TRUE(cla.ok());
  EXPECT_EQ(cla->cluster_name(), "empty");
  EXPECT_EQ(cla->endpoints_size(), 0);
}

TEST(TranslateClusterTest, MissingClusterIsNotFound) {
  ZoneIndex index = *ZoneIndex::Build(SeedZone().View());
  EXPECT_EQ(TranslateCluster(index, "nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(TranslateEndpoints(index, "nope").status().code(), absl::StatusCode::kNotFound);
}

TEST(TranslateApiListenerTest, InlineRoutesForProxylessGrpc) {
  ZoneBuilder zone = SeedZone();
  zone.AddCluster("other");
  auto listener = TranslateApiListener(zone.View(), "demo.turbinelabs.io:8888");
  ASSERT_TRUE(listener.ok()) << listener.status();
  EXPECT_EQ(listener->name(), "demo.turbinelabs.io:8888");
  EXPECT_FALSE(listener->has_address());  // an api_listener opens no socket
  ASSERT_TRUE(listener->has_api_listener());
  HttpConnectionManager hcm;
  ASSERT_TRUE(listener->api_listener().api_listener().UnpackTo(&hcm));
  ExpectRouterLast(hcm);
  ASSERT_TRUE(hcm.has_route_config());
  // The same virtual host the proxy gets over RDS.
  ProxyResources proxy = MustTranslate(zone.View(), "dev-proxy");
  EXPECT_EQ(Json(hcm.route_config().virtual_hosts(0)), Json(proxy.routes[0].virtual_hosts(0)));

  ZoneIndex index = *ZoneIndex::Build(zone.View());
  auto clusters = ClustersOfDomain(index, "demo.turbinelabs.io:8888");
  ASSERT_TRUE(clusters.ok());
  EXPECT_THAT(*clusters, ElementsAre("envoy-simple"));
}

TEST(TranslateApiListenerTest, UnknownDomainIsNotFound) {
  auto listener = TranslateApiListener(SeedZone().View(), "nowhere.example.com:1");
  EXPECT_EQ(listener.status().code(), absl::StatusCode::kNotFound);
}

TEST(DeterminismTest, ObjectOrderDoesNotChangeBytesOrVersions) {
  ZoneBuilder zone;
  zone.AddProxy("dev-proxy", {"demo.turbinelabs.io:8888", "b.example.com:80", "a.example.com:80"});
  zone.AddDomain("demo.turbinelabs.io", 8888, {"*.demo.io", "demo.*"});
  zone.AddDomain("a.example.com", 80);
  zone.AddDomain("b.example.com", 80);
  model::RouteGroup& group =
      zone.AddGroup("g", {Target("envoy-simple", 3, {{"b", "2"}, {"a", "1"}, {"c", "3"}}),
                          Target("envoy-simple", 1, {{"z", "9"}, {"y", "8"}})});
  group.retry_policy = model::RetryPolicy{2, 100, 1000};
  group.rules.push_back({{"GET", "PUT"},
                         {{"cookie", "k", "v", "exact"}, {"query", "q", "", "present"}},
                         {Target("other", 1, {{"m", "n"}, {"l", "o"}})}});
  zone.AddRoute("r", "demo.turbinelabs.io:8888", "/r", "g");
  zone.AddRoute("s", "demo.turbinelabs.io:8888", "/s", "g");
  zone.AddRoute("t", "a.example.com:80", "/", "g");
  zone.AddCluster("envoy-simple", {{"10.1.1.1", 1, {{"q", "1"}, {"p", "2"}}}, {"10.1.1.0", 2, {}}});
  zone.AddCluster("other", {{"10.1.1.2", 1, {{"m", "n"}, {"l", "o"}}}});
  ZoneView view = zone.View();
  ProxyResources first = MustTranslate(view, "dev-proxy");
  std::mt19937 rng(7);
  for (int i = 0; i < 5; ++i) {
    std::shuffle(view.objects.begin(), view.objects.end(), rng);
    ProxyResources again = MustTranslate(view, "dev-proxy");
    EXPECT_EQ(Bytes(again.listeners), Bytes(first.listeners));
    EXPECT_EQ(Bytes(again.routes), Bytes(first.routes));
    EXPECT_EQ(Bytes(again.clusters), Bytes(first.clusters));
    EXPECT_EQ(Bytes(again.endpoints), Bytes(first.endpoints));
    EXPECT_EQ(ResourceVersion(again.routes[0]), ResourceVersion(first.routes[0]));
  }
}

TEST(DeterminismTest, VersionFollowsContent) {
  ProxyResources r = MustTranslate(SeedZone().View(), "dev-proxy");
  const std::string version = ResourceVersion(r.routes[0]);
  EXPECT_EQ(version.size(), 16u);
  EXPECT_EQ(version.find_first_not_of("0123456789abcdef"), std::string::npos);
  auto changed = r.routes[0];
  changed.mutable_virtual_hosts(0)->mutable_routes(0)->mutable_match()->set_prefix("/apx");
  EXPECT_NE(ResourceVersion(changed), version);
  // Same bytes, different type: still different versions.
  envoy::config::route::v3::RouteConfiguration empty_route;
  envoy::config::cluster::v3::Cluster empty_cluster;
  EXPECT_NE(ResourceVersion(empty_route), ResourceVersion(empty_cluster));
}

TEST(DeterminismTest, PackDeterministicUnpacks) {
  ProxyResources r = MustTranslate(SeedZone().View(), "dev-proxy");
  google::protobuf::Any any = PackDeterministic(r.clusters[0]);
  EXPECT_EQ(any.type_url(), "type.googleapis.com/envoy.config.cluster.v3.Cluster");
  Cluster back;
  ASSERT_TRUE(any.UnpackTo(&back));
  EXPECT_EQ(back.name(), "envoy-simple");
}

TEST(TranslateErrorsTest, MissingProxyIsNotFound) {
  auto r = TranslateProxy(SeedZone().View(), "ghost");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("ghost"));
}

TEST(TranslateErrorsTest, MissingDomainNamesProxyAndDomain) {
  ZoneBuilder zone = SeedZone();
  zone.AddProxy("p", {"gone.example.com:80"});
  auto r = TranslateProxy(zone.View(), "p");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("gone.example.com:80"));
  EXPECT_THAT(r.status().message(), HasSubstr("domains[0]"));
}

TEST(TranslateErrorsTest, MissingRouteGroup) {
  ZoneBuilder zone = SeedZone();
  zone.AddRoute("orphan", "demo.turbinelabs.io:8888", "/o", "no-such-group");
  auto r = TranslateProxy(zone.View(), "dev-proxy");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("no-such-group"));
  EXPECT_THAT(r.status().message(), HasSubstr("orphan"));
}

TEST(TranslateErrorsTest, MissingCluster) {
  ZoneBuilder zone = SeedZone();
  zone.AddGroup("g", {Target("vanished")});
  zone.AddRoute("r", "demo.turbinelabs.io:8888", "/r", "g");
  auto r = TranslateProxy(zone.View(), "dev-proxy");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("vanished"));
}

TEST(TranslateErrorsTest, InvalidRegex) {
  ZoneBuilder zone = SeedZone();
  model::RouteGroup& group = zone.AddGroup("g", {Target("envoy-simple")});
  group.rules.push_back({{}, {{"header", "x-v", "(unclosed", "regex"}}, {Target("envoy-simple")}});
  zone.AddRoute("r", "demo.turbinelabs.io:8888", "/r", "g");
  auto r = TranslateProxy(zone.View(), "dev-proxy");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("(unclosed"));
  EXPECT_THAT(r.status().message(), HasSubstr("rules[0].matches[0]"));
}

TEST(TranslateErrorsTest, TwoDomainsClaimingOneHostName) {
  ZoneBuilder zone;
  zone.AddProxy("p", {"a.example.com:80", "b.example.com:80"});
  zone.AddDomain("a.example.com", 80, {"shared.example.com"});
  zone.AddDomain("b.example.com", 80, {"shared.example.com"});
  auto r = TranslateProxy(zone.View(), "p");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("shared.example.com"));
}

TEST(TranslateErrorsTest, DuplicateObjectIsRejected) {
  ZoneView view = SeedZone().View();
  view.objects.push_back(view.objects.back());
  auto index = ZoneIndex::Build(view);
  EXPECT_EQ(index.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(index.status().message(), HasSubstr("envoy-simple"));
}

TEST(TranslateErrorsTest, UnparsableObjectNamesTheObject) {
  ZoneView view = SeedZone().View();
  model::Object bad;
  bad.key = {model::Kind::kRoute, testing::kZone, "broken"};
  bad.spec = {{"domain", 42}};
  view.objects.push_back(bad);
  auto index = ZoneIndex::Build(view);
  EXPECT_FALSE(index.ok());
  EXPECT_THAT(index.status().message(), HasSubstr("broken"));
}

}  // namespace
}  // namespace causeway::xds
