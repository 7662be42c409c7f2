// Incremental (Delta) ADS against docs/xds.md (its rule numbers), over raw
// gRPC streams to an in-process server.
#include "gmock/gmock.h"
#include "support/xds/ads_test_util.h"
#include "xds/ads_session.h"

namespace causeway::xds::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Rules 1-4: wildcard first request, per-resource versions, nonce, ACK quiet.
TEST_F(AdsTest, DeltaWildcardAndAck) {
  auto s = OpenDelta();
  ASSERT_TRUE(s->Send(DeltaFirst(kCds)));
  auto cds = s->Next();
  ASSERT_TRUE(cds);
  EXPECT_EQ(cds->type_url(), kCds);
  EXPECT_FALSE(cds->nonce().empty());
  EXPECT_THAT(Names(*cds), ElementsAre("blue"));
  ASSERT_TRUE(s->Send(DeltaAck(*cds)));
  EXPECT_TRUE(s->Silent());

  ASSERT_TRUE(s->Send(DeltaReq(kLds)));  // no node on later requests
  auto lds = s->Next();
  ASSERT_TRUE(lds);
  EXPECT_NE(lds->nonce(), cds->nonce());
  EXPECT_THAT(Names(*lds), ElementsAre("front:80"));
}

TEST_F(AdsTest, DeltaRejectsV2TypeUrl) {
  auto s = OpenDelta();
  ASSERT_TRUE(s->Send(DeltaFirst("type.googleapis.com/envoy.api.v2.Cluster")));
  auto status = s->WaitEnd();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

// Rule 16: only changed resources are sent; deletions in removed_resources.
TEST_F(AdsTest, DeltaChangesAndRemovals) {
  auto s = OpenDelta();
  ASSERT_TRUE(s->Send(DeltaFirst(kCds, {"*", "green"})));
  auto first = s->Next();
  ASSERT_TRUE(first);
  EXPECT_THAT(Names(*first), ElementsAre("blue", "green"));
  ASSERT_TRUE(s->Send(DeltaAck(*first)));

  ASSERT_TRUE(s->Send(DeltaReq(kCds, {"red"})));
  auto missing = s->Next();
  ASSERT_TRUE(missing);
  EXPECT_THAT(Removed(*missing), ElementsAre("red"));  // does not exist (yet)
  ASSERT_TRUE(s->Send(DeltaAck(*missing)));
  Upsert(model::Kind::kCluster, "red", {{"instances", model::Json::array()}});
  auto added = s->Next();
  ASSERT_TRUE(added);
  EXPECT_THAT(Names(*added), ElementsAre("red"));
  EXPECT_THAT(Removed(*added), IsEmpty());
  ASSERT_TRUE(s->Send(DeltaAck(*added)));

  Delete(model::Kind::kCluster, "red");
  auto removed = s->Next();
  ASSERT_TRUE(removed);
  EXPECT_THAT(Names(*removed), IsEmpty());
  EXPECT_THAT(Removed(*removed), ElementsAre("red"));
  ASSERT_TRUE(s->Send(DeltaAck(*removed)));
  EXPECT_TRUE(s->Silent());
}

// Rules 12, 16: subscribe, unsubscribe, re-subscribe; a missing name is
// reported removed, then sent when created.
TEST_F(AdsTest, DeltaSubscribeUnsubscribe) {
  auto s = OpenDelta();
  ASSERT_TRUE(s->Send(DeltaFirst(kEds, {"blue"})));
  auto blue = s->Next();
  ASSERT_TRUE(blue);
  EXPECT_THAT(Names(*blue), ElementsAre("blue"));
  ASSERT_TRUE(s->Send(DeltaAck(*blue)));

  ASSERT_TRUE(s->Send(DeltaReq(kEds, {}, {"blue"})));
  EXPECT_TRUE(s->Silent());
  SetInstances("blue", {"10.0.3.1"});  // not subscribed any more: nothing
  EXPECT_TRUE(s->Silent());

  ASSERT_TRUE(s->Send(DeltaReq(kEds, {"blue"})));
  auto again = s->Next();
  ASSERT_TRUE(again);
  EXPECT_THAT(Names(*again), ElementsAre("blue"));
  ASSERT_TRUE(s->Send(DeltaAck(*again)));

  ASSERT_TRUE(s->Send(DeltaReq(kEds, {"later"})));
  auto missing = s->Next();
  ASSERT_TRUE(missing);
  EXPECT_THAT(Names(*missing), IsEmpty());
  EXPECT_THAT(Removed(*missing), ElementsAre("later"));
  ASSERT_TRUE(s->Send(DeltaAck(*missing)));
  Upsert(model::Kind::kCluster, "later", {{"instances", model::Json::array()}});
  auto created = s->Next();
  ASSERT_TRUE(created);
  EXPECT_THAT(Names(*created), ElementsAre("later"));
}

// Rule 16: reconnect with initial_resource_versions: current ones are not
// resent, outdated ones are, gone ones are removed.
TEST_F(AdsTest, DeltaReconnectWithInitialVersions) {
  std::string blue_version;
  {
    auto s = OpenDelta();
    ASSERT_TRUE(s->Send(DeltaFirst(kCds)));
    auto first = s->Next();
    ASSERT_TRUE(first);
    ASSERT_EQ(first->resources_size(), 1);
    blue_version = first->resources(0).version();
  }
  auto s = OpenDelta();
  auto request = DeltaFirst(kCds);
  (*request.mutable_initial_resource_versions())["blue"] = blue_version;
  (*request.mutable_initial_resource_versions())["gone"] = "0123456789abcdef";
  ASSERT_TRUE(s->Send(request));
  auto response = s->Next();
  ASSERT_TRUE(response);
  EXPECT_THAT(Names(*response), IsEmpty());
  EXPECT_THAT(Removed(*response), ElementsAre("gone"));
  ASSERT_TRUE(s->Send(DeltaAck(*response)));
  EXPECT_TRUE(s->Silent());

  auto s2 = OpenDelta();
  auto outdated = DeltaFirst(kCds);
  (*outdated.mutable_initial_resource_versions())["blue"] = "stale";
  ASSERT_TRUE(s2->Send(outdated));
  auto resent = s2->Next();
  ASSERT_TRUE(resent);
  EXPECT_THAT(Names(*resent), ElementsAre("blue"));
}

// Rule 5 in delta: NACKed resources are not resent until they change.
TEST_F(AdsTest, DeltaNack) {
  auto s = OpenDelta();
  ASSERT_TRUE(s->Send(DeltaFirst(kEds, {"blue"})));
  auto first = s->Next();
  ASSERT_TRUE(first);
  auto nack = DeltaAck(*first);
  nack.mutable_error_detail()->set_message("no thanks");
  ASSERT_TRUE(s->Send(nack));
  EXPECT_TRUE(s->Silent());
  auto status = server_->ZoneStatus("z");
  EXPECT_EQ(status["proxies"][0]["variant"], "delta");
  EXPECT_EQ(status["proxies"][0]["types"]["eds"]["last_nack"]["message"], "no thanks");

  SetInstances("blue", {"10.0.4.1"});
  auto changed = s->Next();
  ASSERT_TRUE(changed);
  EXPECT_THAT(Names(*changed), ElementsAre("blue"));
}

// Rule 16: subscription changes count even with a stale nonce; rule 6: the
// stale ACK itself does not.
TEST_F(AdsTest, DeltaStaleNonceStillChangesSubscription) {
  auto s = OpenDelta();
  ASSERT_TRUE(s->Send(DeltaFirst(kEds, {"blue"})));
  auto first = s->Next();
  ASSERT_TRUE(first);
  ASSERT_TRUE(s->Send(DeltaAck(*first)));
  SetInstances("blue", {"10.0.5.1"});
  auto second = s->Next();
  ASSERT_TRUE(second);
  // Stale nonce (first's) with a new name: the subscription counts, but the
  // response to `second` is still un-ACKed, so nothing is sent yet.
  ASSERT_TRUE(s->Send(DeltaReq(kEds, {"green"}, {}, first->nonce())));
  EXPECT_TRUE(s->Silent());
  ASSERT_TRUE(s->Send(DeltaAck(*second)));
  auto green = s->Next();
  ASSERT_TRUE(green);
  EXPECT_THAT(Names(*green), ElementsAre("green"));
}

// Rule 17 in delta: one un-ACKed response per type, changes merged.
TEST_F(AdsTest, DeltaOneUnackedPush) {
  auto s = OpenDelta();
  ASSERT_TRUE(s->Send(DeltaFirst(kEds, {"blue", "green"})));
  auto first = s->Next();
  ASSERT_TRUE(first);
  SetInstances("blue", {"10.0.6.1"});
  SetInstances("green", {"10.0.6.2"});
  EXPECT_TRUE(s->Silent());
  ASSERT_TRUE(s->Send(DeltaAck(*first)));
  auto merged = s->Next();
  ASSERT_TRUE(merged);
  EXPECT_THAT(Names(*merged), ElementsAre("blue", "green"));
}

// Make before break in delta: the new cluster first, the old one removed
// only after the routes moved.
TEST_F(AdsTest, DeltaMakeBeforeBreak) {
  auto s = OpenDelta();
  ASSERT_TRUE(s->Send(DeltaFirst(kCds)));
  auto cds = s->Next();
  ASSERT_TRUE(cds);
  ASSERT_TRUE(s->Send(DeltaAck(*cds)));
  ASSERT_TRUE(s->Send(DeltaReq(kRds, {"front:80"})));
  auto rds = s->Next();
  ASSERT_TRUE(rds);
  ASSERT_TRUE(s->Send(DeltaAck(*rds)));

  PointGroupAt("green");
  auto c2 = s->Next();
  ASSERT_TRUE(c2);
  ASSERT_EQ(c2->type_url(), kCds);
  EXPECT_THAT(Names(*c2), ElementsAre("green"));
  EXPECT_THAT(Removed(*c2), IsEmpty());
  ASSERT_TRUE(s->Send(DeltaAck(*c2)));
  auto r2 = s->Next();
  ASSERT_TRUE(r2);
  ASSERT_EQ(r2->type_url(), kRds);
  ASSERT_TRUE(s->Send(DeltaAck(*r2)));
  auto c3 = s->Next();
  ASSERT_TRUE(c3);
  EXPECT_THAT(Names(*c3), IsEmpty());
  EXPECT_THAT(Removed(*c3), ElementsAre("blue"));
}

}  // namespace
}  // namespace causeway::xds::testing

namespace causeway::xds::testing {
namespace {

// Bounds: a stream subscribing more names than a zone could have is ended
// with RESOURCE_EXHAUSTED before they are kept; other streams carry on.
TEST_F(AdsTest, DeltaSubscriptionBeyondTheBoundEndsTheStreamAlone) {
  // A stream waiting for cluster red, which does not exist yet.
  auto calm = OpenDelta();
  ASSERT_TRUE(calm->Send(DeltaFirst(kCds, {"red"})));
  auto first = calm->Next();
  ASSERT_TRUE(first);
  EXPECT_THAT(Removed(*first), ElementsAre("red"));
  ASSERT_TRUE(calm->Send(DeltaAck(*first)));

  auto greedy = OpenDelta();
  std::vector<std::string> names;
  // Just past the bound: under TSan each name costs microseconds, and the
  // point is the bound, not the size.
  const size_t over = AdsSession::kMaxNamesPerType + 100;
  for (size_t i = 0; i < over; ++i) names.push_back("c" + std::to_string(i));
  ASSERT_TRUE(greedy->Send(DeltaFirst(kCds, names)));
  auto status = greedy->WaitEnd(std::chrono::seconds(30));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status->error_message().find("more than the limit"), std::string::npos)
      << status->error_message();

  // Adding names a few at a time reaches the same bound.
  auto creeping = OpenDelta();
  ASSERT_TRUE(creeping->Send(DeltaFirst(kCds, {"blue"})));
  std::optional<grpc::Status> ended;
  for (int batch = 0; batch < 12 && !ended; ++batch) {
    std::vector<std::string> more;
    for (int i = 0; i < 1000; ++i) more.push_back("b" + std::to_string(batch * 1000 + i));
    creeping->Send(DeltaReq(kCds, more));
    ended = creeping->WaitEnd(std::chrono::milliseconds(200));
  }
  if (!ended) ended = creeping->WaitEnd(std::chrono::seconds(30));
  ASSERT_TRUE(ended);
  EXPECT_EQ(ended->error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);

  Upsert(model::Kind::kCluster, "red", {{"instances", model::Json::array()}});
  auto update = calm->Next();
  ASSERT_TRUE(update);
  EXPECT_THAT(Names(*update), ElementsAre("red"));
}

TEST_F(AdsTest, OverlongNamesAreRefused) {
  auto s = OpenDelta();
  ASSERT_TRUE(s->Send(DeltaFirst(kCds, {std::string(5000, 'x')})));
  auto status = s->WaitEnd();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status->error_message().find("longer than the limit"), std::string::npos);
}

}  // namespace
}  // namespace causeway::xds::testing

namespace causeway::xds::testing {
namespace {

class AdsStreamLimitTest : public AdsTest {
 protected:
  void AdjustOptions(XdsServer::Options* options) override { options->max_streams = 2; }
};

// At --xds-max-streams a new stream is refused at its first request; when
// one of the served streams goes, a new one is served again.
TEST_F(AdsStreamLimitTest, StreamsBeyondTheLimitAreRefusedUntilOneEnds) {
  auto a = OpenDelta();
  ASSERT_TRUE(a->Send(DeltaFirst(kCds)));
  ASSERT_TRUE(a->Next());
  auto b = OpenSotw();
  ASSERT_TRUE(b->Send(First(kCds)));
  ASSERT_TRUE(b->Next());

  auto refused = OpenDelta();
  ASSERT_TRUE(refused->Send(DeltaFirst(kCds)));
  auto status = refused->WaitEnd();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status->error_message().find("limit of 2 xDS streams"), std::string::npos);

  a.reset();  // cancels the stream
  EXPECT_TRUE(::causeway::testing::WaitFor([&] {
    auto again = OpenDelta();
    if (!again->Send(DeltaFirst(kCds))) return false;
    return again->Next(std::chrono::milliseconds(500)).has_value();
  }));
}

}  // namespace
}  // namespace causeway::xds::testing
