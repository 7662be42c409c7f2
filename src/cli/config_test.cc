#include "cli/config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "gtest/gtest.h"

namespace causeway::cli {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "cli-config-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    home_ = tmpl;
    env_vars_["HOME"] = home_;
  }
  void TearDown() override { std::filesystem::remove_all(home_); }

  Getenv env() {
    return [this](std::string_view name) -> std::optional<std::string> {
      auto it = env_vars_.find(std::string(name));
      if (it == env_vars_.end()) return std::nullopt;
      return it->second;
    };
  }
  void WriteAdminToken(const std::string& token) {
    std::filesystem::create_directories(home_ + "/.local/share/causeway");
    std::ofstream(home_ + "/.local/share/causeway/admin.token") << token << "\n";
  }
  void SaveContexts() {
    ConfigFile config;
    config.contexts.push_back({"staging", "http://hub.staging:8380", "stg-token", "dev-local"});
    config.contexts.push_back({"local", "127.0.0.1:9000", "local-token", ""});
    config.current = "staging";
    ASSERT_TRUE(SaveConfig(ConfigPath(env()), config).ok());
  }

  std::string home_;
  std::map<std::string, std::string> env_vars_;
};

TEST_F(ConfigTest, NothingSetMeansLocalDefaultHubAndItsAdminToken) {
  WriteAdminToken("s3cret");
  auto conn = ResolveConnection({}, env());
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_EQ(conn->hub, "http://127.0.0.1:8380");
  EXPECT_EQ(conn->hub_source, "default");
  EXPECT_EQ(conn->token, "s3cret");
}

TEST_F(ConfigTest, XdgDirectoriesAreHonoured) {
  env_vars_["XDG_DATA_HOME"] = home_ + "/data";
  env_vars_["XDG_CONFIG_HOME"] = home_ + "/conf";
  EXPECT_EQ(DefaultAdminTokenPath(env()), home_ + "/data/causeway/admin.token");
  EXPECT_EQ(ConfigPath(env()), home_ + "/conf/causeway/config.yaml");
}

TEST_F(ConfigTest, FlagsBeatEnvironmentBeatsContext) {
  SaveContexts();
  env_vars_["CAUSEWAY_HUB"] = "http://env:1";
  env_vars_["CAUSEWAY_TOKEN"] = "env-token";
  auto conn = ResolveConnection({"flag:2", "flag-token", ""}, env());
  ASSERT_TRUE(conn.ok());
  EXPECT_EQ(conn->hub, "http://flag:2");
  EXPECT_EQ(conn->token, "flag-token");

  conn = ResolveConnection({}, env());
  ASSERT_TRUE(conn.ok());
  EXPECT_EQ(conn->hub, "http://env:1");
  EXPECT_EQ(conn->token, "env-token");

  env_vars_.erase("CAUSEWAY_HUB");
  env_vars_.erase("CAUSEWAY_TOKEN");
  conn = ResolveConnection({}, env());
  ASSERT_TRUE(conn.ok());
  EXPECT_EQ(conn->hub, "http://hub.staging:8380");
  EXPECT_EQ(conn->token, "stg-token");
  EXPECT_EQ(conn->zone, "dev-local");

  conn = ResolveConnection({"", "", "local"}, env());
  ASSERT_TRUE(conn.ok());
  EXPECT_EQ(conn->hub, "http://127.0.0.1:9000");
  EXPECT_EQ(conn->token, "local-token");

  EXPECT_FALSE(ResolveConnection({"", "", "nope"}, env()).ok());
}

TEST_F(ConfigTest, CaFromFlagEnvironmentOrTheContextOfTheHub) {
  ConfigFile config;
  config.contexts.push_back(
      {"secure", "https://hub.staging:8443", "t", "", "/etc/causeway/staging-ca.crt"});
  config.current = "secure";
  ASSERT_TRUE(SaveConfig(ConfigPath(env()), config).ok());
  auto loaded = LoadConfig(ConfigPath(env()));
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->Find("secure")->ca, "/etc/causeway/staging-ca.crt");

  auto conn = ResolveConnection({}, env());
  ASSERT_TRUE(conn.ok());
  EXPECT_EQ(conn->ca, "/etc/causeway/staging-ca.crt");
  EXPECT_EQ(conn->ca_source, "context secure");
  // Another hub does not get the context's CA.
  conn = ResolveConnection({"https://elsewhere:8443", "", ""}, env());
  ASSERT_TRUE(conn.ok());
  EXPECT_EQ(conn->ca, "");
  env_vars_["CAUSEWAY_CA"] = "/env/ca.crt";
  conn = ResolveConnection({}, env());
  ASSERT_TRUE(conn.ok());
  EXPECT_EQ(conn->ca, "/env/ca.crt");
  ConnectionFlags flags;
  flags.ca = "/flag/ca.crt";
  conn = ResolveConnection(flags, env());
  ASSERT_TRUE(conn.ok());
  EXPECT_EQ(conn->ca, "/flag/ca.crt");
  EXPECT_EQ(conn->ca_source, "--ca");
}

TEST_F(ConfigTest, ContextTokenOnlyGoesToTheContextsHub) {
  SaveContexts();
  WriteAdminToken("admin");
  auto conn = ResolveConnection({"http://elsewhere:1", "", ""}, env());
  ASSERT_TRUE(conn.ok());
  EXPECT_EQ(conn->token, "");  // neither the context's nor the local admin token
  conn = ResolveConnection({"http://localhost:8380", "", ""}, env());
  ASSERT_TRUE(conn.ok());
  EXPECT_EQ(conn->token, "admin");
}

TEST_F(ConfigTest, SavedFileIsPrivateAndRoundTrips) {
  SaveContexts();
  struct stat st {};
  ASSERT_EQ(::stat(ConfigPath(env()).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  EXPECT_EQ(ConfigPath(env()), home_ + "/.config/causeway/config.yaml");
  auto config = LoadConfig(ConfigPath(env()));
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->current, "staging");
  ASSERT_EQ(config->contexts.size(), 2u);
  EXPECT_EQ(config->contexts[1].hub, "127.0.0.1:9000");
  EXPECT_EQ(config->Find("staging")->zone, "dev-local");
}

TEST(HubUrlTest, NormalizeAndLoopback) {
  EXPECT_EQ(NormalizeHub("127.0.0.1:8380/"), "http://127.0.0.1:8380");
  EXPECT_TRUE(IsLoopbackHub("http://127.0.0.1:8380"));
  EXPECT_TRUE(IsLoopbackHub("localhost:1"));
  EXPECT_TRUE(IsLoopbackHub("http://[::1]:8380"));
  EXPECT_FALSE(IsLoopbackHub("http://hub.staging:8380"));
  EXPECT_FALSE(IsLoopbackHub("http://127.example.com:80"));
}

}  // namespace
}  // namespace causeway::cli
