// Route explain against the real thing: the real `causeway serve`, a real
// `causeway-proxy` following it over xDS and test origins on loopback, all on
// ports chosen at run time. What explain answers (over REST and through
// `causeway explain`) must agree with where requests sent through the proxy
// land: a rule on a header and a cookie picks a cluster's subset, and a
// weighted split reaches exactly the instances it reports.
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hub_fixture.h"
#include "nlohmann/json.hpp"
#include "support/process.h"
#include "test_origin.h"

namespace causeway {
namespace {

using causeway::testing::Api;
using causeway::testing::FreePort;
using causeway::testing::HubProcess;
using causeway::testing::Json;
using causeway::testing::Subprocess;
using causeway::testing::TempDir;
using causeway::testing::WaitFor;
using proxy::testing::RawClient;
using proxy::testing::TestOrigin;
using std::chrono::seconds;
using ::testing::HasSubstr;

constexpr char kZone[] = "shop";
constexpr char kProxy[] = "edge";

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class ExplainThroughProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(hub_.Start({"--xds-threads", "1"}));
    api_ = std::make_unique<Api>(hub_.url(), hub_.admin_token());
    listen_port_ = FreePort();
    admin_port_ = FreePort();
    domain_ = "app.test:" + std::to_string(listen_port_);
    ASSERT_NO_FATAL_FAILURE(Seed());
    ASSERT_NO_FATAL_FAILURE(StartProxy());
  }

  void TearDown() override {
    if (proxy_ != nullptr && HasFailure())
      std::cerr << "--- causeway-proxy log ---\n" << proxy_->Log();
  }

  static void Created(const Api::Result& r) { ASSERT_EQ(r.status, 201) << r.raw.body; }

  std::string ZonePath(const std::string& rest) const {
    return std::string("/v1/zones/") + kZone + rest;
  }

  static Json Instance(const TestOrigin& o, Json metadata = Json::object()) {
    return {{"host", "127.0.0.1"}, {"port", o.port()}, {"metadata", std::move(metadata)}};
  }

  // Cluster blue (one origin), cluster green (v1 and v2, told apart by
  // metadata). Route "api" (/api, group "main"): header x-canary: 1 with
  // cookie beta=yes goes to green's v2 instances, anything else to blue.
  // Route "root" (/, group "split"): blue and green, weight 1 each.
  void Seed() {
    Created(api_->Post("/v1/zones", {{"name", kZone}}));
    Created(
        api_->Post(ZonePath("/clusters"), {{"name", "blue"}, {"instances", {Instance(blue_)}}}));
    Created(api_->Post(ZonePath("/clusters"), {{"name", "green"},
                                               {"instances",
                                                {Instance(green_v1_, {{"version", "v1"}}),
                                                 Instance(green_v2_, {{"version", "v2"}})}}}));
    Created(api_->Post(ZonePath("/domains"), {{"host", "app.test"}, {"port", listen_port_}}));
    Created(api_->Post(
        ZonePath("/route-groups"),
        {{"name", "main"},
         {"default", {{{"cluster", "blue"}}}},
         {"rules",
          {{{"matches",
             {{{"kind", "header"}, {"key", "x-canary"}, {"value", "1"}},
              {{"kind", "cookie"}, {"key", "beta"}, {"value", "yes"}}}},
            {"targets", {{{"cluster", "green"}, {"metadata", {{"version", "v2"}}}}}}}}}}));
    Created(api_->Post(ZonePath("/route-groups"), {{"name", "split"},
                                                   {"default",
                                                    {{{"cluster", "blue"}, {"weight", 1}},
                                                     {{"cluster", "green"}, {"weight", 1}}}}}));
    Created(api_->Post(
        ZonePath("/routes"),
        {{"name", "api"}, {"domain", domain_}, {"path", "/api"}, {"route_group", "main"}}));
    Created(api_->Post(
        ZonePath("/routes"),
        {{"name", "root"}, {"domain", domain_}, {"path", "/"}, {"route_group", "split"}}));
    Created(api_->Post(ZonePath("/proxies"), {{"name", kProxy}, {"domains", {domain_}}}));
  }

  void StartProxy() {
    Subprocess::Options options;
    options.argv = {causeway::testing::BuiltBinary("causeway-proxy"),
                    "--xds",
                    "127.0.0.1:" + std::to_string(hub_.xds_port()),
                    "--proxy",
                    kProxy,
                    "--zone",
                    kZone,
                    "--admin",
                    "127.0.0.1:" + std::to_string(admin_port_),
                    "--listen-address",
                    "127.0.0.1",
                    "--workers",
                    "2",
                    "--access-log",
                    "off"};
    options.log_path = dir_.File("proxy.log");
    proxy_ = std::make_unique<Subprocess>(options);
    bool serving = WaitFor(
        [&] {
          if (!proxy_->Running()) return true;
          return Send("/api/warmup", {}).Header("x-origin") == "blue";
        },
        seconds(30));
    ASSERT_TRUE(serving && proxy_->Running()) << "the proxy did not serve:\n" << proxy_->Log();
  }

  // One GET through the proxy with `headers` ("Name: value" lines).
  RawClient::Response Send(const std::string& path, const std::vector<std::string>& headers) {
    std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + domain_ + "\r\n";
    for (const std::string& h : headers) request += h + "\r\n";
    return proxy::testing::Request(listen_port_, request + "\r\n");
  }

  Json Explain(const Json& body) {
    Api::Result r = api_->Post(ZonePath(std::string("/proxies/") + kProxy + "/explain"), body);
    EXPECT_EQ(r.status, 200) << r.raw.body;
    return r.body;
  }

  // The origins (by name) an explain answer's instances are.
  std::set<std::string> OriginsOf(const Json& answer) {
    std::map<int, std::string> by_port;
    for (const TestOrigin* o : {&blue_, &green_v1_, &green_v2_}) by_port[o->port()] = o->name();
    std::set<std::string> out;
    for (const Json& i : answer["instances"]) out.insert(by_port[i["port"].get<int>()]);
    return out;
  }

  CliResult RunCli(const std::vector<std::string>& args) {
    static int counter = 0;
    const std::string base = dir_.File("cli-" + std::to_string(counter++));
    Subprocess::Options options;
    // The shell only wires the files; the arguments pass through "$@".
    options.argv = {"/bin/sh", "-c", "exec \"$0\" \"$@\" >\"$CW_OUT\" 2>\"$CW_ERR\" </dev/null",
                    causeway::testing::BuiltBinary("causeway")};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.env = {{"HOME", dir_.path()},
                   {"CAUSEWAY_HUB", hub_.url()},
                   {"CAUSEWAY_TOKEN", hub_.admin_token()},
                   {"XDG_CONFIG_HOME", ""},
                   {"CW_OUT", base + ".out"},
                   {"CW_ERR", base + ".err"}};
    Subprocess process(options);
    const int status = process.Wait(seconds(60));
    CliResult result;
    result.exit_code = status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = ReadAll(base + ".out");
    result.err = ReadAll(base + ".err");
    return result;
  }

  TempDir dir_;
  HubProcess hub_;
  std::unique_ptr<Api> api_;
  TestOrigin blue_{"blue"};
  TestOrigin green_v1_{"green-v1"};
  TestOrigin green_v2_{"green-v2"};
  int listen_port_ = 0;
  int admin_port_ = 0;
  std::string domain_;
  std::unique_ptr<Subprocess> proxy_;
};

TEST_F(ExplainThroughProxyTest, HeaderAndCookieRuleAgreesWithTheProxy) {
  Json answer = Explain({{"host", domain_},
                         {"path", "/api/orders?id=7"},
                         {"headers", {{"X-Canary", "1"}}},
                         {"cookies", {{"session", "s1"}, {"beta", "yes"}}}});
  EXPECT_EQ(answer["listener"], std::string(kProxy) + ":" + std::to_string(listen_port_));
  EXPECT_EQ(answer["route"], "api");
  EXPECT_EQ(answer["rule"], 0);
  EXPECT_EQ(answer["rule_of"], "route_group");
  EXPECT_EQ(answer["cluster"], "green");
  EXPECT_EQ(OriginsOf(answer), std::set<std::string>{"green-v2"});
  for (int i = 0; i < 20; ++i) {
    RawClient::Response r =
        Send("/api/orders?id=7", {"X-Canary: 1", "Cookie: session=s1; beta=yes"});
    ASSERT_EQ(r.status, 200) << r.head;
    EXPECT_EQ(r.Header("x-origin"), "green-v2");
  }

  // Without the cookie the rule does not hold: the group's default.
  answer = Explain({{"host", domain_}, {"path", "/api/orders"}, {"headers", {{"x-canary", "1"}}}});
  EXPECT_TRUE(answer["rule"].is_null());
  EXPECT_EQ(answer["cluster"], "blue");
  EXPECT_EQ(OriginsOf(answer), std::set<std::string>{"blue"});
  RawClient::Response r = Send("/api/orders", {"X-Canary: 1"});
  ASSERT_EQ(r.status, 200) << r.head;
  EXPECT_EQ(r.Header("x-origin"), "blue");

  // The same request pasted as a curl command line.
  answer = Explain({{"curl", "curl -H 'Host: " + domain_ +
                                 "' -H 'x-canary: 1' -b 'beta=yes' "
                                 "http://127.0.0.1:" +
                                 std::to_string(listen_port_) + "/api/orders"}});
  EXPECT_EQ(answer["cluster"], "green");
}

TEST_F(ExplainThroughProxyTest, WeightedSplitReachesExactlyTheReportedInstances) {
  Json answer = Explain({{"host", domain_}, {"path", "/shop"}});
  EXPECT_EQ(answer["route"], "root");
  EXPECT_TRUE(answer["cluster"].is_null());
  ASSERT_EQ(answer["clusters"].size(), 2u);
  std::map<std::string, std::string> cluster_of;  // origin name -> cluster
  for (const Json& c : answer["clusters"]) {
    EXPECT_EQ(c["weight"], 1);
    for (const Json& i : c["instances"]) {
      for (const TestOrigin* o : {&blue_, &green_v1_, &green_v2_}) {
        if (o->port() == i["port"].get<int>()) cluster_of[o->name()] = c["name"];
      }
    }
  }
  EXPECT_EQ(OriginsOf(answer), (std::set<std::string>{"blue", "green-v1", "green-v2"}));

  std::map<std::string, int> per_cluster;
  for (int i = 0; i < 200; ++i) {
    RawClient::Response r = Send("/shop/" + std::to_string(i), {});
    ASSERT_EQ(r.status, 200) << r.head;
    const std::string origin = r.Header("x-origin");
    ASSERT_TRUE(cluster_of.contains(origin)) << "landed on " << origin << ", not reported";
    ++per_cluster[cluster_of[origin]];
  }
  for (const Json& c : answer["clusters"]) {
    EXPECT_GT(per_cluster[c["name"]], 0) << "cluster " << c["name"] << " got none of 200";
  }
}

TEST_F(ExplainThroughProxyTest, CommandLineShowsTheSameAnswer) {
  const std::string url = "http://" + domain_ + "/api/orders";
  CliResult json = RunCli({"explain", "-z", kZone, "--proxy", kProxy, url, "-H", "x-canary: 1",
                           "--cookie", "beta=yes", "-o", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  Json cli = Json::parse(json.out, nullptr, false);
  ASSERT_FALSE(cli.is_discarded()) << json.out;
  Json api = Explain({{"host", domain_},
                      {"path", "/api/orders"},
                      {"headers", {{"x-canary", "1"}}},
                      {"cookies", {{"beta", "yes"}}}});
  EXPECT_EQ(cli, api);

  // Text; the zone's only proxy is taken when --proxy is left out.
  CliResult text = RunCli({"explain", "-z", kZone, domain_ + "/shop"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("ROUTE       root (route group split)"));
  EXPECT_THAT(text.out, HasSubstr("CLUSTERS    blue  weight 1/2"));
  EXPECT_THAT(text.out, HasSubstr("green  weight 1/2"));
  EXPECT_THAT(text.out, HasSubstr("version=v2"));

  // Nothing matches: exit 5 (not found) with what did not match.
  CliResult none = RunCli({"explain", "-z", kZone, "--proxy", kProxy,
                           "http://other.test:" + std::to_string(listen_port_) + "/"});
  EXPECT_EQ(none.exit_code, 5) << none.out << none.err;
  EXPECT_THAT(none.err, HasSubstr("matches host \"other.test:"));

  CliResult bad = RunCli({"explain", "-z", kZone, url, "-H", "no colon"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_THAT(bad.err, HasSubstr("give \"Name: value\""));

  CliResult help = RunCli({"explain", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("--cookie"));
  EXPECT_THAT(help.out, HasSubstr("--proxy"));
}

TEST_F(ExplainThroughProxyTest, AnyTokenThatReadsTheZoneMayAsk) {
  const std::string path = ZonePath(std::string("/proxies/") + kProxy + "/explain");
  const Json body = {{"host", domain_}, {"path", "/api"}};
  Api viewer(hub_.url(), causeway::testing::CreateToken(*api_, "watcher", "viewer", kZone));
  Api::Result r = viewer.Post(path, body);
  EXPECT_EQ(r.status, 200) << r.raw.body;
  EXPECT_EQ(r.body["cluster"], "blue");
  // A token of another zone does not see this one.
  Api other(hub_.url(), causeway::testing::CreateToken(*api_, "elsewhere", "editor", "other"));
  r = other.Post(path, body);
  EXPECT_EQ(r.status, 404) << r.raw.body;
  // Unknown proxy or zone, and a bad body, each say so.
  r = api_->Post(ZonePath("/proxies/nobody/explain"), body);
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(r.body["error"]["message"].get<std::string>(),
              HasSubstr("proxy \"nobody\" does not exist"));
  r = api_->Post("/v1/zones/nowhere/proxies/edge/explain", body);
  EXPECT_EQ(r.status, 404);
  r = api_->Post(path, {{"host", domain_}, {"path", "/"}, {"headers", {{"Host", "x"}}}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.field(), "headers.Host");
  r = api_->Post(path, nullptr);
  EXPECT_EQ(r.status, 400) << r.raw.body;
}

}  // namespace
}  // namespace causeway
