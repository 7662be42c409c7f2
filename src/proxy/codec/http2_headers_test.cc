#include "proxy/codec/http2_headers.h"

#include <gtest/gtest.h>

#include <string>

namespace causeway::proxy::http2 {
namespace {

// Views in the head point into `text`, which must outlive it.
http1::RequestHead ParseH1Request(const std::string& text) {
  http1::RequestHead head;
  http1::ParseResult r = http1::ParseRequestHead(text, &head);
  EXPECT_EQ(r.status, http1::ParseStatus::kOk) << r.reason;
  return head;
}

TEST(Http2HeadersTest, Http1RequestDropsConnectionSpecificHeaders) {
  const std::string text =
      "POST /v1/items?x=1 HTTP/1.1\r\n"
      "Host: api.example.com\r\n"
      "Connection: keep-alive, X-Hop\r\n"
      "Keep-Alive: timeout=5\r\n"
      "Proxy-Connection: keep-alive\r\n"
      "Transfer-Encoding: chunked\r\n"
      "Upgrade: h2c\r\n"
      "X-Hop: 1\r\n"
      "TE: trailers, deflate\r\n"
      "Content-Type: application/json\r\n"
      "Cookie: a=1\r\n"
      "\r\n";
  http1::RequestHead h1 = ParseH1Request(text);
  RequestHead h2 = FromHttp1Request(h1, "https");
  EXPECT_EQ(h2.method, "POST");
  EXPECT_EQ(h2.scheme, "https");
  EXPECT_EQ(h2.authority, "api.example.com");
  EXPECT_EQ(h2.path, "/v1/items?x=1");
  EXPECT_EQ(
      h2.headers,
      (HeaderList{{"content-type", "application/json"}, {"cookie", "a=1"}, {"te", "trailers"}}));
}

TEST(Http2HeadersTest, TeWithoutTrailersIsDropped) {
  const std::string text = "GET / HTTP/1.1\r\nHost: a\r\nTE: gzip\r\n\r\n";
  http1::RequestHead h1 = ParseH1Request(text);
  EXPECT_TRUE(FromHttp1Request(h1, "http").headers.empty());
  EXPECT_TRUE(IsConnectionSpecific("te", "gzip"));
  EXPECT_FALSE(IsConnectionSpecific("te", " trailers "));
}

TEST(Http2HeadersTest, ConnectUsesTheAuthority) {
  const std::string text = "CONNECT db.internal:5432 HTTP/1.1\r\nHost: db.internal:5432\r\n\r\n";
  http1::RequestHead h1 = ParseH1Request(text);
  RequestHead h2 = FromHttp1Request(h1, "http");
  EXPECT_EQ(h2.authority, "db.internal:5432");
  EXPECT_TRUE(h2.path.empty());
  EXPECT_TRUE(h2.scheme.empty());
  EXPECT_EQ(ToHttp1Request(h2).target, "db.internal:5432");
}

TEST(Http2HeadersTest, Http2RequestJoinsCookieCrumbs) {
  RequestHead h2{"GET",
                 "https",
                 "shop.example.com",
                 "/cart",
                 {{"accept", "*/*"},
                  {"cookie", "a=1"},
                  {"x-trace", "t"},
                  {"cookie", "b=2"},
                  {"host", "ignored.example.com"},
                  {"cookie", "c=3"}}};
  Http1Request h1 = ToHttp1Request(h2);
  EXPECT_EQ(h1.method, "GET");
  EXPECT_EQ(h1.target, "/cart");
  EXPECT_EQ(h1.headers, (HeaderList{{"host", "shop.example.com"},
                                    {"accept", "*/*"},
                                    {"cookie", "a=1; b=2; c=3"},
                                    {"x-trace", "t"}}));
}

TEST(Http2HeadersTest, HostFieldServesWhenAuthorityIsMissing) {
  RequestHead h2{"GET", "http", "", "/", {{"host", "b.example.com"}}};
  EXPECT_EQ(ToHttp1Request(h2).headers, (HeaderList{{"host", "b.example.com"}}));
}

TEST(Http2HeadersTest, Http1ResponseLosesHopByHopHeaders) {
  const std::string text =
      "HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n"
      "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Type: text/html\r\n\r\n";
  http1::ResponseHead h1;
  ASSERT_EQ(http1::ParseResponseHead(text, false, &h1).status, http1::ParseStatus::kOk);
  ResponseHead h2 = FromHttp1Response(h1);
  EXPECT_EQ(h2.status, 200);
  EXPECT_EQ(
      h2.headers,
      (HeaderList{{"set-cookie", "a=1"}, {"set-cookie", "b=2"}, {"content-type", "text/html"}}));
}

}  // namespace
}  // namespace causeway::proxy::http2
