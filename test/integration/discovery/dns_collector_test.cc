// The DNS collector against a real DNS server whose records change: dnsmasq
// on a port of 127.0.0.1, authoritative for ".test", with a TTL of 1 s.
// Address records come from a hosts file (re-read on SIGHUP); SRV records
// from its configuration (changed by restarting it on the same port).
#include "discovery/collectors/dns_collector.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <mutex>

#include "discovery/collectors/dns_resolver.h"
#include "support/dnsmasq.h"
#include "support/process.h"

namespace causeway::discovery {
namespace {

using causeway::testing::Dnsmasq;
using causeway::testing::FreePort;
using causeway::testing::Subprocess;
using causeway::testing::TempDir;
using causeway::testing::WaitFor;

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

class DnsCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(Dnsmasq::kPath, X_OK) != 0)
      GTEST_SKIP() << "dnsmasq is not installed (dnsmasq-base)";
    dns_ = std::make_unique<Dnsmasq>(dir_.path(), FreePort());
  }
  void TearDown() override { StopDns(); }

  void StartDns() {
    dns_->Start();
    // Ready when it answers.
    auto resolver = DnsResolver::Create(Server());
    ASSERT_TRUE(resolver.ok()) << resolver.status();
    ASSERT_TRUE(WaitFor([&] { return (*resolver)->Addresses("probe.test").ok(); })) << dns_->Log();
  }
  void StopDns() {
    if (dns_) dns_->Stop();
  }
  std::string Server() const { return dns_->server(); }

  void StartCollector(const std::string& target_text) {
    auto target = ParseDnsTarget(target_text);
    ASSERT_TRUE(target.ok()) << target.status();
    DnsCollector::Options options;
    options.server = Server();
    options.negative_interval = std::chrono::seconds(1);
    options.max_backoff = std::chrono::seconds(1);
    collector_ = std::make_unique<DnsCollector>(*target, options);
    ASSERT_TRUE(collector_
                    ->Start([this](Snapshot s) {
                      std::lock_guard lock(mu_);
                      sets_.push_back(std::move(s.clusters));
                    })
                    .ok());
  }

  // Waits until the last report gives `cluster` exactly these "host:port"s.
  bool WaitForInstances(const std::string& cluster, std::vector<std::string> want) {
    std::sort(want.begin(), want.end());
    return WaitFor(
        [&] {
          std::lock_guard lock(mu_);
          if (sets_.empty() || !sets_.back().contains(cluster)) return false;
          std::vector<std::string> got;
          for (const auto& i : sets_.back().at(cluster)) {
            got.push_back(i.host + ":" + std::to_string(i.port));
          }
          std::sort(got.begin(), got.end());
          return got == want;
        },
        std::chrono::seconds(10));
  }
  size_t reports() {
    std::lock_guard lock(mu_);
    return sets_.size();
  }

  TempDir dir_;
  std::unique_ptr<Dnsmasq> dns_;
  std::unique_ptr<DnsCollector> collector_;
  std::mutex mu_;
  std::vector<ClusterSet> sets_;
};

TEST_F(DnsCollectorTest, AddressRecordsFollowChangesOnTheirTtl) {
  Write(dir_.File("hosts"), "10.0.0.1 users.test\n");
  StartDns();
  StartCollector("users=users.test:8080");
  ASSERT_TRUE(WaitForInstances("users", {"10.0.0.1:8080"}));

  // New addresses, one of them IPv6; dnsmasq re-reads its hosts file on SIGHUP.
  dns_->SetHosts("10.0.0.2 users.test\n10.0.0.3 users.test\nfd00::7 users.test\n");
  ASSERT_TRUE(WaitForInstances("users", {"10.0.0.2:8080", "10.0.0.3:8080", "fd00::7:8080"}));

  // The name goes away: the cluster has no instances (a definite answer).
  dns_->SetHosts("10.0.0.9 other.test\n");
  ASSERT_TRUE(WaitForInstances("users", {}));
}

TEST_F(DnsCollectorTest, ServerOutageKeepsTheLastSet) {
  Write(dir_.File("hosts"), "10.0.0.1 users.test\n");
  StartDns();
  StartCollector("users=users.test:80");
  ASSERT_TRUE(WaitForInstances("users", {"10.0.0.1:80"}));
  const size_t before = reports();
  StopDns();
  // Several TTLs pass with lookups failing: nothing new is reported. (A
  // sleep, because what is checked is that no event happens.)
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(reports(), before);
  // Back with a change: picked up.
  Write(dir_.File("hosts"), "10.0.0.5 users.test\n");
  StartDns();
  ASSERT_TRUE(WaitForInstances("users", {"10.0.0.5:80"}));
}

TEST_F(DnsCollectorTest, SrvRecordsResolveTheirTargets) {
  Write(dir_.File("hosts"), "10.0.1.1 web1.test\n10.0.1.2 web2.test\n");
  Write(dir_.File("dnsmasq.conf"),
        "srv-host=_http._tcp.web.test,web1.test,8081,0,10\n"
        "srv-host=_http._tcp.web.test,web2.test,8082,0,10\n");
  StartDns();
  StartCollector("web=_http._tcp.web.test");
  ASSERT_TRUE(WaitForInstances("web", {"10.0.1.1:8081", "10.0.1.2:8082"}));

  // A target moves (hosts file, SIGHUP)...
  dns_->SetHosts("10.0.1.1 web1.test\n10.0.1.9 web2.test\n");
  ASSERT_TRUE(WaitForInstances("web", {"10.0.1.1:8081", "10.0.1.9:8082"}));

  // ...and the SRV set changes (configuration, restart on the same port).
  Write(dir_.File("dnsmasq.conf"), "srv-host=_http._tcp.web.test,web1.test,9000,0,10\n");
  StopDns();
  StartDns();
  ASSERT_TRUE(WaitForInstances("web", {"10.0.1.1:9000"}));
}

}  // namespace
}  // namespace causeway::discovery
