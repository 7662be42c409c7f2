// causeway-proxy in static mode (--config FILE, no hub) as a program: it
// serves what the file says, follows edits of the file (checked on an
// interval) and SIGHUP, and keeps the last good configuration serving when
// an edit does not load or validate, saying why in its log and /config_dump.
#include <signal.h>

#include <fstream>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "net/http_client.h"
#include "nlohmann/json.hpp"
#include "support/process.h"
#include "test_origin.h"

namespace causeway::proxy {
namespace {

using causeway::testing::FreePort;
using causeway::testing::Subprocess;
using causeway::testing::TempDir;
using causeway::testing::WaitFor;
using proxy::testing::RawClient;
using proxy::testing::TestOrigin;
using std::chrono::seconds;

// The zone's objects with the route group's default cluster and the route's
// path as given.
std::string Objects(int port, const std::string& cluster, const std::string& path = "/") {
  return "kind: Zone\nname: shop\n---\n"
         "kind: Proxy\nname: edge\nzone: shop\ndomains: [app.test:" +
         std::to_string(port) +
         "]\n---\n"
         "kind: Domain\nzone: shop\nhost: app.test\nport: " +
         std::to_string(port) +
         "\n---\n"
         "kind: RouteGroup\nname: main\nzone: shop\ndefault:\n  - cluster: " +
         cluster +
         "\n---\n"
         "kind: Route\nname: root\nzone: shop\ndomain: app.test:" +
         std::to_string(port) + "\npath: " + path + "\nroute_group: main\n";
}

std::string ClusterDoc(const std::string& name, uint16_t port) {
  return "---\nkind: Cluster\nname: " + name +
         "\nzone: shop\ninstances:\n  - {host: 127.0.0.1, port: " + std::to_string(port) + "}\n";
}

class StaticConfigTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (proxy_ && HasFailure()) std::cerr << "--- causeway-proxy log ---\n" << proxy_->Log();
  }

  void Write(const std::string& text) {
    // Written beside and renamed over, as editors and config tools do, so
    // the proxy never reads half a file.
    const std::string tmp = config_ + ".tmp";
    std::ofstream(tmp) << text;
    ASSERT_EQ(std::rename(tmp.c_str(), config_.c_str()), 0);
  }
  std::string Good(const std::string& cluster) {
    return Objects(listen_port_, cluster) + ClusterDoc("blue", blue_.port()) +
           ClusterDoc("green", green_.port());
  }

  void Start(int check_ms) {
    Subprocess::Options options;
    options.argv = {causeway::testing::BuiltBinary("causeway-proxy"),
                    "--config",
                    config_,
                    "--proxy",
                    "edge",
                    "--admin",
                    "127.0.0.1:" + std::to_string(admin_port_),
                    "--listen-address",
                    "127.0.0.1",
                    "--workers",
                    "1",
                    "--access-log",
                    "off",
                    "--config-check-ms",
                    std::to_string(check_ms)};
    options.log_path = dir_.File("proxy.log");
    proxy_ = std::make_unique<Subprocess>(options);
  }

  std::string Origin() {
    RawClient::Response r = proxy::testing::Request(
        listen_port_,
        "GET / HTTP/1.1\r\nHost: app.test:" + std::to_string(listen_port_) + "\r\n\r\n");
    return r.status == 200 ? r.Header("x-origin") : "status " + std::to_string(r.status);
  }
  // The admin endpoint starts after the listeners, so a test that reads it
  // next waits for it too.
  bool ServedBy(const std::string& origin) {
    return WaitFor(
        [&] { return proxy_->Running() && Origin() == origin && !Admin("/server_info").empty(); },
        seconds(15));
  }

  // The page's JSON, or an empty object when the admin endpoint does not
  // answer (yet), so that callers' value() lookups fall back to defaults.
  nlohmann::json Admin(const std::string& path) {
    auto client = HttpClient::Create("127.0.0.1:" + std::to_string(admin_port_),
                                     HttpClient::Options{seconds(5)});
    if (!client.ok()) return nlohmann::json::object();
    auto res = (*client)->Send("GET", path);
    if (!res.ok() || res->status != 200) return nlohmann::json::object();
    nlohmann::json page = nlohmann::json::parse(res->body, nullptr, false);
    return page.is_object() ? page : nlohmann::json::object();
  }

  TempDir dir_;
  const std::string config_ = dir_.File("edge.yaml");
  const int listen_port_ = FreePort();
  const int admin_port_ = FreePort();
  TestOrigin blue_{"blue"};
  TestOrigin green_{"green"};
  std::unique_ptr<Subprocess> proxy_;
};

TEST_F(StaticConfigTest, ServesTheFileAndFollowsItsEdits) {
  Write(Good("blue"));
  Start(/*check_ms=*/50);
  ASSERT_TRUE(ServedBy("blue"));
  EXPECT_EQ(Admin("/server_info").value("mode", ""), "static");

  Write(Good("green"));
  ASSERT_TRUE(ServedBy("green"));
  nlohmann::json dump = Admin("/config_dump");
  EXPECT_EQ(dump.value("loads", 0), 2);
  EXPECT_EQ(dump.value("failures", 0), 0);
  EXPECT_FALSE(dump.contains("last_error"));
}

TEST_F(StaticConfigTest, BadEditKeepsTheLastGoodConfigAndSaysWhy) {
  Write(Good("blue"));
  Start(/*check_ms=*/50);
  ASSERT_TRUE(ServedBy("blue"));

  // A reference to a cluster the file does not have: it does not translate.
  Write(Objects(listen_port_, "nowhere") + ClusterDoc("blue", blue_.port()));
  ASSERT_TRUE(WaitFor([&] { return Admin("/config_dump").value("failures", 0) == 1; }));
  nlohmann::json dump = Admin("/config_dump");
  EXPECT_NE(dump.value("last_error", "").find("nowhere"), std::string::npos) << dump.dump();
  EXPECT_EQ(Origin(), "blue");

  // Not YAML at all.
  Write("kind: Zone\nname: [unclosed\n");
  ASSERT_TRUE(WaitFor([&] { return Admin("/config_dump").value("failures", 0) == 2; }));
  EXPECT_NE(Admin("/config_dump").value("last_error", "").find("edge.yaml"), std::string::npos);
  EXPECT_EQ(Origin(), "blue");
  EXPECT_NE(proxy_->Log().find("last good configuration keeps serving"), std::string::npos);

  // A good file again is taken, and the error is gone.
  Write(Good("green"));
  ASSERT_TRUE(ServedBy("green"));
  EXPECT_FALSE(Admin("/config_dump").contains("last_error"));
  nlohmann::json stats = Admin("/stats?format=json");
  EXPECT_EQ(stats.value("static_config_failures_total", -1.0), 2.0) << stats.dump();
}

TEST_F(StaticConfigTest, SighupReloadsAtOnce) {
  Write(Good("blue"));
  Start(/*check_ms=*/3600000);  // the interval never comes: only SIGHUP reloads
  ASSERT_TRUE(ServedBy("blue"));
  Write(Good("green"));
  proxy_->Signal(SIGHUP);
  ASSERT_TRUE(ServedBy("green"));
  EXPECT_TRUE(proxy_->Running());  // SIGHUP does not end it
  EXPECT_EQ(Admin("/config_dump").value("loads", 0), 2);
}

TEST_F(StaticConfigTest, BadFileAtStartIsAnErrorNamingIt) {
  Write(Objects(listen_port_, "nowhere"));
  Start(/*check_ms=*/50);
  const int status = proxy_->Wait(seconds(15));
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_NE(proxy_->Log().find("nowhere"), std::string::npos) << proxy_->Log();

  Write(Good("blue"));
  proxy_ = nullptr;
  Subprocess::Options options;
  options.argv = {causeway::testing::BuiltBinary("causeway-proxy"),
                  "--config",
                  config_,
                  "--proxy",
                  "no-such-proxy",
                  "--admin",
                  "127.0.0.1:" + std::to_string(admin_port_)};
  options.log_path = dir_.File("proxy2.log");
  Subprocess other(options);
  const int other_status = other.Wait(seconds(15));
  ASSERT_TRUE(WIFEXITED(other_status));
  EXPECT_EQ(WEXITSTATUS(other_status), 2);
  EXPECT_NE(other.Log().find("no Proxy named \"no-such-proxy\""), std::string::npos) << other.Log();
}

}  // namespace
}  // namespace causeway::proxy
