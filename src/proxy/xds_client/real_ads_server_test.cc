// XdsClient against the hub's real ADS server (src/xds) over a catalog in a
// temporary SQLite store, with the data plane's own snapshot builder as the
// apply step: what the translation serves must be accepted and applied in
// make-before-break order.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "catalog/catalog.h"
#include "model/objects.h"
#include "proxy/config/build_config.h"
#include "proxy/xds_client/xds_client.h"
#include "support/sqlite_catalog.h"
#include "xds/server.h"

namespace causeway::proxy {
namespace {

using ::causeway::testing::WaitFor;
using namespace std::chrono_literals;  // NOLINT(google-build-using-namespace)

template <typename Map>
auto Values(const Map& map) {
  std::vector<std::remove_const_t<typename Map::mapped_type::element_type>> out;
  for (const auto& [name, value] : map) out.push_back(*value);
  return out;
}

// The cluster the only route of `set` sends traffic to, or "".
std::string RoutedCluster(const XdsResources& set) {
  std::set<std::string> clusters = ClusterNamesOf(set.routes);
  return clusters.size() == 1 ? *clusters.begin() : "";
}

class RealAdsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Upsert(model::Kind::kZone, "z", model::Json::object());
    Upsert(model::Kind::kCluster, "blue",
           {{"instances", {{{"host", "10.0.0.1"}, {"port", 8080}}}}});
    Upsert(model::Kind::kCluster, "green",
           {{"instances", {{{"host", "10.0.0.2"}, {"port", 8080}}}}});
    Upsert(model::Kind::kDomain, "api.svc:80", {{"host", "api.svc"}, {"port", 80}});
    Upsert(model::Kind::kRouteGroup, "rg", {{"default", {{{"cluster", "blue"}}}}});
    Upsert(model::Kind::kRoute, "r",
           {{"domain", "api.svc:80"}, {"path", "/"}, {"route_group", "rg"}});
    Upsert(model::Kind::kProxy, "front", {{"domains", {"api.svc:80"}}});
    port_ = ::causeway::testing::FreePort();
    StartServer();
  }

  void TearDown() override {
    client_.reset();
    StopServer();
    catalog_->Close();
  }

  void StartServer() {
    xds::XdsServer::Options options;
    options.debounce = 20ms;
    options.max_delay = 200ms;
    server_ = std::make_unique<xds::XdsServer>(catalog_.get(), &RealTime::Instance(), options);
    ASSERT_TRUE(server_->Start("127.0.0.1:" + std::to_string(port_)).ok());
  }

  void StopServer() {
    if (server_) server_->Stop();
    server_.reset();
  }

  void Upsert(model::Kind kind, const std::string& name, const model::Json& body) {
    auto parsed = model::ParseObject(kind, body, kind == model::Kind::kZone ? "" : "z", name);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    catalog::Mutation m;
    m.type = catalog::Mutation::Type::kUpsert;
    m.key = parsed->key;
    m.spec = parsed->spec;
    auto result = catalog_->Write({m}, "test");
    ASSERT_TRUE(result.ok()) << result.status();
  }

  // The data plane's validation, plus the make-before-break invariant: no
  // set handed over may name something it does not hold.
  absl::Status Apply(const XdsResources& set) {
    MissingResources missing = FindMissing(set);
    if (!missing.empty()) {
      std::lock_guard lock(mu_);
      violations_.push_back(missing.ToString());
    }
    auto snapshot = BuildConfig(Values(set.listeners), Values(set.routes), Values(set.clusters),
                                Values(set.endpoints));
    if (!snapshot.ok()) return snapshot.status();
    std::lock_guard lock(mu_);
    applied_.push_back(set);
    return absl::OkStatus();
  }

  void StartClient() {
    XdsClient::Options options;
    options.server = "127.0.0.1:" + std::to_string(port_);
    options.proxy_name = "front";
    options.zone = "z";
    options.node_id = "front-1";
    options.backoff.initial = 20ms;
    options.backoff.max = 200ms;
    client_ = std::make_unique<XdsClient>(options,
                                          [this](const XdsResources& set) { return Apply(set); });
    client_->Start();
  }

  XdsResources Last() {
    std::lock_guard lock(mu_);
    return applied_.empty() ? XdsResources{} : applied_.back();
  }
  size_t Applies() {
    std::lock_guard lock(mu_);
    return applied_.size();
  }
  std::vector<std::string> Violations() {
    std::lock_guard lock(mu_);
    return violations_;
  }

  // Everything the server knows it sent has been ACKed by this client.
  bool ServerSeesAllAcked() {
    nlohmann::json status = server_->ZoneStatus("z");
    if (status["proxies"].size() != 1) return false;
    const auto& types = status["proxies"][0]["types"];
    for (const char* type : {"cds", "eds", "lds", "rds"}) {
      if (!types.contains(type)) return false;
      const auto& t = types[type];
      if (!t.contains("version_sent") || t["version_sent"] != t["version_acked"]) return false;
    }
    return true;
  }

  ::causeway::testing::SqliteCatalog catalog_;
  std::unique_ptr<xds::XdsServer> server_;
  int port_ = 0;
  std::mutex mu_;
  std::vector<XdsResources> applied_;
  std::vector<std::string> violations_;
  std::unique_ptr<XdsClient> client_;
};

TEST_F(RealAdsServerTest, ReceivesAppliesAndAcksTheZone) {
  StartClient();
  ASSERT_TRUE(WaitFor([&] { return RoutedCluster(Last()) == "blue"; }))
      << client_->ConfigDump().dump(2);
  XdsResources set = Last();
  EXPECT_TRUE(set.listeners.contains("front:80"));
  EXPECT_TRUE(set.routes.contains("front:80"));
  EXPECT_TRUE(set.endpoints.contains("blue"));
  ASSERT_TRUE(WaitFor([&] { return ServerSeesAllAcked(); })) << server_->ZoneStatus("z").dump(2);
  EXPECT_EQ(client_->stats().updates_rejected, 0u) << client_->stats().last_error;
  EXPECT_THAT(Violations(), ::testing::IsEmpty());
}

TEST_F(RealAdsServerTest, FollowsChangesMakeBeforeBreak) {
  StartClient();
  ASSERT_TRUE(WaitFor([&] { return RoutedCluster(Last()) == "blue"; }));
  Upsert(model::Kind::kRouteGroup, "rg", {{"default", {{{"cluster", "green"}}}}});
  ASSERT_TRUE(WaitFor([&] { return RoutedCluster(Last()) == "green"; }))
      << client_->ConfigDump().dump(2);
  EXPECT_TRUE(Last().endpoints.contains("green"));
  ASSERT_TRUE(WaitFor([&] { return ServerSeesAllAcked(); })) << server_->ZoneStatus("z").dump(2);
  EXPECT_THAT(Violations(), ::testing::IsEmpty());
}

TEST_F(RealAdsServerTest, KeepsServingWhileTheServerRestarts) {
  StartClient();
  ASSERT_TRUE(WaitFor([&] { return RoutedCluster(Last()) == "blue"; }));
  ASSERT_TRUE(WaitFor([&] { return client_->stats().connected; }));
  StopServer();
  ASSERT_TRUE(WaitFor([&] { return !client_->stats().connected; }));
  EXPECT_EQ(RoutedCluster(Last()), "blue");
  EXPECT_EQ(client_->ConfigDump()["listeners"].size(), 1u);

  // Changed while the client was away: seen after it reconnects.
  Upsert(model::Kind::kRouteGroup, "rg", {{"default", {{{"cluster", "green"}}}}});
  StartServer();
  ASSERT_TRUE(WaitFor([&] { return RoutedCluster(Last()) == "green"; }))
      << client_->ConfigDump().dump(2);
  ASSERT_TRUE(WaitFor([&] { return client_->stats().connected; }));
  EXPECT_EQ(client_->stats().connects, 2u);
  EXPECT_THAT(Violations(), ::testing::IsEmpty());
}

}  // namespace
}  // namespace causeway::proxy
