#include "discovery/agent/relay_authenticator.h"

#include <gtest/gtest.h>

#include "common/time_source.h"

namespace causeway::discovery {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A hub whose answers the test sets, counting the questions.
struct ScriptedIntrospectHub {
  std::map<std::string, IntrospectedToken> valid;
  bool down = false;
  int asked = 0;

  RelayAuthenticator::Introspect Fn() {
    return [this](const std::string& secret) -> absl::StatusOr<IntrospectAnswer> {
      ++asked;
      if (down) return absl::UnavailableError("hub down");
      auto it = valid.find(secret);
      if (it == valid.end()) return IntrospectAnswer();
      return IntrospectAnswer(it->second);
    };
  }
};

class RelayAuthenticatorTest : public ::testing::Test {
 protected:
  RelayAuthenticatorTest() {
    hub_.valid["s1"] = {{"edge-token", "proxy", "staging"}, 0};
    RelayAuthenticator::Options options;
    options.positive_ttl = seconds(30);
    options.negative_ttl = seconds(3);
    auth_ = std::make_unique<RelayAuthenticator>(hub_.Fn(), &time_, options);
  }

  ScriptedIntrospectHub hub_;
  SimulatedTime time_;
  std::unique_ptr<RelayAuthenticator> auth_;
};

TEST_F(RelayAuthenticatorTest, ValidTokenIsAskedOnceAndCachedForItsLife) {
  auto id = auth_->Authenticate("s1");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->token, "edge-token");
  EXPECT_EQ(id->role, "proxy");
  EXPECT_EQ(id->zone, "staging");
  time_.Advance(seconds(29));
  EXPECT_TRUE(auth_->Authenticate("s1").ok());
  EXPECT_TRUE(auth_->Recheck("s1", *id).ok());
  EXPECT_EQ(hub_.asked, 1);
  // Revoked on the hub: noticed once the answer is 30 s old.
  hub_.valid.clear();
  time_.Advance(seconds(2));
  EXPECT_TRUE(absl::IsUnauthenticated(auth_->Recheck("s1", *id)));
  EXPECT_EQ(hub_.asked, 2);
}

TEST_F(RelayAuthenticatorTest, UnknownTokenIsRefusedAndItsAnswerKeptBriefly) {
  EXPECT_TRUE(absl::IsUnauthenticated(auth_->Authenticate("nope").status()));
  EXPECT_TRUE(absl::IsUnauthenticated(auth_->Authenticate("nope").status()));
  EXPECT_EQ(hub_.asked, 1);
  // Created on the hub meanwhile: accepted once the negative answer is stale.
  hub_.valid["nope"] = {{"late", "proxy", "staging"}, 0};
  time_.Advance(seconds(4));
  EXPECT_TRUE(auth_->Authenticate("nope").ok());
  EXPECT_EQ(hub_.asked, 2);
}

TEST_F(RelayAuthenticatorTest, HubDownHonoursFreshAnswersAndNeverFailsOpen) {
  auto id = auth_->Authenticate("s1");
  ASSERT_TRUE(id.ok());
  hub_.down = true;
  // Seen within the cache's life: still honoured, for new streams too.
  time_.Advance(seconds(10));
  EXPECT_TRUE(auth_->Authenticate("s1").ok());
  // Unknown to the cache: UNAVAILABLE, not accepted.
  EXPECT_TRUE(absl::IsUnavailable(auth_->Authenticate("other").status()));
  // Past the cache's life: live streams are kept (UNAVAILABLE), new ones refused.
  time_.Advance(seconds(25));
  EXPECT_TRUE(absl::IsUnavailable(auth_->Recheck("s1", *id)));
  EXPECT_TRUE(absl::IsUnavailable(auth_->Authenticate("s1").status()));
  // The hub is back: answers again (after the retry gap).
  hub_.down = false;
  time_.Advance(seconds(2));
  EXPECT_TRUE(auth_->Recheck("s1", *id).ok());
}

TEST_F(RelayAuthenticatorTest, ExpiryNamedByTheHubIsCheckedWithoutAsking) {
  const int64_t now_ms =
      std::chrono::duration_cast<milliseconds>(time_.Now().time_since_epoch()).count();
  hub_.valid["short"] = {{"short-lived", "proxy", "staging"}, now_ms + 5000};
  auto id = auth_->Authenticate("short");
  ASSERT_TRUE(id.ok());
  time_.Advance(seconds(6));
  absl::Status expired = auth_->Recheck("short", *id);
  EXPECT_TRUE(absl::IsUnauthenticated(expired)) << expired;
  EXPECT_NE(std::string(expired.message()).find("expired"), std::string::npos) << expired;
  EXPECT_EQ(hub_.asked, 1);
}

TEST_F(RelayAuthenticatorTest, SprayedSecretsDoNotGrowTheCacheBeyondItsBound) {
  RelayAuthenticator::Options options;
  options.max_entries = 8;
  RelayAuthenticator small(hub_.Fn(), &time_, options);
  ASSERT_TRUE(small.Authenticate("s1").ok());
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(small.Authenticate("spray-" + std::to_string(i)).ok());
  }
  // The valid one survives the negatives being dropped.
  const int before = hub_.asked;
  EXPECT_TRUE(small.Authenticate("s1").ok());
  EXPECT_EQ(hub_.asked, before);
}

TEST(IntrospectOnHubTest, ParsesTheHubsAnswersAndTurnsRefusalsIntoUnavailable) {
  auto answer = [](int status, std::string body) {
    return [status, body](std::string_view, const std::string& target,
                          const std::string&) -> absl::StatusOr<HttpResponse> {
      EXPECT_EQ(target, "/v1/tokens/introspect");
      HttpResponse r;
      r.status = status;
      r.body = body;
      return r;
    };
  };
  auto active = IntrospectOnHub(
      answer(200, R"({"active":true,"name":"t","role":"proxy","zone":"z","exp":1700000100})"), "s");
  ASSERT_TRUE(active.ok()) << active.status();
  ASSERT_TRUE(active->has_value());
  EXPECT_EQ((*active)->identity.token, "t");
  EXPECT_EQ((*active)->expires_at_ms, int64_t{1700000100} * 1000);
  auto inactive = IntrospectOnHub(answer(200, R"({"active":false})"), "s");
  ASSERT_TRUE(inactive.ok());
  EXPECT_FALSE(inactive->has_value());
  EXPECT_TRUE(absl::IsUnavailable(IntrospectOnHub(answer(403, "{}"), "s").status()));
  EXPECT_TRUE(absl::IsUnavailable(IntrospectOnHub(answer(200, "not json"), "s").status()));
  EXPECT_TRUE(absl::IsUnavailable(
      IntrospectOnHub(answer(200, R"({"active":true,"name":"t"})"), "s").status()));
}

}  // namespace
}  // namespace causeway::discovery
