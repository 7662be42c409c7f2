// The hub under hostile input: bodies built to exhaust the stack, the heap
// or the parser (100,000 nested arrays or objects, a 900 KB string, 100,000
// keys, numbers beyond a double, invalid UTF-8, garbage) sent to every
// endpoint that takes a body, with a viewer, an agent, an admin and no
// token. Every answer is a 4xx with a JSON error, the hub keeps serving and
// nothing is stored. The same shapes as YAML files make `causeway apply -f`
// exit 3 with a message naming the file and line, never crash.
#include <sys/wait.h>

#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "hub_fixture.h"

namespace causeway::testing {
namespace {

std::string Repeat(std::string_view s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

std::string Base36(size_t n) {
  std::string s;
  do {
    s.insert(s.begin(), "0123456789abcdefghijklmnopqrstuvwxyz"[n % 36]);
    n /= 36;
  } while (n > 0);
  return s;
}

struct Shape {
  std::string name;
  std::string body;
};

std::vector<Shape> HostileBodies() {
  const std::string digits100 = Repeat("1234567890", 10);
  std::string keys = "{";
  for (size_t i = 0; i < 100000; ++i) keys += (i ? ",\"" : "\"") + Base36(i) + "\":0";
  keys += "}";
  std::string noise = "\x01";  // deterministic bytes that are never JSON
  uint32_t x = 12345;
  for (int i = 0; i < 4096; ++i) {
    x = x * 1103515245 + 12345;
    noise.push_back(static_cast<char>(x >> 24));
  }
  return {
      {"100,000 nested arrays", Repeat("[", 100000) + Repeat("]", 100000)},
      {"100,000 nested objects", Repeat(R"({"a":)", 100000) + "1" + Repeat("}", 100000)},
      {"100,000 nested arrays in items",
       R"({"items": [)" + Repeat("[", 100000) + Repeat("]", 100000) + "]}"},
      {"900 KB string",
       R"({"name": "hostile", "description": ")" + std::string(900000, 'x') + R"("})"},
      {"900 KB key", R"({")" + std::string(900000, 'k') + R"(": 1})"},
      {"100,000 keys", keys},
      {"300,000 values", "[" + Repeat("0,", 299999) + "0]"},
      {"1e999", R"({"name": "hostile", "description": 1e999})"},
      {"-1e999 in a document", R"([{"kind": "Zone", "name": "hostile", "description": -1e999}])"},
      {"100-digit integers",
       R"({"name": "hostile", "port": )" + digits100 + R"(, "interval_ms": )" + digits100 +
           R"(, "instances": [{"host": "10.9.9.9", "port": )" + digits100 + "}]}"},
      {"100-digit integer list", "[" + digits100 + "]"},
      {"invalid UTF-8", "{\"name\": \"hostile\xff\xfe\"}"},
      {"overlong UTF-8", "[\"\xc0\x80\"]"},
      {"UTF-8 surrogate", "{\"name\": \"a\xed\xa0\x80\"}"},
      {"truncated UTF-8", "{\"name\": \"\xe2\x82\"}"},
      {"invalid UTF-8 outside strings", "\xff{}"},
      {"lone surrogate escape", R"({"name": "\ud800"})"},
      {"empty", ""},
      {"blank", "  \r\n\t "},
      {"garbage", "garbage"},
      {"unclosed", R"({"name": "hostile", "instances": [)"},
      {"two documents", "{}{}"},
      {"null", "null"},
      {"control bytes", std::string("\0\1\2\3", 4)},
      {"noise", noise},
  };
}

struct Endpoint {
  std::string method;
  std::string target;
};

// Every route that reads a body (src/hub/api/*: objects, instances, apply,
// tokens, the agents' relay report).
std::vector<Endpoint> BodyEndpoints() {
  std::vector<Endpoint> e = {{"POST", "/v1/zones"}, {"PUT", "/v1/zones/dev"}};
  for (const char* kind : {"proxies", "domains", "route-groups", "routes", "clusters"}) {
    e.push_back({"POST", std::string("/v1/zones/dev/") + kind});
  }
  for (const char* object : {"proxies/edge", "domains/api.example.com:80", "route-groups/main",
                             "routes/root", "clusters/web"}) {
    e.push_back({"PUT", std::string("/v1/zones/dev/") + object});
  }
  e.push_back({"PUT", "/v1/zones/dev/clusters/web/instances"});
  e.push_back({"PUT", "/v1/zones/dev/clusters/fresh/instances"});  // would create "fresh"
  for (const char* query : {"", "?op=apply", "?op=create", "?op=delete", "?dry_run=true"}) {
    e.push_back({"POST", std::string("/v1/apply") + query});
  }
  e.push_back({"POST", "/v1/tokens"});
  e.push_back({"PUT", "/v1/zones/dev/agents/a1/proxies"});
  return e;
}

class HostileInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hub_.Start();
    admin_ = std::make_unique<Api>(hub_.url(), hub_.admin_token());
    SeedZone(*admin_, "dev");
    tokens_ = {{"viewer", CreateToken(*admin_, "hostile-viewer", "viewer")},
               {"agent", CreateToken(*admin_, "hostile-agent", "agent", "dev")},
               {"admin", hub_.admin_token()},
               {"no token", ""}};
  }

  int64_t Revision() {
    auto res = admin_->Get("/v1/zones");
    EXPECT_EQ(res.status, 200) << res.raw.body;
    if (!res.body.is_object() || !res.body["revision"].is_string()) return -1;
    return std::stoll(res.body["revision"].get<std::string>());
  }

  bool HubRunning() { return hub_.Wait(std::chrono::milliseconds(1)) == -1; }

  HubProcess hub_;
  std::unique_ptr<Api> admin_;
  std::vector<std::pair<std::string, std::string>> tokens_;  // role, secret
};

TEST_F(HostileInputTest, EveryBodyEndpointAnswers4xxAndStoresNothing) {
  const int64_t before = Revision();
  const size_t token_count = admin_->Get("/v1/tokens").body["items"].size();
  const std::vector<Shape> shapes = HostileBodies();
  const std::vector<Endpoint> endpoints = BodyEndpoints();
  for (const Shape& shape : shapes) {
    ASSERT_LT(shape.body.size(), size_t{1} << 20) << shape.name << " must fit the 1 MiB limit";
  }

  std::vector<std::string> failures;
  int requests = 0;
  bool hub_gone = false;
  for (const auto& [role, token] : tokens_) {
    auto client = HttpClient::Create(hub_.url());
    ASSERT_TRUE(client.ok()) << client.status();
    HttpClient::Headers headers = {{"Content-Type", "application/json"}};
    if (!token.empty()) headers["Authorization"] = "Bearer " + token;
    for (const Endpoint& endpoint : endpoints) {
      for (const Shape& shape : shapes) {
        const std::string what =
            role + " " + endpoint.method + " " + endpoint.target + " <- " + shape.name;
        ++requests;
        auto res = (*client)->Send(endpoint.method, endpoint.target, shape.body, headers);
        if (!res.ok()) {
          failures.push_back(what + ": no answer (" + res.status().ToString() + ")");
          if (!HubRunning()) {
            hub_gone = true;
            break;
          }
          continue;
        }
        Json body = Json::parse(res->body, nullptr, false);
        const bool json_error =
            body.is_object() && body.contains("error") && body["error"].is_object() &&
            !body["error"].value("code", "").empty() && !body["error"].value("message", "").empty();
        if (res->status < 400 || res->status >= 500 || !json_error) {
          failures.push_back(what + ": " + std::to_string(res->status) + " " +
                             res->body.substr(0, 200));
        }
      }
      if (hub_gone) break;
    }
    if (hub_gone) break;
  }
  std::string report;
  for (size_t i = 0; i < failures.size() && i < 30; ++i) report += "\n  " + failures[i];
  EXPECT_TRUE(failures.empty()) << failures.size() << " of " << requests
                                << " requests were not answered with a JSON 4xx" << report;
  ASSERT_FALSE(hub_gone) << "the hub died:\n" << hub_.Log().substr(0, 4000);

  // Still serving, and nothing was stored: no change, token or report.
  ASSERT_TRUE(HubRunning()) << hub_.Log().substr(0, 4000);
  Api fresh(hub_.url(), "");
  EXPECT_EQ(fresh.Get("/healthz").status, 200);
  EXPECT_EQ(Revision(), before);
  EXPECT_EQ(admin_->Get("/v1/zones/dev/clusters/fresh").status, 404);
  EXPECT_EQ(admin_->Get("/v1/tokens").body["items"].size(), token_count);
  auto status = admin_->Get("/v1/zones/dev/status");
  EXPECT_EQ(status.status, 200) << status.raw.body;
  EXPECT_TRUE(status.body.value("agents", Json::array()).empty()) << status.raw.body;
  Api viewer(hub_.url(), tokens_[0].second);
  EXPECT_EQ(viewer.Get("/v1/zones/dev/routes/root").status, 200);
}

std::string Message(const Api::Result& res) {
  if (!res.body.is_object() || !res.body.contains("error")) return "";
  const Json& error = res.body.at("error");
  return error.is_object() ? error.value("message", "") : "";
}

// The limits name what broke and where, and leave room for real objects.
TEST_F(HostileInputTest, LimitErrorsNameTheProblem) {
  auto deep = admin_->Raw("POST", "/v1/apply", Repeat("[", 100000) + Repeat("]", 100000));
  EXPECT_EQ(deep.status, 400);
  EXPECT_EQ(deep.code(), "invalid_argument");
  EXPECT_EQ(Message(deep), "body: nested deeper than 64 levels at byte 65");
  auto huge = admin_->Raw("POST", "/v1/zones", R"({"name": "n", "description": 1e999})");
  EXPECT_EQ(huge.status, 400);
  EXPECT_EQ(Message(huge), "body: the number 1e999 at byte 34 is out of range");
  auto string =
      admin_->Raw("POST", "/v1/zones",
                  R"({"name": "n", "description": ")" + std::string(900000, 'x') + R"("})");
  EXPECT_EQ(string.status, 400);
  EXPECT_EQ(string.field(), "description");
  auto utf8 = admin_->Raw("POST", "/v1/zones", "{\"name\": \"\xff\"}");
  EXPECT_EQ(utf8.status, 400);
  EXPECT_NE(Message(utf8).find("UTF-8"), std::string::npos) << utf8.raw.body;

  // A route group with rules, matches, targets and metadata, sent through
  // apply, nests 8 levels: well inside the limit.
  Json group = {
      {"kind", "RouteGroup"},
      {"zone", "dev"},
      {"name", "deep-ok"},
      {"default", {{{"cluster", "web"}, {"weight", 1}, {"metadata", {{"a", "b"}}}}}},
      {"rules",
       {{{"methods", {"GET"}},
         {"matches", {{{"kind", "header"}, {"key", "x-stage"}, {"value", "blue"}}}},
         {"targets", {{{"cluster", "web"}, {"weight", 1}, {"metadata", {{"stage", "blue"}}}}}}}}}};
  auto applied = admin_->Post("/v1/apply", Json{{"items", {group}}});
  EXPECT_EQ(applied.status, 200) << applied.raw.body;
}

// The same shapes as YAML files through the CLI: exit 3 (invalid input)
// with the file and line, never a crash.
TEST_F(HostileInputTest, CliRefusesHostileYamlWithTheLine) {
  const int64_t before = Revision();
  std::string block;
  for (size_t i = 0; i < 10000; ++i) block += std::string(i, ' ') + "a:\n";
  std::string laughs =
      "kind: Zone\nname: z\ndescription:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 12; ++i) {
    laughs += "  a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) laughs += (j ? ", *a" : "*a") + std::to_string(i - 1);
    laughs += "]\n";
  }
  std::string keys = "kind: Zone\nname: z\ndescription:\n";
  for (size_t i = 0; i < 100000; ++i) keys += "  k" + Base36(i) + ": 0\n";
  struct YamlCase {
    std::string file;
    std::string text;
    std::string line;  // the location the message must name
  };
  const std::vector<YamlCase> cases = {
      {"flow-arrays.yaml", Repeat("[", 100000) + Repeat("]", 100000) + "\n", "line 1, column 65"},
      {"flow-maps.yaml", Repeat("{a: ", 100000) + "1" + Repeat("}", 100000) + "\n",
       "line 1, column 257"},
      {"flow-arrays.json",
       "[{\"kind\": \"Zone\", \"name\": \"z\", \"description\": " + Repeat("[", 100000) +
           Repeat("]", 100000) + "}]\n",
       "line 1, column 109"},
      {"block-sequences.yaml", Repeat("- ", 10000) + "x\n", "line 1, column 129"},
      {"block-maps.yaml", block, "line 65, column 65"},
      {"alias-in-own-anchor.yaml", "kind: Zone\nname: z\ndescription: &x [*x]\n", "line 3"},
      {"billion-laughs.yaml", laughs, "line 4"},
      {"long-scalar.yaml", "kind: Zone\nname: z\ndescription: " + std::string(900000, 'x') + "\n",
       "line 3"},
      {"many-keys.yaml", keys, "line 4"},
      {"invalid-utf8.yaml", "kind: Zone\nname: z\ndescription: \"\xff\xfe\"\n", "line 3"},
      {"stray-comma.yaml", ",\n", "line 1, column 1"},  // yaml-cpp 0.7 alone loops forever
      {"name-not-a-string.yaml", "kind: Zone\nname: 5\nfoo: 1\n", "name-not-a-string.yaml:2:"},
  };
  TempDir dir;
  for (const YamlCase& c : cases) {
    SCOPED_TRACE(c.file);
    const std::string path = dir.File(c.file);
    std::ofstream(path, std::ios::binary) << c.text;
    Subprocess::Options options;
    options.argv = {"/bin/sh",
                    "-c",
                    "exec \"$0\" \"$@\" </dev/null >\"$CW_OUT\" 2>\"$CW_ERR\"",
                    BuiltBinary("causeway"),
                    "--hub",
                    hub_.url(),
                    "--token",
                    hub_.admin_token(),
                    "apply",
                    "-f",
                    path};
    options.env = {{"HOME", dir.path()},
                   {"CW_OUT", path + ".out"},
                   {"CW_ERR", path + ".err"},
                   {"CAUSEWAY_TOKEN", ""},
                   {"XDG_CONFIG_HOME", ""}};
    Subprocess cli(options);
    const int status = cli.Wait(std::chrono::seconds(60));
    std::ifstream err_file(path + ".err");
    std::stringstream err;
    err << err_file.rdbuf();
    if (status == -1) {
      ADD_FAILURE() << "causeway apply -f did not finish in 60 s";
      continue;  // the Subprocess is killed on destruction
    }
    if (WIFSIGNALED(status)) {
      ADD_FAILURE() << "causeway apply -f was killed by signal " << WTERMSIG(status) << ": "
                    << err.str();
      continue;
    }
    EXPECT_EQ(WEXITSTATUS(status), 3) << err.str();
    EXPECT_NE(err.str().find(path), std::string::npos) << err.str();
    EXPECT_NE(err.str().find(c.line), std::string::npos) << err.str();
  }
  EXPECT_TRUE(HubRunning());
  EXPECT_EQ(Revision(), before);
}

}  // namespace
}  // namespace causeway::testing
