// Endpoint weights and STRICT_DNS on the proxy's request path: a ProxyServer
// in-process with two workers, test origins on loopback addresses, raw
// HTTP/1.1 clients. For DNS, a real dnsmasq on a port of 127.0.0.1,
// authoritative for ".test", its address records from a hosts file it
// re-reads on SIGHUP (as test/integration/discovery/dns_collector_test.cc
// runs it); the proxy is pointed at it with ProxyServerOptions::dns_server,
// what causeway-proxy's --dns-server sets.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxy/config/build_config.h"
#include "proxy/server/proxy_server.h"
#include "proxy/upstream/dns_lookup.h"
#include "support/dnsmasq.h"
#include "support/process.h"
#include "support/proxy/memory_access_log.h"
#include "support/proxy/test_protos.h"
#include "test_origin.h"

namespace causeway::proxy {
namespace {

using causeway::testing::BuiltBinary;
using causeway::testing::Dnsmasq;
using causeway::testing::FreePort;
using causeway::testing::Subprocess;
using causeway::testing::TempDir;
using causeway::testing::WaitFor;
using envoy::config::cluster::v3::Cluster;
using envoy::config::endpoint::v3::ClusterLoadAssignment;
using envoy::config::listener::v3::Listener;
using envoy::config::route::v3::RouteConfiguration;
using ::testing::ElementsAre;
using testing::ParseText;
using testing::RawClient;
using testing::TestOrigin;

Listener MakeListener() {
  envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager hcm;
  hcm.set_stat_prefix("web");
  hcm.mutable_rds()->set_route_config_name("web");
  Listener l;
  l.set_name("web");
  l.mutable_address()->mutable_socket_address()->set_address("127.0.0.1");
  l.mutable_address()->mutable_socket_address()->set_port_value(0);
  auto* f = l.add_filter_chains()->add_filters();
  f->set_name("envoy.filters.network.http_connection_manager");
  f->mutable_typed_config()->PackFrom(hcm);
  return l;
}

// Every request to cluster `cluster`.
RouteConfiguration RoutesTo(const std::string& cluster) {
  RouteConfiguration routes;
  routes.set_name("web");
  auto* host = routes.add_virtual_hosts();
  host->set_name("any");
  host->add_domains("*");
  auto* route = host->add_routes();
  route->mutable_match()->set_prefix("/");
  route->mutable_route()->set_cluster(cluster);
  return routes;
}

std::string Get(const std::string& path = "/") {
  return "GET " + path + " HTTP/1.1\r\nHost: svc.test\r\n\r\n";
}

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

// --- weights ---------------------------------------------------------------

TEST(WeightedEndpointsTest, ThreeToOneOverFourThousandRequests) {
  TestOrigin heavy("heavy"), light("light");
  MemoryAccessLog log;
  ProxyServer server({.workers = 2, .access_log = &log});
  ASSERT_TRUE(server.Start().ok());
  Cluster cluster;
  cluster.set_name("weighted");
  cluster.set_type(Cluster::EDS);
  // The text proto is split by the ports put into it: left as written.
  // clang-format off
  ClusterLoadAssignment cla = ParseText<ClusterLoadAssignment>(R"pb(
    cluster_name: "weighted"
    endpoints {
      lb_endpoints {
        endpoint { address { socket_address { address: "127.0.0.1" port_value: )pb" +
                                                          std::to_string(heavy.port()) + R"pb( } } }
        load_balancing_weight { value: 3 }
      }
      lb_endpoints {
        endpoint { address { socket_address { address: "127.0.0.1" port_value: )pb" +
                                                          std::to_string(light.port()) + R"pb( } } }
        load_balancing_weight { value: 1 }
      }
    }
  )pb");
  // clang-format on
  auto snapshot = BuildConfig({MakeListener()}, {RoutesTo("weighted")}, {cluster}, {cla});
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  ASSERT_TRUE(server.UpdateConfig(*snapshot).ok());
  const uint16_t port = *server.ListenerPort("web");

  // Eight keep-alive clients at once, 500 requests each: the kernel spreads
  // their connections over both workers, each with its own schedule.
  constexpr int kClients = 8, kEach = 500;
  std::mutex mu;
  std::map<std::string, int> by_origin;
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&] {
      RawClient client(port);
      std::map<std::string, int> mine;
      for (int i = 0; i < kEach; ++i) {
        if (!client.Send(Get())) break;
        RawClient::Response r = client.Read();
        ++mine[r.status == 200 ? r.Header("x-origin") : "status " + std::to_string(r.status)];
      }
      std::lock_guard lock(mu);
      for (const auto& [k, v] : mine) by_origin[k] += v;
    });
  }
  for (auto& t : clients) t.join();
  const int total = kClients * kEach;
  EXPECT_EQ(by_origin["heavy"] + by_origin["light"], total);
  // 75/25 within ±3 points.
  EXPECT_GE(by_origin["heavy"], total * 72 / 100);
  EXPECT_LE(by_origin["heavy"], total * 78 / 100);
  EXPECT_GE(by_origin["light"], total * 22 / 100);
  EXPECT_LE(by_origin["light"], total * 28 / 100);
  EXPECT_EQ(heavy.requests(), by_origin["heavy"]);
  EXPECT_EQ(light.requests(), by_origin["light"]);
  server.Stop();
}

// --- STRICT_DNS against dnsmasq ----------------------------------------------

class StrictDnsTest : public ::testing::Test {
 protected:
  static constexpr std::chrono::milliseconds kRefresh{1000};

  void SetUp() override {
    if (access(Dnsmasq::kPath, X_OK) != 0)
      GTEST_SKIP() << "dnsmasq is not installed (dnsmasq-base)";
    dns_ = std::make_unique<Dnsmasq>(dir_.path(), FreePort());
    // Two origins behind one name: the same port on two loopback addresses.
    for (int attempt = 0; attempt < 20 && second_ == nullptr; ++attempt) {
      first_ = std::make_unique<TestOrigin>("first", "127.0.0.2", 0);
      ASSERT_TRUE(first_->listening());
      auto second = std::make_unique<TestOrigin>("second", "127.0.0.3", first_->port());
      if (second->listening()) second_ = std::move(second);
    }
    ASSERT_NE(second_, nullptr) << "no port free on both 127.0.0.2 and 127.0.0.3";
  }
  void TearDown() override {
    if (server_) server_->Stop();
    StopDns();
  }

  std::string DnsServer() const { return dns_->server(); }

  void StartDns() {
    dns_->Start();
    auto lookup = DnsLookup::Create(DnsServer());
    ASSERT_TRUE(lookup.ok()) << lookup.status();
    ASSERT_TRUE(WaitFor([&] { return (*lookup)->Addresses("probe.test").ok(); })) << dns_->Log();
  }
  void StopDns() {
    if (dns_) dns_->Stop();
  }
  // A new hosts file, re-read by dnsmasq.
  void SetHosts(const std::string& text) { dns_->SetHosts(text); }

  // The proxy serving cluster "svc": STRICT_DNS on svc.test at the origins'
  // port, re-resolved every kRefresh.
  void StartProxy() {
    server_ = std::make_unique<ProxyServer>(
        ProxyServerOptions{.workers = 2, .access_log = &log_, .dns_server = DnsServer()});
    ASSERT_TRUE(server_->Start().ok());
    // The text proto is split by the ports put into it: left as written.
    // clang-format off
    Cluster cluster = ParseText<Cluster>(R"pb(
      name: "svc"
      type: STRICT_DNS
      dns_refresh_rate { seconds: 1 }
      connect_timeout { seconds: 1 }
      load_assignment {
        cluster_name: "svc"
        endpoints {
          lb_endpoints {
            endpoint { address { socket_address { address: "svc.test" port_value: )pb" +
                                    std::to_string(first_->port()) + R"pb( } } }
          }
        }
      }
    )pb");
    // clang-format on
    auto snapshot = BuildConfig({MakeListener()}, {RoutesTo("svc")}, {cluster}, {});
    ASSERT_TRUE(snapshot.ok()) << snapshot.status();
    ASSERT_TRUE(server_->UpdateConfig(*snapshot).ok());
    client_ = std::make_unique<RawClient>(*server_->ListenerPort("web"));
  }

  // One request on the kept-alive client: the origin's name, or "503" etc.
  std::string Ask() {
    if (!client_->Send(Get())) return "send failed";
    RawClient::Response r = client_->Read();
    if (r.status == 200) return r.Header("x-origin");
    return std::to_string(r.status);
  }
  // Asks until the answer is `want` or `timeout` passes; how long it took.
  std::optional<std::chrono::milliseconds> AskUntil(const std::string& want,
                                                    std::chrono::milliseconds timeout) {
    const auto start = std::chrono::steady_clock::now();
    if (!WaitFor([&] { return Ask() == want; }, timeout)) return std::nullopt;
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start);
  }
  std::map<std::string, int> AskMany(int n) {
    std::map<std::string, int> seen;
    for (int i = 0; i < n; ++i) ++seen[Ask()];
    return seen;
  }

  TempDir dir_;
  std::unique_ptr<Dnsmasq> dns_;
  std::unique_ptr<TestOrigin> first_, second_;
  MemoryAccessLog log_;
  std::unique_ptr<ProxyServer> server_;
  std::unique_ptr<RawClient> client_;
};

TEST_F(StrictDnsTest, LookupReturnsEveryAddressRecord) {
  Write(dir_.File("hosts"), "10.0.0.2 users.test\n10.0.0.1 users.test\nfd00::7 users.test\n");
  StartDns();
  auto lookup = DnsLookup::Create(DnsServer());
  ASSERT_TRUE(lookup.ok()) << lookup.status();
  auto users = (*lookup)->Addresses("users.test");
  ASSERT_TRUE(users.ok()) << users.status();
  EXPECT_THAT(*users, ElementsAre("10.0.0.1", "10.0.0.2", "fd00::7"));
  auto none = (*lookup)->Addresses("nobody.test");  // NXDOMAIN: a definite answer
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());
  StopDns();
  auto down = (*lookup)->Addresses("users.test");
  EXPECT_EQ(down.status().code(), absl::StatusCode::kUnavailable) << down.status();
}

TEST_F(StrictDnsTest, TrafficFollowsARecordChangeWithinTheRefreshRate) {
  Write(dir_.File("hosts"), "127.0.0.2 svc.test\n");
  StartDns();
  StartProxy();
  EXPECT_EQ(AskMany(10), (std::map<std::string, int>{{"first", 10}}));

  SetHosts("127.0.0.3 svc.test\n");
  // The next lookup is at most one refresh away; dnsmasq's reload and the
  // hand-over to the workers get half a refresh more.
  std::optional<std::chrono::milliseconds> moved = AskUntil("second", kRefresh * 3 / 2);
  ASSERT_TRUE(moved.has_value()) << "traffic still goes to " << Ask();
  EXPECT_LE(*moved, kRefresh * 3 / 2);
  // And stays there, on the same downstream connection.
  EXPECT_EQ(AskMany(20), (std::map<std::string, int>{{"second", 20}}));
  EXPECT_GE(server_->DnsStats().lookups, 2u);
}

TEST_F(StrictDnsTest, EveryAddressOfTheNameIsAnEndpoint) {
  Write(dir_.File("hosts"), "127.0.0.2 svc.test\n127.0.0.3 svc.test\n");
  StartDns();
  StartProxy();
  // Round robin over both addresses (one downstream connection: one worker).
  EXPECT_EQ(AskMany(40), (std::map<std::string, int>{{"first", 20}, {"second", 20}}));
  // Each address has its own counters.
  auto stats = server_->EndpointStats();
  const std::string port = std::to_string(first_->port());
  EXPECT_EQ(stats[std::make_pair("svc", "127.0.0.2:" + port)].requests, 20u);
  EXPECT_EQ(stats[std::make_pair("svc", "127.0.0.3:" + port)].requests, 20u);
}

TEST_F(StrictDnsTest, FailedLookupsKeepTheLastAddresses) {
  Write(dir_.File("hosts"), "127.0.0.2 svc.test\n");
  StartDns();
  StartProxy();
  EXPECT_EQ(Ask(), "first");
  const uint64_t failures = server_->DnsStats().failures;
  StopDns();
  // Two refreshes fail (no server)...
  ASSERT_TRUE(WaitFor([&] { return server_->DnsStats().failures >= failures + 2; }, kRefresh * 10));
  // ... and the address they could not confirm still serves.
  EXPECT_EQ(AskMany(10), (std::map<std::string, int>{{"first", 10}}));
  // The server back with another address: followed again.
  Write(dir_.File("hosts"), "127.0.0.3 svc.test\n");
  StartDns();
  ASSERT_TRUE(AskUntil("second", kRefresh * 3 / 2).has_value()) << Ask();
}

TEST_F(StrictDnsTest, ANameThatStopsExistingLeavesNoEndpoint) {
  Write(dir_.File("hosts"), "127.0.0.2 svc.test\n");
  StartDns();
  StartProxy();
  EXPECT_EQ(Ask(), "first");
  SetHosts("127.0.0.9 other.test\n");  // svc.test: NXDOMAIN, a definite answer
  ASSERT_TRUE(AskUntil("503", kRefresh * 3 / 2).has_value()) << Ask();
  SetHosts("127.0.0.3 svc.test\n");
  ASSERT_TRUE(AskUntil("second", kRefresh * 3 / 2).has_value()) << Ask();
}

// --- the flag ------------------------------------------------------------------

TEST(DnsServerFlagTest, CausewayProxyRefusesAMalformedServer) {
  TempDir dir;
  Subprocess::Options options;
  options.argv = {BuiltBinary("causeway-proxy"), "--proxy",      "p",           "--config",
                  dir.File("none.yaml"),         "--dns-server", "localhost:53"};
  options.log_path = dir.File("proxy.log");
  Subprocess proxy(options);
  const int status = proxy.Wait(std::chrono::seconds(10));
  ASSERT_NE(status, -1) << "still running: " << proxy.Log();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_NE(WEXITSTATUS(status), 0);
  EXPECT_THAT(proxy.Log(), ::testing::HasSubstr("--dns-server"));
  EXPECT_THAT(proxy.Log(), ::testing::HasSubstr("IPv4:PORT"));
}

}  // namespace
}  // namespace causeway::proxy
