// Active health checks on the real causeway-proxy binary in static mode: a
// Cluster with a health_check and three origins whose /healthz the test
// turns bad and good again. An origin that fails its checks gets no more
// requests, /clusters and /stats say so, and it is back once it passes;
// when every origin fails, requests still go to them (panic routing).
#include <atomic>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "nlohmann/json.hpp"
#include "proxy/server/proxy_server.h"
#include "static_proxy_argv.h"
#include "support/process.h"
#include "test_origin.h"

namespace causeway::proxy {
namespace {

using causeway::testing::FreePort;
using causeway::testing::Subprocess;
using causeway::testing::TempDir;
using causeway::testing::WaitFor;
using proxy::testing::StaticProxyArgv;
using std::chrono::seconds;

// An origin whose GET /healthz answers `health` and whose GET / answers 200
// with x-origin: its name, counting both.
class CheckedOrigin {
 public:
  explicit CheckedOrigin(std::string name) : name_(std::move(name)) {
    http::Router router;
    router.Add({"GET", "/healthz", [this](http::Request&) {
                  ++checks;
                  return http::Response::Text(health.load(), "health\n");
                }});
    router.Add({"GET", "/", [this](http::Request&) {
                  ++served;
                  http::Response r = http::Response::Text(200, name_ + "\n");
                  r.headers.emplace_back("x-origin", name_);
                  return r;
                }});
    http::HttpServer::Options options;
    options.address = "127.0.0.1:0";
    options.io_threads = 1;
    options.worker_threads = 2;
    server_ = std::make_unique<http::HttpServer>(
        options, std::move(router),
        [](int s, std::string_view, std::string_view m) {
          return http::Response::Text(s, std::string(m));
        },
        [](const http::Request&, int, std::string_view, std::chrono::steady_clock::duration) {});
    EXPECT_TRUE(server_->Start().ok());
  }
  ~CheckedOrigin() { server_->Shutdown(); }
  uint16_t port() const { return static_cast<uint16_t>(server_->port()); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port()); }
  const std::string& name() const { return name_; }

  std::atomic<int> health{200};
  std::atomic<int> served{0};
  std::atomic<int> checks{0};  // GET /healthz

 private:
  std::string name_;
  std::unique_ptr<http::HttpServer> server_;
};

class HealthCheckTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (proxy_ && HasFailure()) std::cerr << "--- causeway-proxy log ---\n" << proxy_->Log();
  }

  // The zone with one cluster "api" over `origins`, checked every 100 ms.
  void Start(const std::vector<CheckedOrigin*>& origins) {
    const std::string port = std::to_string(listen_port_);
    std::string doc =
        "kind: Zone\nname: shop\n---\n"
        "kind: Proxy\nname: edge\nzone: shop\ndomains: [app.test:" +
        port + "]\n---\nkind: Domain\nzone: shop\nhost: app.test\nport: " + port +
        "\n---\nkind: RouteGroup\nname: main\nzone: shop\ndefault:\n  - cluster: api\n"
        "---\nkind: Route\nname: root\nzone: shop\ndomain: app.test:" +
        port +
        "\npath: /\nroute_group: main\n"
        "---\nkind: Cluster\nname: api\nzone: shop\n"
        "health_check: {path: /healthz, interval_ms: 100, timeout_ms: 1000, "
        "healthy_threshold: 2, unhealthy_threshold: 2}\ninstances:\n";
    for (CheckedOrigin* o : origins) {
      doc += "  - {host: 127.0.0.1, port: " + std::to_string(o->port()) + "}\n";
    }
    std::ofstream(config_) << doc;
    Subprocess::Options options;
    options.argv = StaticProxyArgv(config_, admin_port_, 2, "off");
    options.log_path = dir_.File("proxy.log");
    proxy_ = std::make_unique<Subprocess>(options);
  }

  // One request through the proxy: the origin that answered, or the status.
  std::string Origin() {
    proxy::testing::RawClient::Response r = proxy::testing::Request(
        listen_port_,
        "GET / HTTP/1.1\r\nHost: app.test:" + std::to_string(listen_port_) + "\r\n\r\n");
    if (r.status == 200) return r.Header("x-origin");
    return "status " + std::to_string(r.status) + " from '" + r.Header("x-origin") + "'";
  }

  std::string AdminText(const std::string& path) {
    auto client = HttpClient::Create("127.0.0.1:" + std::to_string(admin_port_),
                                     HttpClient::Options{seconds(5)});
    if (!client.ok()) return "";
    auto res = (*client)->Send("GET", path);
    return res.ok() && res->status == 200 ? res->body : "";
  }
  nlohmann::json Admin(const std::string& path) {
    nlohmann::json page = nlohmann::json::parse(AdminText(path), nullptr, false);
    return page.is_discarded() ? nlohmann::json() : page;
  }

  // The endpoint `address` of the cluster "api" on /clusters (null if absent).
  nlohmann::json Endpoint(const std::string& address) {
    nlohmann::json clusters = Admin("/clusters");
    if (!clusters.is_array()) return nullptr;
    for (const nlohmann::json& c : clusters) {
      if (c.value("name", "").find("api") == std::string::npos) continue;
      for (const nlohmann::json& e : c["endpoints"]) {
        if (e.value("address", "") == address) return e;
      }
    }
    return nullptr;
  }
  std::string State(const CheckedOrigin& o) {
    nlohmann::json e = Endpoint(o.address());
    return e.is_object() && e.contains("health_check") ? e["health_check"].value("state", "") : "";
  }
  // The value of the cluster statistic ending in `suffix` (-1 if none).
  double Stat(const std::string& suffix) {
    nlohmann::json stats = Admin("/stats?format=json");
    if (!stats.is_object()) return -1;
    for (const auto& [name, value] : stats.items()) {
      if (name.starts_with("cluster.") && name.ends_with(suffix)) return value.get<double>();
    }
    return -1;
  }

  TempDir dir_;
  const std::string config_ = dir_.File("edge.yaml");
  const int listen_port_ = FreePort();
  const int admin_port_ = FreePort();
  std::unique_ptr<Subprocess> proxy_;
};

TEST_F(HealthCheckTest, FailingOriginGetsNoTrafficUntilItPassesAgain) {
  CheckedOrigin a("a"), b("b"), c("c");
  Start({&a, &b, &c});
  ASSERT_TRUE(WaitFor(
      [&] { return State(a) == "healthy" && State(b) == "healthy" && State(c) == "healthy"; },
      seconds(30)));

  c.health = 503;
  ASSERT_TRUE(WaitFor([&] { return State(c) == "unhealthy"; }, seconds(30)));
  EXPECT_EQ(Endpoint(c.address())["health_check"].value("last_failure", ""), "status 503");
  // /clusters may say so a moment before every worker has the snapshot
  // without c: settled once six requests in a row miss it (with c among
  // the picks, round robin gives it one in three on each worker).
  ASSERT_TRUE(WaitFor(
      [&] {
        for (int i = 0; i < 6; ++i) {
          if (Origin() == "c") return false;
        }
        return true;
      },
      seconds(30)));
  const int c_before = c.served.load();
  std::set<std::string> answered;
  for (int i = 0; i < 60; ++i) {
    std::string origin = Origin();
    ASSERT_TRUE(origin == "a" || origin == "b") << "request " << i << ": " << origin;
    answered.insert(origin);
  }
  EXPECT_EQ(answered.size(), 2u);
  EXPECT_EQ(c.served.load(), c_before);
  EXPECT_EQ(Stat(".health_check.healthy"), 2);

  c.health = 200;
  ASSERT_TRUE(WaitFor([&] { return State(c) == "healthy"; }, seconds(30)));
  ASSERT_TRUE(WaitFor([&] { return Origin() == "c"; }, seconds(30)));
  EXPECT_EQ(Stat(".health_check.healthy"), 3);
  EXPECT_GE(Stat(".health_check.failure"), 1);  // the 503s
  EXPECT_GE(Stat(".health_check.success"), 5);  // three first checks, two to come back
  EXPECT_GE(Stat(".health_check.attempt"),
            Stat(".health_check.success") + Stat(".health_check.failure"));
  EXPECT_NE(AdminText("/stats/prometheus").find("_health_check_attempt "), std::string::npos);
}

TEST_F(HealthCheckTest, EveryOriginFailingStillGetsRequests) {
  CheckedOrigin a("a"), b("b");
  a.health = 500;
  b.health = 500;
  Start({&a, &b});
  ASSERT_TRUE(
      WaitFor([&] { return State(a) == "unhealthy" && State(b) == "unhealthy"; }, seconds(30)));
  EXPECT_EQ(Endpoint(a.address())["health_check"].value("last_failure", ""), "status 500");
  // Panic: with no endpoint passing, the picks go across all of them.
  std::set<std::string> answered;
  for (int i = 0; i < 10; ++i) answered.insert(Origin());
  EXPECT_EQ(answered, (std::set<std::string>{"a", "b"}));
  EXPECT_EQ(Stat(".health_check.healthy"), 0);
}

// In process: an update whose listener cannot bind changes nothing, so the
// endpoints of the configuration still serving are the ones checked.
TEST(HealthCheckServerTest, UpdateThatFailsKeepsCheckingTheServingEndpoints) {
  CheckedOrigin a("a"), b("b");
  auto config = [](const CheckedOrigin& origin, int listener_port) {
    auto c = std::make_shared<ProxyConfig>();
    auto cluster = std::make_shared<ClusterConfig>();
    cluster->name = "api";
    HealthCheckConfig hc;
    hc.path = "/healthz";
    hc.interval = std::chrono::milliseconds(100);
    cluster->health_check = hc;
    cluster->endpoints.push_back({.address = "127.0.0.1", .port = origin.port()});
    c->clusters["api"] = cluster;
    if (listener_port != 0) {
      c->listeners.push_back(
          {.name = "busy", .address = "127.0.0.1", .port = static_cast<uint16_t>(listener_port)});
    }
    return ProxyConfigSnapshot(c);
  };
  ProxyServer server({.workers = 1});
  ASSERT_TRUE(server.Start().ok());
  ASSERT_TRUE(server.UpdateConfig(config(a, 0)).ok());
  auto state = [&](const CheckedOrigin& o) {
    auto all = server.health_checker().Endpoints();
    auto it = all.find({"api", o.address()});
    return it == all.end() ? std::string("absent") : it->second.healthy ? "healthy" : "unhealthy";
  };
  ASSERT_TRUE(WaitFor([&] { return state(a) == "healthy"; }, seconds(30)));
  // a's port is taken (by a, without SO_REUSEPORT): the listener cannot bind.
  ASSERT_FALSE(server.UpdateConfig(config(b, a.port())).ok());
  EXPECT_EQ(state(b), "absent");
  ASSERT_TRUE(WaitFor([&] { return state(a) == "healthy"; }, seconds(30)));
  const int checks = a.checks.load();
  ASSERT_TRUE(WaitFor([&] { return a.checks.load() > checks; }, seconds(30)));
  server.Stop();
}

}  // namespace
}  // namespace causeway::proxy
