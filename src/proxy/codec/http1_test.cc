#include "proxy/codec/http1.h"

#include <string>

#include "gtest/gtest.h"

namespace causeway::proxy::http1 {
namespace {

using namespace std::string_literals;

// Keeps the parsed text alive: heads are views into it.
ParseResult ParseReq(std::string text, RequestHead* h) {
  static std::string* storage = new std::string;
  *storage = std::move(text);
  const std::string& s = *storage;
  bool too_large = false;
  size_t n = FindHeadEnd(s, &too_large);
  if (n == 0) return {too_large ? ParseStatus::kHeadersTooLarge : ParseStatus::kIncomplete, 0, {}};
  return ParseRequestHead(std::string_view(s).substr(0, n), h);
}

TEST(Http1RequestTest, ParsesSimpleGet) {
  RequestHead h;
  auto r = ParseReq("GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nX-A:  v \r\n\r\n", &h);
  ASSERT_EQ(r.status, ParseStatus::kOk);
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.target, "/a?b=1");
  EXPECT_EQ(h.host, "example.com");
  ASSERT_EQ(h.headers.size(), 2u);
  EXPECT_EQ(h.headers[1].value, "v");
  EXPECT_EQ(h.body, BodyKind::kNone);
  EXPECT_TRUE(h.keep_alive);
}

TEST(Http1RequestTest, IncompleteUntilEmptyLine) {
  RequestHead h;
  EXPECT_EQ(ParseReq("GET / HTTP/1.1\r\nHost: x\r\n", &h).status, ParseStatus::kIncomplete);
}

TEST(Http1RequestTest, Http10DefaultsToClose) {
  RequestHead h;
  ASSERT_EQ(ParseReq("GET / HTTP/1.0\r\n\r\n", &h).status, ParseStatus::kOk);
  EXPECT_FALSE(h.keep_alive);
  ASSERT_EQ(ParseReq("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &h).status,
            ParseStatus::kOk);
  EXPECT_TRUE(h.keep_alive);
}

TEST(Http1RequestTest, RefusesSmuggling) {
  RequestHead h;
  EXPECT_EQ(ParseReq("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: "
                     "chunked\r\n\r\n",
                     &h)
                .status,
            ParseStatus::kBadRequest);
  EXPECT_EQ(
      ParseReq("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", &h)
          .status,
      ParseStatus::kBadRequest);
  EXPECT_EQ(ParseReq("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\n", &h).status,
            ParseStatus::kBadRequest);
  EXPECT_EQ(ParseReq("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", &h).status,
            ParseStatus::kBadRequest);
  EXPECT_EQ(
      ParseReq("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", &h).status,
      ParseStatus::kBadRequest);
  EXPECT_EQ(ParseReq("POST / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", &h).status,
            ParseStatus::kBadRequest);
  EXPECT_EQ(ParseReq("POST / HTTP/1.1\r\nHost : x\r\n\r\n", &h).status, ParseStatus::kBadRequest);
  EXPECT_EQ(ParseReq("GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n", &h).status,
            ParseStatus::kBadRequest);
  EXPECT_EQ(ParseReq("GET / HTTP/1.1\r\n\r\n", &h).status, ParseStatus::kBadRequest);
  EXPECT_EQ(ParseReq("GET / HTTP/2.0\r\nHost: x\r\n\r\n", &h).status, ParseStatus::kBadRequest);
}

TEST(Http1RequestTest, HeadersTooLarge) {
  RequestHead h;
  std::string big = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(kMaxHeadBytes, 'a');
  EXPECT_EQ(ParseReq(big, &h).status, ParseStatus::kHeadersTooLarge);
}

TEST(Http1RequestTest, LeadingEmptyLinesCountTowardTheHeadLimit) {
  bool too_large = false;
  std::string crlfs;
  for (size_t i = 0; i < kMaxHeadBytes / 2; ++i) crlfs += "\r\n";
  EXPECT_EQ(FindHeadEnd(crlfs, &too_large), 0u);
  EXPECT_TRUE(too_large);
  EXPECT_GT(FindHeadEnd("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", &too_large), 0u);
  EXPECT_FALSE(too_large);
}

TEST(Http1RequestTest, FramingFlags) {
  RequestHead h;
  ASSERT_EQ(ParseReq("POST /u HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\nExpect: "
                     "100-continue\r\nConnection: Upgrade, close\r\nUpgrade: websocket\r\n\r\n",
                     &h)
                .status,
            ParseStatus::kOk);
  EXPECT_EQ(h.body, BodyKind::kChunked);
  EXPECT_TRUE(h.expect_continue);
  EXPECT_TRUE(h.upgrade);
  EXPECT_FALSE(h.keep_alive);
}

TEST(Http1ResponseTest, ParsesFraming) {
  ResponseHead h;
  std::string s = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
  ASSERT_EQ(ParseResponseHead(s, false, &h).status, ParseStatus::kOk);
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.body, BodyKind::kContentLength);
  EXPECT_EQ(h.content_length, 5u);
  ASSERT_EQ(ParseResponseHead(s, true, &h).status, ParseStatus::kOk);
  EXPECT_EQ(h.body, BodyKind::kNone);
  s = "HTTP/1.1 204 No Content\r\n\r\n";
  ASSERT_EQ(ParseResponseHead(s, false, &h).status, ParseStatus::kOk);
  EXPECT_EQ(h.body, BodyKind::kNone);
  s = "HTTP/1.0 200 OK\r\n\r\n";
  ASSERT_EQ(ParseResponseHead(s, false, &h).status, ParseStatus::kOk);
  EXPECT_EQ(h.body, BodyKind::kUntilClose);
  EXPECT_FALSE(h.keep_alive);
  s = "HTTP/1.1 200\r\nTransfer-Encoding: chunked\r\n\r\n";
  ASSERT_EQ(ParseResponseHead(s, false, &h).status, ParseStatus::kOk);
  EXPECT_EQ(h.body, BodyKind::kChunked);
}

// What the parser already refuses in an upstream's response head, so that the
// proxy never re-serializes it: header names are tokens, header values hold
// no control character but HTAB, every line ends in CRLF.
TEST(Http1ResponseTest, RefusesControlCharactersInHeaderLines) {
  for (std::string bad : {
           std::string("HTTP/1.1 200 OK\r\nX-A: 1\rX-Injected: 1\r\n\r\n"),
           std::string("HTTP/1.1 200 OK\r\nX-A: 1\nX-Injected: 1\r\n\r\n"),
           "HTTP/1.1 200 OK\r\nX-A: 1\0X-Injected: 1\r\n\r\n"s,
           std::string("HTTP/1.1 200 OK\r\nX-A: 1\x01\r\n\r\n"),
           std::string("HTTP/1.1 200 OK\r\nX-A: 1\x7f\r\n\r\n"),
           std::string("HTTP/1.1 200 OK\r\nX-A: 1\r\n X-Folded: 1\r\n\r\n"),
           std::string("HTTP/1.1 200 OK\r\nX-A\r: 1\r\n\r\n"),
           std::string("HTTP/1.1 200 OK\r\nX A: 1\r\n\r\n"),
           std::string("HTTP/1.1 200\nX-Injected: 1\r\n\r\n"),
       }) {
    ResponseHead h;
    EXPECT_EQ(ParseResponseHead(bad, false, &h).status, ParseStatus::kBadRequest) << bad;
  }
  // obs-text and HTAB in a value are allowed (RFC 9110 5.5).
  std::string ok = "HTTP/1.1 200 OK\r\nX-A: caf\xc3\xa9\ta\r\n\r\n";
  ResponseHead h;
  ASSERT_EQ(ParseResponseHead(ok, false, &h).status, ParseStatus::kOk);
  EXPECT_EQ(h.headers[0].value, "caf\xc3\xa9\ta");
}

// The reason phrase is the rest of the status line up to the first CRLF and
// is not judged here: it carries no meaning, so the proxy replaces a bad one
// when it writes the response downstream (server/message_builder.cc) rather
// than failing the request.
TEST(Http1ResponseTest, ReasonPhraseIsPassedOnAsIs) {
  std::string s = "HTTP/1.1 200 OK\rX-Injected: 1\r\nContent-Length: 0\r\n\r\n";
  ResponseHead h;
  ASSERT_EQ(ParseResponseHead(s, false, &h).status, ParseStatus::kOk);
  EXPECT_EQ(h.reason, "OK\rX-Injected: 1");
  ASSERT_EQ(h.headers.size(), 1u);
  s = "HTTP/1.1 200 OK\nX-Injected: 1\r\nContent-Length: 0\r\n\r\n";
  ASSERT_EQ(ParseResponseHead(s, false, &h).status, ParseStatus::kOk);
  EXPECT_EQ(h.reason, "OK\nX-Injected: 1");
}

TEST(BodyFramerTest, ContentLengthAcrossFeeds) {
  BodyFramer f(BodyKind::kContentLength, 5);
  auto s = f.Feed("abc");
  EXPECT_EQ(s.consumed, 3u);
  EXPECT_FALSE(s.done);
  s = f.Feed("deGET");
  EXPECT_EQ(s.consumed, 2u);
  EXPECT_TRUE(s.done);
}

TEST(BodyFramerTest, ChunkedByteByByte) {
  std::string body = "5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nTrailer: t\r\n\r\nNEXT";
  BodyFramer f(BodyKind::kChunked, 0);
  size_t total = 0;
  for (size_t i = 0; i < body.size() && !f.done(); ++i) {
    auto s = f.Feed(std::string_view(body).substr(i, 1));
    ASSERT_FALSE(s.error) << i;
    total += s.consumed;
  }
  EXPECT_TRUE(f.done());
  EXPECT_EQ(total, body.size() - 4);
}

TEST(BodyFramerTest, ChunkedWhole) {
  std::string body = "3\r\nabc\r\n0\r\n\r\nX";
  BodyFramer f(BodyKind::kChunked, 0);
  auto s = f.Feed(body);
  EXPECT_TRUE(s.done);
  EXPECT_EQ(s.consumed, body.size() - 1);
}

TEST(BodyFramerTest, ChunkedErrors) {
  for (std::string bad : {"x\r\n", "3\nabc", "3\r\nabcX", "fffffffffffffffff\r\n", "0\r\n\n"}) {
    BodyFramer f(BodyKind::kChunked, 0);
    EXPECT_TRUE(f.Feed(bad).error) << bad;
  }
}

}  // namespace
}  // namespace causeway::proxy::http1
