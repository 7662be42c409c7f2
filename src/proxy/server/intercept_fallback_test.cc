// The fallback of key-routed requests, decided from an attempt's outcome:
// which outcomes send the request to staging, what the client and the
// access log are told, and that an ordinary answer of the laptop passes.
#include "proxy/server/intercept_fallback.h"

#include "gtest/gtest.h"

namespace causeway::proxy {
namespace {

using Result = UpstreamRequest::Result;

http1::ResponseHead FallbackTestResponse(int status, std::vector<http1::Header> headers = {}) {
  http1::ResponseHead head;
  head.status = status;
  head.headers = std::move(headers);
  return head;
}

struct FallbackTestRoute {
  explicit FallbackTestRoute(std::string cluster) {
    route.name = "svc";
    route.clusters.push_back(ClusterTarget{.name = std::move(cluster)});
    decision.kind = RouteDecision::Kind::kForward;
    decision.route = &route;
  }
  Route route;
  RouteDecision decision;
};

// The value `mutations` gives x-causeway-routed ("" when none).
std::string RoutedValue(const Mutations& mutations) {
  if (mutations[0] == nullptr) return "";
  for (const HeaderMutation::Add& add : mutations[0]->add) {
    if (add.name == kRoutedHeader) return add.value;
  }
  return "";
}

TEST(InterceptFallbackTest, ReasonsComeFromTheOutcome) {
  const http1::ResponseHead none = FallbackTestResponse(200);
  EXPECT_EQ(FallbackReason(Result::kConnectFailure, none), "connect-failed");
  EXPECT_EQ(FallbackReason(Result::kNoHealthyUpstream, none), "connect-failed");
  EXPECT_EQ(FallbackReason(Result::kReset, none), "reset");
  EXPECT_EQ(FallbackReason(Result::kTimeout, none), std::nullopt);
  EXPECT_EQ(FallbackReason(Result::kOverflow, none), std::nullopt);
  EXPECT_EQ(FallbackReason(Result::kResponse, none), std::nullopt);
  // The laptop's own 503 is an answer like any other.
  EXPECT_EQ(FallbackReason(Result::kResponse, FallbackTestResponse(503)), std::nullopt);
  EXPECT_EQ(FallbackReason(Result::kResponse,
                           FallbackTestResponse(503, {{"X-Causeway-Fallback", "no-tunnel"}})),
            "no-tunnel");
  // Only with a 503: the signal is the holder's, which answers nothing else.
  EXPECT_EQ(FallbackReason(Result::kResponse,
                           FallbackTestResponse(500, {{"x-causeway-fallback", "no-tunnel"}})),
            std::nullopt);
  EXPECT_EQ(FallbackReason(Result::kResponse,
                           FallbackTestResponse(503, {{"x-causeway-fallback", "a b;c"}})),
            "unknown");
}

TEST(InterceptFallbackTest, OnlyKeyRoutesFallBack) {
  FallbackTestRoute staging("web");
  InterceptFallback plain(staging.decision);
  EXPECT_FALSE(plain.active());
  StreamInfo info;
  ProxyCounters counters;
  EXPECT_FALSE(plain.ShouldFallBack(Result::kConnectFailure, {}, true, info, counters));
  const Mutations untouched = plain.Answer({}, true, info, counters);
  EXPECT_EQ(untouched[0], nullptr);
  EXPECT_EQ(info.intercept, "");
  EXPECT_EQ(counters.intercept_laptop.load(), 0u);
}

TEST(InterceptFallbackTest, ConnectFailureGoesToStagingAndSaysWhy) {
  FallbackTestRoute key("intercept:ana");
  HeaderMutation route_headers;
  route_headers.add.push_back({"x-route", "1", HeaderMutation::Add::Action::kAppend});
  InterceptFallback fallback(key.decision);
  ASSERT_TRUE(fallback.active());
  StreamInfo info;
  ProxyCounters counters;
  EXPECT_TRUE(fallback.ShouldFallBack(Result::kConnectFailure, {}, true, info, counters));
  EXPECT_TRUE(fallback.fell_back());
  EXPECT_EQ(counters.intercept_fallback.load(), 1u);
  // Once on staging, nothing falls back again.
  EXPECT_FALSE(fallback.ShouldFallBack(Result::kReset, {}, true, info, counters));
  const Mutations m = fallback.Answer({&route_headers, nullptr, nullptr}, true, info, counters);
  EXPECT_EQ(RoutedValue(m), "staging; fallback=connect-failed");
  ASSERT_EQ(m[0]->add.size(), 2u);  // the route's own mutation is kept
  EXPECT_EQ(m[0]->add[0].name, "x-route");
  EXPECT_EQ(info.intercept, "staging; fallback=connect-failed");
  EXPECT_EQ(counters.intercept_laptop.load(), 0u);
}

TEST(InterceptFallbackTest, LaptopAnswersPassThrough) {
  FallbackTestRoute key("intercept:ana");
  InterceptFallback fallback(key.decision);
  StreamInfo info;
  ProxyCounters counters;
  EXPECT_FALSE(
      fallback.ShouldFallBack(Result::kResponse, FallbackTestResponse(503), true, info, counters));
  EXPECT_EQ(RoutedValue(fallback.Answer({}, true, info, counters)), "laptop");
  EXPECT_EQ(info.intercept, "laptop");
  EXPECT_EQ(counters.intercept_laptop.load(), 1u);
  EXPECT_EQ(counters.intercept_fallback.load(), 0u);
}

TEST(InterceptFallbackTest, NoFallbackOnceTheBodyIsGone) {
  FallbackTestRoute key("intercept:ana");
  InterceptFallback fallback(key.decision);
  StreamInfo info;
  ProxyCounters counters;
  const http1::ResponseHead signal =
      FallbackTestResponse(503, {{"x-causeway-fallback", "tunnel-reset"}});
  EXPECT_FALSE(fallback.ShouldFallBack(Result::kResponse, signal, false, info, counters));
  EXPECT_EQ(info.details, "intercept_fallback_body_not_replayable");
  EXPECT_EQ(RoutedValue(fallback.Answer({}, true, info, counters)), "");
  EXPECT_EQ(info.intercept, "unrouted; fallback=tunnel-reset");
  EXPECT_EQ(counters.intercept_fallback.load(), 0u);
  EXPECT_EQ(counters.intercept_laptop.load(), 0u);
}

}  // namespace
}  // namespace causeway::proxy
