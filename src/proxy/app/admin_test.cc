// The admin endpoint's Host check (DNS rebinding): a real AdminServer on
// loopback asked with the Host headers a browser would send.
#include "proxy/app/admin.h"

#include "gtest/gtest.h"
#include "net/http_client.h"

namespace causeway::proxy {
namespace {

TEST(AdminHostTest, OwnAddressesOnly) {
  EXPECT_TRUE(AdminHostAllowed("localhost", "127.0.0.1:9901", 9901, "127.0.0.1:9901"));
  EXPECT_TRUE(AdminHostAllowed("LocalHost:9901", "127.0.0.1:9901", 9901, ""));
  EXPECT_TRUE(AdminHostAllowed("127.0.0.1:9901", "127.0.0.1:9901", 9901, ""));
  EXPECT_TRUE(AdminHostAllowed("[::1]:9901", "[::1]:9901", 9901, "[::1]:9901"));
  EXPECT_TRUE(AdminHostAllowed("[::1]", "127.0.0.1:9901", 9901, ""));
  // Bound to every address: the address the connection reached counts.
  EXPECT_TRUE(AdminHostAllowed("10.1.2.3:9901", "0.0.0.0:9901", 9901, "10.1.2.3:9901"));
  EXPECT_FALSE(AdminHostAllowed("10.1.2.4:9901", "0.0.0.0:9901", 9901, "10.1.2.3:9901"));
  // A rebinding attacker's name, another port, garbage, nothing.
  EXPECT_FALSE(AdminHostAllowed("evil.example.com", "127.0.0.1:9901", 9901, "127.0.0.1:9901"));
  EXPECT_FALSE(AdminHostAllowed("evil.example.com:9901", "127.0.0.1:9901", 9901, "127.0.0.1:9901"));
  EXPECT_FALSE(AdminHostAllowed("localhost:80", "127.0.0.1:9901", 9901, "127.0.0.1:9901"));
  EXPECT_FALSE(AdminHostAllowed("localhost:x", "127.0.0.1:9901", 9901, ""));
  EXPECT_FALSE(AdminHostAllowed("localhost.evil.com", "127.0.0.1:9901", 9901, ""));
  EXPECT_FALSE(AdminHostAllowed("", "127.0.0.1:9901", 9901, "127.0.0.1:9901"));
}

class AdminServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AdminSources sources;
    sources.ready = [] { return true; };
    sources.server_info = [] { return nlohmann::json{{"state", "LIVE"}}; };
    sources.config_dump = [] { return nlohmann::json{{"configs", "secret map of staging"}}; };
    sources.clusters = [](const std::string&) { return nlohmann::json::array(); };
    sources.stats = [] { return std::map<std::string, double>{{"requests_total", 1}}; };
    admin_ = std::make_unique<AdminServer>("127.0.0.1:0", std::move(sources));
    ASSERT_TRUE(admin_->Start().ok());
    auto client = HttpClient::Create("127.0.0.1:" + std::to_string(admin_->port()));
    ASSERT_TRUE(client.ok());
    client_ = std::move(*client);
  }
  void TearDown() override { admin_->Shutdown(); }

  HttpResponse Get(const std::string& path, const std::string& host) {
    auto res = client_->Send("GET", path, "", {{"Host", host}});
    EXPECT_TRUE(res.ok()) << res.status();
    return res.ok() ? *res : HttpResponse{};
  }

  std::unique_ptr<AdminServer> admin_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(AdminServerTest, AnswersItsOwnNamesAndRefusesOthers) {
  std::string port = std::to_string(admin_->port());
  for (const std::string& host : std::vector<std::string>{"127.0.0.1:" + port, "localhost:" + port,
                                                          "localhost", "[::1]:" + port}) {
    auto res = Get("/config_dump", host);
    EXPECT_EQ(res.status, 200) << host;
    EXPECT_NE(res.body.find("secret map"), std::string::npos) << host;
  }
  for (const std::string& host :
       std::vector<std::string>{"evil.example.com", "evil.example.com:" + port,
                                "attacker.test:" + port, "localhost:1"}) {
    for (const char* path : {"/config_dump", "/stats", "/ready", "/server_info", "/clusters"}) {
      auto res = Get(path, host);
      EXPECT_EQ(res.status, 403) << host << " " << path;
      EXPECT_EQ(res.body.find("secret map"), std::string::npos);
      auto error = nlohmann::json::parse(res.body, nullptr, false);
      ASSERT_TRUE(error.is_object()) << res.body;
      EXPECT_EQ(error["error"]["code"], "forbidden_host") << res.body;
    }
  }
}

}  // namespace
}  // namespace causeway::proxy
