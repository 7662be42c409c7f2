#include "hub_fixture.h"

#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "support/postgres_server.h"

namespace causeway::testing {

namespace {

// With CAUSEWAY_TEST_HUB_STORE=postgresql every hub of the test process
// stores its data in a fresh database of one PostgreSQL server, started on
// first use; otherwise hubs use their default SQLite file. CTest runs the
// hub suite both ways (test/integration/hub/CMakeLists.txt).
std::string DatabaseForNewHub() {
  const char* store = std::getenv("CAUSEWAY_TEST_HUB_STORE");
  if (store == nullptr || std::string(store) != "postgresql") return "";
  static PostgresServer server;  // stopped when the test process exits
  return server.CreateDatabase();
}

}  // namespace

HubProcess::HubProcess()
    : port_(FreePort()), xds_port_(FreePort()), store_url_(DatabaseForNewHub()) {}

HubProcess::~HubProcess() {
  if (process_ && process_->Running()) process_->Stop();
}

void HubProcess::Launch(const std::vector<std::string>& extra) {
  Subprocess::Options options;
  options.argv = {BuiltBinary("causeway"),
                  "serve",
                  "--api",
                  "127.0.0.1:" + std::to_string(port_),
                  "--xds",
                  "127.0.0.1:" + std::to_string(xds_port_),
                  "--data-dir",
                  dir_.path()};
  // `extra` may choose its own log level.
  if (std::find(extra.begin(), extra.end(), "--log-level") == extra.end()) {
    options.argv.insert(options.argv.end(), {"--log-level", "info"});
  }
  options.argv.insert(options.argv.end(), extra.begin(), extra.end());
  if (!store_url_.empty() && std::find(extra.begin(), extra.end(), "--store") == extra.end()) {
    options.argv.insert(options.argv.end(), {"--store", store_url_});
  }
  options.log_path = dir_.File("hub-" + std::to_string(starts_++) + ".log");
  process_ = std::make_unique<Subprocess>(options);
}

int HubProcess::Wait(std::chrono::milliseconds timeout) {
  return process_ ? process_->Wait(timeout) : -1;
}

void HubProcess::Start(const std::vector<std::string>& extra) {
  Launch(extra);
  bool ready = WaitFor(
      [&] {
        if (!process_->Running()) return true;
        HttpClient::Options options{std::chrono::seconds(2)};
        options.ca_file = ca_file_;
        auto client = HttpClient::Create(url(), options);
        if (!client.ok()) return false;
        auto res = (*client)->Send("GET", "/readyz");
        return res.ok() && res->status == 200;
      },
      std::chrono::seconds(30));
  ASSERT_TRUE(ready && process_->Running()) << "the hub did not become ready:\n" << process_->Log();
  std::ifstream in(dir_.File("admin.token"));
  std::stringstream ss;
  ss << in.rdbuf();
  admin_token_ = ss.str();
  while (!admin_token_.empty() && (admin_token_.back() == '\n' || admin_token_.back() == ' ')) {
    admin_token_.pop_back();
  }
  ASSERT_FALSE(admin_token_.empty());
}

int HubProcess::Stop() { return process_ ? process_->Stop() : 0; }

void HubProcess::Kill() {
  if (!process_) return;
  process_->Signal(SIGKILL);
  process_->Wait();
}

Api::Api(const std::string& url, std::string token, const std::string& ca_file)
    : token_(std::move(token)) {
  HttpClient::Options options;
  if (url.starts_with("https://")) options.ca_file = ca_file;
  auto client = HttpClient::Create(url, options);
  EXPECT_TRUE(client.ok()) << client.status();
  client_ = std::move(*client);
}

std::string Api::Result::code() const {
  if (!body.is_object() || !body.contains("error")) return "";
  return body["error"].value("code", "");
}

std::string Api::Result::field() const {
  if (!body.is_object() || !body.contains("error")) return "";
  return body["error"].value("field", "");
}

Api::Result Api::Raw(const std::string& method, const std::string& target, const std::string& body,
                     const HttpClient::Headers& headers) {
  HttpClient::Headers all = headers;
  if (!token_.empty()) all["Authorization"] = "Bearer " + token_;
  Result result;
  auto res = client_->Send(method, target, body, all);
  EXPECT_TRUE(res.ok()) << method << " " << target << ": " << res.status();
  if (!res.ok()) return result;
  result.status = res->status;
  result.raw = *res;
  result.body = Json::parse(res->body, nullptr, false);
  if (result.body.is_discarded()) result.body = nullptr;
  return result;
}

Api::Result Api::Call(const std::string& method, const std::string& target, const Json& body,
                      const HttpClient::Headers& headers) {
  return Raw(method, target, body.is_null() ? "" : body.dump(), headers);
}

std::string CreateToken(Api& admin, const std::string& name, const std::string& role,
                        const std::string& zone) {
  Json body = {{"name", name}, {"role", role}};
  if (!zone.empty()) body["zone"] = zone;
  auto res = admin.Post("/v1/tokens", body);
  EXPECT_EQ(res.status, 201) << res.raw.body;
  return res.body.value("secret", "");
}

void SeedZone(Api& api, const std::string& zone) {
  std::string base = "/v1/zones/" + zone;
  auto check = [](const Api::Result& r) { ASSERT_EQ(r.status, 201) << r.raw.body; };
  check(api.Post("/v1/zones", {{"name", zone}, {"description", "test zone"}}));
  check(api.Post(base + "/clusters",
                 {{"name", "web"}, {"instances", {{{"host", "10.0.0.1"}, {"port", 8080}}}}}));
  check(api.Post(base + "/domains", {{"host", "api.example.com"}, {"port", 80}}));
  check(api.Post(base + "/route-groups",
                 {{"name", "main"}, {"default", {{{"cluster", "web"}, {"weight", 1}}}}}));
  check(api.Post(base + "/routes", {{"name", "root"},
                                    {"domain", "api.example.com:80"},
                                    {"path", "/"},
                                    {"route_group", "main"}}));
  check(api.Post(base + "/proxies", {{"name", "edge"}, {"domains", {"api.example.com:80"}}}));
}

}  // namespace causeway::testing
