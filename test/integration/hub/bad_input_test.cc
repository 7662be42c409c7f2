// Bad input gets a JSON 4xx naming the problem, and nothing is stored.
#include "gtest/gtest.h"
#include "hub_fixture.h"

namespace causeway::testing {
namespace {

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hub_.Start();
    api_ = std::make_unique<Api>(hub_.url(), hub_.admin_token());
    ASSERT_EQ(api_->Post("/v1/zones", {{"name", "dev"}}).status, 201);
  }

  int64_t Revision() {
    return std::stoll(api_->Get("/v1/zones").body["revision"].get<std::string>());
  }

  HubProcess hub_;
  std::unique_ptr<Api> api_;
};

TEST_F(BadInputTest, FieldNamedErrors) {
  int64_t before = Revision();
  struct Case {
    std::string body;
    std::string field;
  };
  std::vector<Case> cases = {
      {R"({"name": "web", "instances": [{"host": "10.0.0.1", "port": "x"}]})", "instances[0].port"},
      {R"({"name": "web", "instancez": []})", "instancez"},
      {R"({"name": "Web!"})", "name"},
      {R"({"name": "web", "instances": {}})", "instances"},
      {R"({"name": "web", "zone": "other"})", "zone"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    auto res = api_->Raw("POST", "/v1/zones/dev/clusters", c.body);
    EXPECT_EQ(res.status, 400) << res.raw.body;
    EXPECT_EQ(res.code(), "invalid_argument");
    EXPECT_EQ(res.field(), c.field) << res.raw.body;
    EXPECT_FALSE(res.body["error"].value("message", "").empty());
  }
  auto malformed = api_->Raw("POST", "/v1/zones/dev/clusters", R"({"name": "web",)");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_NE(malformed.body["error"]["message"].get<std::string>().find("JSON"), std::string::npos);
  auto empty = api_->Raw("POST", "/v1/zones/dev/clusters", "");
  EXPECT_EQ(empty.status, 400);
  auto not_object = api_->Raw("POST", "/v1/zones/dev/clusters", "[1,2]");
  EXPECT_EQ(not_object.status, 400);
  EXPECT_EQ(Revision(), before);
  EXPECT_EQ(api_->Get("/v1/zones/dev/clusters").body["items"].size(), 0u);
}

TEST_F(BadInputTest, UnknownPathsAndMethods) {
  auto unknown = api_->Get("/v1/nothing/here/at/all");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.code(), "not_found");
  EXPECT_EQ(api_->Get("/v1/zones/dev/widgets").status, 404);
  EXPECT_EQ(api_->Get("/v1/widgets").status, 404);
  EXPECT_EQ(api_->Get("/v1/zones/nope/clusters").status, 404);
  auto method = api_->Call("PATCH", "/v1/zones/dev");
  EXPECT_EQ(method.status, 405);
  EXPECT_EQ(method.code(), "method_not_allowed");
  EXPECT_NE(method.raw.Header("allow").find("PUT"), std::string::npos);
  EXPECT_EQ(api_->Get("/v1/apply").status, 405);
  EXPECT_EQ(api_->Delete("/v1/zones").status, 405);
}

TEST_F(BadInputTest, BodyOverOneMebibyteIs413) {
  int64_t before = Revision();
  std::string big = R"({"name": "big", "description": ")" + std::string(1100000, 'x') + R"("})";
  auto res = api_->Raw("POST", "/v1/zones", big);
  EXPECT_EQ(res.status, 413);
  EXPECT_EQ(res.code(), "payload_too_large");
  EXPECT_EQ(Revision(), before);
  // The client reconnects transparently; the hub is fine.
  Api fresh(hub_.url(), hub_.admin_token());
  EXPECT_EQ(fresh.Get("/v1/zones/big").status, 404);
}

TEST_F(BadInputTest, OversizedHeadersAre431) {
  auto res = api_->Raw("GET", "/v1/zones", "", {{"X-Padding", std::string(20000, 'p')}});
  EXPECT_EQ(res.status, 431);
  EXPECT_EQ(res.code(), "headers_too_large");
}

TEST_F(BadInputTest, MissingOrBadTokenIs401) {
  Api anonymous(hub_.url(), "");
  auto res = anonymous.Get("/v1/zones");
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(res.code(), "unauthenticated");
  Api wrong(hub_.url(), "cw_not-a-token");
  EXPECT_EQ(wrong.Get("/v1/zones").status, 401);
  EXPECT_EQ(anonymous.Raw("GET", "/v1/zones", "", {{"Authorization", "Basic abc"}}).status, 401);
}

}  // namespace
}  // namespace causeway::testing
