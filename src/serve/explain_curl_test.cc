// `curl` command lines read into explain requests: what browsers' "Copy as
// cURL" and people type, and clear errors for what is not understood.
#include "serve/explain_curl.h"

#include "common/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace causeway::serve {
namespace {

using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

TEST(ExplainCurlTest, HostHeaderWinsOverTheUrl) {
  auto r =
      ParseCurlCommand("curl -H 'Host: demo.turbinelabs.io:8888' http://127.0.0.1:8888/api/x?y=1");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->host, "demo.turbinelabs.io:8888");
  EXPECT_EQ(r->path, "/api/x?y=1");
  EXPECT_EQ(r->method, "GET");
  EXPECT_TRUE(r->headers.empty());
}

TEST(ExplainCurlTest, BrowserCopyWithContinuationsAndCookies) {
  const char* command =
      "curl 'https://demo.turbinelabs.io:8888/api/items?page=2#top' \\\n"
      "  -H 'accept: */*' \\\n"
      "  -H \"x-canary: 1\" \\\n"
      "  -b 'beta=yes; session=abc=def' \\\n"
      "  --data-raw '{\"a\": 1}' \\\n"
      "  --compressed -sSL";
  auto r = ParseCurlCommand(command);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->host, "demo.turbinelabs.io:8888");
  EXPECT_EQ(r->path, "/api/items?page=2");
  EXPECT_EQ(r->method, "POST");  // data without -X, as curl does
  EXPECT_THAT(r->headers, UnorderedElementsAre(Pair("accept", "*/*"), Pair("x-canary", "1")));
  EXPECT_THAT(r->cookies, UnorderedElementsAre(Pair("beta", "yes"), Pair("session", "abc=def")));
}

TEST(ExplainCurlTest, MethodsAttachedValuesAndBareHosts) {
  auto r = ParseCurlCommand("curl -XDELETE -HX-Team:\\ payments demo.example:80");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->method, "DELETE");
  EXPECT_EQ(r->host, "demo.example:80");
  EXPECT_EQ(r->path, "/");
  EXPECT_THAT(r->headers, UnorderedElementsAre(Pair("X-Team", "payments")));

  r = ParseCurlCommand("curl -I --url http://a.example/x");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->method, "HEAD");
  EXPECT_EQ(r->host, "a.example");
  EXPECT_EQ(r->path, "/x");
}

TEST(ExplainCurlTest, NothingIsExpanded) {
  auto r = ParseCurlCommand("curl \"http://a.example/$HOME/*\"");
  ASSERT_TRUE(r.ok()) << r.status();
  // Boost.URL keeps the path as written; nothing of the environment appears.
  EXPECT_THAT(r->path, HasSubstr("$HOME"));
}

TEST(ExplainCurlTest, ErrorsSayWhat) {
  struct Case {
    std::string command;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "does not start with curl"},
      {"wget http://a/", "does not start with curl"},
      {"curl -H 'x: 1'", "no URL"},
      {"curl http://a/ http://b/", "more than one URL"},
      {"curl --frobnicate http://a/", "option --frobnicate is not understood"},
      {"curl http://a/ -H", "option -H needs a value"},
      {"curl -H 'no colon' http://a/", "is not \"Name: value\""},
      {"curl -b cookies.txt http://a/", "names a file"},
      {"curl ftp://a/x", "is not http or https"},
      {"curl $'http://a/\\x41'", "ANSI-C quoting"},
  };
  for (const Case& c : cases) {
    auto r = ParseCurlCommand(c.command);
    ASSERT_FALSE(r.ok()) << c.command;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << c.command;
    EXPECT_EQ(ErrorField(r.status()), "curl") << c.command;
    EXPECT_THAT(r.status().message(), HasSubstr(c.message)) << c.command;
  }
}

}  // namespace
}  // namespace causeway::serve
