#include "proxy/upstream/health_checker.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <set>

#include "gtest/gtest.h"
#include "net/http_server.h"
#include "proxy/upstream/load_balancer.h"
#include "support/process.h"

namespace causeway::proxy {
namespace {

using causeway::testing::WaitFor;
using std::chrono::milliseconds;

HealthCheckConfig HcConfig(uint32_t healthy, uint32_t unhealthy) {
  HealthCheckConfig c;
  c.path = "/healthz";
  c.interval = milliseconds(1000);
  c.timeout = milliseconds(500);
  c.healthy_threshold = healthy;
  c.unhealthy_threshold = unhealthy;
  return c;
}

CheckResult Ok() { return {CheckResult::Kind::kSuccess, ""}; }
CheckResult NoAnswer() { return {CheckResult::Kind::kNoResponse, "timeout"}; }
CheckResult Status(int s) {
  return {CheckResult::Kind::kUnexpectedStatus, "status " + std::to_string(s)};
}

TEST(HealthRecordTest, FirstSuccessIsEnoughThenThresholdsApply) {
  const HealthCheckConfig c = HcConfig(2, 3);
  EndpointHealth h;
  EXPECT_FALSE(h.healthy);  // pending its first check
  EXPECT_TRUE(RecordCheck(c, Ok(), h));
  EXPECT_TRUE(h.healthy);
  // Network failures count up to unhealthy_threshold.
  EXPECT_FALSE(RecordCheck(c, NoAnswer(), h));
  EXPECT_FALSE(RecordCheck(c, NoAnswer(), h));
  EXPECT_TRUE(h.healthy);
  EXPECT_TRUE(RecordCheck(c, NoAnswer(), h));
  EXPECT_FALSE(h.healthy);
  EXPECT_EQ(h.last_failure, "timeout");
  // Back: healthy_threshold successes in a row; a failure restarts the count.
  EXPECT_FALSE(RecordCheck(c, Ok(), h));
  EXPECT_FALSE(RecordCheck(c, NoAnswer(), h));
  EXPECT_FALSE(RecordCheck(c, Ok(), h));
  EXPECT_TRUE(RecordCheck(c, Ok(), h));
  EXPECT_TRUE(h.healthy);
  // An unexpected status is unhealthy at once.
  EXPECT_TRUE(RecordCheck(c, Status(503), h));
  EXPECT_FALSE(h.healthy);
  EXPECT_EQ(h.last_failure, "status 503");
}

TEST(HealthRecordTest, FirstFailureKeepsANewEndpointOut) {
  const HealthCheckConfig c = HcConfig(3, 5);
  EndpointHealth h;
  EXPECT_FALSE(RecordCheck(c, NoAnswer(), h));
  EXPECT_FALSE(h.healthy);
  EXPECT_TRUE(h.checked);
  EXPECT_FALSE(RecordCheck(c, Ok(), h));  // no longer its first check
  EXPECT_FALSE(RecordCheck(c, Ok(), h));
  EXPECT_TRUE(RecordCheck(c, Ok(), h));
}

TEST(HealthRecordTest, ExpectedStatuses) {
  HealthCheckConfig c = HcConfig(1, 1);
  EXPECT_TRUE(ExpectedStatus(c, 200));
  EXPECT_FALSE(ExpectedStatus(c, 204));  // Envoy's default is 200 alone
  c.expected_statuses = {{200, 300}, {404, 405}};
  EXPECT_TRUE(ExpectedStatus(c, 204));
  EXPECT_TRUE(ExpectedStatus(c, 404));
  EXPECT_FALSE(ExpectedStatus(c, 300));
  EXPECT_FALSE(ExpectedStatus(c, 503));
}

// An HTTP origin on a loopback port whose /healthz answers `status`.
class HealthOrigin {
 public:
  HealthOrigin() {
    http::Router router;
    router.Add({"GET", "/healthz", [this](http::Request& req) {
                  ++requests;
                  {
                    std::lock_guard lock(mu);
                    host = req.Header("host");
                  }
                  return http::Response::Text(status.load(), "ok\n");
                }});
    http::HttpServer::Options options;
    options.address = "127.0.0.1:0";
    options.io_threads = 1;
    options.worker_threads = 1;
    server_ = std::make_unique<http::HttpServer>(
        options, std::move(router),
        [](int s, std::string_view, std::string_view m) {
          return http::Response::Text(s, std::string(m));
        },
        [](const http::Request&, int, std::string_view, std::chrono::steady_clock::duration) {});
    EXPECT_TRUE(server_->Start().ok());
  }
  ~HealthOrigin() { server_->Shutdown(); }
  uint16_t port() const { return static_cast<uint16_t>(server_->port()); }
  std::string Host() {
    std::lock_guard lock(mu);
    return host;
  }

  std::atomic<int> status{200};
  std::atomic<int> requests{0};
  std::mutex mu;
  std::string host;

 private:
  std::unique_ptr<http::HttpServer> server_;
};

// A listening socket that accepts (in the kernel's backlog) and never
// answers: a check of it can only time out.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    socklen_t len = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

ProxyConfigSnapshot CheckedConfig(const std::vector<uint16_t>& ports, const HealthCheckConfig& hc) {
  auto config = std::make_shared<ProxyConfig>();
  auto cluster = std::make_shared<ClusterConfig>();
  cluster->name = "api";
  cluster->health_check = hc;
  for (uint16_t port : ports) {
    Endpoint e;
    e.address = "127.0.0.1";
    e.port = port;
    cluster->endpoints.push_back(e);
  }
  config->clusters["api"] = cluster;
  return config;
}

class HealthCheckerTest : public ::testing::Test {
 protected:
  EndpointHealth Health(uint16_t port) {
    auto all = checker_.Endpoints();
    auto it = all.find({"api", "127.0.0.1:" + std::to_string(port)});
    return it == all.end() ? EndpointHealth{} : it->second;
  }
  HealthChecker::Counters Counters() { return checker_.ClusterCounters()["api"]; }
  // Moves simulated time to the next timer (the next check or a timeout).
  void Step() {
    std::chrono::steady_clock::time_point at;
    ASSERT_TRUE(time_.NextDeadline(&at));
    time_.Advance(at - time_.Monotonic());
  }

  SimulatedTime time_;
  std::atomic<int> changes_{0};
  HealthChecker checker_{&time_, [this] { ++changes_; }};
};

TEST_F(HealthCheckerTest, ChecksFlipHealthAndTheSnapshotFollows) {
  HealthOrigin origin;
  auto config = CheckedConfig({origin.port()}, HcConfig(2, 2));
  // The first check runs at once; Follow waits for it.
  checker_.Follow(*config, milliseconds(30000));
  EXPECT_TRUE(Health(origin.port()).healthy);
  EXPECT_EQ(origin.Host(), "api");  // no host configured: the cluster's name
  EXPECT_FALSE(checker_.Apply(config)->clusters.at("api")->endpoints[0].failed_active_hc);

  origin.status = 503;
  Step();
  ASSERT_TRUE(WaitFor([&] { return !Health(origin.port()).healthy; }, milliseconds(30000)));
  EXPECT_EQ(Health(origin.port()).last_failure, "status 503");
  EXPECT_TRUE(checker_.Apply(config)->clusters.at("api")->endpoints[0].failed_active_hc);
  // on_change runs just after the state moves (outside the checker's lock).
  EXPECT_TRUE(WaitFor([&] { return changes_.load() == 2; }, milliseconds(30000)));

  origin.status = 200;
  Step();
  ASSERT_TRUE(WaitFor([&] { return Counters().success == 2; }, milliseconds(30000)));
  EXPECT_FALSE(Health(origin.port()).healthy);  // one of two successes
  Step();
  ASSERT_TRUE(WaitFor([&] { return Health(origin.port()).healthy; }, milliseconds(30000)));
  HealthChecker::Counters c = Counters();
  EXPECT_EQ(c.attempt, 4u);
  EXPECT_EQ(c.success, 3u);
  EXPECT_EQ(c.failure, 1u);
  EXPECT_EQ(c.healthy, 1u);
  EXPECT_EQ(origin.requests.load(), 4);
}

TEST_F(HealthCheckerTest, TimeoutsFailAndFailedEndpointsAreNotPicked) {
  HealthOrigin origin;
  SilentListener silent;
  HealthCheckConfig hc = HcConfig(1, 2);
  hc.host = "health.internal";
  auto config = CheckedConfig({origin.port(), silent.port()}, hc);
  checker_.Follow(*config, milliseconds(0));
  ASSERT_TRUE(WaitFor([&] { return Health(origin.port()).healthy; }, milliseconds(30000)));
  EXPECT_EQ(origin.Host(), "health.internal");
  EXPECT_FALSE(Health(silent.port()).checked);  // its check waits for its timeout
  Step();  // the timeout (500 ms) comes before the next check (1 s)
  ASSERT_TRUE(WaitFor([&] { return Health(silent.port()).checked; }, milliseconds(30000)));
  EXPECT_FALSE(Health(silent.port()).healthy);
  EXPECT_EQ(Health(silent.port()).last_failure, "timeout");
  // Unchecked or failed endpoints are left out of the picks.
  auto applied = checker_.Apply(config);
  LoadBalancer lb(1);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(lb.Choose(*applied->clusters.at("api"), {})->port, origin.port());
  }
  EXPECT_EQ(Counters().healthy, 1u);
}

TEST_F(HealthCheckerTest, RefusedConnectionsCountToTheThreshold) {
  auto origin = std::make_unique<HealthOrigin>();
  const uint16_t port = origin->port();
  checker_.Follow(*CheckedConfig({port}, HcConfig(1, 2)), milliseconds(30000));
  ASSERT_TRUE(Health(port).healthy);
  origin.reset();  // nothing listens there any more
  Step();
  ASSERT_TRUE(WaitFor([&] { return Counters().failure == 1; }, milliseconds(30000)));
  EXPECT_TRUE(Health(port).healthy);  // one of two failures
  EXPECT_EQ(Health(port).last_failure.rfind("connect: ", 0), 0u) << Health(port).last_failure;
  Step();
  ASSERT_TRUE(WaitFor([&] { return !Health(port).healthy; }, milliseconds(30000)));
  EXPECT_EQ(Counters().healthy, 0u);
}

TEST_F(HealthCheckerTest, NextCheckComesWithinTheJitter) {
  HealthOrigin origin;
  HealthCheckConfig hc = HcConfig(1, 1);
  hc.interval_jitter = milliseconds(300);
  checker_.Follow(*CheckedConfig({origin.port()}, hc), milliseconds(30000));
  std::set<std::chrono::steady_clock::duration> waits;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(WaitFor([&] { return Counters().success == static_cast<uint64_t>(i + 1); },
                        milliseconds(30000)));
    std::chrono::steady_clock::time_point at;
    ASSERT_TRUE(time_.NextDeadline(&at));
    EXPECT_GE(at - time_.Monotonic(), milliseconds(1000));
    EXPECT_LE(at - time_.Monotonic(), milliseconds(1300));
    waits.insert(at - time_.Monotonic());
    Step();
  }
  EXPECT_GT(waits.size(), 1u);  // five draws from 301 values, all equal: 1 in 8e9
}

TEST_F(HealthCheckerTest, HostNamesAreLookedUp) {
  HealthOrigin origin;
  auto config = std::make_shared<ProxyConfig>(*CheckedConfig({origin.port()}, HcConfig(1, 1)));
  auto cluster = std::make_shared<ClusterConfig>(*config->clusters.at("api"));
  cluster->endpoints[0].address = "localhost";  // LOGICAL_DNS keeps the name
  config->clusters["api"] = cluster;
  checker_.Follow(*config, milliseconds(30000));
  auto all = checker_.Endpoints();
  auto it = all.find({"api", "localhost:" + std::to_string(origin.port())});
  ASSERT_NE(it, all.end());
  EXPECT_TRUE(it->second.healthy) << it->second.last_failure;
}

TEST_F(HealthCheckerTest, AllUnhealthyPanicsToEveryEndpoint) {
  SilentListener a, b;
  auto config = CheckedConfig({a.port(), b.port()}, HcConfig(1, 1));
  checker_.Follow(*config, milliseconds(0));  // nothing checked yet: all failed
  auto applied = checker_.Apply(config);
  const ClusterConfig& cluster = *applied->clusters.at("api");
  ASSERT_TRUE(cluster.endpoints[0].failed_active_hc && cluster.endpoints[1].failed_active_hc);
  LoadBalancer lb(1);
  std::set<uint16_t> picked;
  for (int i = 0; i < 4; ++i) {
    const Endpoint* e = lb.Choose(cluster, {});
    ASSERT_NE(e, nullptr);
    picked.insert(e->port);
  }
  EXPECT_EQ(picked.size(), 2u);
  // What EDS marks unhealthy stays out even in panic.
  ClusterConfig eds_down = cluster;
  eds_down.endpoints[0].healthy = false;
  for (int i = 0; i < 4; ++i) EXPECT_EQ(lb.Choose(eds_down, {})->port, b.port());
}

TEST_F(HealthCheckerTest, ChangedConfigKeepsHealthAndRemovedClusterStops) {
  HealthOrigin origin, other;
  checker_.Follow(*CheckedConfig({origin.port()}, HcConfig(3, 1)), milliseconds(30000));
  ASSERT_TRUE(Health(origin.port()).healthy);
  origin.status = 503;
  Step();
  ASSERT_TRUE(WaitFor([&] { return !Health(origin.port()).healthy; }, milliseconds(30000)));
  origin.status = 200;
  // Another path and another endpoint. Both are checked at once and pass;
  // the new endpoint is healthy after that first check, the one that stays
  // kept its health and needs three successes in a row.
  HealthCheckConfig changed = HcConfig(3, 1);
  changed.path = "/healthz?v=2";
  checker_.Follow(*CheckedConfig({origin.port(), other.port()}, changed), milliseconds(30000));
  EXPECT_TRUE(Health(other.port()).healthy);
  ASSERT_TRUE(WaitFor([&] { return Counters().success == 3; }, milliseconds(30000)));
  EXPECT_FALSE(Health(origin.port()).healthy);
  EXPECT_EQ(Health(origin.port()).successes, 1u);
  EXPECT_EQ(Counters().attempt, 4u);  // counted across the change
  // Gone: no state, no timers, no more checks.
  checker_.Follow(ProxyConfig{}, milliseconds(0));
  EXPECT_TRUE(checker_.Endpoints().empty());
  EXPECT_TRUE(checker_.ClusterCounters().empty());
  ASSERT_TRUE(WaitFor([&] { return time_.PendingTimers() == 0; }, milliseconds(30000)));
}

}  // namespace
}  // namespace causeway::proxy
