// Tokens, roles and zone limits.
#include <sys/stat.h>

#include "gtest/gtest.h"
#include "hub_fixture.h"

namespace causeway::testing {
namespace {

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hub_.Start();
    admin_ = std::make_unique<Api>(hub_.url(), hub_.admin_token());
    SeedZone(*admin_, "dev");
    SeedZone(*admin_, "prod");
  }
  HubProcess hub_;
  std::unique_ptr<Api> admin_;
};

TEST_F(AuthTest, AdminTokenFileIsPrivate) {
  struct stat st {};
  ASSERT_EQ(stat((hub_.data_dir() + "/admin.token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  EXPECT_NE(hub_.Log().find("admin.token"), std::string::npos);
  // A restart keeps the same token; no second admin is made.
  std::string token = hub_.admin_token();
  hub_.Stop();
  hub_.Start();
  EXPECT_EQ(hub_.admin_token(), token);
  Api again(hub_.url(), token);
  EXPECT_EQ(again.Get("/v1/tokens").body["items"].size(), 1u);
}

TEST_F(AuthTest, CreateListRevoke) {
  auto created = admin_->Post("/v1/tokens", {{"name", "ci"}, {"role", "editor"}});
  ASSERT_EQ(created.status, 201) << created.raw.body;
  std::string secret = created.body["secret"];
  EXPECT_FALSE(secret.empty());
  auto list = admin_->Get("/v1/tokens");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body["items"].size(), 2u);
  EXPECT_EQ(list.raw.body.find(secret), std::string::npos) << "secrets are never listed";
  for (const Json& t : list.body["items"]) EXPECT_FALSE(t.contains("secret"));

  Api ci(hub_.url(), secret);
  EXPECT_EQ(ci.Get("/v1/zones").status, 200);
  EXPECT_EQ(admin_->Post("/v1/tokens", {{"name", "ci"}, {"role", "viewer"}}).status, 409);
  EXPECT_EQ(admin_->Post("/v1/tokens", {{"name", "x"}, {"role", "root"}}).field(), "role");

  ASSERT_EQ(admin_->Delete("/v1/tokens/ci").status, 200);
  EXPECT_EQ(ci.Get("/v1/zones").status, 401);  // at once, on this hub
  EXPECT_EQ(admin_->Delete("/v1/tokens/ci").status, 404);
}

TEST_F(AuthTest, ViewerReadsOnly) {
  Api viewer(hub_.url(), CreateToken(*admin_, "look", "viewer"));
  EXPECT_EQ(viewer.Get("/v1/zones/dev/routes/root").status, 200);
  EXPECT_EQ(viewer.Get("/v1/changelog").status, 200);
  auto write = viewer.Post("/v1/zones/dev/clusters", {{"name", "x"}});
  EXPECT_EQ(write.status, 403);
  EXPECT_EQ(write.code(), "permission_denied");
  EXPECT_EQ(viewer.Delete("/v1/zones/dev/proxies/edge").status, 403);
  EXPECT_EQ(viewer.Post("/v1/apply", Json::array({{{"kind", "Zone"}, {"name", "z"}}})).status, 403);
  EXPECT_EQ(viewer.Get("/v1/tokens").status, 403);
  EXPECT_EQ(viewer.Post("/v1/tokens", {{"name", "y"}, {"role", "admin"}}).status, 403);
  EXPECT_EQ(admin_->Get("/v1/zones/dev/clusters/x").status, 404);
}

TEST_F(AuthTest, EditorWritesObjectsButNotTokens) {
  Api editor(hub_.url(), CreateToken(*admin_, "ed", "editor"));
  EXPECT_EQ(editor.Post("/v1/zones/dev/clusters", {{"name", "x"}}).status, 201);
  EXPECT_EQ(editor.Get("/v1/tokens").status, 403);
  EXPECT_EQ(editor.Delete("/v1/tokens/admin").status, 403);
}

TEST_F(AuthTest, AgentWritesOnlyItsZonesClusters) {
  Api agent(hub_.url(), CreateToken(*admin_, "agent-dev", "agent", "dev"));
  auto sync = agent.Put("/v1/zones/dev/clusters/web/instances",
                        Json::array({{{"host", "10.9.9.9"}, {"port", 80}}}));
  EXPECT_EQ(sync.status, 200) << sync.raw.body;
  EXPECT_EQ(agent.Put("/v1/zones/prod/clusters/web/instances", Json::array()).status, 404);
  EXPECT_EQ(agent.Post("/v1/zones/dev/domains", {{"host", "b.example.com"}, {"port", 80}}).status,
            403);
  EXPECT_EQ(agent.Delete("/v1/zones/dev/routes/root").status, 403);
  EXPECT_EQ(agent.Post("/v1/zones/dev/clusters", {{"name", "new"}}).status, 201);
}

TEST_F(AuthTest, ProxyTokenNeedsAZoneAndReadsNothingOverRest) {
  auto no_zone = admin_->Post("/v1/tokens", {{"name", "edge"}, {"role", "proxy"}});
  EXPECT_EQ(no_zone.status, 400) << no_zone.raw.body;
  EXPECT_EQ(no_zone.field(), "zone");
  Api proxy(hub_.url(), CreateToken(*admin_, "edge", "proxy", "dev"));
  auto listed = admin_->Get("/v1/tokens");
  bool found = false;
  for (const Json& t : listed.body["items"]) {
    if (t["name"] == "edge") {
      found = true;
      EXPECT_EQ(t["role"], "proxy");
      EXPECT_EQ(t["zone"], "dev");
    }
  }
  EXPECT_TRUE(found);
  // Authenticated (403, not 401), yet refused everywhere, its own zone too.
  auto read = proxy.Get("/v1/zones/dev/routes/root");
  EXPECT_EQ(read.status, 403) << read.raw.body;
  EXPECT_EQ(read.code(), "permission_denied");
  EXPECT_NE(read.raw.body.find("proxy"), std::string::npos);
  EXPECT_EQ(proxy.Get("/v1/zones").status, 403);
  EXPECT_EQ(proxy.Get("/v1/changelog").status, 403);
  EXPECT_EQ(proxy.Get("/v1/zones/dev/status").status, 403);
  EXPECT_EQ(proxy.Post("/v1/zones/dev/clusters", {{"name", "x"}}).status, 403);
  EXPECT_EQ(proxy.Get("/v1/tokens").status, 403);
  Api bogus(hub_.url(), "cw_not_a_token");
  EXPECT_EQ(bogus.Get("/v1/zones").status, 401);
}

TEST_F(AuthTest, ZoneLimitedTokenCannotSeeOtherZones) {
  Api dev(hub_.url(), CreateToken(*admin_, "dev-editor", "editor", "dev"));
  auto zones = dev.Get("/v1/zones");
  ASSERT_EQ(zones.status, 200);
  ASSERT_EQ(zones.body["items"].size(), 1u);
  EXPECT_EQ(zones.body["items"][0]["name"], "dev");
  EXPECT_EQ(dev.Get("/v1/clusters").body["items"].size(), 1u);
  EXPECT_EQ(dev.Get("/v1/clusters?zone=prod").status, 404);
  EXPECT_EQ(dev.Get("/v1/zones/prod").status, 404);
  EXPECT_EQ(dev.Get("/v1/zones/prod/routes/root").status, 404);
  EXPECT_EQ(dev.Get("/v1/zones/prod/routes").status, 404);
  EXPECT_EQ(dev.Delete("/v1/zones/prod/proxies/edge").status, 404);
  Json route = admin_->Get("/v1/zones/prod/routes/root").body;
  EXPECT_EQ(dev.Put("/v1/zones/prod/routes/root", route).status, 404);
  EXPECT_EQ(dev.Post("/v1/zones", {{"name", "other"}}).status, 403);
  EXPECT_EQ(
      dev.Post("/v1/apply", Json::array({{{"kind", "Cluster"}, {"zone", "prod"}, {"name", "x"}}}))
          .status,
      403);
  auto log = dev.Get("/v1/changelog?limit=1000");
  ASSERT_EQ(log.status, 200);
  for (const Json& c : log.body["items"]) EXPECT_EQ(c["zone"], "dev");
  EXPECT_EQ(dev.Get("/v1/changelog?zone=prod").status, 404);
  EXPECT_EQ(dev.Post("/v1/zones/dev/clusters", {{"name", "mine"}}).status, 201);

  // A zone-limited admin manages only its zone's tokens.
  Api dev_admin(hub_.url(), CreateToken(*admin_, "dev-admin", "admin", "dev"));
  EXPECT_EQ(dev_admin.Post("/v1/tokens", {{"name", "a"}, {"role", "viewer"}}).status, 403);
  EXPECT_EQ(
      dev_admin.Post("/v1/tokens", {{"name", "a"}, {"role", "viewer"}, {"zone", "dev"}}).status,
      201);
  // Kept in a variable: a range-for over a member of a temporary would read
  // freed memory (ASan).
  auto tokens = dev_admin.Get("/v1/tokens");
  for (const Json& t : tokens.body["items"]) EXPECT_EQ(t["zone"], "dev");
  EXPECT_EQ(dev_admin.Delete("/v1/tokens/admin").status, 404);
}

}  // namespace
}  // namespace causeway::testing
