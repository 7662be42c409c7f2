#include "net/http_router.h"

#include "gtest/gtest.h"

namespace causeway::http {
namespace {

Router MakeRouter() {
  Router router;
  auto h = [](Request&) { return Response{}; };
  router.Add({"GET", "/v1/zones", h});
  router.Add({"POST", "/v1/zones", h});
  router.Add({"GET", "/v1/zones/{zone}", h});
  router.Add({"PUT", "/v1/zones/{zone}", h});
  router.Add({"GET", "/v1/zones/{zone}/{kind}/{name}", h});
  router.Add({"POST", "/v1/apply", h});
  router.Add({"GET", "/v1/{kind}", h});
  return router;
}

TEST(RouterTest, LiteralsWinOverCaptures) {
  Router router = MakeRouter();
  auto m = router.Find("GET", "/v1/zones");
  ASSERT_EQ(m.result, Router::Match::Result::kFound);
  EXPECT_EQ(m.route->pattern, "/v1/zones");
  m = router.Find("GET", "/v1/clusters");
  ASSERT_EQ(m.result, Router::Match::Result::kFound);
  EXPECT_EQ(m.route->pattern, "/v1/{kind}");
  EXPECT_EQ(m.params["kind"], "clusters");
}

TEST(RouterTest, CapturesAreDecoded) {
  Router router = MakeRouter();
  auto m = router.Find("GET", "/v1/zones/dev/domains/api.example.com%3A80");
  ASSERT_EQ(m.result, Router::Match::Result::kFound);
  EXPECT_EQ(m.params["zone"], "dev");
  EXPECT_EQ(m.params["name"], "api.example.com:80");
  m = router.Find("GET", "/v1/zones/dev/domains/api.example.com:80/");
  ASSERT_EQ(m.result, Router::Match::Result::kFound);
  EXPECT_EQ(m.params["name"], "api.example.com:80");
  EXPECT_EQ(router.Find("GET", "/v1/zones/%zz").result, Router::Match::Result::kBadPath);
}

TEST(RouterTest, WrongMethodIs405WithAllowed) {
  Router router = MakeRouter();
  auto m = router.Find("DELETE", "/v1/zones");
  ASSERT_EQ(m.result, Router::Match::Result::kMethodNotAllowed);
  EXPECT_EQ(m.allowed, "GET, POST");
  // The apply route is more specific than /v1/{kind}: GET is not allowed.
  m = router.Find("GET", "/v1/apply");
  ASSERT_EQ(m.result, Router::Match::Result::kMethodNotAllowed);
  EXPECT_EQ(m.allowed, "POST");
  EXPECT_EQ(router.Find("GET", "/v2/zones/x/y/z/w").result, Router::Match::Result::kNotFound);
}

TEST(MessageTest, ParseTarget) {
  std::string path;
  std::map<std::string, std::string> query;
  ASSERT_TRUE(ParseTarget("/v1/watch?since=5&zone=a%2Db&flag", &path, &query));
  EXPECT_EQ(path, "/v1/watch");
  EXPECT_EQ(query["since"], "5");
  EXPECT_EQ(query["zone"], "a-b");
  EXPECT_EQ(query.count("flag"), 1u);
  EXPECT_FALSE(ParseTarget("/x?a=%4", &path, &query));
  std::string out;
  EXPECT_FALSE(PercentDecode("%", &out));
  EXPECT_TRUE(PercentDecode("a%3ab", &out));
  EXPECT_EQ(out, "a:b");
}

}  // namespace
}  // namespace causeway::http
