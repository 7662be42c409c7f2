// The tunnel report on the real hub: POST and DELETE
// /v1/zones/{z}/intercepts/{name}/tunnel. Who may report (admins, proxy and
// agent tokens of the zone), the laptop token's checks (active: 401; the
// owner: 403 naming it), 404 for no intercept or another holder, and the
// write recorded in the change log under the reporter's name.
#include <string>

#include "gtest/gtest.h"
#include "hub_fixture.h"

namespace causeway::testing {
namespace {

constexpr char kTunnelReportPath[] = "/v1/zones/dev/intercepts/ana-web/tunnel";

class InterceptTunnelApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hub_.Start();
    admin_ = std::make_unique<Api>(hub_.url(), hub_.admin_token());
    SeedZone(*admin_, "dev");
    ana_secret_ = CreateToken(*admin_, "ana", "editor");
    ana_ = std::make_unique<Api>(hub_.url(), ana_secret_);
    bo_secret_ = CreateToken(*admin_, "bo", "editor", "dev");
    holder_ = std::make_unique<Api>(hub_.url(), CreateToken(*admin_, "edge", "proxy", "dev"));
    Json body = {{"cluster", "web"}, {"key", "ana"}, {"lease_ms", 60000}};
    Api::Result created = ana_->Put("/v1/zones/dev/intercepts/ana-web", body);
    ASSERT_EQ(created.status, 201) << created.raw.body;
    expires_at_ = created.body["expires_at"];
  }

  Json Report(const std::string& token) {
    return {{"token", token}, {"proxy", "edge"}, {"address", "10.0.0.7:15010"}};
  }

  HubProcess hub_;
  std::unique_ptr<Api> admin_;
  std::unique_ptr<Api> ana_;
  std::unique_ptr<Api> holder_;
  std::string ana_secret_;
  std::string bo_secret_;
  std::string expires_at_;
};

TEST_F(InterceptTunnelApiTest, HolderReportsAndWithdrawsTheTunnel) {
  Api::Result reported = holder_->Post(kTunnelReportPath, Report(ana_secret_));
  ASSERT_EQ(reported.status, 200) << reported.raw.body;
  const Json& tunnel = reported.body["tunnel"];
  EXPECT_EQ(tunnel["proxy"], "edge");
  EXPECT_EQ(tunnel["address"], "10.0.0.7:15010");
  EXPECT_EQ(tunnel["state"], "connected");
  ASSERT_TRUE(tunnel["connected_at"].is_string()) << reported.raw.body;
  EXPECT_EQ(reported.body["owner"], "ana");
  EXPECT_EQ(reported.body["expires_at"], expires_at_);  // the lease is untouched

  // The owner's renewal keeps the reported tunnel, status fields included.
  Api::Result renewed =
      ana_->Put("/v1/zones/dev/intercepts/ana-web", {{"cluster", "web"}, {"key", "ana"}});
  ASSERT_EQ(renewed.status, 200) << renewed.raw.body;
  EXPECT_EQ(renewed.body["tunnel"], tunnel);

  // Another holder's name withdraws nothing.
  Api::Result other = holder_->Delete(std::string(kTunnelReportPath) + "?proxy=other");
  EXPECT_EQ(other.status, 404) << other.raw.body;
  EXPECT_NE(other.body["error"]["message"].get<std::string>().find("\"edge\""), std::string::npos)
      << other.raw.body;
  Api::Result withdrawn = holder_->Delete(std::string(kTunnelReportPath) + "?proxy=edge");
  ASSERT_EQ(withdrawn.status, 200) << withdrawn.raw.body;
  EXPECT_FALSE(withdrawn.body.contains("tunnel")) << withdrawn.raw.body;
  EXPECT_EQ(holder_->Delete(std::string(kTunnelReportPath) + "?proxy=edge").status, 404);

  // Both writes are changes by the holder's token.
  Api::Result log = admin_->Get("/v1/changelog?kind=Intercept&name=ana-web");
  ASSERT_EQ(log.status, 200) << log.raw.body;
  const Json& items = log.body["items"];
  ASSERT_EQ(items.size(), 4u) << log.raw.body;
  EXPECT_EQ(items[1]["actor"], "edge");
  EXPECT_EQ(items[1]["after"]["tunnel"]["state"], "connected");
  EXPECT_EQ(items[3]["actor"], "edge");
  EXPECT_FALSE(items[3]["after"].contains("tunnel")) << log.raw.body;
}

TEST_F(InterceptTunnelApiTest, TheLaptopTokenMustBeActiveAndOwnTheIntercept) {
  Api::Result unknown = holder_->Post(kTunnelReportPath, Report("not-a-token"));
  EXPECT_EQ(unknown.status, 401) << unknown.raw.body;
  EXPECT_EQ(unknown.code(), "unauthenticated");

  Api::Result not_owner = holder_->Post(kTunnelReportPath, Report(bo_secret_));
  EXPECT_EQ(not_owner.status, 403) << not_owner.raw.body;
  const std::string message = not_owner.body["error"]["message"];
  EXPECT_NE(message.find("\"ana\""), std::string::npos) << message;  // the owner
  EXPECT_NE(message.find("\"bo\""), std::string::npos) << message;

  Api::Result missing =
      holder_->Post("/v1/zones/dev/intercepts/nobody/tunnel", Report(ana_secret_));
  EXPECT_EQ(missing.status, 404) << missing.raw.body;

  Json bad = Report(ana_secret_);
  bad["address"] = "not an address";
  Api::Result bad_address = holder_->Post(kTunnelReportPath, bad);
  EXPECT_EQ(bad_address.status, 400) << bad_address.raw.body;
  EXPECT_EQ(bad_address.field(), "tunnel.address");
  Json extra = Report(ana_secret_);
  extra["state"] = "connected";
  Api::Result unknown_field = holder_->Post(kTunnelReportPath, extra);
  EXPECT_EQ(unknown_field.status, 400) << unknown_field.raw.body;
  EXPECT_EQ(unknown_field.field(), "state");
  EXPECT_FALSE(admin_->Get("/v1/zones/dev/intercepts/ana-web").body.contains("tunnel"));
}

TEST_F(InterceptTunnelApiTest, OnlyAdminsAndTheZonesProxiesAndAgentsReport) {
  SeedZone(*admin_, "prod");
  Api other_zone_proxy(hub_.url(), CreateToken(*admin_, "far", "proxy", "prod"));
  Api::Result far = other_zone_proxy.Post(kTunnelReportPath, Report(ana_secret_));
  EXPECT_EQ(far.status, 403) << far.raw.body;
  EXPECT_NE(far.body["error"]["message"].get<std::string>().find("\"dev\""), std::string::npos)
      << far.raw.body;
  Api::Result editor = ana_->Post(kTunnelReportPath, Report(ana_secret_));
  EXPECT_EQ(editor.status, 403) << editor.raw.body;
  EXPECT_EQ(ana_->Delete(std::string(kTunnelReportPath) + "?proxy=edge").status, 403);

  // The proxy token still reads nothing else over REST.
  EXPECT_EQ(holder_->Get("/v1/zones/dev/intercepts/ana-web").status, 403);

  Api agent(hub_.url(), CreateToken(*admin_, "relay", "agent", "dev"));
  EXPECT_EQ(agent.Post(kTunnelReportPath, Report(ana_secret_)).status, 200);
  Api::Result by_admin = admin_->Post(kTunnelReportPath, Report(ana_secret_));
  ASSERT_EQ(by_admin.status, 200) << by_admin.raw.body;
  EXPECT_EQ(by_admin.body["tunnel"]["proxy"], "edge");
}

}  // namespace
}  // namespace causeway::testing
