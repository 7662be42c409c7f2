// Stamping the routing key on the real causeway-proxy: a chain of services
// A → B → C where A and B call the next hop through one proxy (as a staging
// node runs one for all its services) and propagate only `traceparent`.
// The proxy remembers which key a trace carried when it entered A and gives
// it back to A's and B's calls; with --routing-key (CAUSEWAY_ROUTING_KEY)
// every request without a key gets the proxy's own.
#include <sys/wait.h>

#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "h2_raw_client.h"
#include "net/http_client.h"
#include "net/http_server.h"
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
using proxy::testing::TestOrigin;
using std::chrono::seconds;

constexpr char kStampTraceAlice[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
constexpr char kStampTraceOther[] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

// A service in the middle of the chain: GET /NAME calls `next` through the
// proxy, passing on only the traceparent it received, and answers with the
// next hop's status and body (so the client sees what C received).
class ChainHop {
 public:
  ChainHop(const std::string& name, std::string next, uint16_t proxy_port, std::string host)
      : next_(std::move(next)), proxy_port_(proxy_port), host_(std::move(host)) {
    http::Router router;
    router.Add({"GET", "/" + name, [this](http::Request& req) { return CallNext(req); },
                /*blocking=*/true});
    http::HttpServer::Options options;
    options.address = "127.0.0.1:0";
    options.io_threads = 1;
    options.worker_threads = 4;
    server_ = std::make_unique<http::HttpServer>(
        options, std::move(router),
        [](int s, std::string_view, std::string_view m) {
          return http::Response::Text(s, std::string(m));
        },
        [](const http::Request&, int, std::string_view, std::chrono::steady_clock::duration) {});
    EXPECT_TRUE(server_->Start().ok());
  }
  ~ChainHop() { server_->Shutdown(); }
  uint16_t port() const { return static_cast<uint16_t>(server_->port()); }

 private:
  http::Response CallNext(http::Request& req) {
    auto client = HttpClient::Create("127.0.0.1:" + std::to_string(proxy_port_),
                                     HttpClient::Options{seconds(20)});
    if (!client.ok()) return http::Response::Text(502, std::string(client.status().message()));
    HttpClient::Headers headers = {{"host", host_}};
    if (std::string tp = req.Header("traceparent"); !tp.empty()) headers["traceparent"] = tp;
    auto res = (*client)->Send("GET", next_, {}, headers);
    if (!res.ok()) return http::Response::Text(502, std::string(res.status().message()));
    return http::Response::Text(res->status, res->body);
  }

  const std::string next_;
  const uint16_t proxy_port_;
  const std::string host_;
  std::unique_ptr<http::HttpServer> server_;
};

class RoutingKeyStampTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (proxy_ && HasFailure()) std::cerr << "--- causeway-proxy log ---\n" << proxy_->Log();
  }

  std::string Host() const { return "app.test:" + std::to_string(listen_port_); }

  // Routes /a, /b and /c of one domain to the services A, B and C.
  std::string Objects() const {
    std::string port = std::to_string(listen_port_);
    std::string out =
        "kind: Zone\nname: shop\n---\nkind: Proxy\nname: edge\nzone: shop\n"
        "domains: [" +
        Host() +
        "]\n---\nkind: Domain\nzone: shop\n"
        "host: app.test\nport: " +
        port + "\n";
    const std::map<std::string, uint16_t> services = {
        {"a", a_.port()}, {"b", b_.port()}, {"c", c_.port()}};
    for (const auto& [name, service_port] : services) {
      out +=
          "---\nkind: Cluster\nname: svc-" + name +
          "\nzone: shop\ninstances:\n  - {host: 127.0.0.1, port: " + std::to_string(service_port) +
          "}\n";
      out += "---\nkind: RouteGroup\nname: to-" + name +
             "\nzone: shop\ndefault:\n  - cluster: svc-" + name + "\n";
      out += "---\nkind: Route\nname: " + name + "\nzone: shop\ndomain: " + Host() + "\npath: /" +
             name + "\nroute_group: to-" + name + "\n";
    }
    return out;
  }

  void Start(std::map<std::string, std::string> env = {}, std::vector<std::string> extra = {}) {
    std::ofstream(config_) << Objects();
    Subprocess::Options options;
    options.argv = proxy::testing::StaticProxyArgv(config_, admin_port_, 2, "off");
    options.argv.insert(options.argv.end(), extra.begin(), extra.end());
    options.env = std::move(env);
    options.log_path = dir_.File("proxy.log");
    proxy_ = std::make_unique<Subprocess>(options);
    // The admin endpoint starts after the listeners: wait for both.
    ASSERT_TRUE(WaitFor(
        [&] {
          return proxy_->Running() && Get("/c", {}).status == 200 &&
                 Stat("routing_key.remembered") >= 0;
        },
        seconds(20)))
        << proxy_->Log();
  }

  // A request entering A (or another hop) through the proxy.
  HttpResponse Get(const std::string& path, HttpClient::Headers headers) {
    headers["host"] = Host();
    auto client = HttpClient::Create("127.0.0.1:" + std::to_string(listen_port_),
                                     HttpClient::Options{seconds(30)});
    if (!client.ok()) return {};
    auto res = (*client)->Send("GET", path, {}, headers);
    return res.ok() ? *res : HttpResponse{};
  }

  // An admin page's JSON; an empty object when it does not answer (yet).
  nlohmann::json Admin(const std::string& path) {
    auto client = HttpClient::Create("127.0.0.1:" + std::to_string(admin_port_),
                                     HttpClient::Options{seconds(5)});
    if (!client.ok()) return nlohmann::json::object();
    auto res = (*client)->Send("GET", path);
    if (!res.ok() || res->status != 200) return nlohmann::json::object();
    nlohmann::json page = nlohmann::json::parse(res->body, nullptr, false);
    return page.is_object() ? page : nlohmann::json::object();
  }
  double Stat(const std::string& name) { return Admin("/stats?format=json").value(name, -1.0); }

  TempDir dir_;
  const std::string config_ = dir_.File("edge.yaml");
  const int listen_port_ = FreePort();
  const int admin_port_ = FreePort();
  TestOrigin c_{"c"};  // echoes the request it got: the end of the chain
  ChainHop b_{"b", "/c", static_cast<uint16_t>(listen_port_), Host()};
  ChainHop a_{"a", "/b", static_cast<uint16_t>(listen_port_), Host()};
  std::unique_ptr<Subprocess> proxy_;
};

TEST_F(RoutingKeyStampTest, KeyEnteringATravelsWithItsTraceToC) {
  Start();
  ASSERT_EQ(Stat("routing_key.stamped_by_trace"), 0.0);

  HttpResponse keyed = Get("/a", {{"x-causeway-key", "alice"}, {"traceparent", kStampTraceAlice}});
  ASSERT_EQ(keyed.status, 200) << keyed.body;
  EXPECT_NE(keyed.body.find("x-causeway-key: alice\n"), std::string::npos) << keyed.body;
  // The trace context went along; nothing else did.
  EXPECT_NE(keyed.body.find(kStampTraceAlice), std::string::npos) << keyed.body;
  // A's call to B and B's call to C were stamped; the entering request taught it.
  EXPECT_EQ(Stat("routing_key.stamped_by_trace"), 2.0);
  EXPECT_EQ(Stat("routing_key.remembered"), 1.0);
  EXPECT_EQ(Stat("routing_key.stamped_by_env"), 0.0);
  // The admin page lists the trace with its key.
  nlohmann::json keys = Admin("/routing_keys");
  EXPECT_EQ(keys.value("routing_key", "?"), "") << keys.dump();
  ASSERT_EQ(keys.value("entries", 0), 1) << keys.dump();
  EXPECT_EQ(keys["traces"][0].value("trace_id", ""), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(keys["traces"][0].value("key", ""), "alice");
  EXPECT_GT(keys["traces"][0].value("expires_in_ms", 0), 0);

  // Another trace, and a request with no trace, never get alice's key.
  HttpResponse other = Get("/a", {{"traceparent", kStampTraceOther}});
  ASSERT_EQ(other.status, 200) << other.body;
  EXPECT_EQ(other.body.find("x-causeway-key"), std::string::npos) << other.body;
  HttpResponse bare = Get("/a", {});
  ASSERT_EQ(bare.status, 200) << bare.body;
  EXPECT_EQ(bare.body.find("x-causeway-key"), std::string::npos) << bare.body;
  EXPECT_EQ(Stat("routing_key.stamped_by_trace"), 2.0);
}

// An HTTP/2 client's streams (h2c, prior knowledge) are stamped the same
// way: the first stream teaches the trace's key, the second gets it.
TEST_F(RoutingKeyStampTest, Http2StreamsAreStampedToo) {
  Start();
  proxy::testing::H2RawClient client(static_cast<uint16_t>(listen_port_));
  ASSERT_TRUE(client.ok());
  auto get = [&](http2::HeaderList headers) {
    const int32_t id = client.Open(
        http2::RequestHead{"GET", "http", Host(), "/c", std::move(headers)}, /*end_stream=*/true);
    EXPECT_GT(id, 0) << client.error;
    EXPECT_TRUE(client.Until([&] { return client.streams[id].ended || client.streams[id].reset; }));
    return client.streams[id];
  };
  auto keyed = get({{"x-causeway-key", "alice"}, {"traceparent", kStampTraceAlice}});
  EXPECT_EQ(keyed.head.status, 200);
  auto traced = get({{"traceparent", kStampTraceAlice}});
  EXPECT_EQ(traced.head.status, 200);
  EXPECT_NE(traced.body.find("x-causeway-key: alice\n"), std::string::npos) << traced.body;
  auto other = get({{"traceparent", kStampTraceOther}});
  EXPECT_EQ(other.head.status, 200);
  EXPECT_EQ(other.body.find("x-causeway-key"), std::string::npos) << other.body;
  EXPECT_EQ(Stat("routing_key.stamped_by_trace"), 1.0);
}

TEST_F(RoutingKeyStampTest, WithoutAKeyNoHopGetsOne) {
  Start();
  HttpResponse unkeyed = Get("/a", {{"traceparent", kStampTraceAlice}});
  ASSERT_EQ(unkeyed.status, 200) << unkeyed.body;
  EXPECT_EQ(unkeyed.body.find("x-causeway-key"), std::string::npos) << unkeyed.body;
  EXPECT_EQ(Stat("routing_key.remembered"), 0.0);
}

TEST_F(RoutingKeyStampTest, BaggageKeyIsRememberedToo) {
  Start();
  HttpResponse keyed =
      Get("/a", {{"baggage", "user=7, causeway-key=bob"}, {"traceparent", kStampTraceAlice}});
  ASSERT_EQ(keyed.status, 200) << keyed.body;
  EXPECT_NE(keyed.body.find("x-causeway-key: bob\n"), std::string::npos) << keyed.body;
}

TEST_F(RoutingKeyStampTest, OwnRoutingKeyStampsEveryRequestWithoutOne) {
  Start({{"CAUSEWAY_ROUTING_KEY", "alice"}});
  const double before = Stat("routing_key.stamped_by_env");  // Start's probes were stamped too
  ASSERT_GE(before, 1.0);
  HttpResponse bare = Get("/a", {});
  ASSERT_EQ(bare.status, 200) << bare.body;
  EXPECT_NE(bare.body.find("x-causeway-key: alice\n"), std::string::npos) << bare.body;
  // The request entering A, A's call and B's call.
  EXPECT_EQ(Stat("routing_key.stamped_by_env"), before + 3);

  // A request carrying a key keeps it (C is called directly: one hop).
  HttpResponse own = Get("/c", {{"x-causeway-key", "bob"}});
  ASSERT_EQ(own.status, 200) << own.body;
  EXPECT_NE(own.body.find("x-causeway-key: bob\n"), std::string::npos) << own.body;
  EXPECT_EQ(own.body.find("alice"), std::string::npos) << own.body;
  // ...and so do the calls of its trace: the trace's key before the proxy's.
  HttpResponse traced = Get("/a", {{"x-causeway-key", "bob"}, {"traceparent", kStampTraceOther}});
  ASSERT_EQ(traced.status, 200) << traced.body;
  EXPECT_NE(traced.body.find("x-causeway-key: bob\n"), std::string::npos) << traced.body;
  EXPECT_EQ(traced.body.find("alice"), std::string::npos) << traced.body;
}

TEST_F(RoutingKeyStampTest, BadFlagValuesAreRefusedByName) {
  for (const auto& [flag, value] :
       std::vector<std::pair<std::string, std::string>>{{"--routing-key", "a b"},
                                                        {"--key-memory-entries", "20000000"},
                                                        {"--key-memory-ms", "0"}}) {
    Subprocess::Options options;
    options.argv = proxy::testing::StaticProxyArgv(config_, admin_port_, 1, "off");
    options.argv.push_back(flag);
    options.argv.push_back(value);
    options.log_path = dir_.File("bad.log");
    Subprocess bad(options);
    const int status = bad.Wait(seconds(15));
    ASSERT_TRUE(WIFEXITED(status)) << flag;
    EXPECT_NE(WEXITSTATUS(status), 0) << flag;
    EXPECT_NE(bad.Log().find(flag), std::string::npos) << bad.Log();
    EXPECT_NE(bad.Log().find(value), std::string::npos) << bad.Log();
  }
}

TEST_F(RoutingKeyStampTest, HelpNamesTheFlags) {
  Subprocess::Options options;
  options.argv = {causeway::testing::BuiltBinary("causeway-proxy"), "--help"};
  options.log_path = dir_.File("help.log");
  Subprocess help(options);
  ASSERT_EQ(help.Wait(seconds(15)), 0);
  for (const char* flag :
       {"--routing-key", "CAUSEWAY_ROUTING_KEY", "--key-memory-entries", "--key-memory-ms"}) {
    EXPECT_NE(help.Log().find(flag), std::string::npos) << flag;
  }
}

}  // namespace
}  // namespace causeway::proxy
