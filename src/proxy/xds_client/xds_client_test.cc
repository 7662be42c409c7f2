// Protocol tests of XdsClient against a scripted ADS server on loopback.
#include "proxy/xds_client/xds_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>

#include "support/process.h"
#include "support/proxy/apply_recorder.h"
#include "support/proxy/fake_ads_server.h"
#include "support/proxy/test_resources.h"

namespace causeway::proxy {
namespace {

using ::causeway::testing::WaitFor;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace ::causeway::proxy::testing;  // NOLINT(google-build-using-namespace)
using namespace std::chrono_literals;        // NOLINT(google-build-using-namespace)

const std::string kCds(TypeUrl(XdsType::kCluster));
const std::string kEds(TypeUrl(XdsType::kEndpoint));
const std::string kLds(TypeUrl(XdsType::kListener));
const std::string kRds(TypeUrl(XdsType::kRoute));

std::vector<std::string> Names(const FakeAdsServer::Request& request) {
  return {request.resource_names().begin(), request.resource_names().end()};
}

class XdsClientTest : public ::testing::Test {
 protected:
  void SetUp() override { server_.Start(); }

  void StartClient(const TimeSource* time = nullptr) {
    XdsClient::Options options;
    options.server = server_.address();
    options.proxy_name = "front";
    options.zone = "staging";
    options.node_id = "front-1";
    options.backoff.initial = 20ms;
    options.backoff.max = 200ms;
    options.time = time;
    options.max_poll = 10ms;
    client_ = std::make_unique<XdsClient>(options, recorder_.Fn());
    client_->Start();
  }

  // Starts the client and consumes its initial CDS and LDS requests.
  void StartAndHandshake() {
    StartClient();
    ASSERT_TRUE(server_.Next(kCds));
    ASSERT_TRUE(server_.Next(kLds));
  }

  // Serves c1 (static), l1 -> r1 -> c1 and waits for the ACKs.
  void ServeBasicConfig() {
    server_.Send(Response(XdsType::kCluster, "c-v1", "n1", std::vector{Cluster("c1", false)}));
    ASSERT_TRUE(server_.Next(kCds));
    server_.Send(
        Response(XdsType::kListener, "l-v1", "n2", std::vector{Listener("l1", 8080, "r1")}));
    ASSERT_TRUE(server_.Next(kRds));
    server_.Send(Response(XdsType::kRoute, "r-v1", "n3", std::vector{RouteConfig("r1", "c1")}));
    ASSERT_TRUE(server_.Next(kLds));
    ASSERT_TRUE(server_.Next(kRds));
  }

  FakeAdsServer server_;
  ApplyRecorder recorder_;
  ManualTime manual_clock_;            // for tests that pass it to StartClient
  std::unique_ptr<XdsClient> client_;  // destroyed first: it uses all of the above
};

TEST_F(XdsClientTest, InitialRequestsAreWildcardAndCarryTheNode) {
  StartClient();
  auto cds = server_.Next(kCds);
  ASSERT_TRUE(cds);
  EXPECT_EQ(cds->node().id(), "front-1");
  EXPECT_EQ(cds->node().cluster(), "front");
  EXPECT_EQ(cds->node().locality().zone(), "staging");
  EXPECT_THAT(Names(*cds), IsEmpty());
  EXPECT_EQ(cds->version_info(), "");
  EXPECT_EQ(cds->response_nonce(), "");
  auto lds = server_.Next(kLds);
  ASSERT_TRUE(lds);
  EXPECT_THAT(Names(*lds), IsEmpty());
  EXPECT_FALSE(lds->has_node()) << "the node goes on the first request only";
  EXPECT_EQ(server_.Queued(kRds) + server_.Queued(kEds), 0u) << "nothing to name yet";
}

TEST_F(XdsClientTest, AckEchoesVersionAndNonce) {
  StartAndHandshake();
  server_.Send(Response(XdsType::kCluster, "v1", "nonce-1", std::vector{Cluster("c1", false)}));
  auto ack = server_.Next(kCds);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->version_info(), "v1");
  EXPECT_EQ(ack->response_nonce(), "nonce-1");
  EXPECT_FALSE(ack->has_error_detail());
  ASSERT_TRUE(WaitFor([&] { return recorder_.count() == 1; }));
  EXPECT_TRUE(recorder_.last().clusters.contains("c1"));
  ASSERT_TRUE(WaitFor([&] { return client_->stats().connected; }));
  auto stats = client_->stats();
  EXPECT_EQ(stats.updates_accepted, 1u);
  EXPECT_EQ(stats.versions[static_cast<int>(XdsType::kCluster)], "v1");
}

TEST_F(XdsClientTest, NackWhenApplyFailsKeepsThePreviousSet) {
  recorder_.FailWhen([](const XdsResources& set) {
    return set.clusters.contains("bad") ? absl::InvalidArgumentError("cluster bad: no endpoints")
                                        : absl::OkStatus();
  });
  StartAndHandshake();
  server_.Send(Response(XdsType::kCluster, "v1", "n1", std::vector{Cluster("good", false)}));
  ASSERT_TRUE(server_.Next(kCds));
  server_.Send(Response(XdsType::kCluster, "v2", "n2",
                        std::vector{Cluster("good", false), Cluster("bad", false)}));
  auto nack = server_.Next(kCds);
  ASSERT_TRUE(nack);
  EXPECT_EQ(nack->version_info(), "v1") << "a NACK carries the last accepted version";
  EXPECT_EQ(nack->response_nonce(), "n2");
  ASSERT_TRUE(nack->has_error_detail());
  EXPECT_THAT(nack->error_detail().message(), HasSubstr("cluster bad: no endpoints"));
  EXPECT_EQ(recorder_.count(), 1u);
  auto dump = client_->ConfigDump();
  ASSERT_EQ(dump["clusters"].size(), 1u);
  EXPECT_EQ(dump["clusters"][0]["name"], "good");
  EXPECT_EQ(dump["versions"]["CDS"], "v1");
  auto stats = client_->stats();
  EXPECT_EQ(stats.updates_rejected, 1u);
  EXPECT_THAT(stats.last_error, HasSubstr("cluster bad"));

  // A later good version is accepted again.
  server_.Send(Response(XdsType::kCluster, "v3", "n3",
                        std::vector{Cluster("good", false), Cluster("other", false)}));
  auto ack = server_.Next(kCds);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->version_info(), "v3");
  EXPECT_FALSE(ack->has_error_detail());
  EXPECT_EQ(recorder_.count(), 2u);
}

TEST_F(XdsClientTest, MalformedResponseIsNacked) {
  StartAndHandshake();
  auto response = Response(XdsType::kListener, "v1", "n1", std::vector{Cluster("c1")});
  response.set_type_url(kLds);  // a Cluster inside an LDS response
  server_.Send(response);
  auto nack = server_.Next(kLds);
  ASSERT_TRUE(nack);
  EXPECT_EQ(nack->version_info(), "");
  EXPECT_EQ(nack->response_nonce(), "n1");
  EXPECT_THAT(nack->error_detail().message(), HasSubstr("resources[0]"));
  EXPECT_EQ(recorder_.calls(), 0u);
}

TEST_F(XdsClientTest, RdsAndEdsSubscriptionsFollowListenersAndClusters) {
  StartAndHandshake();
  server_.Send(Response(XdsType::kCluster, "c-v1", "n1", std::vector{Cluster("a"), Cluster("b")}));
  auto eds = server_.Next(kEds);
  ASSERT_TRUE(eds);
  EXPECT_THAT(Names(*eds), ElementsAre("a", "b"));
  EXPECT_EQ(eds->version_info(), "");
  server_.Send(Response(XdsType::kEndpoint, "e-v1", "n2",
                        std::vector{Assignment("a", 9001), Assignment("b", 9002)}));
  auto cds_ack = server_.Next(kCds);
  ASSERT_TRUE(cds_ack);
  EXPECT_EQ(cds_ack->version_info(), "c-v1");
  auto eds_ack = server_.Next(kEds);
  ASSERT_TRUE(eds_ack);
  EXPECT_EQ(eds_ack->version_info(), "e-v1");
  EXPECT_EQ(eds_ack->response_nonce(), "n2");
  EXPECT_THAT(Names(*eds_ack), ElementsAre("a", "b"));

  // b goes away: EDS narrows to a.
  server_.Send(Response(XdsType::kCluster, "c-v2", "n3", std::vector{Cluster("a")}));
  ASSERT_TRUE(server_.Next(kCds));
  eds = server_.Next(kEds);
  ASSERT_TRUE(eds);
  EXPECT_THAT(Names(*eds), ElementsAre("a"));
  EXPECT_EQ(eds->version_info(), "e-v1");
  EXPECT_FALSE(eds->has_error_detail());
  EXPECT_EQ(recorder_.last().endpoints.size(), 1u);

  server_.Send(Response(XdsType::kListener, "l-v1", "n4",
                        std::vector{Listener("l1", 8080, "r1"), Listener("l2", 8081, "r2")}));
  auto rds = server_.Next(kRds);
  ASSERT_TRUE(rds);
  EXPECT_THAT(Names(*rds), ElementsAre("r1", "r2"));
}

TEST_F(XdsClientTest, ResourcesAbsentFromCompleteResponsesAreRemoved) {
  StartAndHandshake();
  ServeBasicConfig();
  server_.Send(Response(XdsType::kCluster, "c-v2", "n4",
                        std::vector{Cluster("c1", false), Cluster("c2", false)}));
  ASSERT_TRUE(server_.Next(kCds));
  ASSERT_TRUE(WaitFor([&] { return recorder_.last().clusters.size() == 2; }));

  server_.Send(Response(XdsType::kCluster, "c-v3", "n5", std::vector{Cluster("c1", false)}));
  ASSERT_TRUE(server_.Next(kCds));
  EXPECT_THAT(recorder_.last().clusters, ::testing::SizeIs(1));

  server_.Send(EmptyResponse(XdsType::kListener, "l-v2", "n6"));
  auto lds = server_.Next(kLds);
  ASSERT_TRUE(lds);
  EXPECT_EQ(lds->version_info(), "l-v2");
  EXPECT_THAT(recorder_.last().listeners, IsEmpty());
  EXPECT_THAT(recorder_.last().routes, IsEmpty()) << "r1 is referenced by nothing now";
  auto rds = server_.Next(kRds);
  ASSERT_TRUE(rds);
  EXPECT_THAT(Names(*rds), IsEmpty()) << "unsubscribes from r1";
}

TEST_F(XdsClientTest, ListenerWarmsUntilItsRoutesArrive) {
  StartAndHandshake();
  server_.Send(Response(XdsType::kCluster, "c-v1", "n1", std::vector{Cluster("c1", false)}));
  ASSERT_TRUE(server_.Next(kCds));
  ASSERT_EQ(recorder_.count(), 1u);

  server_.Send(Response(XdsType::kListener, "l-v1", "n2", std::vector{Listener("l1", 8080, "r1")}));
  // The listener is ACKed into warming, as Envoy does, and its route asked for.
  auto lds_ack = server_.Next(kLds);
  ASSERT_TRUE(lds_ack);
  EXPECT_EQ(lds_ack->version_info(), "l-v1");
  EXPECT_EQ(lds_ack->response_nonce(), "n2");
  auto rds = server_.Next(kRds);
  ASSERT_TRUE(rds);
  EXPECT_THAT(Names(*rds), ElementsAre("r1"));
  // Both are written after the LDS response was handled: had the set been
  // applied, it would show by now.
  EXPECT_EQ(recorder_.calls(), 1u);

  server_.Send(Response(XdsType::kRoute, "r-v1", "n3", std::vector{RouteConfig("r1", "c1")}));
  auto rds_ack = server_.Next(kRds);
  ASSERT_TRUE(rds_ack);
  EXPECT_EQ(rds_ack->version_info(), "r-v1");
  EXPECT_EQ(recorder_.count(), 2u);
  EXPECT_TRUE(recorder_.last().listeners.contains("l1"));
  EXPECT_TRUE(recorder_.last().routes.contains("r1"));
}

TEST_F(XdsClientTest, WarmingTimeoutAppliesWhatItHas) {
  StartClient(&manual_clock_);
  ASSERT_TRUE(server_.Next(kCds));
  ASSERT_TRUE(server_.Next(kLds));
  server_.Send(Response(XdsType::kCluster, "c-v1", "n0", std::vector{Cluster("c1", false)}));
  ASSERT_TRUE(server_.Next(kCds));
  server_.Send(Response(XdsType::kListener, "l-v1", "n1", std::vector{Listener("l1", 8080, "r1")}));
  ASSERT_TRUE(server_.Next(kRds));
  EXPECT_EQ(recorder_.calls(), 1u);
  manual_clock_.Advance(16s);
  ASSERT_TRUE(WaitFor([&] { return recorder_.count() == 2; }));
  EXPECT_TRUE(recorder_.last().listeners.contains("l1"));
  EXPECT_THAT(recorder_.last().routes, IsEmpty());

  // The route still arrives later and is applied at once.
  server_.Send(Response(XdsType::kRoute, "r-v1", "n2", std::vector{RouteConfig("r1", "c1")}));
  ASSERT_TRUE(server_.Next(kRds));
  EXPECT_TRUE(recorder_.last().routes.contains("r1"));
}

TEST_F(XdsClientTest, ReconnectsAndKeepsTheLastConfigurationMeanwhile) {
  StartAndHandshake();
  ServeBasicConfig();
  ASSERT_TRUE(WaitFor([&] { return client_->stats().connected; }));
  const size_t applied = recorder_.count();

  server_.Stop();
  ASSERT_TRUE(WaitFor([&] { return !client_->stats().connected; }));
  EXPECT_EQ(client_->stats().disconnects, 1u);
  EXPECT_EQ(recorder_.count(), applied);
  auto dump = client_->ConfigDump();
  EXPECT_EQ(dump["listeners"].size(), 1u);
  EXPECT_EQ(dump["routes"].size(), 1u);
  EXPECT_EQ(dump["connected"], false);

  server_.ClearQueues();
  server_.Start();
  // Everything is requested again on the new stream, with the versions held.
  auto cds = server_.Next(kCds);
  ASSERT_TRUE(cds);
  EXPECT_EQ(cds->node().id(), "front-1");
  EXPECT_EQ(cds->version_info(), "c-v1");
  EXPECT_EQ(cds->response_nonce(), "");
  auto lds = server_.Next(kLds);
  ASSERT_TRUE(lds);
  EXPECT_EQ(lds->version_info(), "l-v1");
  auto rds = server_.Next(kRds);
  ASSERT_TRUE(rds);
  EXPECT_THAT(Names(*rds), ElementsAre("r1"));
  EXPECT_EQ(rds->version_info(), "r-v1");
  EXPECT_EQ(server_.streams(), 2);

  server_.Send(Response(XdsType::kCluster, "c-v1", "m1", std::vector{Cluster("c1", false)}));
  ASSERT_TRUE(server_.Next(kCds));
  ASSERT_TRUE(WaitFor([&] { return client_->stats().connected; }));
  EXPECT_EQ(client_->stats().connects, 2u);
  EXPECT_TRUE(recorder_.last().listeners.contains("l1"));
}

TEST_F(XdsClientTest, RetriesUntilTheServerFirstAppears) {
  server_.Stop();
  StartClient();
  // Several attempts fail (backoff 20 ms -> 200 ms) before the server exists.
  ASSERT_TRUE(WaitFor([&] { return !client_->stats().last_error.empty(); }));
  server_.Start();
  ASSERT_TRUE(server_.Next(kCds));
  ASSERT_TRUE(server_.Next(kLds));
}

TEST_F(XdsClientTest, StopWhileConnectedReturnsPromptly) {
  // The server keeps the stream open and says nothing: Stop() must cancel
  // the stream itself rather than wait for the server to end it.
  StartAndHandshake();
  auto stopped = std::async(std::launch::async, [&] { client_->Stop(); });
  ASSERT_EQ(stopped.wait_for(std::chrono::seconds(2)), std::future_status::ready)
      << "Stop() waited on a connected, silent server";
  EXPECT_FALSE(client_->stats().connected);
  ASSERT_TRUE(WaitFor([&] { return !server_.stream_open(); }));
}

}  // namespace
}  // namespace causeway::proxy
