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

}  // namespace
}  // namespace causeway::proxy
