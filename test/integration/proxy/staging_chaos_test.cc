// A bad day in staging, on the real causeway-proxy binary (static mode, so
// the hub's translation of the policies is in the path): four origins
// behind one cluster with active health checks, outlier detection and a
// retry policy with a per-try timeout, under a steady closed-loop load.
// Faults pile up one after another — one origin killed (its listener and
// connections closed), one answering 503 to traffic while its /healthz
// still passes, one taking 2 s per response — and then all are restored.
// After the first second of each fault the client must see fewer than
// 0.1 % errors; the bad origins leave the picks (unhealthy or ejected on
// /clusters) and are back after the restore. The numbers are printed.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "net/http_client.h"
#include "nlohmann/json.hpp"
#include "static_proxy_argv.h"
#include "support/process.h"
#include "test_origin.h"

namespace causeway::proxy {
namespace {

using causeway::testing::FreePort;
using causeway::testing::Subprocess;
using causeway::testing::TempDir;
using causeway::testing::WaitFor;
using proxy::testing::RawClient;
using proxy::testing::StaticProxyArgv;
using proxy::testing::TestOrigin;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ChaosClock = std::chrono::steady_clock;

constexpr int kChaosBucketMs = 100;
constexpr int kChaosBuckets = 1200;  // two minutes, far more than the test runs
constexpr int kChaosClients = 4;
constexpr milliseconds kChaosPacing{10};  // each client at most 100 requests/s

// The cluster's policies and the route group's retries, as an operator of
// a staging zone would write them: checks every 150 ms, an origin out after
// two failed checks or three failed requests in a row, up to half of them
// ejected at once; three retries, each try given 300 ms.
constexpr const char* kChaosPolicies =
    "health_check: {path: /healthz, interval_ms: 150, timeout_ms: 500, "
    "healthy_threshold: 2, unhealthy_threshold: 2}\n"
    "outlier_detection: {consecutive_5xx: 3, base_ejection_ms: 500, "
    "max_ejection_percent: 50}\n";
constexpr const char* kChaosRetries =
    "retry_policy: {num_retries: 3, per_try_timeout_ms: 300, timeout_ms: 4000}\n";

// Successes and failures per 100 ms bucket since the load started.
struct ChaosBuckets {
  std::vector<std::atomic<int>> ok = std::vector<std::atomic<int>>(kChaosBuckets);
  std::vector<std::atomic<int>> failed = std::vector<std::atomic<int>>(kChaosBuckets);
};

// Closed-loop clients on keep-alive connections: each sends GET /, waits for
// the answer, and sends the next one no sooner than kChaosPacing after the
// previous, so the load stays modest and every answer is counted.
class ChaosLoad {
 public:
  explicit ChaosLoad(int port) : port_(port) {}
  ~ChaosLoad() { Stop(); }

  void Start() {
    start_ = ChaosClock::now();
    for (int i = 0; i < kChaosClients; ++i) threads_.emplace_back([this] { Run(); });
  }
  void Stop() {
    stopping_ = true;
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }
  int64_t NowMs() const {
    return std::chrono::duration_cast<milliseconds>(ChaosClock::now() - start_).count();
  }
  const ChaosBuckets& buckets() const { return buckets_; }
  std::vector<std::string> failures() {
    std::lock_guard<std::mutex> lock(mu_);
    return failures_;
  }

 private:
  void Run() {
    const std::string request =
        "GET / HTTP/1.1\r\nHost: app.test:" + std::to_string(port_) + "\r\n\r\n";
    std::unique_ptr<RawClient> client;
    ChaosClock::time_point next = ChaosClock::now();
    while (!stopping_) {
      std::this_thread::sleep_until(next);  // pacing, not waiting for a condition
      next = std::max(ChaosClock::now(), next + kChaosPacing);
      if (!client || !client->connected()) client = std::make_unique<RawClient>(port_);
      RawClient::Response r;
      if (client->Send(request)) r = client->Read();
      Record(r);
      if (r.status == 0 || r.closed_after || r.Header("connection") == "close") client.reset();
    }
  }
  void Record(const RawClient::Response& r) {
    const int64_t ms = NowMs();
    const size_t bucket = std::min<size_t>(ms / kChaosBucketMs, kChaosBuckets - 1);
    if (r.status == 200) {
      ++buckets_.ok[bucket];
      return;
    }
    ++buckets_.failed[bucket];
    std::lock_guard<std::mutex> lock(mu_);
    if (failures_.size() < 50) {
      failures_.push_back("at " + std::to_string(ms) + " ms: status " + std::to_string(r.status) +
                          " " + r.body.substr(0, 60));
    }
  }

  const int port_;
  ChaosClock::time_point start_;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
  ChaosBuckets buckets_;
  std::mutex mu_;
  std::vector<std::string> failures_;
};

// One phase of the day: when it started (ms since the load started), and
// what /clusters said of the origin it harmed.
struct ChaosPhase {
  std::string name;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  std::optional<int64_t> unhealthy_after_ms;  // health check: unhealthy
  std::optional<int64_t> ejected_after_ms;    // outlier detection: ejected
  std::optional<int64_t> back_after_ms;       // restore: every origin in again
};

struct ChaosCount {
  int requests = 0;
  int errors = 0;
};

ChaosCount CountBetween(const ChaosBuckets& b, int64_t from_ms, int64_t to_ms) {
  ChaosCount c;
  for (int64_t i = from_ms / kChaosBucketMs; i < to_ms / kChaosBucketMs && i < kChaosBuckets; ++i) {
    c.requests += b.ok[i] + b.failed[i];
    c.errors += b.failed[i];
  }
  return c;
}

class StagingChaosTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (!proxy_ || !HasFailure()) return;
    std::cerr << "--- causeway-proxy log ---\n" << proxy_->Log();
    std::ifstream log(access_log_);
    int shown = 0;
    for (std::string line; std::getline(log, line) && shown < 40;) {
      if (line.find("\"status\":200") != std::string::npos) continue;
      std::cerr << line << "\n";
      ++shown;
    }
  }

  void Start(const std::vector<const TestOrigin*>& origins) {
    const std::string port = std::to_string(listen_port_);
    std::string yaml = "kind: Zone\nname: shop\n---\nkind: Proxy\nname: edge\nzone: shop\n" +
                       ("domains: [app.test:" + port + "]\n---\n") +
                       "kind: Domain\nzone: shop\nhost: app.test\nport: " + port +
                       "\n---\nkind: RouteGroup\nname: main\nzone: shop\n" +
                       "default:\n  - cluster: svc\n" + kChaosRetries +
                       "---\nkind: Route\nname: root\nzone: shop\ndomain: app.test:" + port +
                       "\npath: /\nroute_group: main\n---\n" +
                       "kind: Cluster\nname: svc\nzone: shop\n" + kChaosPolicies + "instances:\n";
    for (const TestOrigin* o : origins) {
      yaml += "  - {host: 127.0.0.1, port: " + std::to_string(o->port()) + "}\n";
    }
    std::ofstream(config_) << yaml;
    Subprocess::Options options;
    options.argv = StaticProxyArgv(config_, admin_port_, 2, access_log_);
    options.log_path = dir_.File("proxy.log");
    proxy_ = std::make_unique<Subprocess>(options);
  }

  // The endpoints of cluster "svc" on /clusters (null until it answers).
  nlohmann::json Endpoints() {
    auto client = HttpClient::Create("127.0.0.1:" + std::to_string(admin_port_),
                                     HttpClient::Options{seconds(5)});
    if (!client.ok()) return nullptr;
    auto res = (*client)->Send("GET", "/clusters?name=svc");
    if (!res.ok() || res->status != 200) return nullptr;
    nlohmann::json page = nlohmann::json::parse(res->body, nullptr, false);
    if (!page.is_array() || page.empty()) return nullptr;
    return page[0]["endpoints"];
  }
  static const nlohmann::json* Find(const nlohmann::json& endpoints, const TestOrigin& o) {
    if (!endpoints.is_array()) return nullptr;
    for (const nlohmann::json& e : endpoints) {
      if (e.value("address", "") == "127.0.0.1:" + std::to_string(o.port())) return &e;
    }
    return nullptr;
  }
  static std::string HealthState(const nlohmann::json& e) {
    return e.contains("health_check") ? e["health_check"].value("state", "") : "";
  }
  // In the picks: passing its checks and not ejected.
  static bool In(const nlohmann::json& endpoints, const TestOrigin& o) {
    const nlohmann::json* e = Find(endpoints, o);
    return e != nullptr && HealthState(*e) == "healthy" && !e->value("ejected", false);
  }
  bool AllIn(const std::vector<const TestOrigin*>& origins) {
    nlohmann::json endpoints = Endpoints();
    return std::all_of(origins.begin(), origins.end(),
                       [&](const TestOrigin* o) { return In(endpoints, *o); });
  }
  // The proxy's own account: how often it retried (from the access log,
  // once every request is in it) and what its counters say.
  void PrintProxyAccount(int requests) {
    int lines = 0, retried = 0;
    WaitFor(
        [&] {
          std::ifstream log(access_log_);
          lines = retried = 0;
          for (std::string line; std::getline(log, line);) {
            ++lines;
            const size_t at = line.find("\"attempts\":");
            retried += at != std::string::npos && std::atoi(line.c_str() + at + 11) > 1;
          }
          return lines >= requests;
        },
        seconds(10));
    std::printf("[chaos] access log: %d requests, %d of them retried\n", lines, retried);
    auto client = HttpClient::Create("127.0.0.1:" + std::to_string(admin_port_),
                                     HttpClient::Options{seconds(5)});
    auto res = client.ok() ? (*client)->Send("GET", "/stats?format=json")
                           : absl::StatusOr<HttpResponse>(client.status());
    nlohmann::json stats =
        res.ok() ? nlohmann::json::parse(res->body, nullptr, false) : nlohmann::json();
    if (!stats.is_object()) return;
    for (const char* key : {"upstream_rq_per_try_timeout", "cluster.svc.health_check.failure",
                            "cluster.svc.outlier_detection.ejections_total",
                            "cluster.svc.outlier_detection.ejections_overflow",
                            "cluster.svc.upstream_rq_retry_overflow"}) {
      std::printf("[chaos] %s %lld\n", key, static_cast<long long>(stats.value(key, -1.0)));
    }
  }

  // Watches `harmed` on /clusters for `length`, noting when it first shows
  // unhealthy and ejected. A fixed stretch of the day, not a wait for a
  // condition: the load runs through all of it.
  void Watch(ChaosLoad& load, ChaosPhase& phase, const TestOrigin* harmed, milliseconds length) {
    phase.start_ms = load.NowMs();
    while (load.NowMs() < phase.start_ms + length.count()) {
      if (harmed != nullptr) {
        nlohmann::json endpoints = Endpoints();
        if (const nlohmann::json* e = Find(endpoints, *harmed)) {
          const int64_t after = load.NowMs() - phase.start_ms;
          if (!phase.unhealthy_after_ms && HealthState(*e) == "unhealthy") {
            phase.unhealthy_after_ms = after;
          }
          if (!phase.ejected_after_ms && e->value("ejected", false)) {
            phase.ejected_after_ms = after;
          }
        }
      }
      std::this_thread::sleep_for(milliseconds(50));  // the admin page's polling period
    }
    phase.end_ms = load.NowMs();
  }

  TempDir dir_;
  const std::string config_ = dir_.File("edge.yaml");
  const std::string access_log_ = dir_.File("access.log");
  const int listen_port_ = FreePort();
  const int admin_port_ = FreePort();
  std::unique_ptr<Subprocess> proxy_;
};

std::string Ms(const std::optional<int64_t>& v) { return v ? std::to_string(*v) + " ms" : "never"; }

// Prints the phase's numbers and checks the goal on what follows its first
// second.
void ReportChaosPhase(const ChaosBuckets& buckets, const ChaosPhase& p) {
  const ChaosCount all = CountBetween(buckets, p.start_ms, p.end_ms);
  const ChaosCount settled = CountBetween(buckets, p.start_ms + 1000, p.end_ms);
  const double rate = settled.requests > 0 ? 100.0 * settled.errors / settled.requests : 0;
  std::printf(
      "[chaos] %-22s %5lld ms  requests %5d  errors %4d  | after 1st s: requests %5d errors %3d "
      "(%.3f %%)  unhealthy after %s, ejected after %s\n",
      p.name.c_str(), static_cast<long long>(p.end_ms - p.start_ms), all.requests, all.errors,
      settled.requests, settled.errors, rate, Ms(p.unhealthy_after_ms).c_str(),
      Ms(p.ejected_after_ms).c_str());
  std::fflush(stdout);
  // Enough requests that the goal means something (a stalled load fails).
  EXPECT_GE(settled.requests, 100) << p.name;
  EXPECT_LT(settled.errors * 1000, std::max(settled.requests, 1)) << p.name << ": " << rate << " %";
}

TEST_F(StagingChaosTest, RetriesHealthChecksAndOutlierDetectionKeepErrorsBelowOnePerMille) {
  TestOrigin a{"a"}, b{"b"}, c{"c"}, d{"d"};
  const std::vector<const TestOrigin*> all = {&a, &b, &c, &d};
  Start(all);
  ASSERT_TRUE(WaitFor([&] { return AllIn(all); }, seconds(30)));

  ChaosLoad load(listen_port_);
  load.Start();
  std::vector<ChaosPhase> phases(5);
  phases[0].name = "steady";
  Watch(load, phases[0], nullptr, milliseconds(2000));

  phases[1].name = "a killed";
  a.StopListening();
  Watch(load, phases[1], &a, milliseconds(4500));

  phases[2].name = "b answers 503";
  b.SetForcedStatus(503, "/healthz");
  Watch(load, phases[2], &b, milliseconds(4500));

  phases[3].name = "c takes 2 s";
  c.SetDelay(milliseconds(2000));
  Watch(load, phases[3], &c, milliseconds(5000));

  // The restore: the phase runs until every origin is back, and a while
  // after.
  phases[4].name = "all restored";
  const int64_t restored_ms = load.NowMs();
  ASSERT_TRUE(a.StartListening());
  b.SetForcedStatus(0);
  c.SetDelay(milliseconds(0));
  std::vector<std::optional<int64_t>> back_ms(all.size());
  const bool back = WaitFor(
      [&] {
        nlohmann::json endpoints = Endpoints();
        for (size_t i = 0; i < all.size(); ++i) {
          if (!back_ms[i] && In(endpoints, *all[i])) back_ms[i] = load.NowMs() - restored_ms;
        }
        return std::all_of(back_ms.begin(), back_ms.end(), [](const auto& v) { return v; });
      },
      seconds(20));
  if (back) phases[4].back_after_ms = load.NowMs() - restored_ms;
  Watch(load, phases[4], nullptr, milliseconds(1500));
  phases[4].start_ms = restored_ms;
  load.Stop();

  for (const ChaosPhase& p : phases) ReportChaosPhase(load.buckets(), p);
  for (size_t i = 1; i < 4; ++i) {
    std::printf("[chaos] %s back in the picks %s after the restore\n", all[i - 1]->name().c_str(),
                Ms(back_ms[i - 1]).c_str());
  }
  const ChaosCount total = CountBetween(load.buckets(), 0, load.NowMs() + kChaosBucketMs);
  PrintProxyAccount(total.requests);
  for (const std::string& f : load.failures()) std::printf("[chaos] failure %s\n", f.c_str());
  std::fflush(stdout);

  EXPECT_TRUE(back) << "not every origin came back after the restore";
  // A dead origin fails its checks even with no traffic; one that answers
  // 503 but passes its checks is left to outlier detection.
  EXPECT_TRUE(phases[1].unhealthy_after_ms) << "a never failed its checks";
  EXPECT_TRUE(phases[2].ejected_after_ms) << "b was never ejected";
  EXPECT_TRUE(phases[3].unhealthy_after_ms || phases[3].ejected_after_ms) << "c stayed in";
}

}  // namespace
}  // namespace causeway::proxy
