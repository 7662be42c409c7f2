// Intercepts on the real hub: the hub sets owner and lease, one owner holds a
// key in a zone, others may not change or delete it (admins may), an expired
// lease is swept as a change in the change log, and a tunnel set by an admin
// puts the key routes into the zone's proxy configuration.
#include <string>

#include "gtest/gtest.h"
#include "hub_fixture.h"

namespace causeway::testing {
namespace {

constexpr char kAnaPath[] = "/v1/zones/dev/intercepts/ana-web";

Json InterceptBody(const std::string& key, int lease_ms = 30000) {
  return {{"cluster", "web"}, {"key", key}, {"lease_ms", lease_ms}};
}

class InterceptApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hub_.Start();
    admin_ = std::make_unique<Api>(hub_.url(), hub_.admin_token());
    SeedZone(*admin_, "dev");
    ana_ = std::make_unique<Api>(hub_.url(), CreateToken(*admin_, "ana", "editor"));
    bo_ = std::make_unique<Api>(hub_.url(), CreateToken(*admin_, "bo", "editor", "dev"));
  }

  // Whether proxy "edge" of zone dev is served a route named `route`.
  bool EdgeHasRoute(const std::string& route) {
    Api::Result config = admin_->Get("/v1/zones/dev/proxies/edge/config");
    return config.status == 200 && config.raw.body.find("\"" + route + "\"") != std::string::npos;
  }

  HubProcess hub_;
  std::unique_ptr<Api> admin_;
  std::unique_ptr<Api> ana_;
  std::unique_ptr<Api> bo_;
};

TEST_F(InterceptApiTest, CreateSetsOwnerAndLeaseAndRenewingExtendsIt) {
  Json body = InterceptBody("ana");
  body["owner"] = "someone-else";  // the hub's field: overwritten
  Api::Result created = ana_->Put(kAnaPath, body);
  ASSERT_EQ(created.status, 201) << created.raw.body;
  EXPECT_EQ(created.body["kind"], "Intercept");
  EXPECT_EQ(created.body["owner"], "ana");
  EXPECT_EQ(created.body["lease_ms"], 30000);
  ASSERT_TRUE(created.body["expires_at"].is_string()) << created.raw.body;
  EXPECT_FALSE(created.body.contains("tunnel"));

  Api::Result read = ana_->Get(kAnaPath);
  ASSERT_EQ(read.status, 200);
  EXPECT_EQ(read.body["expires_at"], created.body["expires_at"]);

  // Renewing: the same write again, no version needed. RFC 3339 with
  // milliseconds in UTC sorts as time does.
  Api::Result renewed;
  ASSERT_TRUE(WaitFor([&] {
    renewed = ana_->Put(kAnaPath, InterceptBody("ana"));
    return renewed.status != 200 || renewed.body["expires_at"].get<std::string>() >
                                        created.body["expires_at"].get<std::string>();
  }));
  ASSERT_EQ(renewed.status, 200) << renewed.raw.body;
  EXPECT_EQ(renewed.body["owner"], "ana");
  EXPECT_NE(renewed.body["version"], created.body["version"]);

  // POST creates too; the name comes from the body.
  Json second = InterceptBody("ana");
  second["name"] = "ana-web-2";
  EXPECT_EQ(ana_->Post("/v1/zones/dev/intercepts", second).status, 201);
  EXPECT_EQ(ana_->Get("/v1/zones/dev/intercepts").body["items"].size(), 2u);
}

TEST_F(InterceptApiTest, BadInputNamesFieldAndValue) {
  Api::Result bad_key = ana_->Put(kAnaPath, InterceptBody("a b"));
  EXPECT_EQ(bad_key.status, 400);
  EXPECT_EQ(bad_key.field(), "key");
  EXPECT_NE(bad_key.raw.body.find("a b"), std::string::npos) << bad_key.raw.body;
  Json no_cluster = InterceptBody("ana");
  no_cluster["cluster"] = "nope";
  Api::Result missing = ana_->Put(kAnaPath, no_cluster);
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.field(), "cluster");
  EXPECT_NE(missing.raw.body.find("nope"), std::string::npos) << missing.raw.body;
  Api::Result lease = ana_->Put(kAnaPath, InterceptBody("ana", 600001));
  EXPECT_EQ(lease.status, 400);
  EXPECT_EQ(lease.field(), "lease_ms");
  // A file of objects does not carry a lease.
  Json doc = InterceptBody("ana");
  doc["kind"] = "Intercept";
  doc["zone"] = "dev";
  doc["name"] = "ana-web";
  Api::Result applied = admin_->Post("/v1/apply", Json::array({doc}));
  EXPECT_EQ(applied.status, 400);
  EXPECT_EQ(applied.field(), "items[0].kind");
}

TEST_F(InterceptApiTest, AKeyHasOneOwnerInAZone) {
  Api::Result held = ana_->Put(kAnaPath, InterceptBody("shared"));
  ASSERT_EQ(held.status, 201) << held.raw.body;
  Api::Result taken = bo_->Put("/v1/zones/dev/intercepts/bo-web", InterceptBody("shared"));
  EXPECT_EQ(taken.status, 409) << taken.raw.body;
  EXPECT_EQ(taken.code(), "key_held");
  EXPECT_EQ(taken.field(), "key");
  EXPECT_EQ(taken.body["error"]["owner"], "ana");
  EXPECT_EQ(taken.body["error"]["expires_at"], held.body["expires_at"]);
  const std::string message = taken.body["error"]["message"];
  EXPECT_NE(message.find("\"ana\""), std::string::npos) << message;
  EXPECT_NE(message.find(held.body["expires_at"].get<std::string>()), std::string::npos);
  // The owner may hold the key on several intercepts; others use other keys.
  Json again = InterceptBody("shared");
  again["name"] = "ana-web-2";
  EXPECT_EQ(ana_->Post("/v1/zones/dev/intercepts", again).status, 201);
  EXPECT_EQ(bo_->Put("/v1/zones/dev/intercepts/bo-web", InterceptBody("bo")).status, 201);
}

TEST_F(InterceptApiTest, OnlyTheOwnerOrAnAdminChangesOrDeletesIt) {
  ASSERT_EQ(ana_->Put(kAnaPath, InterceptBody("ana")).status, 201);
  Api::Result update = bo_->Put(kAnaPath, InterceptBody("bo"));
  EXPECT_EQ(update.status, 403) << update.raw.body;
  EXPECT_NE(update.body["error"]["message"].get<std::string>().find("token \"ana\""),
            std::string::npos)
      << update.raw.body;
  EXPECT_EQ(bo_->Delete(kAnaPath).status, 403);
  Api viewer(hub_.url(), CreateToken(*admin_, "look", "viewer"));
  EXPECT_EQ(viewer.Put(kAnaPath, InterceptBody("ana")).status, 403);
  EXPECT_EQ(viewer.Get(kAnaPath).status, 200);
  // An admin may delete anyone's.
  Api::Result deleted = admin_->Delete(kAnaPath);
  EXPECT_EQ(deleted.status, 200) << deleted.raw.body;
  EXPECT_EQ(ana_->Get(kAnaPath).status, 404);
  // The owner deletes its own.
  ASSERT_EQ(ana_->Put(kAnaPath, InterceptBody("ana")).status, 201);
  EXPECT_EQ(ana_->Delete(kAnaPath).status, 200);
}

TEST_F(InterceptApiTest, ExpiredLeaseIsSweptAsAChange) {
  Api::Result created = ana_->Put(kAnaPath, InterceptBody("ana", 1000));
  ASSERT_EQ(created.status, 201) << created.raw.body;
  ASSERT_TRUE(WaitFor([&] { return ana_->Get(kAnaPath).status == 404; }, std::chrono::seconds(30)))
      << hub_.Log();
  Api::Result log = admin_->Get("/v1/changelog?kind=Intercept&name=ana-web");
  ASSERT_EQ(log.status, 200) << log.raw.body;
  ASSERT_EQ(log.body["items"].size(), 2u) << log.raw.body;
  const Json& swept = log.body["items"][1];
  EXPECT_EQ(swept["op"], "delete");
  EXPECT_EQ(swept["actor"], "lease-expiry");
  EXPECT_EQ(swept["before"]["owner"], "ana");
}

TEST_F(InterceptApiTest, ATunnelSetByAnAdminRoutesTheKey) {
  ASSERT_EQ(ana_->Put(kAnaPath, InterceptBody("ana")).status, 201);
  // No tunnel yet: nothing to send the key to, so no key routes.
  Json tunnel = {{"proxy", "edge"}, {"address", "127.0.0.1:15001"}};
  Json with_tunnel = InterceptBody("ana");
  with_tunnel["tunnel"] = tunnel;
  Api::Result refused = ana_->Put(kAnaPath, with_tunnel);
  EXPECT_EQ(refused.status, 403) << refused.raw.body;
  EXPECT_NE(refused.raw.body.find("tunnel"), std::string::npos);
  EXPECT_FALSE(EdgeHasRoute("root/intercept/ana-web/header"));

  Api::Result set = admin_->Put(kAnaPath, with_tunnel);
  ASSERT_EQ(set.status, 200) << set.raw.body;
  EXPECT_EQ(set.body["owner"], "ana");  // an admin's write does not take it over
  EXPECT_EQ(set.body["tunnel"], tunnel);
  EXPECT_TRUE(WaitFor([&] { return EdgeHasRoute("root/intercept/ana-web/cookie"); },
                      std::chrono::seconds(30)));
  EXPECT_TRUE(EdgeHasRoute("intercept:ana-web"));

  // The owner's renewal keeps the hub's tunnel.
  Api::Result renewed = ana_->Put(kAnaPath, InterceptBody("ana"));
  ASSERT_EQ(renewed.status, 200) << renewed.raw.body;
  EXPECT_EQ(renewed.body["tunnel"], tunnel);
  // So does an admin's write that leaves it out (a new lease, say).
  Api::Result admin_write = admin_->Put(kAnaPath, InterceptBody("ana", 60000));
  ASSERT_EQ(admin_write.status, 200) << admin_write.raw.body;
  EXPECT_EQ(admin_write.body["tunnel"], tunnel);

  // Deleted: the routes go with it.
  ASSERT_EQ(ana_->Delete(kAnaPath).status, 200);
  EXPECT_TRUE(WaitFor([&] { return !EdgeHasRoute("root/intercept/ana-web/header"); },
                      std::chrono::seconds(30)));
}

}  // namespace
}  // namespace causeway::testing
