// Bad input gets a JSON 4xx naming the problem, and nothing is stored.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

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

// Sends `head` on a new connection and returns what comes back within
// `within` (until the hub closes, or the time is up).
std::string RawExchange(int port, const std::string& head, std::chrono::seconds within) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::send(fd, head.data(), head.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(head.size())) {
    timeval tv{static_cast<time_t>(within.count()), 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) out.append(buf, n);
  }
  ::close(fd);
  return out;
}

// A body is read only once the headers authenticate: a client without a
// valid token that announces a large body and sends none of it is answered
// 401 at once, instead of holding the connection (and the hub's buffer)
// until the body timeout.
TEST_F(BadInputTest, TheTokenIsCheckedBeforeTheBodyIsRead) {
  for (const std::string& auth : {std::string(), std::string("Authorization: Bearer nope\r\n")}) {
    SCOPED_TRACE(auth);
    std::string answer =
        RawExchange(hub_.port(),
                    "POST /v1/apply HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
                        auth + "Content-Length: 1000000\r\n\r\n{",
                    std::chrono::seconds(5));
    EXPECT_EQ(answer.rfind("HTTP/1.1 401", 0), 0u) << answer;
    EXPECT_NE(answer.find("\"unauthenticated\""), std::string::npos) << answer;
  }
  // With a valid token the same head waits for its body, as it should.
  std::string waiting = RawExchange(hub_.port(),
                                    "POST /v1/apply HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                                        hub_.admin_token() + "\r\nContent-Length: 1000000\r\n\r\n{",
                                    std::chrono::seconds(1));
  EXPECT_EQ(waiting, "");
}

}  // namespace
}  // namespace causeway::testing
