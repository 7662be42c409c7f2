// STRICT_DNS without a DNS server: which names a configuration follows, how
// addresses become endpoints, and the resolver thread against the system's
// resolver and an unreachable server. Record changes on a real DNS server
// are in test/integration/proxy/weights_and_dns_test.cc.
#include "proxy/upstream/strict_dns.h"

#include <algorithm>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "support/process.h"

namespace causeway::proxy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using Family = ClusterConfig::DnsFamily;

std::shared_ptr<const ClusterConfig> Cluster(
    const std::string& name, ClusterConfig::Discovery discovery, std::vector<std::string> addresses,
    std::chrono::milliseconds refresh = std::chrono::seconds(5), Family family = Family::kAuto) {
  auto c = std::make_shared<ClusterConfig>();
  c->name = name;
  c->discovery = discovery;
  c->dns_refresh_rate = refresh;
  c->dns_family = family;
  for (size_t i = 0; i < addresses.size(); ++i) {
    Endpoint e;
    e.address = addresses[i];
    e.port = 8080;
    e.weight = static_cast<uint32_t>(i + 2);
    e.healthy = i != 1;
    e.metadata = {{"n", std::to_string(i)}};
    c->endpoints.push_back(e);
  }
  return c;
}

std::shared_ptr<const std::vector<std::string>> List(std::vector<std::string> v) {
  return std::make_shared<const std::vector<std::string>>(std::move(v));
}

TEST(StrictDnsTest, NamesOfStrictDnsClustersOnly) {
  ProxyConfig config;
  using D = ClusterConfig::Discovery;
  config.clusters["a"] =
      Cluster("a", D::kStrictDns, {"users.test", "10.0.0.1", "fd00::1"}, std::chrono::seconds(5));
  config.clusters["b"] =
      Cluster("b", D::kStrictDns, {"users.test", "orders.test"}, std::chrono::milliseconds(300));
  config.clusters["c"] = Cluster("c", D::kLogicalDns, {"logical.test"});
  config.clusters["d"] = Cluster("d", D::kStatic, {"static.test"});
  config.clusters["e"] = Cluster("e", D::kStrictDns, {"10.0.0.2"});
  std::vector<DnsName> names = StrictDnsNames(config);
  // Sorted, once each, with the shortest refresh rate asking for it.
  EXPECT_THAT(names, ElementsAre(DnsName{"orders.test", std::chrono::milliseconds(300)},
                                 DnsName{"users.test", std::chrono::milliseconds(300)}));
}

TEST(StrictDnsTest, FamiliesAsEnvoyReadsThem) {
  const std::vector<std::string> both = {"10.0.0.1", "10.0.0.2", "fd00::1"};
  const std::vector<std::string> v4 = {"10.0.0.1"};
  const std::vector<std::string> v6 = {"fd00::1"};
  EXPECT_THAT(ForFamily(both, Family::kAll), ElementsAre("10.0.0.1", "10.0.0.2", "fd00::1"));
  EXPECT_THAT(ForFamily(both, Family::kV4Only), ElementsAre("10.0.0.1", "10.0.0.2"));
  EXPECT_THAT(ForFamily(both, Family::kV6Only), ElementsAre("fd00::1"));
  EXPECT_THAT(ForFamily(both, Family::kV4Preferred), ElementsAre("10.0.0.1", "10.0.0.2"));
  EXPECT_THAT(ForFamily(v6, Family::kV4Preferred), ElementsAre("fd00::1"));
  EXPECT_THAT(ForFamily(both, Family::kAuto), ElementsAre("fd00::1"));  // IPv6 first
  EXPECT_THAT(ForFamily(v4, Family::kAuto), ElementsAre("10.0.0.1"));
  EXPECT_TRUE(ForFamily(v4, Family::kV6Only).empty());
}

TEST(StrictDnsTest, EveryAddressBecomesAnEndpointOfTheOneThatNamedIt) {
  using D = ClusterConfig::Discovery;
  ProxyConfig config;
  auto strict = Cluster("s", D::kStrictDns, {"users.test", "gone.test", "10.9.9.9", "new.test"},
                        std::chrono::seconds(5), Family::kAll);
  auto eds = Cluster("e", D::kEds, {"10.0.0.1"});
  config.clusters["s"] = strict;
  config.clusters["e"] = eds;
  config.listeners.push_back(ListenerConfig{.name = "l"});
  DnsAddresses addresses;
  addresses["users.test"] = List({"10.0.0.1", "10.0.0.2", "fd00::1"});
  addresses["gone.test"] = List({});  // answered: no address
  // new.test: no answer yet

  ProxyConfigSnapshot out = ExpandStrictDns(config, addresses);
  EXPECT_EQ(out->FindCluster("e"), eds.get());  // shared, untouched
  ASSERT_EQ(out->listeners.size(), 1u);
  const ClusterConfig* s = out->FindCluster("s");
  ASSERT_NE(s, nullptr);
  EXPECT_NE(s, strict.get());
  EXPECT_NE(s->id.value(), strict->id.value());  // the balancer starts over
  EXPECT_EQ(strict->endpoints.size(), 4u);       // the snapshot given is kept as it was
  std::vector<std::string> got;
  for (const Endpoint& e : s->endpoints) got.push_back(e.Key());
  EXPECT_THAT(got,
              ElementsAre("10.0.0.1:8080", "10.0.0.2:8080", "[fd00::1]:8080", "10.9.9.9:8080"));
  // Weight, health and metadata come from the endpoint that named the host.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(s->endpoints[i].weight, 2u);
    EXPECT_TRUE(s->endpoints[i].healthy);
    EXPECT_EQ(s->endpoints[i].metadata, (LbMetadata{{"n", "0"}}));
  }
  EXPECT_EQ(s->endpoints[3].weight, 4u);
  EXPECT_EQ(s->dns_family, Family::kAll);
}

TEST(StrictDnsTest, ResolverFollowsNamesWithTheSystemResolver) {
  int changes = 0;
  std::mutex mu;
  StrictDnsResolver resolver("", [&] {
    std::lock_guard lock(mu);
    ++changes;
  });
  ASSERT_TRUE(resolver.Start().ok());
  // An IP literal resolves to itself without a DNS server.
  resolver.Follow({{"127.0.0.7", std::chrono::milliseconds(50)}}, std::chrono::seconds(5));
  DnsAddresses now = resolver.Current();
  ASSERT_TRUE(now.contains("127.0.0.7"));
  EXPECT_THAT(*now.at("127.0.0.7"), ElementsAre("127.0.0.7"));
  // Refreshed every 50 ms; the same answer is not news.
  ASSERT_TRUE(causeway::testing::WaitFor([&] { return resolver.lookups() >= 4; }));
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(changes, 1);
  }
  // Forgotten when no longer followed.
  resolver.Follow({}, std::chrono::seconds(1));
  EXPECT_TRUE(resolver.Current().empty());
}

TEST(StrictDnsTest, UnreachableServerIsAFailureAndFollowDoesNotWaitForever) {
  // A UDP port nothing listens on: queries are refused at once.
  const int port = causeway::testing::FreePort();
  StrictDnsResolver resolver("127.0.0.1:" + std::to_string(port), [] {});
  ASSERT_TRUE(resolver.Start().ok());
  const auto start = std::chrono::steady_clock::now();
  resolver.Follow({{"users.test", std::chrono::milliseconds(100)}}, std::chrono::seconds(10));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_TRUE(resolver.Current().empty());
  EXPECT_GE(resolver.failures(), 1u);
}

TEST(StrictDnsTest, ServerMustBeIpv4AndPort) {
  for (const char* bad :
       {"localhost:53", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", "::1:53", "127.0.0.1:x"}) {
    StrictDnsResolver resolver(bad, [] {});
    absl::Status s = resolver.Start();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(s.message()), HasSubstr("IPv4:PORT")) << bad;
  }
  StrictDnsResolver good("127.0.0.1:5353", [] {});
  EXPECT_TRUE(good.Start().ok());
}

}  // namespace
}  // namespace causeway::proxy
