#include "proxy/server/message_builder.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace causeway::proxy {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Heads are views into the text, so it must outlive them.
http1::RequestHead Parse(std::string text) {
  static std::string* storage = new std::string;
  *storage = std::move(text);
  http1::RequestHead h;
  EXPECT_EQ(http1::ParseRequestHead(*storage, &h).status, http1::ParseStatus::kOk);
  return h;
}

TEST(MessageBuilderTest, UpstreamRequestDropsHopByHopAndAppliesMutations) {
  std::string text =
      "POST /a HTTP/1.1\r\nHost: front\r\nConnection: keep-alive, x-hop\r\nKeep-Alive: 5\r\n"
      "Transfer-Encoding: chunked\r\nExpect: 100-continue\r\nX-Remove: 1\r\nX-Over: old\r\n"
      "X-Keep: k\r\n\r\n";
  http1::RequestHead req = Parse(text);
  HeaderMutation m;
  m.remove = {"x-remove"};
  m.add = {{"x-over", "new", HeaderMutation::Add::Action::kOverwrite},
           {"x-keep", "dup", HeaderMutation::Add::Action::kAddIfAbsent},
           {"x-added", "a", HeaderMutation::Add::Action::kAppend}};
  std::string out;
  BuildUpstreamRequest(req, {"/rewritten", "backend", false}, {&m}, &out);
  EXPECT_THAT(out, HasSubstr("POST /rewritten HTTP/1.1\r\nhost: backend\r\n"));
  EXPECT_THAT(out, Not(HasSubstr("Keep-Alive")));
  EXPECT_THAT(out, Not(HasSubstr("Connection")));
  EXPECT_THAT(out, Not(HasSubstr("Expect")));
  EXPECT_THAT(out, Not(HasSubstr("X-Remove")));
  EXPECT_THAT(out, Not(HasSubstr("old")));
  EXPECT_THAT(out, HasSubstr("x-over: new\r\n"));
  EXPECT_THAT(out, Not(HasSubstr("dup")));
  EXPECT_THAT(out, HasSubstr("x-added: a\r\n"));
  EXPECT_THAT(out, HasSubstr("transfer-encoding: chunked\r\n"));
  EXPECT_TRUE(out.ends_with("\r\n\r\n"));
}

TEST(MessageBuilderTest, TeTrailersAloneGoesOn) {
  std::string out;
  BuildUpstreamRequest(Parse("POST /g HTTP/1.1\r\nHost: a\r\nTE: trailers\r\n\r\n"),
                       {"/g", "a", false}, {}, &out);
  EXPECT_THAT(out, HasSubstr("te: trailers\r\n"));
  EXPECT_THAT(out, Not(HasSubstr("TE:")));
  BuildUpstreamRequest(Parse("GET / HTTP/1.1\r\nHost: a\r\nTE: gzip;q=0.5, trailers\r\n\r\n"),
                       {"/", "a", false}, {}, &out);
  EXPECT_THAT(out, HasSubstr("te: trailers\r\n"));
  EXPECT_THAT(out, Not(HasSubstr("gzip")));  // other codings are the hop's own
  BuildUpstreamRequest(Parse("GET / HTTP/1.1\r\nHost: a\r\nTE: gzip\r\n\r\n"), {"/", "a", false},
                       {}, &out);
  EXPECT_THAT(out, Not(HasSubstr("te:")));
}

TEST(MessageBuilderTest, Http10RequestKeepsUpstreamAlive) {
  http1::RequestHead req = Parse("GET / HTTP/1.0\r\n\r\n");
  std::string out;
  BuildUpstreamRequest(req, {"/", "h", false}, {}, &out);
  EXPECT_THAT(out, HasSubstr("GET / HTTP/1.0\r\n"));
  EXPECT_THAT(out, HasSubstr("connection: keep-alive\r\n"));
}

TEST(MessageBuilderTest, LocalReply) {
  std::string out;
  BuildLocalReply(404, "no route\n", true, false, {}, &out);
  EXPECT_EQ(out,
            "HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\ncontent-length: 9\r\n"
            "connection: close\r\n\r\nno route\n");
}

// Keeps the text of a parsed response alive as Parse does for requests.
http1::ResponseHead ParseResponse(std::string text) {
  static std::string* storage = new std::string;
  *storage = std::move(text);
  http1::ResponseHead h;
  EXPECT_EQ(http1::ParseResponseHead(*storage, false, &h).status, http1::ParseStatus::kOk);
  return h;
}

TEST(MessageBuilderTest, UnsafeUpstreamReasonPhraseIsReplaced) {
  // A bare CR or LF would end the status line early for a lenient client,
  // which would then read the rest as a header of the proxy's response.
  for (std::string head : {
           "HTTP/1.1 200 OK\rX-Injected: 1\r\nContent-Length: 0\r\n\r\n",
           "HTTP/1.1 200 OK\nX-Injected: 1\r\nContent-Length: 0\r\n\r\n",
           "HTTP/1.1 200 OK\r\rX-Injected: 1\r\nContent-Length: 0\r\n\r\n",
           "HTTP/1.1 200 \nHTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n",
       }) {
    http1::ResponseHead resp = ParseResponse(head);
    std::string out;
    EXPECT_TRUE(BuildDownstreamResponse(resp, 1, false, {}, &out)) << head;
    EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") << head;
  }
  // Other control characters and obs-text are replaced too.
  for (std::string reason : {std::string("O\0K", 3), std::string("O\x01K"), std::string("OK\x7f"),
                             std::string("caf\xc3\xa9"), std::string("OK\x1b[2J")}) {
    http1::ResponseHead resp;
    resp.status = 404;
    resp.reason = reason;
    std::string out;
    EXPECT_TRUE(BuildDownstreamResponse(resp, 1, false, {}, &out));
    EXPECT_EQ(out, "HTTP/1.1 404 Not Found\r\n\r\n");
  }
  // A code with no standard phrase gets an empty one (RFC 9112 4).
  http1::ResponseHead odd;
  odd.status = 299;
  odd.reason = "Fine\r\nX-Injected: 1";
  std::string out;
  EXPECT_TRUE(BuildDownstreamResponse(odd, 1, false, {}, &out));
  EXPECT_EQ(out, "HTTP/1.1 299 \r\n\r\n");
}

TEST(MessageBuilderTest, SafeUpstreamReasonPhraseIsKept) {
  http1::ResponseHead resp =
      ParseResponse("HTTP/1.1 200 All\tGood (here)  \r\nContent-Length: 0\r\n\r\n");
  std::string out;
  EXPECT_FALSE(BuildDownstreamResponse(resp, 1, false, {}, &out));
  EXPECT_THAT(out, HasSubstr("HTTP/1.1 200 All\tGood (here)  \r\n"));
  resp = ParseResponse("HTTP/1.1 503\r\nContent-Length: 0\r\n\r\n");
  EXPECT_FALSE(BuildDownstreamResponse(resp, 1, false, {}, &out));
  EXPECT_THAT(out, HasSubstr("HTTP/1.1 503 Service Unavailable\r\n"));
}

TEST(MessageBuilderTest, SafeReasonPhrase) {
  EXPECT_TRUE(SafeReasonPhrase(""));
  EXPECT_TRUE(SafeReasonPhrase("Not Found"));
  EXPECT_TRUE(SafeReasonPhrase("a\tb ~!"));
  EXPECT_FALSE(SafeReasonPhrase("a\rb"));
  EXPECT_FALSE(SafeReasonPhrase("a\nb"));
  EXPECT_FALSE(SafeReasonPhrase(std::string_view("a\0b", 3)));
  EXPECT_FALSE(SafeReasonPhrase("\x7f"));
  EXPECT_FALSE(SafeReasonPhrase("\x80"));
  EXPECT_EQ(ReasonPhrase(418), "");
  EXPECT_EQ(ReasonPhrase(308), "Permanent Redirect");
}

}  // namespace
}  // namespace causeway::proxy
