#include "support/xds/ads_test_util.h"

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"

namespace causeway::xds::testing {
namespace {

std::string NameOf(const google::protobuf::Any& any) {
  if (any.Is<envoy::config::listener::v3::Listener>()) {
    envoy::config::listener::v3::Listener m;
    any.UnpackTo(&m);
    return m.name();
  }
  if (any.Is<envoy::config::route::v3::RouteConfiguration>()) {
    envoy::config::route::v3::RouteConfiguration m;
    any.UnpackTo(&m);
    return m.name();
  }
  if (any.Is<envoy::config::cluster::v3::Cluster>()) {
    envoy::config::cluster::v3::Cluster m;
    any.UnpackTo(&m);
    return m.name();
  }
  if (any.Is<envoy::config::endpoint::v3::ClusterLoadAssignment>()) {
    envoy::config::endpoint::v3::ClusterLoadAssignment m;
    any.UnpackTo(&m);
    return m.cluster_name();
  }
  ADD_FAILURE() << "unexpected resource type " << any.type_url();
  return "";
}

void ExpectUnique(const std::vector<std::string>& names) {
  std::set<std::string> seen(names.begin(), names.end());
  EXPECT_EQ(seen.size(), names.size()) << "a resource name appears twice in one response";
}

}  // namespace

std::vector<std::string> Names(const DiscoveryResponse& response) {
  std::vector<std::string> out;
  for (const auto& any : response.resources()) {
    EXPECT_EQ(any.type_url(), response.type_url());
    out.push_back(NameOf(any));
  }
  ExpectUnique(out);
  return out;
}

std::vector<std::string> Names(const DeltaDiscoveryResponse& response) {
  std::vector<std::string> out;
  for (const auto& r : response.resources()) {
    EXPECT_EQ(r.name(), NameOf(r.resource()));
    EXPECT_FALSE(r.version().empty());
    out.push_back(r.name());
  }
  ExpectUnique(out);
  return out;
}

std::vector<std::string> Removed(const DeltaDiscoveryResponse& response) {
  std::vector<std::string> out(response.removed_resources().begin(),
                               response.removed_resources().end());
  ExpectUnique(out);
  return out;
}

void AdsTest::SetUp() {
  auto store = store::OpenStore("", dir_.path());
  ASSERT_TRUE(store.ok()) << store.status();
  store_ = std::move(*store);
  catalog_ = std::make_unique<catalog::Catalog>(store_.get(), &RealTime::Instance());
  ASSERT_TRUE(catalog_->Open().ok());

  Upsert(model::Kind::kZone, "z", model::Json::object());
  Upsert(model::Kind::kCluster, "blue", {{"instances", {{{"host", "10.0.0.1"}, {"port", 8080}}}}});
  Upsert(model::Kind::kCluster, "green", {{"instances", {{{"host", "10.0.0.2"}, {"port", 8080}}}}});
  Upsert(model::Kind::kDomain, "api.svc:80", {{"host", "api.svc"}, {"port", 80}});
  Upsert(model::Kind::kRouteGroup, "rg", {{"default", {{{"cluster", "blue"}}}}});
  Upsert(model::Kind::kRoute, "r",
         {{"domain", "api.svc:80"}, {"path", "/"}, {"route_group", "rg"}});
  Upsert(model::Kind::kProxy, "front", {{"domains", {"api.svc:80"}}});

  XdsServer::Options options;
  options.debounce = std::chrono::milliseconds(20);
  options.max_delay = std::chrono::milliseconds(200);
  // More completion queues than this machine may have cores: streams are
  // spread over several polling threads whatever the machine.
  options.threads = 3;
  AdjustOptions(&options);
  server_ = std::make_unique<XdsServer>(catalog_.get(), &RealTime::Instance(), options);
  address_ = "127.0.0.1:" + std::to_string(::causeway::testing::FreePort());
  const std::string& addr = address_;
  ASSERT_TRUE(server_->Start(addr).ok());
  channel_ = grpc::CreateChannel(addr, ClientCredentials());
  stub_ = AggregatedDiscoveryService::NewStub(channel_);
}

void AdsTest::TearDown() {
  stub_.reset();
  channel_.reset();
  if (server_) server_->Stop();
  server_.reset();
  if (catalog_) catalog_->Close();
}

void AdsTest::Upsert(model::Kind kind, const std::string& name, const model::Json& body) {
  auto parsed = model::ParseObject(kind, body, kind == model::Kind::kZone ? "" : "z", name);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  catalog::Mutation m;
  m.type = catalog::Mutation::Type::kUpsert;
  m.key = parsed->key;
  m.spec = parsed->spec;
  auto result = catalog_->Write({m}, "test");
  ASSERT_TRUE(result.ok()) << result.status();
}

void AdsTest::Delete(model::Kind kind, const std::string& name) {
  catalog::Mutation m;
  m.type = catalog::Mutation::Type::kDelete;
  m.key = {kind, "z", name};
  auto result = catalog_->Write({m}, "test");
  ASSERT_TRUE(result.ok()) << result.status();
}

void AdsTest::PointGroupAt(const std::string& cluster) {
  Upsert(model::Kind::kRouteGroup, "rg", {{"default", {{{"cluster", cluster}}}}});
}

void AdsTest::SetInstances(const std::string& cluster, const std::vector<std::string>& hosts) {
  model::Json instances = model::Json::array();
  for (const auto& host : hosts) instances.push_back({{"host", host}, {"port", 8080}});
  Upsert(model::Kind::kCluster, cluster, {{"instances", instances}});
}

}  // namespace causeway::xds::testing
