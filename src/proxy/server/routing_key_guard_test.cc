// The edge's routing-key guard: a proven KEY~PROOF becomes the bare key, any
// other key is removed from its carrier and only from it.
#include "proxy/server/routing_key_guard.h"

#include <openssl/sha.h>

#include <array>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace causeway::proxy {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

std::string GuardTestHash(std::string_view proof) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(proof.data()), proof.size(), digest.data());
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

constexpr char kAliceProof[] = "2bJKZ_r4GIwAaA1rrqYpKuec32itNkLkLRYX27843QI";

RoutingKeyTable AliceTable() {
  RoutingKeyTable table;
  table.hashes["alice"] = {GuardTestHash(kAliceProof)};
  return table;
}

// The request's headers as (name, value) pairs after guarding.
struct Guarded {
  KeyGuardResult result;
  std::vector<std::pair<std::string, std::string>> headers;
};

Guarded GuardHeaders(const RoutingKeyTable* table,
                     std::vector<std::pair<std::string, std::string>> in) {
  http1::RequestHead request;
  for (const auto& [name, value] : in) request.headers.push_back({name, value});
  std::string storage;
  Guarded out;
  out.result = GuardRoutingKeys(table, request, &storage);
  for (const http1::Header& h : request.headers) out.headers.emplace_back(h.name, h.value);
  return out;
}

const std::string kProven = std::string("alice~") + kAliceProof;

TEST(RoutingKeyGuardTest, ProvenHeaderBecomesTheBareKey) {
  RoutingKeyTable table = AliceTable();
  Guarded g = GuardHeaders(&table, {{"host", "a"}, {"X-Causeway-Key", kProven}});
  EXPECT_THAT(g.headers, ElementsAre(Pair("host", "a"), Pair("X-Causeway-Key", "alice")));
  EXPECT_EQ(g.result.verified, 1);
  EXPECT_EQ(g.result.stripped, 0);
}

TEST(RoutingKeyGuardTest, BareWrongAndUnknownKeysAreRemoved) {
  RoutingKeyTable table = AliceTable();
  for (const std::string& value :
       {std::string("alice"), std::string("alice~wrong"), std::string("alice~"),
        std::string("bob~") + kAliceProof, std::string("~") + kAliceProof}) {
    Guarded g = GuardHeaders(&table, {{"x-causeway-key", value}, {"accept", "*/*"}});
    EXPECT_THAT(g.headers, ElementsAre(Pair("accept", "*/*"))) << value;
    EXPECT_EQ(g.result.stripped, 1) << value;
  }
}

TEST(RoutingKeyGuardTest, WithoutATableEveryKeyGoes) {
  Guarded g = GuardHeaders(nullptr, {{"x-causeway-key", kProven},
                                     {"baggage", "causeway-key=" + kProven},
                                     {"cookie", "causeway-key=" + kProven}});
  EXPECT_TRUE(g.headers.empty());
  EXPECT_EQ(g.result.stripped, 3);
}

TEST(RoutingKeyGuardTest, BaggageKeepsOtherMembersAndProperties) {
  RoutingKeyTable table = AliceTable();
  Guarded proven =
      GuardHeaders(&table, {{"baggage", "user=7, causeway-key = " + kProven + ";ttl=30,b=2"}});
  EXPECT_THAT(proven.headers, ElementsAre(Pair("baggage", "user=7,causeway-key=alice;ttl=30,b=2")));
  EXPECT_EQ(proven.result.verified, 1);

  Guarded bare = GuardHeaders(&table, {{"baggage", "user=7,causeway-key=alice;ttl=30"}});
  EXPECT_THAT(bare.headers, ElementsAre(Pair("baggage", "user=7")));
  EXPECT_EQ(bare.result.stripped, 1);

  Guarded only = GuardHeaders(&table, {{"baggage", "causeway-key=alice"}});
  EXPECT_TRUE(only.headers.empty());

  // Not the carrier: left exactly as it came.
  Guarded other = GuardHeaders(&table, {{"baggage", "xcauseway-key=alice, a=1;causeway-key=b"}});
  EXPECT_THAT(other.headers,
              ElementsAre(Pair("baggage", "xcauseway-key=alice, a=1;causeway-key=b")));
  EXPECT_EQ(other.result.stripped + other.result.verified, 0);
}

TEST(RoutingKeyGuardTest, CookieKeepsOtherCookies) {
  RoutingKeyTable table = AliceTable();
  Guarded proven = GuardHeaders(&table, {{"cookie", "session=x; causeway-key=" + kProven}});
  EXPECT_THAT(proven.headers, ElementsAre(Pair("cookie", "session=x; causeway-key=alice")));
  Guarded wrong = GuardHeaders(&table, {{"cookie", "causeway-key=alice~nope; session=x"}});
  EXPECT_THAT(wrong.headers, ElementsAre(Pair("cookie", "session=x")));
  EXPECT_EQ(wrong.result.stripped, 1);
  Guarded other = GuardHeaders(&table, {{"cookie", "my-causeway-key=alice"}});
  EXPECT_THAT(other.headers, ElementsAre(Pair("cookie", "my-causeway-key=alice")));
}

TEST(RoutingKeyGuardTest, SeveralCarriersAreEachRewrittenInPlace) {
  RoutingKeyTable table = AliceTable();
  Guarded g = GuardHeaders(&table, {{"baggage", "causeway-key=" + kProven},
                                    {"x-causeway-key", "alice"},
                                    {"cookie", "causeway-key=" + kProven + "; a=b"}});
  EXPECT_THAT(g.headers, ElementsAre(Pair("baggage", "causeway-key=alice"),
                                     Pair("cookie", "causeway-key=alice; a=b")));
  EXPECT_EQ(g.result.verified, 2);
  EXPECT_EQ(g.result.stripped, 1);
}

TEST(RoutingKeyGuardTest, OnlyAnEdgeGuardsAndCountsAndNotes) {
  ListenerConfig listener;
  listener.key_guard = std::make_shared<RoutingKeyTable>(AliceTable());
  ProxyCounters counters;
  http1::RequestHead request;
  request.headers.push_back({"x-causeway-key", "alice"});
  StreamInfo info;
  GuardRequestKeys(false, listener, request, info, counters);
  EXPECT_EQ(request.headers.size(), 1u);  // not an edge: kept
  EXPECT_TRUE(info.key_guard.empty());

  GuardRequestKeys(true, listener, request, info, counters);
  EXPECT_TRUE(request.headers.empty());
  EXPECT_EQ(info.key_guard, "stripped");
  EXPECT_EQ(counters.routing_key_stripped.load(), 1u);

  StreamInfo proven_info;
  request.headers.push_back({"x-causeway-key", kProven});
  GuardRequestKeys(true, listener, request, proven_info, counters);
  EXPECT_EQ(proven_info.key_guard, "verified");
  EXPECT_EQ(counters.routing_key_verified.load(), 1u);
}

}  // namespace
}  // namespace causeway::proxy
