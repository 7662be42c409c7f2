// The Intercept kind: parsing, validation errors naming field and value,
// the canonical spec and the typed view.
#include "model/intercept.h"

#include "common/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/objects.h"

namespace causeway::model {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<ParsedObject> ParseInterceptBody(const Json& body) {
  return ParseObject(Kind::kIntercept, body, "staging", "");
}

TEST(InterceptModelTest, KindNamesAndPath) {
  EXPECT_EQ(KindName(Kind::kIntercept), "Intercept");
  EXPECT_EQ(KindPath(Kind::kIntercept), "intercepts");
  EXPECT_EQ(ParseKind("intercept"), Kind::kIntercept);
  EXPECT_EQ(ParseKind("Intercepts"), Kind::kIntercept);
  // Clusters stay last in the zone reading order.
  EXPECT_EQ(std::end(kAllKinds)[-1], Kind::kCluster);
}

TEST(InterceptModelTest, DefaultsAndCanonicalSpec) {
  auto parsed = ParseInterceptBody({{"name", "ana-api"}, {"cluster", "api"}, {"key", "ana.1_x-Y"}});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->key.name, "ana-api");
  EXPECT_EQ(parsed->spec["lease_ms"], kDefaultLeaseMs);
  EXPECT_EQ(parsed->spec["owner"], "");
  EXPECT_TRUE(parsed->spec["expires_at"].is_null());
  EXPECT_FALSE(parsed->spec.contains("tunnel"));
}

TEST(InterceptModelTest, ErrorsNameFieldAndValue) {
  struct Case {
    Json body;
    std::string field;
    std::string message;
  };
  const Case cases[] = {
      {{{"name", "i"}, {"key", "k"}}, "cluster", "is required"},
      {{{"name", "i"}, {"cluster", "Api"}, {"key", "k"}}, "cluster", "\"Api\""},
      {{{"name", "i"}, {"cluster", "api"}}, "key", "is required"},
      {{{"name", "i"}, {"cluster", "api"}, {"key", "a b"}}, "key", "\"a b\""},
      {{{"name", "i"}, {"cluster", "api"}, {"key", std::string(33, 'k')}}, "key", "1 to 32"},
      {{{"name", "i"}, {"cluster", "api"}, {"key", "k"}, {"lease_ms", 600001}},
       "lease_ms",
       "not 600001"},
      {{{"name", "i"}, {"cluster", "api"}, {"key", "k"}, {"lease_ms", 10}}, "lease_ms", "not 10"},
      {{{"name", "i"}, {"cluster", "api"}, {"key", "k"}, {"lease_ms", "30s"}},
       "lease_ms",
       "not \"30s\""},
      {{{"name", "i"}, {"cluster", "api"}, {"key", "k"}, {"tunnel", {{"proxy", "p"}}}},
       "tunnel.address",
       "is not host:port"},
      {{{"name", "i"}, {"cluster", "api"}, {"key", "k"}, {"tunnel", {{"proxy", "p"}, {"x", 1}}}},
       "tunnel.x",
       "unknown field"},
      {{{"name", "i"}, {"cluster", "api"}, {"key", "k"}, {"expires_at", "tomorrow"}},
       "expires_at",
       "\"tomorrow\""},
      {{{"name", "i"}, {"cluster", "api"}, {"key", "k"}, {"ttl_ms", 5}}, "ttl_ms", "unknown field"},
  };
  for (const Case& c : cases) {
    auto parsed = ParseInterceptBody(c.body);
    ASSERT_FALSE(parsed.ok()) << c.body.dump();
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(ErrorField(parsed.status()), c.field) << c.body.dump();
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(c.message)) << c.body.dump();
  }
}

TEST(InterceptModelTest, TypedViewRoundTripsHubFields) {
  Json body = {{"name", "ana-api"},
               {"cluster", "api"},
               {"key", "ana"},
               {"lease_ms", 5000},
               {"owner", "ana-laptop"},
               {"expires_at", "2026-12-07T10:00:05.250Z"},
               {"tunnel", {{"proxy", "edge"}, {"address", "10.0.0.7:15001"}}}};
  auto parsed = ParseInterceptBody(body);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  Object object;
  object.key = parsed->key;
  object.spec = parsed->spec;
  auto typed = InterceptFromObject(object);
  ASSERT_TRUE(typed.ok()) << typed.status();
  EXPECT_EQ(typed->name, "ana-api");
  EXPECT_EQ(typed->lease_ms, 5000u);
  EXPECT_EQ(typed->owner, "ana-laptop");
  EXPECT_EQ(typed->expires_at_ms, 1796637605250);
  ASSERT_TRUE(typed->tunnel.has_value());
  EXPECT_EQ(typed->tunnel->address, "10.0.0.7:15001");
  EXPECT_EQ(ToSpec(*typed), parsed->spec);
}

TEST(InterceptModelTest, RoutingKeyCharacters) {
  EXPECT_TRUE(IsValidRoutingKey("A-z_0.9"));
  EXPECT_TRUE(IsValidRoutingKey(std::string(32, 'a')));
  EXPECT_FALSE(IsValidRoutingKey(""));
  EXPECT_FALSE(IsValidRoutingKey("a=b"));
  EXPECT_FALSE(IsValidRoutingKey("a;b"));
  EXPECT_FALSE(IsValidRoutingKey("a,b"));
}

// proof_sha256 is the hub's: it round-trips through the spec when it has the
// form of a SHA-256, and anything else is refused naming the field.
TEST(InterceptModelTest, ProofSha256RoundTripsAndIsChecked) {
  const std::string hash(64, 'a');
  Json body = {{"cluster", "api"}, {"key", "ana"}, {"proof_sha256", hash}};
  auto typed = ParseIntercept(body, false);
  ASSERT_TRUE(typed.ok()) << typed.status();
  EXPECT_EQ(typed->proof_sha256, hash);
  EXPECT_EQ(ToSpec(*typed)["proof_sha256"], hash);
  typed->proof_sha256.clear();
  EXPECT_FALSE(ToSpec(*typed).contains("proof_sha256"));

  for (const std::string& bad : {std::string(63, 'a'), std::string(64, 'A'), std::string("xyz")}) {
    body["proof_sha256"] = bad;
    auto refused = ParseIntercept(body, false);
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_THAT(refused.status().message(), HasSubstr("proof_sha256"));
    EXPECT_THAT(refused.status().message(), HasSubstr(bad));
  }
}

TEST(InterceptModelTest, AProofReadBackIsIgnoredOnWrite) {
  // What the owner reads (with `proof`) can be written again as it is.
  Json body = {{"name", "ana-api"}, {"cluster", "api"}, {"key", "ana"}, {"proof", "c2VjcmV0"}};
  auto parsed = ParseInterceptBody(body);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_FALSE(parsed->spec.contains("proof"));
}

// The tunnel's status fields, written by the hub when the holder reports
// it, round-trip through the spec and are checked like the others.
TEST(InterceptModelTest, TunnelStateAndConnectedAtRoundTripAndAreChecked) {
  Json body = {{"cluster", "api"},
               {"key", "ana"},
               {"tunnel",
                {{"proxy", "edge"},
                 {"address", "10.0.0.7:15010"},
                 {"state", "connected"},
                 {"connected_at", "2026-12-07T15:00:00.250Z"}}}};
  auto typed = ParseIntercept(body, false);
  ASSERT_TRUE(typed.ok()) << typed.status();
  ASSERT_TRUE(typed->tunnel.has_value());
  EXPECT_EQ(typed->tunnel->state, "connected");
  EXPECT_EQ(typed->tunnel->connected_at_ms, 1796655600250);
  EXPECT_EQ(ToSpec(*typed)["tunnel"], body["tunnel"]);

  Json bad_state = body;
  bad_state["tunnel"]["state"] = "gone";
  auto refused = ParseIntercept(bad_state, false);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("tunnel.state"));
  EXPECT_THAT(refused.status().message(), HasSubstr("gone"));
  Json bad_time = body;
  bad_time["tunnel"]["connected_at"] = "yesterday";
  refused = ParseIntercept(bad_time, false);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("tunnel.connected_at"));
  EXPECT_THAT(refused.status().message(), HasSubstr("yesterday"));

  // Without them, the tunnel is as before: proxy and address only.
  body["tunnel"].erase("state");
  body["tunnel"].erase("connected_at");
  EXPECT_EQ(ToSpec(*ParseIntercept(body, false))["tunnel"], body["tunnel"]);
}

}  // namespace
}  // namespace causeway::model
