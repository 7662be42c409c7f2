// Unit tests of the protocol state machine, without a network.
#include "proxy/xds_client/ads_state.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/proxy/apply_recorder.h"
#include "support/proxy/test_resources.h"

namespace causeway::proxy {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using namespace ::causeway::proxy::testing;  // NOLINT(google-build-using-namespace)
using namespace std::chrono_literals;        // NOLINT(google-build-using-namespace)

std::vector<std::string> Names(const AdsState::Request& request) {
  return {request.resource_names().begin(), request.resource_names().end()};
}

class AdsStateTest : public ::testing::Test {
 protected:
  AdsStateTest() : state_(Node(), recorder_.Fn(), &clock_, 15s) {}

  static envoy::config::core::v3::Node Node() {
    envoy::config::core::v3::Node node;
    node.set_id("n");
    return node;
  }

  ManualTime clock_;
  ApplyRecorder recorder_;
  AdsState state_;
};

TEST_F(AdsStateTest, InitialRequestsInMakeBeforeBreakOrder) {
  auto out = state_.OnStreamStart();
  ASSERT_THAT(out, SizeIs(2));
  EXPECT_EQ(out[0].type_url(), TypeUrl(XdsType::kCluster));
  EXPECT_TRUE(out[0].has_node());
  EXPECT_EQ(out[1].type_url(), TypeUrl(XdsType::kListener));
  EXPECT_FALSE(out[1].has_node());
}

TEST_F(AdsStateTest, WarmingResponsesAreAckedAndKeptWhenTheSetFails) {
  recorder_.FailWhen([](const XdsResources&) { return absl::InvalidArgumentError("bad port"); });
  state_.OnStreamStart();
  auto out = state_.OnResponse(Response(XdsType::kCluster, "c1", "n1", std::vector{Cluster("a")}));
  ASSERT_THAT(out, SizeIs(2));
  EXPECT_EQ(out[0].type_url(), TypeUrl(XdsType::kCluster));
  EXPECT_EQ(out[0].version_info(), "c1");
  EXPECT_FALSE(out[0].has_error_detail());
  EXPECT_EQ(out[1].type_url(), TypeUrl(XdsType::kEndpoint));
  EXPECT_THAT(Names(out[1]), ElementsAre("a"));
  EXPECT_EQ(recorder_.calls(), 0u);

  out =
      state_.OnResponse(Response(XdsType::kEndpoint, "e1", "n2", std::vector{Assignment("a", 1)}));
  ASSERT_THAT(out, SizeIs(1));
  EXPECT_EQ(out[0].type_url(), TypeUrl(XdsType::kEndpoint));
  EXPECT_EQ(out[0].version_info(), "");
  EXPECT_EQ(out[0].response_nonce(), "n2");
  EXPECT_EQ(out[0].error_detail().message(), "bad port");
  // The ACKed cluster stays: the server counts it as this client's, so its
  // endpoints are still wanted. The data plane has none of it.
  EXPECT_THAT(Names(out[0]), ElementsAre("a"));
  EXPECT_THAT(state_.applied()->clusters, IsEmpty());
  EXPECT_EQ(state_.counters().rejected, 1u);
  EXPECT_EQ(state_.counters().versions[static_cast<int>(XdsType::kCluster)], "")
      << "the data plane never ran c1";

  // The next response builds on the kept cluster: once the set applies, it
  // holds both.
  recorder_.FailWhen([](const XdsResources&) { return absl::OkStatus(); });
  out =
      state_.OnResponse(Response(XdsType::kEndpoint, "e2", "n3", std::vector{Assignment("a", 2)}));
  ASSERT_THAT(out, SizeIs(1));
  EXPECT_FALSE(out[0].has_error_detail());
  EXPECT_THAT(state_.applied()->clusters, SizeIs(1));
  EXPECT_THAT(state_.applied()->endpoints, SizeIs(1));
  EXPECT_EQ(state_.counters().versions[static_cast<int>(XdsType::kCluster)], "c1");
}

TEST_F(AdsStateTest, StreamEndDropsWarmingResponses) {
  state_.OnStreamStart();
  state_.OnResponse(Response(XdsType::kCluster, "c1", "n1", std::vector{Cluster("a")}));
  EXPECT_TRUE(state_.warming_deadline());
  state_.OnStreamEnd();
  EXPECT_FALSE(state_.warming_deadline());
  auto out = state_.OnStreamStart();
  ASSERT_THAT(out, SizeIs(2)) << "no EDS: the warming cluster was dropped";
  EXPECT_EQ(out[0].version_info(), "");
}

TEST_F(AdsStateTest, RoutesWaitForTheClustersTheyName) {
  state_.OnStreamStart();
  state_.OnResponse(Response(XdsType::kListener, "l1", "n1", std::vector{Listener("l", 80, "r")}));
  auto out =
      state_.OnResponse(Response(XdsType::kRoute, "r1", "n2", std::vector{RouteConfig("r", "c")}));
  ASSERT_THAT(out, SizeIs(1));  // the RDS ACK, into warming
  EXPECT_EQ(out[0].version_info(), "r1");
  EXPECT_EQ(recorder_.calls(), 0u);
  out =
      state_.OnResponse(Response(XdsType::kCluster, "c1", "n3", std::vector{Cluster("c", false)}));
  ASSERT_THAT(out, SizeIs(1));
  EXPECT_EQ(out[0].type_url(), TypeUrl(XdsType::kCluster));
  EXPECT_FALSE(out[0].has_error_detail());
  EXPECT_EQ(recorder_.count(), 1u);
  EXPECT_THAT(recorder_.last().routes, SizeIs(1));
}

TEST_F(AdsStateTest, AbandonedNamesDoNotHoldBackLaterSets) {
  state_.OnStreamStart();
  state_.OnResponse(Response(XdsType::kListener, "l1", "n1", std::vector{Listener("l", 80, "r")}));
  EXPECT_THAT(state_.OnTick(), IsEmpty());
  EXPECT_EQ(recorder_.calls(), 0u);
  clock_.Advance(15s);
  state_.OnTick();
  EXPECT_EQ(recorder_.count(), 1u);
  EXPECT_FALSE(state_.warming_deadline());

  auto out =
      state_.OnResponse(Response(XdsType::kCluster, "c1", "n2", std::vector{Cluster("c", false)}));
  ASSERT_THAT(out, SizeIs(1));
  EXPECT_EQ(out[0].version_info(), "c1");
  EXPECT_EQ(recorder_.count(), 2u);
  EXPECT_FALSE(state_.warming_deadline());
}

TEST_F(AdsStateTest, DuplicateNamesAreRejected) {
  state_.OnStreamStart();
  auto out = state_.OnResponse(Response(XdsType::kCluster, "c1", "n1",
                                        std::vector{Cluster("a", false), Cluster("a", false)}));
  ASSERT_THAT(out, SizeIs(1));
  EXPECT_EQ(out[0].error_detail().message(), "resources[1]: duplicate resource a");
  EXPECT_EQ(recorder_.calls(), 0u);
}

TEST_F(AdsStateTest, PartialRdsResponsesKeepOtherRoutes) {
  state_.OnStreamStart();
  state_.OnResponse(Response(XdsType::kCluster, "c1", "n0", std::vector{Cluster("c", false)}));
  state_.OnResponse(Response(XdsType::kListener, "l1", "n1",
                             std::vector{Listener("l", 80, "r1"), Listener("m", 81, "r2")}));
  state_.OnResponse(Response(XdsType::kRoute, "r1", "n2", std::vector{RouteConfig("r1", "c")}));
  EXPECT_EQ(recorder_.count(), 1u);  // the CDS response alone
  state_.OnResponse(Response(XdsType::kRoute, "r2", "n3", std::vector{RouteConfig("r2", "c")}));
  ASSERT_EQ(recorder_.count(), 2u);
  EXPECT_THAT(recorder_.last().routes, SizeIs(2));
}

TEST_F(AdsStateTest, ListenersAreUnpackedOncePerChangeAndNewRouteNamesPickedUp) {
  state_.OnStreamStart();
  state_.OnResponse(Response(XdsType::kCluster, "c1", "n1", std::vector{Cluster("c")}));
  state_.OnResponse(Response(XdsType::kEndpoint, "e1", "n2", std::vector{Assignment("c", 1)}));
  state_.OnResponse(Response(XdsType::kListener, "l1", "n3", std::vector{Listener("l", 80, "r1")}));
  state_.OnResponse(Response(XdsType::kRoute, "r1", "n4", std::vector{RouteConfig("r1", "c")}));
  ASSERT_EQ(recorder_.count(), 2u);  // CDS+EDS, then LDS+RDS
  EXPECT_EQ(state_.listener_unpacks(), 1u);

  // Endpoint updates do not touch the listener.
  for (int i = 0; i < 5; ++i) {
    auto out =
        state_.OnResponse(Response(XdsType::kEndpoint, "e" + std::to_string(i + 2),
                                   "m" + std::to_string(i), std::vector{Assignment("c", 100 + i)}));
    ASSERT_THAT(out, SizeIs(1));
    EXPECT_THAT(Names(out[0]), ElementsAre("c"));
  }
  EXPECT_EQ(recorder_.count(), 7u);
  EXPECT_EQ(state_.listener_unpacks(), 1u);

  // The listener now loads r2: it is unpacked again and r2 requested.
  auto out = state_.OnResponse(
      Response(XdsType::kListener, "l2", "n5", std::vector{Listener("l", 80, "r2")}));
  EXPECT_EQ(state_.listener_unpacks(), 2u);
  ASSERT_THAT(out, SizeIs(2));
  EXPECT_EQ(out[0].type_url(), TypeUrl(XdsType::kListener));
  EXPECT_EQ(out[1].type_url(), TypeUrl(XdsType::kRoute));
  EXPECT_THAT(Names(out[1]), ElementsAre("r2"));
  EXPECT_EQ(recorder_.count(), 7u) << "warming for r2";

  out =
      state_.OnResponse(Response(XdsType::kRoute, "r2", "n6", std::vector{RouteConfig("r2", "c")}));
  ASSERT_THAT(out, SizeIs(1));
  EXPECT_THAT(Names(out[0]), ElementsAre("r2"));
  ASSERT_EQ(recorder_.count(), 8u);
  EXPECT_THAT(recorder_.last().routes, ElementsAre(::testing::Key("r2")));
  EXPECT_EQ(state_.listener_unpacks(), 2u);
}

TEST_F(AdsStateTest, UnreferencedRoutesNeitherBlockNorApply) {
  state_.OnStreamStart();
  state_.OnResponse(Response(XdsType::kCluster, "c1", "n1", std::vector{Cluster("c", false)}));
  state_.OnResponse(Response(XdsType::kListener, "l1", "n2", std::vector{Listener("l", 80, "r")}));
  // More than asked: "extra" names a cluster nobody has, but nothing loads it.
  auto out =
      state_.OnResponse(Response(XdsType::kRoute, "r1", "n3",
                                 std::vector{RouteConfig("r", "c"), RouteConfig("extra", "nope")}));
  ASSERT_THAT(out, SizeIs(1));
  EXPECT_FALSE(out[0].has_error_detail());
  EXPECT_FALSE(state_.warming_deadline());
  ASSERT_EQ(recorder_.count(), 2u);
  EXPECT_THAT(recorder_.last().routes, ElementsAre(::testing::Key("r")));
}

TEST_F(AdsStateTest, NackedListenersPutTheirRouteNamesBack) {
  state_.OnStreamStart();
  state_.OnResponse(Response(XdsType::kCluster, "c1", "n1", std::vector{Cluster("c", false)}));
  state_.OnResponse(Response(XdsType::kListener, "l1", "n2",
                             std::vector{Listener("l", 80, "r1"), Listener("m", 81, "r2")}));
  state_.OnResponse(Response(XdsType::kRoute, "r1", "n3",
                             std::vector{RouteConfig("r1", "c"), RouteConfig("r2", "c")}));
  ASSERT_EQ(recorder_.count(), 2u);

  // Dropping m would drop r2, but the set is rejected: m and r2 stay wanted,
  // so no RDS request goes out.
  recorder_.FailWhen([](const XdsResources&) { return absl::InvalidArgumentError("no"); });
  auto out = state_.OnResponse(
      Response(XdsType::kListener, "l2", "n4", std::vector{Listener("l", 80, "r1")}));
  ASSERT_THAT(out, SizeIs(1));
  EXPECT_EQ(out[0].type_url(), TypeUrl(XdsType::kListener));
  EXPECT_EQ(out[0].version_info(), "l1");
  EXPECT_EQ(out[0].error_detail().message(), "no");

  // Accepted, the same change unsubscribes r2.
  recorder_.FailWhen([](const XdsResources&) { return absl::OkStatus(); });
  out = state_.OnResponse(
      Response(XdsType::kListener, "l3", "n5", std::vector{Listener("l", 80, "r1")}));
  ASSERT_THAT(out, SizeIs(2));
  EXPECT_EQ(out[1].type_url(), TypeUrl(XdsType::kRoute));
  EXPECT_THAT(Names(out[1]), ElementsAre("r1"));
  EXPECT_THAT(recorder_.last().routes, ElementsAre(::testing::Key("r1")));
}

}  // namespace
}  // namespace causeway::proxy
