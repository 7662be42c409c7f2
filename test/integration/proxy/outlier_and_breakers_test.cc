// causeway-proxy as a program (static mode: a file of causeway objects, so
// the hub's translation of the Cluster policies is in the path too) routing
// around bad instances: an origin that keeps answering 503 is ejected by
// outlier detection and comes back when its time is up, never more of the
// cluster than max_ejection_percent; a circuit breaker's max_requests turns
// the requests over it into immediate 503s flagged UO.
#include <signal.h>

#include <fstream>
#include <memory>
#include <string>
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
using std::chrono::seconds;

class OutlierAndBreakersTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (!proxy_ || !HasFailure()) return;
    std::cerr << "--- causeway-proxy log ---\n" << proxy_->Log();
    std::ifstream log(access_log_);
    std::cerr << "--- access log ---\n" << log.rdbuf();
  }

  // One route to cluster "svc" with `instances` and the policy fields
  // `policies` (YAML lines of the Cluster, indented by two).
  void Start(const std::vector<const TestOrigin*>& instances, const std::string& policies,
             int workers = 2) {
    const std::string port = std::to_string(listen_port_);
    std::string yaml =
        "kind: Zone\nname: shop\n---\n"
        "kind: Proxy\nname: edge\nzone: shop\ndomains: [app.test:" +
        port +
        "]\n---\n"
        "kind: Domain\nzone: shop\nhost: app.test\nport: " +
        port +
        "\n---\n"
        "kind: RouteGroup\nname: main\nzone: shop\ndefault:\n  - cluster: svc\n"
        "---\n"
        "kind: Route\nname: root\nzone: shop\ndomain: app.test:" +
        port +
        "\npath: /\nroute_group: main\n---\nkind: Cluster\nname: svc\nzone: "
        "shop\ninstances:\n";
    for (const TestOrigin* o : instances) {
      yaml += "  - {host: 127.0.0.1, port: " + std::to_string(o->port()) + "}\n";
    }
    yaml += policies;
    std::ofstream(config_) << yaml;
    Subprocess::Options options;
    options.argv = StaticProxyArgv(config_, admin_port_, workers, access_log_);
    options.log_path = dir_.File("proxy.log");
    proxy_ = std::make_unique<Subprocess>(options);
    ASSERT_TRUE(WaitFor([&] { return Get("/").status != 0 && Admin("/clusters").is_array(); },
                        seconds(15)));
  }

  RawClient::Response Get(const std::string& path) {
    return proxy::testing::Request(listen_port_, "GET " + path + " HTTP/1.1\r\nHost: app.test:" +
                                                     std::to_string(listen_port_) + "\r\n\r\n");
  }

  // The page's JSON, or null when the admin endpoint does not answer (yet).
  nlohmann::json Admin(const std::string& path) {
    auto client = HttpClient::Create("127.0.0.1:" + std::to_string(admin_port_),
                                     HttpClient::Options{seconds(5)});
    if (!client.ok()) return nullptr;
    auto res = (*client)->Send("GET", path);
    if (!res.ok() || res->status != 200) return nullptr;
    return nlohmann::json::parse(res->body, nullptr, false);
  }
  double Stat(const std::string& name) {
    nlohmann::json stats = Admin("/stats?format=json");
    return stats.is_object() ? stats.value(name, -1.0) : -1.0;
  }
  // The /clusters entry of the endpoint on `port`, or null.
  nlohmann::json EndpointOnPage(uint16_t port) {
    nlohmann::json page = Admin("/clusters?name=svc");
    if (!page.is_array() || page.empty()) return nullptr;
    for (const nlohmann::json& e : page[0]["endpoints"]) {
      if (e.value("address", "") == "127.0.0.1:" + std::to_string(port)) return e;
    }
    return nullptr;
  }
  bool Ejected(uint16_t port) {
    nlohmann::json e = EndpointOnPage(port);
    return e.is_object() && e.value("ejected", false);
  }
  int AccessLogLinesWith(const std::string& text) {
    std::ifstream in(access_log_);
    int n = 0;
    for (std::string line; std::getline(in, line);) n += line.find(text) != std::string::npos;
    return n;
  }

  TempDir dir_;
  const std::string config_ = dir_.File("edge.yaml");
  const std::string access_log_ = dir_.File("access.log");
  const int listen_port_ = FreePort();
  const int admin_port_ = FreePort();
  std::unique_ptr<Subprocess> proxy_;
};

TEST_F(OutlierAndBreakersTest, FailingOriginIsEjectedAndComesBack) {
  TestOrigin a{"a"}, b{"b"}, sick{"sick", 503};
  Start({&a, &b, &sick},
        "outlier_detection: {consecutive_5xx: 3, base_ejection_ms: 2000, "
        "max_ejection_percent: 34}\n");
  // Its third 503 in a row ejects it (requests are spread round robin).
  ASSERT_TRUE(WaitFor(
      [&] {
        Get("/");
        return Ejected(sick.port());
      },
      seconds(30)));
  EXPECT_GE(sick.requests(), 3);
  nlohmann::json page = EndpointOnPage(sick.port());
  if (page.value("ejected", false)) {  // not yet back on a slow machine
    EXPECT_EQ(page.value("times_ejected", 0), 1) << page.dump();
    EXPECT_GT(page.value("ejected_for_ms", 0), 0) << page.dump();
  }
  EXPECT_FALSE(Ejected(a.port()));
  EXPECT_EQ(Stat("cluster.svc.outlier_detection.ejections_active"), 1.0);
  EXPECT_EQ(Stat("cluster.svc.outlier_detection.ejections_enforced_consecutive_5xx"), 1.0);

  // While ejected, nothing reaches it. (Its ejection is 2 s; were it to end
  // during these requests, the check below says so instead of failing.)
  const int before = sick.requests();
  int ok = 0;
  for (int i = 0; i < 20; ++i) ok += Get("/").status == 200;
  if (Ejected(sick.port())) {
    EXPECT_EQ(sick.requests(), before);
    EXPECT_EQ(ok, 20);
  }

  // Its time up, it is picked again (and, still answering 503, ejected
  // again for twice as long).
  ASSERT_TRUE(WaitFor(
      [&] {
        Get("/");
        return sick.requests() > before;
      },
      seconds(30)));
  ASSERT_TRUE(WaitFor(
      [&] {
        Get("/");
        return EndpointOnPage(sick.port()).value("times_ejected", 0) == 2;
      },
      seconds(30)));
  EXPECT_EQ(Stat("cluster.svc.outlier_detection.ejections_total"), 2.0);
}

TEST_F(OutlierAndBreakersTest, MaxEjectionPercentKeepsTheRestInService) {
  TestOrigin a{"a"}, sick1{"sick1", 503}, sick2{"sick2", 503};
  // One of three is 33 %, within 34 %; two would be 67 %.
  Start({&a, &sick1, &sick2},
        "outlier_detection: {consecutive_5xx: 2, base_ejection_ms: 600000, "
        "max_ejection_percent: 34}\n");
  ASSERT_TRUE(WaitFor(
      [&] {
        Get("/");
        return Stat("cluster.svc.outlier_detection.ejections_overflow") >= 1;
      },
      seconds(30)));
  EXPECT_EQ(Stat("cluster.svc.outlier_detection.ejections_active"), 1.0);
  EXPECT_NE(Ejected(sick1.port()), Ejected(sick2.port()));
  // The one left in keeps getting its share.
  TestOrigin& kept = Ejected(sick1.port()) ? sick2 : sick1;
  const int before = kept.requests();
  for (int i = 0; i < 10; ++i) Get("/");
  EXPECT_GT(kept.requests(), before);
  EXPECT_FALSE(Ejected(a.port()));
}

TEST_F(OutlierAndBreakersTest, MaxRequestsOverflowIs503WithUO) {
  TestOrigin slow{"slow"};
  Start({&slow}, "circuit_breakers: {max_requests: 2}\n");
  nlohmann::json page = Admin("/clusters?name=svc");
  ASSERT_TRUE(page.is_array() && !page.empty());
  EXPECT_EQ(page[0]["circuit_breakers"].value("max_requests", 0), 2) << page.dump();

  const int before = slow.requests();  // the request Start() made
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(std::make_unique<RawClient>(listen_port_));
    ASSERT_TRUE(clients.back()->Send(
        "GET /hold HTTP/1.1\r\nHost: app.test:" + std::to_string(listen_port_) + "\r\n\r\n"));
  }
  // Two reach the origin and wait there; the other three are refused at once.
  ASSERT_TRUE(WaitFor([&] { return slow.held() == 2; }, seconds(30)));
  ASSERT_TRUE(WaitFor([&] { return Stat("cluster.svc.upstream_rq_pending_overflow") == 3.0; },
                      seconds(30)));
  EXPECT_EQ(Stat("cluster.svc.upstream_rq_active"), 2.0);
  slow.ReleaseHeld();
  int ok = 0, overflow = 0;
  for (auto& c : clients) {
    RawClient::Response r = c->Read();
    ok += r.status == 200;
    overflow += r.status == 503;
  }
  EXPECT_EQ(ok, 2);
  EXPECT_EQ(overflow, 3);
  EXPECT_EQ(slow.requests() - before, 2);
  EXPECT_TRUE(WaitFor([&] { return Stat("cluster.svc.upstream_rq_active") == 0.0; }, seconds(30)));
  // The access log says why, once the proxy has ended and flushed it.
  proxy_->Signal(SIGTERM);
  ASSERT_NE(proxy_->Wait(seconds(30)), -1);
  EXPECT_EQ(AccessLogLinesWith("\"flags\":\"UO\""), 3);
  EXPECT_EQ(AccessLogLinesWith("\"status\":503"), 3);
}

TEST_F(OutlierAndBreakersTest, MaxConnectionsOverflowIs503WithUO) {
  TestOrigin slow{"slow"};
  // One worker, so that the connection Start()'s request left in the pool
  // is the one the next request is given.
  Start({&slow}, "circuit_breakers: {max_connections: 1}\n", /*workers=*/1);
  ASSERT_EQ(slow.connections(), 1);
  // The pooled connection serves one held request; a second at the same
  // time would need another connection, which the limit refuses.
  RawClient first(listen_port_), second(listen_port_);
  const std::string hold =
      "GET /hold HTTP/1.1\r\nHost: app.test:" + std::to_string(listen_port_) + "\r\n\r\n";
  ASSERT_TRUE(first.Send(hold));
  ASSERT_TRUE(WaitFor([&] { return slow.held() == 1; }, seconds(30)));
  ASSERT_TRUE(second.Send(hold));
  RawClient::Response refused = second.Read();
  slow.ReleaseHeld();
  EXPECT_EQ(first.Read().status, 200);
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(Stat("cluster.svc.upstream_cx_overflow"), 1.0);
  EXPECT_EQ(slow.held(), 0);
  EXPECT_TRUE(WaitFor([&] { return Stat("cluster.svc.upstream_cx_active") <= 1.0; }, seconds(30)));
}

}  // namespace
}  // namespace causeway::proxy
