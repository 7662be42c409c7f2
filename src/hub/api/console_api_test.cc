#include "hub/api/console_api.h"

#include <gtest/gtest.h>

namespace causeway::hub::api {
namespace {

std::string HeaderOf(const http::Response& res, std::string_view name) {
  for (const auto& [k, v] : res.headers) {
    if (k == name) return v;
  }
  return "";
}

const ConsoleAsset kAssets[] = {
    {"/assets/index-abc.js", "text/javascript; charset=utf-8", "console.log(1)", "GZ", "\"js1\"",
     true},
    {"/favicon.svg", "image/svg+xml", "<svg/>", "", "\"ico\"", false},
    {"/index.html", "text/html; charset=utf-8", "<html>", "", "\"idx\"", false},
};

http::Request Get(std::string path) {
  http::Request req;
  req.method = "GET";
  req.path = path;
  req.target = path;
  return req;
}

TEST(ConsoleTest, ServesHashedAssetsImmutableAndGzipWhenAccepted) {
  http::Request req = Get("/assets/index-abc.js");
  http::Response plain = ServeConsole(kAssets, req);
  EXPECT_EQ(plain.status, 200);
  EXPECT_EQ(plain.body, "console.log(1)");
  EXPECT_EQ(plain.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(HeaderOf(plain, "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(HeaderOf(plain, "Content-Encoding"), "");
  req.headers["accept-encoding"] = "br, gzip";
  http::Response packed = ServeConsole(kAssets, req);
  EXPECT_EQ(packed.body, "GZ");
  EXPECT_EQ(HeaderOf(packed, "Content-Encoding"), "gzip");
  EXPECT_EQ(HeaderOf(packed, "Vary"), "Accept-Encoding");
  req.headers["accept-encoding"] = "gzip;q=0";
  EXPECT_EQ(ServeConsole(kAssets, req).body, "console.log(1)");
  req.headers["accept-encoding"] = "deflate, gzip;q=0.5";
  EXPECT_EQ(ServeConsole(kAssets, req).body, "GZ");
  req.headers["accept-encoding"] = "gzip;q=0.000, identity";
  EXPECT_EQ(ServeConsole(kAssets, req).body, "console.log(1)");
  req.headers["accept-encoding"] = "gzipx";
  EXPECT_EQ(ServeConsole(kAssets, req).body, "console.log(1)");
}

TEST(ConsoleTest, PagesGetIndexWithSecurityHeaders) {
  for (const char* path : {"/", "/zones", "/zones/dev-local/routes/api", "/tokens"}) {
    http::Response res = ServeConsole(kAssets, Get(path));
    EXPECT_EQ(res.status, 200) << path;
    EXPECT_EQ(res.body, "<html>") << path;
    EXPECT_EQ(HeaderOf(res, "Cache-Control"), "no-cache") << path;
    EXPECT_TRUE(HeaderOf(res, "Content-Security-Policy").starts_with("default-src 'self'"));
    EXPECT_EQ(HeaderOf(res, "X-Content-Type-Options"), "nosniff");
  }
}

TEST(ConsoleTest, ApiPathsAndMissingAssetsAreJson404) {
  for (const char* path : {"/v1", "/v1/nothing/here", "/assets/gone-123.js"}) {
    http::Response res = ServeConsole(kAssets, Get(path));
    EXPECT_EQ(res.status, 404) << path;
    EXPECT_EQ(res.content_type, "application/json") << path;
    EXPECT_NE(res.body.find("not_found"), std::string::npos) << res.body;
  }
}

TEST(ConsoleTest, MatchingEntityTagIsNotModified) {
  http::Request req = Get("/favicon.svg");
  req.headers["if-none-match"] = "\"other\", W/\"ico\"";
  http::Response res = ServeConsole(kAssets, req);
  EXPECT_EQ(res.status, 304);
  EXPECT_TRUE(res.body.empty());
  req.headers["if-none-match"] = "\"other\"";
  EXPECT_EQ(ServeConsole(kAssets, req).status, 200);
}

TEST(ConsoleTest, EmbeddedBuildHasIndexAndSortedPaths) {
  std::span<const ConsoleAsset> assets = ConsoleAssets();
  ASSERT_FALSE(assets.empty());
  bool index = false;
  for (size_t i = 0; i < assets.size(); ++i) {
    if (i > 0) {
      EXPECT_LT(assets[i - 1].path, assets[i].path);
    }
    if (assets[i].path == "/index.html") index = true;
    if (!assets[i].gzip.empty()) {
      EXPECT_LT(assets[i].gzip.size(), assets[i].body.size());
    }
  }
  EXPECT_TRUE(index);
}

TEST(ConsoleTest, RoutesLeaveApiRoutesFirst) {
  http::Router router;
  router.Add({"GET", "/v1/zones", [](http::Request&) { return http::Response::Json(200, "{}"); }});
  AddConsoleRoutes(router);
  EXPECT_EQ(router.Find("GET", "/v1/zones").route->pattern, "/v1/zones");
  EXPECT_EQ(router.Find("GET", "/").result, http::Router::Match::Result::kFound);
  EXPECT_EQ(router.Find("GET", "/a/b/c/d/e/f/g/h").result, http::Router::Match::Result::kFound);
}

}  // namespace
}  // namespace causeway::hub::api
