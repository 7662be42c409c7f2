// Stamping the routing key: the carriers read, the trace ids read, and
// which key a request gets.
#include "proxy/server/routing_key_stamp.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model/intercept.h"

namespace causeway::proxy {
namespace {

using std::chrono::milliseconds;
using StampTestHeaders = std::vector<http1::Header>;

constexpr std::string_view kStampTestTrace =
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
constexpr std::string_view kStampTestOtherTrace =
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

TEST(RoutingKeyStampTest, ConstantsAreTheModelsCarriers) {
  EXPECT_EQ(kKeyHeader, model::kRoutingKeyHeader);
  EXPECT_EQ(kKeyBaggageMember, model::kRoutingKeyBaggage);
  EXPECT_EQ(kKeyCookie, model::kRoutingKeyCookie);
  EXPECT_EQ(kMaxKeyLength, model::kMaxRoutingKeyLength);
  for (std::string_view key :
       {"alice", "a.b_c-D9", "", "a b", "a,b", "a;b", "a=b", "ä",
        "01234567890123456789012345678901", "0123456789012345678901234567890123"}) {
    EXPECT_EQ(IsRoutingKey(key), model::IsValidRoutingKey(key)) << key;
  }
}

TEST(RoutingKeyStampTest, BaggageMember) {
  EXPECT_EQ(BaggageKey("causeway-key=ana").key, "ana");
  EXPECT_EQ(BaggageKey("user=7, causeway-key=ana;ttl=30").key, "ana");
  EXPECT_EQ(BaggageKey("user=7 ,causeway-key = ana ; ttl=30").key, "ana");
  // Near misses: another member's name, a property, no member at all.
  EXPECT_FALSE(BaggageKey("xcauseway-key=ana").present);
  EXPECT_FALSE(BaggageKey("a=1;causeway-key=ana").present);
  EXPECT_FALSE(BaggageKey("causeway-key").present);
  EXPECT_FALSE(BaggageKey("").present);
  // There, but not a routing key: present with no key.
  CarrierKey bad = BaggageKey("causeway-key=a%20b");
  EXPECT_TRUE(bad.present);
  EXPECT_TRUE(bad.key.empty());
  // Members past W3C's 180 are not looked at.
  std::string members;
  for (int i = 0; i < 179; ++i) members += "m" + std::to_string(i) + "=1,";
  EXPECT_EQ(BaggageKey(members + "causeway-key=ana").key, "ana");  // the 180th
  EXPECT_FALSE(BaggageKey(members + "m=1,causeway-key=ana").present);
}

TEST(RoutingKeyStampTest, Cookie) {
  EXPECT_EQ(CookieKey("causeway-key=ana").key, "ana");
  EXPECT_EQ(CookieKey("session=x; causeway-key=ana").key, "ana");
  EXPECT_EQ(CookieKey("session=x;causeway-key=ana; y=1").key, "ana");
  EXPECT_FALSE(CookieKey("session=x; Causeway-Key=ana").present);  // names are case-sensitive
  EXPECT_FALSE(CookieKey("session=causeway-key=ana").present);
  EXPECT_TRUE(CookieKey("causeway-key=\"ana\"").present);
  EXPECT_TRUE(CookieKey("causeway-key=\"ana\"").key.empty());
}

TEST(RoutingKeyStampTest, RequestKeyTakesTheRoutesOrder) {
  std::vector<http1::Header> headers = {
      {"Cookie", "causeway-key=carol"}, {"baggage", "causeway-key=bob"}, {"X-Causeway-Key", "ana"}};
  CarrierKey k = RequestKey(headers);
  EXPECT_TRUE(k.present);
  EXPECT_EQ(k.key, "ana");
  headers[2].value = "not a key";
  EXPECT_EQ(RequestKey(headers).key, "bob");
  EXPECT_FALSE(RequestKey({{"baggage", "user=1"}, {"cookie", "a=b"}}).present);
}

TEST(RoutingKeyStampTest, Traceparent) {
  EXPECT_EQ(TraceparentTraceId(kStampTestTrace).value_or(""), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(
      TraceparentTraceId(" 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00 ").value_or(""),
      "4bf92f3577b34da6a3ce929d0e0e4736");
  // A later version may add fields after a '-'.
  EXPECT_TRUE(TraceparentTraceId("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"));
  for (std::string_view bad :
       {"00-00000000000000000000000000000000-00f067aa0ba902b7-01",    // all-zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",    // all-zero parent id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // version ff
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",    // uppercase
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",     // short trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",  // 00 with more
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",   // no '-' before more
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "", "garbage"}) {
    EXPECT_FALSE(TraceparentTraceId(bad)) << bad;
  }
}

TEST(RoutingKeyStampTest, B3AndRequestId) {
  EXPECT_TRUE(IsB3TraceId("463ac35c9f6413ad"));
  EXPECT_TRUE(IsB3TraceId("463ac35c9f6413ad48485a3953bb6124"));
  EXPECT_FALSE(IsB3TraceId("0000000000000000"));
  EXPECT_FALSE(IsB3TraceId("463ac35c9f6413a"));
  EXPECT_FALSE(IsB3TraceId("463AC35C9F6413AD"));
  EXPECT_TRUE(IsRequestId("7c7d4b8e-1f7a-4b0b-9f5e-6a1c2b3d4e5f"));
  EXPECT_FALSE(IsRequestId(""));
  EXPECT_FALSE(IsRequestId("a b"));
  EXPECT_FALSE(IsRequestId(std::string(129, 'a')));
}

TEST(RoutingKeyStampTest, TraceMemoryKeysShareW3cAndB3) {
  TraceMemoryKeys from_w3c(
      StampTestHeaders{{"traceparent", "00-0000000000000000463ac35c9f6413ad-00f067aa0ba902b7-01"},
                       {"x-request-id", "req-1"}});
  TraceMemoryKeys from_b3(StampTestHeaders{{"X-B3-TraceId", "463ac35c9f6413ad"}});
  ASSERT_EQ(from_w3c.size(), 2u);
  ASSERT_EQ(from_b3.size(), 1u);
  EXPECT_EQ(from_w3c[0], from_b3[0]);
  EXPECT_EQ(from_w3c[1], "rreq-1");
  // A request id of 32 hex digits stays a request id.
  TraceMemoryKeys rid(StampTestHeaders{{"x-request-id", "0000000000000000463ac35c9f6413ad"}});
  ASSERT_EQ(rid.size(), 1u);
  EXPECT_NE(rid[0], from_b3[0]);
  EXPECT_EQ(TraceMemoryKeys(StampTestHeaders{{"traceparent", "bad"}, {"x-b3-traceid", "0"}}).size(),
            0u);
}

class RoutingKeyStamperTest : public ::testing::Test {
 protected:
  // The value of the x-causeway-key headers of `req`, joined with ','.
  static std::string KeyOf(const http1::RequestHead& req) {
    std::string out;
    for (const http1::Header& h : req.headers) {
      if (http1::EqualsIgnoreCase(h.name, "x-causeway-key")) {
        out += (out.empty() ? "" : ",") + std::string(h.value);
      }
    }
    return out;
  }
  static http1::RequestHead Head(std::vector<http1::Header> headers) {
    http1::RequestHead req;
    req.headers = std::move(headers);
    return req;
  }

  SimulatedTime time_;
  std::string storage_;
};

TEST_F(RoutingKeyStamperTest, ATraceThatCarriedAKeyGetsItBack) {
  RoutingKeyStamper stamper({.memory = {.max_entries = 10, .ttl = milliseconds(1000)}}, time_);
  http1::RequestHead in = Head({{"x-causeway-key", "alice"}, {"traceparent", kStampTestTrace}});
  EXPECT_EQ(stamper.Stamp(in, &storage_), RoutingKeyStamper::Outcome::kCarried);
  EXPECT_EQ(KeyOf(in), "alice");

  http1::RequestHead out = Head({{"traceparent", kStampTestTrace}});
  EXPECT_EQ(stamper.Stamp(out, &storage_), RoutingKeyStamper::Outcome::kStampedTrace);
  EXPECT_EQ(KeyOf(out), "alice");

  // Another trace, or none, gets nothing.
  http1::RequestHead other = Head({{"traceparent", kStampTestOtherTrace}});
  EXPECT_EQ(stamper.Stamp(other, &storage_), RoutingKeyStamper::Outcome::kUnkeyed);
  EXPECT_EQ(KeyOf(other), "");
  http1::RequestHead bare = Head({});
  EXPECT_EQ(stamper.Stamp(bare, &storage_), RoutingKeyStamper::Outcome::kUnkeyed);

  RoutingKeyStamper::Counters c = stamper.counters();
  EXPECT_EQ(c.remembered, 1u);
  EXPECT_EQ(c.stamped_by_trace, 1u);
  EXPECT_EQ(c.stamped_by_env, 0u);

  // Forgotten once unseen for the memory's time.
  time_.Advance(milliseconds(1000));
  http1::RequestHead late = Head({{"traceparent", kStampTestTrace}});
  EXPECT_EQ(stamper.Stamp(late, &storage_), RoutingKeyStamper::Outcome::kUnkeyed);
  EXPECT_EQ(stamper.counters().expired, 1u);
}

TEST_F(RoutingKeyStamperTest, EveryCarrierTeachesTheMemory) {
  RoutingKeyStamper stamper({}, time_);
  http1::RequestHead baggage = Head({{"baggage", "causeway-key=bob"}, {"x-request-id", "r1"}});
  http1::RequestHead cookie =
      Head({{"cookie", "causeway-key=carol"}, {"x-b3-traceid", "463ac35c9f6413ad"}});
  stamper.Stamp(baggage, &storage_);
  stamper.Stamp(cookie, &storage_);
  // The carriers are left as they were: no header added beside them.
  EXPECT_EQ(KeyOf(baggage), "");
  EXPECT_EQ(KeyOf(cookie), "");

  http1::RequestHead by_rid = Head({{"x-request-id", "r1"}});
  stamper.Stamp(by_rid, &storage_);
  EXPECT_EQ(KeyOf(by_rid), "bob");
  // B3's 64-bit id, continued as a W3C trace.
  http1::RequestHead by_w3c =
      Head({{"traceparent", "00-0000000000000000463ac35c9f6413ad-00f067aa0ba902b7-01"}});
  stamper.Stamp(by_w3c, &storage_);
  EXPECT_EQ(KeyOf(by_w3c), "carol");
}

TEST_F(RoutingKeyStamperTest, OwnKeyStampsEveryUnkeyedRequest) {
  RoutingKeyStamper stamper({.routing_key = "alice"}, time_);
  http1::RequestHead bare = Head({{"accept", "*/*"}});
  EXPECT_EQ(stamper.Stamp(bare, &storage_), RoutingKeyStamper::Outcome::kStampedOwnKey);
  EXPECT_EQ(KeyOf(bare), "alice");

  // A request that carries a key keeps it, in any carrier, valid or not.
  for (const http1::Header& carrier : std::vector<http1::Header>{{"x-causeway-key", "bob"},
                                                                 {"x-causeway-key", "not a key"},
                                                                 {"baggage", "causeway-key=bob"},
                                                                 {"cookie", "causeway-key=bob"}}) {
    http1::RequestHead keyed = Head({carrier});
    EXPECT_EQ(stamper.Stamp(keyed, &storage_), RoutingKeyStamper::Outcome::kCarried);
    EXPECT_EQ(keyed.headers.size(), 1u) << carrier.name << ": " << carrier.value;
  }

  // A remembered trace's key comes before the proxy's own.
  http1::RequestHead teach = Head({{"x-causeway-key", "bob"}, {"traceparent", kStampTestTrace}});
  stamper.Stamp(teach, &storage_);
  http1::RequestHead traced = Head({{"traceparent", kStampTestTrace}});
  EXPECT_EQ(stamper.Stamp(traced, &storage_), RoutingKeyStamper::Outcome::kStampedTrace);
  EXPECT_EQ(KeyOf(traced), "bob");
  EXPECT_EQ(stamper.counters().stamped_by_env, 1u);
}

TEST_F(RoutingKeyStamperTest, InvalidKeyIsNotRemembered) {
  RoutingKeyStamper stamper({}, time_);
  http1::RequestHead bad = Head({{"x-causeway-key", "a b"}, {"traceparent", kStampTestTrace}});
  EXPECT_EQ(stamper.Stamp(bad, &storage_), RoutingKeyStamper::Outcome::kCarried);
  EXPECT_EQ(stamper.counters().remembered, 0u);
  http1::RequestHead later = Head({{"traceparent", kStampTestTrace}});
  EXPECT_EQ(stamper.Stamp(later, &storage_), RoutingKeyStamper::Outcome::kUnkeyed);
}

TEST_F(RoutingKeyStamperTest, HookWithoutStamperDoesNothing) {
  http1::RequestHead req = Head({{"traceparent", kStampTestTrace}});
  StampRoutingKey(nullptr, req, &storage_);
  EXPECT_EQ(req.headers.size(), 1u);
}

}  // namespace
}  // namespace causeway::proxy
