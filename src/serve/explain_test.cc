// Route explain over a zone's objects: the answer names the listener, domain,
// route, rule and clusters the proxy's own router picks, and says what did not
// match when nothing does.
#include "serve/explain.h"

#include "common/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace causeway::serve {
namespace {

using model::Json;
using ::testing::HasSubstr;

constexpr char kZone[] = "dev-local";

model::Object Make(model::Kind kind, const Json& body) {
  absl::StatusOr<model::ParsedObject> parsed = model::ParseObject(kind, body, kZone, "");
  EXPECT_TRUE(parsed.ok()) << parsed.status() << " " << body.dump();
  model::Object o;
  if (!parsed.ok()) return o;
  o.key = parsed->key;
  o.version = 1;
  o.spec = parsed->spec;
  return o;
}

Json Instance(int port, Json metadata = Json::object()) {
  return {{"host", "127.0.0.1"}, {"port", port}, {"metadata", std::move(metadata)}};
}

// demo.turbinelabs.io:8888 on proxy dev-proxy. Route "api" (/api, group
// "main"): its own rule sends cookie beta=yes to green's v2 instances; the
// group's rule sends header x-canary: 1 (GET or POST) to green; the group's
// default is blue. Route "root" (/, group "split"): blue 3, green 1.
std::vector<model::Object> Zone() {
  using model::Kind;
  return {
      Make(Kind::kZone, {{"name", kZone}}),
      Make(Kind::kCluster, {{"name", "blue"}, {"instances", {Instance(9001), Instance(9002)}}}),
      Make(Kind::kCluster,
           {{"name", "green"},
            {"instances",
             {Instance(9101, {{"version", "v1"}}), Instance(9102, {{"version", "v2"}})}}}),
      Make(Kind::kDomain, {{"host", "demo.turbinelabs.io"}, {"port", 8888}}),
      Make(Kind::kRouteGroup,
           {{"name", "main"},
            {"default", {{{"cluster", "blue"}}}},
            {"rules",
             {{{"methods", {"GET", "POST"}},
               {"matches", {{{"kind", "header"}, {"key", "x-canary"}, {"value", "1"}}}},
               {"targets", {{{"cluster", "green"}}}}}}}}),
      Make(Kind::kRouteGroup,
           {{"name", "split"},
            {"default",
             {{{"cluster", "blue"}, {"weight", 3}}, {{"cluster", "green"}, {"weight", 1}}}}}),
      Make(Kind::kRoute,
           {{"name", "api"},
            {"domain", "demo.turbinelabs.io:8888"},
            {"path", "/api"},
            {"route_group", "main"},
            {"rules",
             {{{"matches", {{{"kind", "cookie"}, {"key", "beta"}, {"value", "yes"}}}},
               {"targets", {{{"cluster", "green"}, {"metadata", {{"version", "v2"}}}}}}}}}}),
      Make(Kind::kRoute, {{"name", "root"},
                          {"domain", "demo.turbinelabs.io:8888"},
                          {"path", "/"},
                          {"route_group", "split"}}),
      Make(Kind::kProxy, {{"name", "dev-proxy"}, {"domains", {"demo.turbinelabs.io:8888"}}}),
  };
}

ExplainRequest Req(std::string host, std::string path) {
  ExplainRequest r;
  r.host = std::move(host);
  r.path = std::move(path);
  return r;
}

Json Ports(const Json& instances) {
  Json out = Json::array();
  for (const Json& i : instances) out.push_back(i["port"]);
  return out;
}

TEST(ExplainTest, GroupDefaultWhenNoRuleMatches) {
  auto answer = Explain(Zone(), "dev-proxy", Req("demo.turbinelabs.io:8888", "/api/x?y=1"));
  ASSERT_TRUE(answer.ok()) << answer.status();
  const Json& a = *answer;
  EXPECT_EQ(a["listener"], "dev-proxy:8888");
  EXPECT_EQ(a["domain"], "demo.turbinelabs.io:8888");
  EXPECT_EQ(a["virtual_host"], "demo.turbinelabs.io:8888");
  EXPECT_EQ(a["route"], "api");
  EXPECT_EQ(a["route_group"], "main");
  EXPECT_TRUE(a["rule"].is_null());
  EXPECT_EQ(a["rule_of"], "default");
  EXPECT_EQ(a["cluster"], "blue");
  ASSERT_EQ(a["clusters"].size(), 1u);
  EXPECT_EQ(a["clusters"][0]["weight"], 1);
  EXPECT_EQ(Ports(a["instances"]), Json({9001, 9002}));
  EXPECT_THAT(a["reason"].get<std::string>(), HasSubstr("default targets of route group \"main\""));
  // The rules tried first are named with why they did not apply.
  EXPECT_THAT(a["reason"].get<std::string>(), HasSubstr("cookie beta is \"yes\""));
}

TEST(ExplainTest, GroupRuleOnHeaderAndMethod) {
  ExplainRequest r = Req("demo.turbinelabs.io:8888", "/api/x");
  r.method = "POST";
  r.headers = {{"X-Canary", "1"}};
  auto answer = Explain(Zone(), "dev-proxy", r);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ((*answer)["rule"], 0);
  EXPECT_EQ((*answer)["rule_of"], "route_group");
  EXPECT_EQ((*answer)["cluster"], "green");
  EXPECT_EQ(Ports((*answer)["instances"]), Json({9101, 9102}));
  EXPECT_THAT((*answer)["reason"].get<std::string>(),
              HasSubstr("rule 0 of route group \"main\": method GET or POST, header x-canary"));

  r.method = "DELETE";  // the rule names GET and POST only
  answer = Explain(Zone(), "dev-proxy", r);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ((*answer)["cluster"], "blue");
}

TEST(ExplainTest, RouteRuleOnCookieSelectsTheSubset) {
  ExplainRequest r = Req("demo.turbinelabs.io:8888", "/api");
  r.cookies = {{"session", "abc"}, {"beta", "yes"}};
  auto answer = Explain(Zone(), "dev-proxy", r);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ((*answer)["rule"], 0);
  EXPECT_EQ((*answer)["rule_of"], "route");
  EXPECT_EQ((*answer)["envoy_route"], "api/rules/0");
  EXPECT_EQ((*answer)["cluster"], "green");
  EXPECT_EQ((*answer)["clusters"][0]["metadata"], Json({{"version", "v2"}}));
  EXPECT_EQ(Ports((*answer)["instances"]), Json({9102}));
  EXPECT_EQ((*answer)["instances"][0]["metadata"], Json({{"version", "v2"}}));
}

TEST(ExplainTest, WeightedSplitListsEveryCluster) {
  auto answer = Explain(Zone(), "dev-proxy", Req("DEMO.turbinelabs.io:8888", "/shop"));
  ASSERT_TRUE(answer.ok()) << answer.status();
  const Json& a = *answer;
  EXPECT_EQ(a["route"], "root");
  EXPECT_TRUE(a["cluster"].is_null());
  ASSERT_EQ(a["clusters"].size(), 2u);
  EXPECT_EQ(a["clusters"][0]["name"], "blue");
  EXPECT_EQ(a["clusters"][0]["weight"], 3);
  EXPECT_EQ(a["clusters"][1]["name"], "green");
  EXPECT_EQ(a["clusters"][1]["weight"], 1);
  EXPECT_EQ(a["instances"].size(), 4u);
  EXPECT_EQ(a["instances"][3]["cluster"], "green");
  EXPECT_THAT(a["reason"].get<std::string>(), HasSubstr("\"blue\" 3/4, \"green\" 1/4"));
}

TEST(ExplainTest, HostWithoutPortOnAProxyWithOneListener) {
  auto answer = Explain(Zone(), "dev-proxy", Req("demo.turbinelabs.io", "/api"));
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ((*answer)["listener"], "dev-proxy:8888");
  EXPECT_EQ((*answer)["route"], "api");
}

// TLS on the domain and the clusters changes nothing about where a request
// goes, and the certificate files (on the proxy's machine) need not exist on
// the hub's.
TEST(ExplainTest, TlsDomainsAndClustersExplainLikeClearText) {
  std::vector<model::Object> zone = Zone();
  for (model::Object& o : zone) {
    if (o.key.kind == model::Kind::kDomain) {
      o.spec["tls"] = {{"cert_file", "/nonexistent/front.crt"},
                       {"key_file", "/nonexistent/front.key"},
                       {"client_ca_file", "/nonexistent/clients.pem"}};
    }
    if (o.key.kind == model::Kind::kCluster) {
      o.spec["tls"] = {{"sni", "blue.internal"}, {"ca_file", "/nonexistent/ca.pem"}};
    }
  }
  auto answer = Explain(zone, "dev-proxy", Req("demo.turbinelabs.io:8888", "/api/x"));
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ((*answer)["route"], "api");
  EXPECT_EQ((*answer)["cluster"], "blue");
}

TEST(ExplainTest, WhatDidNotMatch) {
  auto no_listener = Explain(Zone(), "dev-proxy", Req("demo.turbinelabs.io:9999", "/"));
  EXPECT_EQ(no_listener.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(no_listener.status().message(), HasSubstr("no listener dev-proxy:9999"));
  EXPECT_THAT(no_listener.status().message(), HasSubstr("dev-proxy:8888"));

  auto no_domain = Explain(Zone(), "dev-proxy", Req("other.example:8888", "/"));
  EXPECT_EQ(no_domain.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(
      no_domain.status().message(),
      HasSubstr("no domain of listener dev-proxy:8888 matches host \"other.example:8888\""));

  std::vector<model::Object> objects = Zone();
  std::erase_if(objects, [](const model::Object& o) { return o.key.name == "root"; });
  auto no_route = Explain(objects, "dev-proxy", Req("demo.turbinelabs.io:8888", "/shop"));
  EXPECT_EQ(no_route.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(no_route.status().message(),
              HasSubstr("no route of domain \"demo.turbinelabs.io:8888\" matches GET /shop"));
  EXPECT_THAT(no_route.status().message(), HasSubstr("/api (route api)"));

  auto no_proxy = Explain(Zone(), "nobody", Req("demo.turbinelabs.io:8888", "/"));
  EXPECT_EQ(no_proxy.status().code(), absl::StatusCode::kNotFound);
}

TEST(ExplainTest, ConfigurationThatDoesNotTranslate) {
  // A second domain on the proxy's port claiming the first one's host name:
  // the xDS server would not send this, and explain says why.
  std::vector<model::Object> objects = Zone();
  objects.push_back(
      Make(model::Kind::kDomain,
           {{"host", "other.example"}, {"port", 8888}, {"aliases", {"demo.turbinelabs.io"}}}));
  for (model::Object& o : objects) {
    if (o.key.kind == model::Kind::kProxy) {
      o.spec["domains"] = {"demo.turbinelabs.io:8888", "other.example:8888"};
    }
  }
  auto answer = Explain(objects, "dev-proxy", Req("demo.turbinelabs.io:8888", "/api"));
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kFailedPrecondition) << answer.status();
  EXPECT_THAT(answer.status().message(), HasSubstr("demo.turbinelabs.io"));
}

TEST(ExplainRequestTest, ReadsTheBody) {
  auto r = ParseExplainRequest({{"host", "demo.turbinelabs.io:8888"},
                                {"path", "/api/x?y=1"},
                                {"headers", {{"x-canary", "1"}}},
                                {"cookies", {{"beta", "yes"}}}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->method, "GET");
  EXPECT_EQ(r->headers.size(), 1u);
  EXPECT_EQ(r->cookies.at("beta"), "yes");
}

TEST(ExplainRequestTest, ErrorsNameTheField) {
  struct Case {
    Json body;
    std::string field;
  };
  const std::vector<Case> cases = {
      {{{"path", "/"}}, "host"},
      {{{"host", "a:1"}}, "path"},
      {{{"host", "a:1"}, {"path", "api"}}, "path"},
      {{{"host", 7}, {"path", "/"}}, "host"},
      {{{"host", "a:1"}, {"path", "/"}, {"method", "G T"}}, "method"},
      {{{"host", "a:1"}, {"path", "/"}, {"headers", {{"x-a", 1}}}}, "headers.x-a"},
      {{{"host", "a:1"}, {"path", "/"}, {"headers", {{"bad name", "v"}}}}, "headers.bad name"},
      {{{"host", "a:1"}, {"path", "/"}, {"headers", {{"Host", "b"}}}}, "headers.Host"},
      {{{"host", "a:1"}, {"path", "/"}, {"headers", {{"x", "a\r\nb: c"}}}}, "headers.x"},
      {{{"host", "a:1"}, {"path", "/"}, {"cookies", {{"a", "1; b=2"}}}}, "cookies.a"},
      {{{"host", "a:1"}, {"path", "/"}, {"cookies", Json::array()}}, "cookies"},
      {{{"host", "a:1"}, {"path", "/"}, {"verb", "GET"}}, "verb"},
      {{{"host", "a:1"}, {"curl", "curl http://a/"}}, "curl"},
      {{{"curl", "wget http://a/"}}, "curl"},
  };
  for (const Case& c : cases) {
    auto r = ParseExplainRequest(c.body);
    ASSERT_FALSE(r.ok()) << c.body.dump();
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << c.body.dump();
    EXPECT_EQ(ErrorField(r.status()), c.field) << c.body.dump() << ": " << r.status();
  }
}

}  // namespace
}  // namespace causeway::serve
