// POST /v1/tokens/introspect on the real hub: who may ask, and what each
// caller learns (an agent only about proxy and agent tokens of its zone).
#include "gtest/gtest.h"
#include "hub_fixture.h"

namespace causeway::testing {
namespace {

class IntrospectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hub_.Start();
    admin_ = std::make_unique<Api>(hub_.url(), hub_.admin_token());
    SeedZone(*admin_, "dev");
    SeedZone(*admin_, "prod");
    dev_proxy_ = CreateToken(*admin_, "dev-edge", "proxy", "dev");
    prod_proxy_ = CreateToken(*admin_, "prod-edge", "proxy", "prod");
  }

  static Api::Result Ask(Api& caller, const std::string& secret) {
    return caller.Post("/v1/tokens/introspect", Json{{"token", secret}});
  }

  HubProcess hub_;
  std::unique_ptr<Api> admin_;
  std::string dev_proxy_, prod_proxy_;
};

TEST_F(IntrospectTest, AdminLearnsWhoHoldsAValidToken) {
  auto r = Ask(*admin_, dev_proxy_);
  ASSERT_EQ(r.status, 200) << r.raw.body;
  EXPECT_EQ(r.body["active"], true);
  EXPECT_EQ(r.body["name"], "dev-edge");
  EXPECT_EQ(r.body["role"], "proxy");
  EXPECT_EQ(r.body["zone"], "dev");
  EXPECT_TRUE(r.body["expires_at"].is_null());
  EXPECT_EQ(r.raw.body.find(dev_proxy_), std::string::npos) << "the secret is not echoed";
  // Unknown, then revoked: inactive, nothing else said.
  EXPECT_EQ(Ask(*admin_, "no-such-secret").body, Json({{"active", false}}));
  ASSERT_EQ(admin_->Delete("/v1/tokens/dev-edge").status, 200);
  EXPECT_EQ(Ask(*admin_, dev_proxy_).body, Json({{"active", false}}));
  // A token with a ttl names its expiry both ways.
  auto ttl = admin_->Post("/v1/tokens",
                          {{"name", "short"}, {"role", "proxy"}, {"zone", "dev"}, {"ttl", "1h"}});
  ASSERT_EQ(ttl.status, 201) << ttl.raw.body;
  auto timed = Ask(*admin_, ttl.body["secret"].get<std::string>());
  EXPECT_EQ(timed.body["expires_at"], ttl.body["expires_at"]);
  EXPECT_TRUE(timed.body["exp"].is_number_integer()) << timed.raw.body;
}

TEST_F(IntrospectTest, AnAgentLearnsOnlyAboutStreamTokensOfItsZone) {
  Api agent(hub_.url(), CreateToken(*admin_, "dev-agent", "agent", "dev"));
  auto own = Ask(agent, dev_proxy_);
  ASSERT_EQ(own.status, 200) << own.raw.body;
  EXPECT_EQ(own.body["active"], true);
  EXPECT_EQ(own.body["zone"], "dev");
  // Another zone's token, the admin's, a dev viewer's: as if unknown.
  EXPECT_EQ(Ask(agent, prod_proxy_).body, Json({{"active", false}}));
  EXPECT_EQ(Ask(agent, hub_.admin_token()).body, Json({{"active", false}}));
  const std::string viewer = CreateToken(*admin_, "dev-viewer", "viewer", "dev");
  EXPECT_EQ(Ask(agent, viewer).body, Json({{"active", false}}));
  const std::string zone_admin = CreateToken(*admin_, "dev-admin", "admin", "dev");
  EXPECT_EQ(Ask(agent, zone_admin).body, Json({{"active", false}}));
  // An agent token without a zone has no zone of its own to ask about.
  Api unlimited_agent(hub_.url(), CreateToken(*admin_, "any-agent", "agent"));
  EXPECT_EQ(Ask(unlimited_agent, dev_proxy_).body, Json({{"active", false}}));
  // A zone-limited admin learns about its zone's tokens only.
  Api dev_admin(hub_.url(), zone_admin);
  EXPECT_EQ(Ask(dev_admin, dev_proxy_).body["active"], true);
  EXPECT_EQ(Ask(dev_admin, prod_proxy_).body, Json({{"active", false}}));
}

TEST_F(IntrospectTest, OtherRolesAreRefusedAndBadBodiesNamed) {
  Api viewer(hub_.url(), CreateToken(*admin_, "look", "viewer"));
  auto refused = Ask(viewer, dev_proxy_);
  EXPECT_EQ(refused.status, 403) << refused.raw.body;
  EXPECT_EQ(refused.code(), "permission_denied");
  Api editor(hub_.url(), CreateToken(*admin_, "ed", "editor", "dev"));
  EXPECT_EQ(Ask(editor, dev_proxy_).status, 403);
  // A proxy token reads nothing over REST, introspection included.
  Api proxy(hub_.url(), dev_proxy_);
  EXPECT_EQ(Ask(proxy, dev_proxy_).status, 403);
  Api nobody(hub_.url(), "");
  EXPECT_EQ(Ask(nobody, dev_proxy_).status, 401);

  EXPECT_EQ(admin_->Post("/v1/tokens/introspect", Json::object()).field(), "token");
  EXPECT_EQ(admin_->Post("/v1/tokens/introspect", Json{{"token", 7}}).field(), "token");
  EXPECT_EQ(admin_->Post("/v1/tokens/introspect", Json{{"token", "x"}, {"scope", "y"}}).field(),
            "scope");
  auto deep = admin_->Raw("POST", "/v1/tokens/introspect", std::string(5000, '[') + "]",
                          {{"Content-Type", "application/json"}});
  EXPECT_EQ(deep.status, 400) << deep.raw.body;
}

}  // namespace
}  // namespace causeway::testing
