// Keeps docs/api/openapi.json true: every route the hub registers is
// described and every described operation is registered, the document hangs
// together, and real responses of a running hub carry what its schemas
// require.
#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/http_client.h"
#include "nlohmann/json.hpp"
#include "serve/hub_routes.h"
#include "serve/hub_server.h"
#include "serve/openapi_api.h"
#include "support/process.h"

namespace causeway::serve {
namespace {

using Json = nlohmann::json;
using Operation = std::pair<std::string, std::string>;  // METHOD, path

const std::set<std::string> kMethods = {"get", "put", "post", "delete", "patch", "head", "options"};

Json Document() {
  Json doc = Json::parse(OpenApiDocument(), nullptr, false);
  EXPECT_FALSE(doc.is_discarded()) << "docs/api/openapi.json is not JSON";
  return doc;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::set<Operation> DocumentedOperations(const Json& doc) {
  std::set<Operation> out;
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      if (kMethods.contains(method)) out.emplace(Upper(method), path);
    }
  }
  return out;
}

std::string List(const std::vector<Operation>& ops) {
  std::string out;
  for (const auto& [method, path] : ops) out += "  " + method + " " + path + "\n";
  return out;
}

TEST(OpenApiTest, EveryRegisteredRouteIsDescribedAndNothingElse) {
  hub::api::ApiContext ctx;  // handlers are registered, never called
  http::Router router = BuildHubRouter(ctx);
  std::set<Operation> registered;
  for (const auto& [method, pattern] : router.Patterns()) registered.emplace(method, pattern);
  const std::set<Operation> documented = DocumentedOperations(Document());
  std::vector<Operation> undocumented, unregistered;
  std::set_difference(registered.begin(), registered.end(), documented.begin(), documented.end(),
                      std::back_inserter(undocumented));
  std::set_difference(documented.begin(), documented.end(), registered.begin(), registered.end(),
                      std::back_inserter(unregistered));
  EXPECT_TRUE(undocumented.empty())
      << "registered by the hub but missing from docs/api/openapi.json:\n"
      << List(undocumented);
  EXPECT_TRUE(unregistered.empty())
      << "described in docs/api/openapi.json but not registered by the hub:\n"
      << List(unregistered);
  EXPECT_GE(registered.size(), 25u);
}

// Every "$ref" in `node` points at something in `doc`.
void CheckRefs(const Json& doc, const Json& node, const std::string& where) {
  if (node.is_object()) {
    if (node.contains("$ref")) {
      const std::string ref = node["$ref"];
      ASSERT_TRUE(ref.starts_with("#/")) << where << ": " << ref;
      EXPECT_TRUE(doc.contains(Json::json_pointer(ref.substr(1)))) << where << ": " << ref;
    }
    for (const auto& [key, value] : node.items()) CheckRefs(doc, value, where + "/" + key);
  } else if (node.is_array()) {
    for (size_t i = 0; i < node.size(); ++i)
      CheckRefs(doc, node[i], where + "/" + std::to_string(i));
  }
}

const Json& Resolve(const Json& doc, const Json& node) {
  if (node.is_object() && node.contains("$ref")) {
    return doc.at(Json::json_pointer(node["$ref"].get<std::string>().substr(1)));
  }
  return node;
}

TEST(OpenApiTest, DocumentHangsTogether) {
  const Json doc = Document();
  ASSERT_TRUE(doc.is_object());
  EXPECT_TRUE(doc["openapi"].get<std::string>().starts_with("3."));
  EXPECT_TRUE(doc["info"].contains("title"));
  EXPECT_TRUE(doc["info"].contains("version"));
  CheckRefs(doc, doc, "");
  for (const auto& [path, item] : doc["paths"].items()) {
    // Every {capture} of the path is a declared path parameter of each operation.
    std::set<std::string> captures;
    for (size_t open = path.find('{'); open != std::string::npos; open = path.find('{', open + 1)) {
      captures.insert(path.substr(open + 1, path.find('}', open) - open - 1));
    }
    for (const auto& [method, op] : item.items()) {
      if (!kMethods.contains(method)) continue;
      const std::string where = Upper(method) + " " + path;
      EXPECT_TRUE(op.contains("summary")) << where;
      EXPECT_TRUE(op.contains("operationId")) << where;
      ASSERT_TRUE(op.contains("responses")) << where;
      EXPECT_FALSE(op["responses"].empty()) << where;
      std::set<std::string> declared;
      for (const Json* params : {&item, &op}) {
        if (!params->contains("parameters")) continue;
        for (const Json& p : (*params)["parameters"]) {
          const Json& param = Resolve(doc, p);
          if (param["in"] == "path") declared.insert(param["name"]);
        }
      }
      EXPECT_EQ(declared, captures) << where;
    }
  }
}

// What a schema requires of a value: its type, its required properties and,
// recursively, the same of its properties and items. Enough to catch a
// response that lost or renamed a field the description promises. Each
// problem is added to `errors`.
void Conform(const Json& doc, const Json& schema_ref, const Json& value, const std::string& where,
             std::vector<std::string>* errors) {
  const Json& schema = Resolve(doc, schema_ref);
  auto fail = [&](const std::string& what) {
    errors->push_back(where + ": " + what + ": " + value.dump().substr(0, 300));
  };
  if (value.is_null() && schema.value("nullable", false)) return;
  if (schema.contains("allOf")) {
    for (const Json& part : schema["allOf"]) Conform(doc, part, value, where, errors);
  }
  if (schema.contains("oneOf") || schema.contains("anyOf")) {
    const Json& options = schema.contains("oneOf") ? schema["oneOf"] : schema["anyOf"];
    bool any = false;
    for (const Json& option : options) {
      std::vector<std::string> option_errors;
      Conform(doc, option, value, where, &option_errors);
      any = any || option_errors.empty();
    }
    if (!any) fail("matches none of the alternatives");
  }
  if (schema.contains("enum") &&
      std::find(schema["enum"].begin(), schema["enum"].end(), value) == schema["enum"].end()) {
    fail("not one of " + schema["enum"].dump());
  }
  if (!schema.contains("type")) return;
  const std::string type = schema["type"];
  if (type == "object") {
    if (!value.is_object()) return fail("not an object");
    const Json required = schema.value("required", Json::array());
    for (const Json& name : required) {
      if (!value.contains(name.get<std::string>()))
        fail("lacks \"" + name.get<std::string>() + "\"");
    }
    const Json properties = schema.value("properties", Json::object());
    for (const auto& [name, sub] : properties.items()) {
      if (value.contains(name)) Conform(doc, sub, value[name], where + "." + name, errors);
    }
  } else if (type == "array") {
    if (!value.is_array()) return fail("not an array");
    for (size_t i = 0; i < value.size(); ++i) {
      Conform(doc, schema["items"], value[i], where + "[" + std::to_string(i) + "]", errors);
    }
  } else if (type == "string" && !value.is_string()) {
    fail("not a string");
  } else if (type == "integer" && !value.is_number_integer()) {
    fail("not an integer");
  } else if (type == "number" && !value.is_number()) {
    fail("not a number");
  } else if (type == "boolean" && !value.is_boolean()) {
    fail("not a boolean");
  }
}

TEST(OpenApiTest, TheCheckOfResponsesNoticesAMissingField) {
  const Json doc = Document();
  const Json error_schema = Json::object({{"$ref", "#/components/schemas/Error"}});
  std::vector<std::string> errors;
  Conform(doc, error_schema, Json::parse(R"({"error": {"message": "x"}})"), "body", &errors);
  EXPECT_EQ(errors.size(), 1u) << "an error without its code must not pass";
  errors.clear();
  Conform(doc, error_schema, Json::parse(R"({"error": {"code": "not_found", "message": "x"}})"),
          "body", &errors);
  EXPECT_TRUE(errors.empty()) << errors[0];
  errors.clear();
  Conform(doc, error_schema, Json::parse(R"({"error": {"code": "oops", "message": "x"}})"), "body",
          &errors);
  EXPECT_EQ(errors.size(), 1u) << "a code the description does not list must not pass";
  errors.clear();
  // An object in a list must carry its version.
  Conform(doc, Json::object({{"$ref", "#/components/schemas/ObjectList"}}),
          Json::parse(R"({"revision": "3", "items": [{"kind": "Zone", "name": "a",
                          "created_at": "x", "updated_at": "y"}]})"),
          "body", &errors);
  EXPECT_FALSE(errors.empty());
}

// A real hub in this process (SQLite in a temporary directory, ports chosen
// by the kernel), driven over HTTP.
class OpenApiHubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HubOptions options;
    options.api_address = "127.0.0.1:0";
    options.xds_address = "127.0.0.1:0";
    options.data_dir = dir_.path();
    options.io_threads = 1;
    options.worker_threads = 2;
    options.xds_threads = 1;
    Configure(options);
    hub_ = std::make_unique<HubServer>(options);
    ASSERT_TRUE(hub_->Start().ok());
    std::ifstream token_file(dir_.File("admin.token"));
    std::getline(token_file, token_);
    ASSERT_FALSE(token_.empty());
    auto client = HttpClient::Create("127.0.0.1:" + std::to_string(hub_->api_port()));
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
    doc_ = Document();
  }

  virtual void Configure(HubOptions& options) {}

  // Sends a request and checks its answer against the operation's response
  // for that status (or "default").
  Json Check(const std::string& method, const std::string& path, const std::string& target,
             int want_status, const Json& body = nullptr) {
    HttpClient::Headers headers = {{"Authorization", "Bearer " + token_}};
    if (!body.is_null()) headers["Content-Type"] = "application/json";
    auto res = client_->Send(method, target, body.is_null() ? "" : body.dump(), headers);
    EXPECT_TRUE(res.ok()) << res.status();
    if (!res.ok()) return nullptr;
    EXPECT_EQ(res->status, want_status) << method << " " << target << ": " << res->body;
    const Json& op = doc_["paths"][path][method == "GET"    ? "get"
                                         : method == "POST" ? "post"
                                         : method == "PUT"  ? "put"
                                                            : "delete"];
    const std::string status = std::to_string(res->status);
    EXPECT_TRUE(op["responses"].contains(status))
        << method << " " << path << " answered " << status << ", which the description omits";
    const Json& response =
        Resolve(doc_, op["responses"].contains(status) ? op["responses"][status]
                                                       : op["responses"]["default"]);
    const Json value = Json::parse(res->body, nullptr, false);
    EXPECT_FALSE(value.is_discarded()) << res->body;
    std::vector<std::string> errors;
    Conform(doc_, response["content"]["application/json"]["schema"], value,
            method + " " + target + " " + status, &errors);
    for (const std::string& e : errors) ADD_FAILURE() << e;
    return value;
  }

  causeway::testing::TempDir dir_;
  std::unique_ptr<HubServer> hub_;
  std::string token_;
  std::unique_ptr<HttpClient> client_;
  Json doc_;
};

// A hub that keeps one change: the 410 of a compacted revision, as described.
class OpenApiRetentionTest : public OpenApiHubTest {
 protected:
  void Configure(HubOptions& options) override {
    options.history_retention = {.max_count = 1};
    options.compaction_interval = std::chrono::milliseconds(20);
  }
};

TEST_F(OpenApiRetentionTest, CompactedRevisionsAnswerGoneAsDescribed) {
  Check("POST", "/v1/zones", "/v1/zones", 201, {{"name", "shop"}});
  Check("POST", "/v1/zones/{zone}/{kind}", "/v1/zones/shop/clusters", 201, {{"name", "web"}});
  ASSERT_TRUE(causeway::testing::WaitFor([&] {
    auto res =
        client_->Send("GET", "/v1/changelog?since=0", "", {{"Authorization", "Bearer " + token_}});
    return res.ok() && res->status == 410;
  }));
  Json gone = Check("GET", "/v1/changelog", "/v1/changelog?since=0", 410);
  EXPECT_EQ(gone["error"]["oldest_revision"], "2");
  Check("GET", "/v1/watch", "/v1/watch?since=0", 410);
  Json page = Check("GET", "/v1/changelog", "/v1/changelog", 200);
  EXPECT_EQ(page["items"].size(), 1u);
}

TEST_F(OpenApiHubTest, ServedWithoutATokenAsBuilt) {
  auto res = client_->Send("GET", "/v1/openapi.json");
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->Header("content-type"), "application/json");
  EXPECT_EQ(res->body, std::string(OpenApiDocument()));
  // The embedded copy is the file people edit, as it is now.
  std::ifstream file(std::string(CAUSEWAY_SOURCE_DIR) + "/docs/api/openapi.json");
  std::stringstream text;
  text << file.rdbuf();
  EXPECT_EQ(text.str(), res->body) << "rebuild: docs/api/openapi.json changed after the build";
}

TEST_F(OpenApiHubTest, ResponsesCarryWhatTheSchemasRequire) {
  Check("POST", "/v1/zones", "/v1/zones", 201, {{"name", "shop"}});
  Check("GET", "/v1/zones/{zone}", "/v1/zones/shop", 200);
  Check("GET", "/v1/zones", "/v1/zones", 200);
  // 409: the zone exists.
  Check("POST", "/v1/zones", "/v1/zones", 409, {{"name", "shop"}});
  // 400 naming the field.
  Json bad = Check("POST", "/v1/zones/{zone}/{kind}", "/v1/zones/shop/clusters", 400,
                   {{"name", "web"}, {"instances", "none"}});
  EXPECT_EQ(bad["error"]["field"], "instances");
  Check("POST", "/v1/zones/{zone}/{kind}", "/v1/zones/shop/clusters", 201,
        {{"name", "web"}, {"instances", {{{"host", "127.0.0.1"}, {"port", 8080}}}}});
  Json cluster = Check("GET", "/v1/zones/{zone}/{kind}/{name}", "/v1/zones/shop/clusters/web", 200);
  // 409 version_conflict carries the current object.
  cluster["version"] = "1";
  Check("PUT", "/v1/zones/{zone}/{kind}/{name}", "/v1/zones/shop/clusters/web", 409, cluster);
  Check("POST", "/v1/zones/{zone}/{kind}", "/v1/zones/shop/domains", 201,
        {{"host", "shop.example"}, {"port", 8080}});
  Check("POST", "/v1/zones/{zone}/{kind}", "/v1/zones/shop/route-groups", 201,
        {{"name", "main"}, {"default", {{{"cluster", "web"}}}}});
  Check(
      "POST", "/v1/zones/{zone}/{kind}", "/v1/zones/shop/routes", 201,
      {{"name", "root"}, {"domain", "shop.example:8080"}, {"path", "/"}, {"route_group", "main"}});
  Check("POST", "/v1/zones/{zone}/{kind}", "/v1/zones/shop/proxies", 201,
        {{"name", "edge"}, {"domains", {"shop.example:8080"}}});
  Check("GET", "/v1/changelog", "/v1/changelog?zone=shop", 200);
  Check("GET", "/v1/zones/{zone}/status", "/v1/zones/shop/status", 200);
  Check("GET", "/v1/zones/{zone}/proxies/{name}/config", "/v1/zones/shop/proxies/edge/config", 200);
  Check("GET", "/v1/tokens", "/v1/tokens", 200);
  const std::string explain = "/v1/zones/{zone}/proxies/{proxy}/explain";
  Json answer = Check("POST", explain, "/v1/zones/shop/proxies/edge/explain", 200,
                      {{"host", "shop.example:8080"}, {"path", "/x"}});
  EXPECT_EQ(answer["cluster"], "web");
  Check("POST", explain, "/v1/zones/shop/proxies/edge/explain", 404,
        {{"host", "nowhere.example:8080"}, {"path", "/x"}});
  Check("POST", explain, "/v1/zones/shop/proxies/edge/explain", 400, {{"path", "/x"}});
  Check("POST", "/v1/apply", "/v1/apply", 200,
        Json::array({{{"kind", "Cluster"}, {"zone", "shop"}, {"name", "api"}}}));
  Check("DELETE", "/v1/zones/{zone}/{kind}/{name}", "/v1/zones/shop/clusters/api", 200);
  Check("GET", "/v1/{kind}", "/v1/clusters", 200);
  Check("GET", "/v1/zones/{zone}/{kind}", "/v1/zones/shop/routes?route_group=main", 200);
  Check("GET", "/v1/zones/{zone}/clusters/{name}/instances",
        "/v1/zones/shop/clusters/web/instances", 200);
  Check("PUT", "/v1/zones/{zone}/clusters/{name}/instances",
        "/v1/zones/shop/clusters/web/instances", 200,
        Json::array({{{"host", "127.0.0.2"}, {"port", 8080}}}));
  Check("POST", "/v1/tokens", "/v1/tokens", 201,
        {{"name", "reader"}, {"role", "viewer"}, {"ttl", "24h"}});
  Check("DELETE", "/v1/tokens/{name}", "/v1/tokens/reader", 200);
  Check("DELETE", "/v1/tokens/{name}", "/v1/tokens/reader", 404);
  Check("PUT", "/v1/zones/{zone}/agents/{agent}/proxies", "/v1/zones/shop/agents/a1/proxies", 200,
        {{"interval_ms", 1000}, {"proxies", Json::array()}});
  Check("DELETE", "/v1/zones/{zone}/agents/{agent}/proxies", "/v1/zones/shop/agents/a1/proxies",
        200);
  Check("GET", "/healthz", "/healthz", 200);
  Check("GET", "/readyz", "/readyz", 200);
  Check("GET", "/v1/zones/{zone}", "/v1/zones/nowhere", 404);
}

}  // namespace
}  // namespace causeway::serve
