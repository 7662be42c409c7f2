// State-of-the-world ADS against docs/xds.md (its rule numbers) (numbers in
// test comments), over raw gRPC streams to an in-process server.
#include <grpcpp/generic/generic_stub.h>

#include <set>

#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "gmock/gmock.h"
#include "support/xds/ads_test_util.h"

namespace causeway::xds::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

// Rules 2, 3: node first, later requests without it; response fields.
TEST_F(AdsTest, SotwNodeOnFirstRequestAndResponseFields) {
  auto s = OpenSotw();
  ASSERT_TRUE(s->Send(First(kCds)));
  auto cds = s->Next();
  ASSERT_TRUE(cds);
  EXPECT_EQ(cds->type_url(), kCds);
  EXPECT_FALSE(cds->nonce().empty());
  EXPECT_FALSE(cds->version_info().empty());
  EXPECT_THAT(Names(*cds), ElementsAre("blue"));
  ASSERT_TRUE(s->Send(Ack(*cds)));

  ASSERT_TRUE(s->Send(Req(kLds)));  // no node: accepted
  auto lds = s->Next();
  ASSERT_TRUE(lds);
  EXPECT_EQ(lds->type_url(), kLds);
  EXPECT_NE(lds->nonce(), cds->nonce());
  EXPECT_THAT(Names(*lds), ElementsAre("front:80"));
}

TEST_F(AdsTest, SotwFirstRequestWithoutNodeEndsStream) {
  auto s = OpenSotw();
  ASSERT_TRUE(s->Send(Req(kLds)));
  auto status = s->WaitEnd();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

// Requests are parsed by the server itself (both methods are raw, so that
// responses can go out pre-serialized): bytes that are no request end the
// stream with a status naming the message, in both variants.
TEST_F(AdsTest, MalformedRequestEndsStreamNamingTheMessage) {
  const std::pair<const char*, const char*> methods[] = {
      {"/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources",
       "DiscoveryRequest"},
      {"/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources",
       "DeltaDiscoveryRequest"},
  };
  for (const auto& [method, message] : methods) {
    SCOPED_TRACE(method);
    grpc::CompletionQueue cq;
    grpc::GenericStub generic(channel_);
    grpc::ClientContext context;
    auto call = generic.PrepareCall(&context, method, &cq);
    // Completes one operation, started just before with tag `expected`.
    auto await = [&cq](intptr_t expected) {
      void* tag = nullptr;
      bool ok = false;
      auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(5);
      EXPECT_EQ(cq.AsyncNext(&tag, &ok, deadline), grpc::CompletionQueue::GOT_EVENT);
      EXPECT_EQ(reinterpret_cast<intptr_t>(tag), expected);
      return ok;
    };
    call->StartCall(reinterpret_cast<void*>(1));
    ASSERT_TRUE(await(1));
    // Field 1, length-delimited, announcing far more bytes than follow.
    const char bad[] = "\x0a\xff\xff\xff\x0f\x01";
    grpc::Slice slice(bad, sizeof(bad) - 1);
    grpc::ByteBuffer buffer(&slice, 1);
    call->Write(buffer, reinterpret_cast<void*>(2));
    ASSERT_TRUE(await(2));
    grpc::Status status;
    call->Finish(&status, reinterpret_cast<void*>(3));
    ASSERT_TRUE(await(3));
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(),
                ::testing::HasSubstr(std::string("could not parse the ") + message));
    cq.Shutdown();
    void* tag;
    bool ok;
    while (cq.Next(&tag, &ok)) {
    }
  }
}

// Rule 1: v2 type URLs are rejected with a clear status.
TEST_F(AdsTest, SotwRejectsV2TypeUrl) {
  auto s = OpenSotw();
  ASSERT_TRUE(s->Send(First("type.googleapis.com/envoy.api.v2.Listener")));
  auto status = s->WaitEnd();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status->error_message(), ::testing::HasSubstr("v2"));
}

// Rule 4: an ACK triggers nothing.
TEST_F(AdsTest, SotwAckTriggersNothing) {
  auto s = OpenSotw();
  ASSERT_TRUE(s->Send(First(kLds)));
  auto lds = s->Next();
  ASSERT_TRUE(lds);
  ASSERT_TRUE(s->Send(Ack(*lds)));
  EXPECT_TRUE(s->Silent());
}

// Rule 5: a NACK is recorded; the rejected version is not resent; a later
// change is.
TEST_F(AdsTest, SotwNackRecordedAndNotResent) {
  auto s = OpenSotw();
  ASSERT_TRUE(s->Send(First(kCds)));
  auto first = s->Next();
  ASSERT_TRUE(first);
  ASSERT_TRUE(s->Send(Ack(*first)));

  PointGroupAt("green");  // CDS now {green}
  auto second = s->Next();
  ASSERT_TRUE(second);
  ASSERT_TRUE(s->Send(Nack(*second, first->version_info(), "bad cluster")));
  EXPECT_TRUE(s->Silent());

  auto status = server_->ZoneStatus("z");
  ASSERT_EQ(status["proxies"].size(), 1u);
  const auto& cds = status["proxies"][0]["types"]["cds"];
  EXPECT_EQ(cds["last_nack"]["message"], "bad cluster");
  EXPECT_EQ(cds["version_acked"], first->version_info());
  EXPECT_EQ(cds["version_sent"], second->version_info());

  // Back to the state the client has: nothing to send. A new state is sent.
  PointGroupAt("blue");
  EXPECT_TRUE(s->Silent());
  Upsert(model::Kind::kCluster, "red", {{"instances", model::Json::array()}});
  PointGroupAt("red");
  auto third = s->Next();
  ASSERT_TRUE(third);
  EXPECT_NE(third->version_info(), second->version_info());
  EXPECT_THAT(Names(*third), ElementsAre("red"));
  EXPECT_THAT(server_->PrometheusMetrics(),
              ::testing::HasSubstr("causeway_xds_nacks_total{type=\"cds\"} 1"));
}

// A rejection can be about the combination with another type: causeway-proxy
// validates its whole set, so a listener it cannot bind fails the CDS push
// that arrives next. Once the client ACKs a change of another type, the
// state it rejected is offered again (else the two sides stay apart).
TEST_F(AdsTest, SotwNackedStateOfferedAgainAfterAnotherTypeMoves) {
  auto s = OpenSotw();
  ASSERT_TRUE(s->Send(First(kCds)));
  auto c1 = s->Next();
  ASSERT_TRUE(c1);
  ASSERT_TRUE(s->Send(Ack(*c1)));
  ASSERT_TRUE(s->Send(Req(kLds)));
  auto l1 = s->Next();
  ASSERT_TRUE(l1);
  ASSERT_EQ(l1->type_url(), kLds);
  ASSERT_TRUE(s->Send(Ack(*l1)));

  PointGroupAt("green");
  auto c2 = s->Next();
  ASSERT_TRUE(c2);
  ASSERT_EQ(c2->type_url(), kCds);
  ASSERT_TRUE(s->Send(Nack(*c2, c1->version_info(), "listener cannot bind")));
  EXPECT_TRUE(s->Silent()) << "the rejected state alone is not resent";

  // The client's listeners move (a second domain on the proxy): once it has
  // ACKed them, the clusters it rejected are offered again. The client ACKs
  // everything from here on; it ends up holding the state it once rejected.
  Upsert(model::Kind::kDomain, "web.svc:8080", {{"host", "web.svc"}, {"port", 8080}});
  Upsert(model::Kind::kProxy, "front", {{"domains", {"api.svc:80", "web.svc:8080"}}});
  std::optional<DiscoveryResponse> last_cds;
  while (auto next = s->Next(std::chrono::milliseconds(500))) {
    if (next->type_url() == kCds) last_cds = next;
    ASSERT_TRUE(s->Send(Ack(*next)));
  }
  ASSERT_TRUE(last_cds) << "no CDS after the LDS ACK";
  EXPECT_EQ(last_cds->version_info(), c2->version_info());
  EXPECT_THAT(Names(*last_cds), ElementsAre("green"));
}

// Rule 6: a request answering an older response is ignored entirely.
TEST_F(AdsTest, SotwStaleNonceIgnored) {
  auto s = OpenSotw();
  ASSERT_TRUE(s->Send(First(kEds, {"blue"})));
  auto first = s->Next();
  ASSERT_TRUE(first);
  ASSERT_TRUE(s->Send(Ack(*first, {"blue"})));
  SetInstances("blue", {"10.0.0.5"});
  auto second = s->Next();
  ASSERT_TRUE(second);
  // Answers `first` (stale) and would subscribe green: ignored.
  ASSERT_TRUE(s->Send(Req(kEds, {"blue", "green"}, first->version_info(), first->nonce())));
  EXPECT_TRUE(s->Silent());
  // The current nonce with the same change is honoured.
  ASSERT_TRUE(s->Send(Req(kEds, {"blue", "green"}, second->version_info(), second->nonce())));
  auto third = s->Next();
  ASSERT_TRUE(third);
  EXPECT_THAT(Names(*third), ElementsAre("green"));
}

// Rules 7, 8: per-type versions; an instance change moves EDS only.
TEST_F(AdsTest, SotwVersionsArePerType) {
  auto s = OpenSotw();
  ASSERT_TRUE(s->Send(First(kCds)));
  auto cds = s->Next();
  ASSERT_TRUE(cds);
  ASSERT_TRUE(s->Send(Ack(*cds)));
  ASSERT_TRUE(s->Send(Req(kEds, {"blue"})));
  auto eds = s->Next();
  ASSERT_TRUE(eds);
  ASSERT_TRUE(s->Send(Ack(*eds, {"blue"})));

  SetInstances("blue", {"10.0.0.7", "10.0.0.8"});
  auto next = s->Next();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->type_url(), kEds);
  EXPECT_NE(next->version_info(), eds->version_info());
  ASSERT_TRUE(s->Send(Ack(*next, {"blue"})));
  EXPECT_TRUE(s->Silent());
}

// Rule 9: LDS/CDS responses are complete; removing the last domain empties
// LDS.
TEST_F(AdsTest, SotwListenersAndClustersAreComplete) {
  auto s = OpenSotw();
  ASSERT_TRUE(s->Send(First(kLds)));
  auto lds = s->Next();
  ASSERT_TRUE(lds);
  EXPECT_THAT(Names(*lds), ElementsAre("front:80"));
  ASSERT_TRUE(s->Send(Ack(*lds)));

  Upsert(model::Kind::kDomain, "web.svc:8080", {{"host", "web.svc"}, {"port", 8080}});
  Upsert(model::Kind::kProxy, "front", {{"domains", {"api.svc:80", "web.svc:8080"}}});
  auto two = s->Next();
  ASSERT_TRUE(two);
  EXPECT_THAT(Names(*two), ElementsAre("front:80", "front:8080"));
  ASSERT_TRUE(s->Send(Ack(*two)));

  Upsert(model::Kind::kProxy, "front", {{"domains", model::Json::array()}});
  auto none = s->Next();
  ASSERT_TRUE(none);
  EXPECT_THAT(Names(*none), IsEmpty());
  EXPECT_FALSE(none->version_info().empty());
}

// Rule 10: wildcard until named; "*" keeps it; names alone drop it; empty
// after naming means nothing.
TEST_F(AdsTest, SotwWildcardAndNamedSubscriptions) {
  auto s = OpenSotw();
  ASSERT_TRUE(s->Send(First(kCds)));
  auto all = s->Next();
  ASSERT_TRUE(all);
  EXPECT_THAT(Names(*all), ElementsAre("blue"));  // the proxy's clusters

  ASSERT_TRUE(s->Send(Ack(*all, {"green"})));
  auto named = s->Next();
  ASSERT_TRUE(named);
  EXPECT_THAT(Names(*named), ElementsAre("green"));  // rule 11: exactly the named

  ASSERT_TRUE(s->Send(Ack(*named, {"*", "green"})));
  auto both = s->Next();
  ASSERT_TRUE(both);
  EXPECT_THAT(Names(*both), ElementsAre("blue", "green"));

  ASSERT_TRUE(s->Send(Ack(*both, {})));
  auto nothing = s->Next();
  ASSERT_TRUE(nothing);
  EXPECT_THAT(Names(*nothing), IsEmpty());
}

// Rule 11 and proxyless gRPC: LDS by name gets exactly the named resources;
// a domain name gets an api_listener with inline routes.
TEST_F(AdsTest, SotwNamedListenersAndApiListener) {
  auto s = OpenSotw();
  ASSERT_TRUE(s->Send(First(kLds, {"api.svc:80", "missing.svc:1"}, "grpc-client")));
  auto lds = s->Next();
  ASSERT_TRUE(lds);
  EXPECT_THAT(Names(*lds), ElementsAre("api.svc:80"));
  envoy::config::listener::v3::Listener listener;
  ASSERT_TRUE(lds->resources(0).UnpackTo(&listener));
  ASSERT_TRUE(listener.has_api_listener());
  envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager hcm;
  ASSERT_TRUE(listener.api_listener().api_listener().UnpackTo(&hcm));
  ASSERT_TRUE(hcm.has_route_config());
  ASSERT_GT(hcm.http_filters_size(), 0);
  EXPECT_EQ(hcm.http_filters(hcm.http_filters_size() - 1).name(), "envoy.filters.http.router");

  ASSERT_TRUE(s->Send(Ack(*lds, {"front:80"})));
  auto proxy_listener = s->Next();
  ASSERT_TRUE(proxy_listener);
  EXPECT_THAT(Names(*proxy_listener), ElementsAre());  // grpc-client has no listeners

  // A named listener that does not exist yet is sent once it is created.
  auto s2 = OpenSotw();
  ASSERT_TRUE(s2->Send(First(kLds, {"later.svc:9000"}, "grpc-client")));
  auto empty = s2->Next();
  ASSERT_TRUE(empty);
  EXPECT_THAT(Names(*empty), IsEmpty());
  ASSERT_TRUE(s2->Send(Ack(*empty, {"later.svc:9000"})));
  Upsert(model::Kind::kDomain, "later.svc:9000", {{"host", "later.svc"}, {"port", 9000}});
  auto created = s2->Next();
  ASSERT_TRUE(created);
  EXPECT_THAT(Names(*created), ElementsAre("later.svc:9000"));
}

// Rule 12: adding a name sends it even if unchanged; a name that does not
// exist is sent when created.
TEST_F(AdsTest, SotwAddedNameIsSentAndMissingNameSentOnCreate) {
  auto s = OpenSotw();
  ASSERT_TRUE(s->Send(First(kEds, {"blue"})));
  auto first = s->Next();
  ASSERT_TRUE(first);
  EXPECT_THAT(Names(*first), ElementsAre("blue"));
  ASSERT_TRUE(s->Send(Ack(*first, {"blue", "green", "later"})));
  auto added = s->Next();
  ASSERT_TRUE(added);
  EXPECT_THAT(Names(*added), ElementsAre("green"));
  ASSERT_TRUE(s->Send(Ack(*added, {"blue", "green", "later"})));
  EXPECT_TRUE(s->Silent());

  // Unsubscribe green and subscribe it again: sent again though unchanged.
  ASSERT_TRUE(s->Send(Req(kEds, {"blue", "later"}, added->version_info(), added->nonce())));
  auto after_drop = s->Next(kQuiet);
  if (after_drop) {
    ASSERT_TRUE(s->Send(Ack(*after_drop, {"blue", "later"})));
  }
  ASSERT_TRUE(s->Send(Req(kEds, {"blue", "green", "later"}, "", "")));
  auto again = s->Next();
  ASSERT_TRUE(again);
  EXPECT_THAT(Names(*again), ElementsAre("green"));
  ASSERT_TRUE(s->Send(Ack(*again, {"blue", "green", "later"})));

  Upsert(model::Kind::kCluster, "later", {{"instances", model::Json::array()}});
  auto created = s->Next();
  ASSERT_TRUE(created);
  EXPECT_THAT(Names(*created), ElementsAre("later"));
}

// The first response of each type on a new stream, every one ACKed like a
// client that subscribes to cluster "blue" and route "front:80".
struct Configured {
  DiscoveryResponse cds, eds, lds, rds;
};

// `first_cds` is the stream's first request (it carries the node).
void ConfigureFully(SotwStream& s, const DiscoveryRequest& first_cds, Configured* out) {
  auto next = [&s](DiscoveryResponse* response) {
    auto r = s.Next();
    ASSERT_TRUE(r);
    *response = *r;
  };
  ASSERT_TRUE(s.Send(first_cds));
  ASSERT_NO_FATAL_FAILURE(next(&out->cds));
  ASSERT_TRUE(s.Send(Ack(out->cds)));
  ASSERT_TRUE(s.Send(Req(kEds, {"blue"})));
  ASSERT_NO_FATAL_FAILURE(next(&out->eds));
  ASSERT_TRUE(s.Send(Ack(out->eds, {"blue"})));
  ASSERT_TRUE(s.Send(Req(kLds)));
  ASSERT_NO_FATAL_FAILURE(next(&out->lds));
  ASSERT_TRUE(s.Send(Ack(out->lds)));
  ASSERT_TRUE(s.Send(Req(kRds, {"front:80"})));
  ASSERT_NO_FATAL_FAILURE(next(&out->rds));
  ASSERT_TRUE(s.Send(Ack(out->rds, {"front:80"})));
}

// Rule 14: CDS before EDS before LDS before RDS; a cluster still named by
// the client's routes stays until the routes moved.
TEST_F(AdsTest, SotwMakeBeforeBreak) {
  auto s = OpenSotw();
  Configured first;
  ASSERT_NO_FATAL_FAILURE(ConfigureFully(*s, First(kCds), &first));

  PointGroupAt("green");
  auto c2 = s->Next();
  ASSERT_TRUE(c2);
  ASSERT_EQ(c2->type_url(), kCds);  // clusters first
  EXPECT_THAT(Names(*c2), ElementsAre("blue", "green"));
  // Routes wait for the clusters to be answered.
  EXPECT_TRUE(s->Silent(std::chrono::milliseconds(150)));
  ASSERT_TRUE(s->Send(Ack(*c2)));
  auto r2 = s->Next();
  ASSERT_TRUE(r2);
  ASSERT_EQ(r2->type_url(), kRds);
  ASSERT_TRUE(s->Send(Req(kEds, {"blue", "green"}, first.eds.version_info(), first.eds.nonce())));
  auto e2 = s->Next();
  ASSERT_TRUE(e2);
  ASSERT_EQ(e2->type_url(), kEds);
  EXPECT_THAT(Names(*e2), ElementsAre("green"));
  ASSERT_TRUE(s->Send(Ack(*e2, {"blue", "green"})));
  ASSERT_TRUE(s->Send(Ack(*r2, {"front:80"})));
  // Now the old cluster goes.
  auto c3 = s->Next();
  ASSERT_TRUE(c3);
  ASSERT_EQ(c3->type_url(), kCds);
  EXPECT_THAT(Names(*c3), ElementsAre("green"));
}

// A client that rejects the routes moving off a cluster keeps running its
// old routes: the cluster they name is not taken away while the NACK stands.
TEST_F(AdsTest, SotwNackedRoutesKeepTheClustersTheClientStillRuns) {
  auto s = OpenSotw();
  Configured first;
  ASSERT_NO_FATAL_FAILURE(ConfigureFully(*s, First(kCds), &first));

  PointGroupAt("green");
  auto c2 = s->Next();
  ASSERT_TRUE(c2);
  ASSERT_EQ(c2->type_url(), kCds);
  EXPECT_THAT(Names(*c2), ElementsAre("blue", "green"));
  ASSERT_TRUE(s->Send(Ack(*c2)));
  auto r2 = s->Next();
  ASSERT_TRUE(r2);
  ASSERT_EQ(r2->type_url(), kRds);
  ASSERT_TRUE(s->Send(Req(kEds, {"blue", "green"}, first.eds.version_info(), first.eds.nonce())));
  auto e2 = s->Next();
  ASSERT_TRUE(e2);
  ASSERT_EQ(e2->type_url(), kEds);
  ASSERT_TRUE(s->Send(Ack(*e2, {"blue", "green"})));
  ASSERT_TRUE(s->Send(Nack(*r2, first.rds.version_info(), "bad route", {"front:80"})));
  // No CDS without "blue": the routes the client runs still send traffic there.
  EXPECT_TRUE(s->Silent());
}

// Rule 17: one un-ACKed response per type; changes meanwhile are merged.
TEST_F(AdsTest, SotwOneUnackedPushAndCoalescing) {
  auto s = OpenSotw();
  ASSERT_TRUE(s->Send(First(kEds, {"blue"})));
  auto first = s->Next();
  ASSERT_TRUE(first);
  SetInstances("blue", {"10.0.1.1"});
  EXPECT_TRUE(s->Silent());
  SetInstances("blue", {"10.0.1.2"});
  EXPECT_TRUE(s->Silent());
  ASSERT_TRUE(s->Send(Ack(*first, {"blue"})));
  auto merged = s->Next();
  ASSERT_TRUE(merged);
  envoy::config::endpoint::v3::ClusterLoadAssignment cla;
  ASSERT_TRUE(merged->resources(0).UnpackTo(&cla));
  EXPECT_EQ(cla.endpoints(0).lb_endpoints(0).endpoint().address().socket_address().address(),
            "10.0.1.2");
  ASSERT_TRUE(s->Send(Ack(*merged, {"blue"})));
  EXPECT_TRUE(s->Silent());
}

// An unregistered proxy keeps its stream with an empty configuration and gets
// its configuration once created.
TEST_F(AdsTest, SotwUnregisteredProxyConfiguredOnCreate) {
  auto s = OpenSotw();
  ASSERT_TRUE(s->Send(First(kLds, {}, "ghost")));
  auto empty = s->Next();
  ASSERT_TRUE(empty);
  EXPECT_THAT(Names(*empty), IsEmpty());
  ASSERT_TRUE(s->Send(Ack(*empty)));
  auto status = server_->ZoneStatus("z");
  ASSERT_EQ(status["proxies"].size(), 1u);
  EXPECT_EQ(status["proxies"][0]["registered"], false);
  EXPECT_FALSE(server_->ProxyConfig("z", "nobody").ok());

  Upsert(model::Kind::kProxy, "ghost", {{"domains", {"api.svc:80"}}});
  auto configured = s->Next();
  ASSERT_TRUE(configured);
  EXPECT_THAT(Names(*configured), ElementsAre("ghost:80"));
  ASSERT_TRUE(s->Send(Ack(*configured)));
  ASSERT_TRUE(::causeway::testing::WaitFor(
      [&] { return server_->ZoneStatus("z")["proxies"][0]["registered"] == true; }));
}

// Status, config and metrics pages.
TEST_F(AdsTest, StatusConfigAndMetrics) {
  auto s = OpenSotw();
  ASSERT_TRUE(s->Send(First(kLds)));
  auto lds = s->Next();
  ASSERT_TRUE(lds);
  ASSERT_TRUE(s->Send(Ack(*lds)));
  ASSERT_TRUE(::causeway::testing::WaitFor([&] {
    auto st = server_->ZoneStatus("z");
    return st["proxies"].size() == 1 &&
           st["proxies"][0]["types"]["lds"]["version_acked"] == lds->version_info();
  }));
  auto status = server_->ZoneStatus("z");
  const auto& p = status["proxies"][0];
  EXPECT_EQ(p["node_id"], "instance-1");
  EXPECT_EQ(p["proxy"], "front");
  EXPECT_FALSE(p["peer"].get<std::string>().empty());
  EXPECT_FALSE(p["types"]["lds"]["last_ack_time"].get<std::string>().empty());

  auto config = server_->ProxyConfig("z", "front");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ((*config)["listeners"][0]["name"], "front:80");
  EXPECT_EQ((*config)["listeners"][0]["resource"]["name"], "front:80");
  EXPECT_EQ((*config)["clusters"][0]["resource"]["type"], "EDS");
  EXPECT_EQ((*config)["instances"][0]["acked"]["lds"][0]["name"], "front:80");

  // A change reaches the ACK histogram.
  Upsert(model::Kind::kDomain, "web.svc:8080", {{"host", "web.svc"}, {"port", 8080}});
  Upsert(model::Kind::kProxy, "front", {{"domains", {"api.svc:80", "web.svc:8080"}}});
  auto next = s->Next();
  ASSERT_TRUE(next);
  ASSERT_TRUE(s->Send(Ack(*next)));
  ASSERT_TRUE(::causeway::testing::WaitFor([&] {
    return server_->PrometheusMetrics().find("causeway_xds_change_to_ack_seconds_count 1") !=
           std::string::npos;
  }));
  std::string metrics = server_->PrometheusMetrics();
  EXPECT_THAT(metrics, ::testing::HasSubstr("causeway_xds_connected_streams{variant=\"sotw\"} 1"));
  EXPECT_THAT(metrics, ::testing::HasSubstr("causeway_xds_acks_total{type=\"lds\"} 2"));
}

}  // namespace
}  // namespace causeway::xds::testing

namespace causeway::xds::testing {
namespace {

// Many streams of one zone: each gets the change and ACKs it; closing them
// brings the connected-streams gauge back to zero.
TEST_F(AdsTest, ManyStreamsConvergeAndDisconnect) {
  constexpr int kStreams = 50;
  std::vector<std::unique_ptr<SotwStream>> streams;
  std::vector<DiscoveryResponse> last(kStreams);
  for (int i = 0; i < kStreams; ++i) {
    streams.push_back(OpenSotw());
    DiscoveryRequest first = First(kCds);
    first.mutable_node()->set_id("instance-" + std::to_string(i));
    ASSERT_TRUE(streams.back()->Send(first));
  }
  for (int i = 0; i < kStreams; ++i) {
    auto r = streams[i]->Next();
    ASSERT_TRUE(r) << i;
    ASSERT_TRUE(streams[i]->Send(Ack(*r)));
    last[i] = *r;
  }
  PointGroupAt("green");
  for (int i = 0; i < kStreams; ++i) {
    auto r = streams[i]->Next();
    ASSERT_TRUE(r) << i;
    EXPECT_NE(r->version_info(), last[i].version_info());
    EXPECT_THAT(Names(*r), ::testing::ElementsAre("green"));
    ASSERT_TRUE(streams[i]->Send(Ack(*r)));
  }
  ASSERT_TRUE(::causeway::testing::WaitFor([&] {
    return server_->PrometheusMetrics().find("causeway_xds_change_to_ack_seconds_count " +
                                             std::to_string(kStreams)) != std::string::npos;
  }));
  EXPECT_EQ(server_->ZoneStatus("z")["proxies"].size(), static_cast<size_t>(kStreams));
  streams.clear();
  ASSERT_TRUE(::causeway::testing::WaitFor([&] {
    return server_->PrometheusMetrics().find(
               "causeway_xds_connected_streams{variant=\"sotw\"} 0") != std::string::npos;
  }));
  EXPECT_EQ(server_->ZoneStatus("z")["proxies"].size(), 0u);
}

// Streams of one proxy share what a subscription covers per snapshot; a
// stream subscribed differently must still get its own names, before and
// after a change that moves all of them.
TEST_F(AdsTest, SotwStreamsSubscribedDifferentlyEachGetTheirOwnNames) {
  auto blue = OpenSotw();
  auto green = OpenSotw();
  auto both = OpenSotw();
  DiscoveryRequest first = First(kEds, {"blue"});
  first.mutable_node()->set_id("a");
  ASSERT_TRUE(blue->Send(first));
  first = First(kEds, {"green"});
  first.mutable_node()->set_id("b");
  ASSERT_TRUE(green->Send(first));
  first = First(kEds, {"blue", "green"});
  first.mutable_node()->set_id("c");
  ASSERT_TRUE(both->Send(first));

  auto b = blue->Next();
  auto g = green->Next();
  auto bg = both->Next();
  ASSERT_TRUE(b && g && bg);
  EXPECT_THAT(Names(*b), ElementsAre("blue"));
  EXPECT_THAT(Names(*g), ElementsAre("green"));
  EXPECT_THAT(Names(*bg), ElementsAre("blue", "green"));
  EXPECT_NE(b->version_info(), g->version_info());
  ASSERT_TRUE(blue->Send(Ack(*b, {"blue"})));
  ASSERT_TRUE(green->Send(Ack(*g, {"green"})));
  ASSERT_TRUE(both->Send(Ack(*bg, {"blue", "green"})));

  SetInstances("blue", {"10.0.0.7"});
  SetInstances("green", {"10.0.0.8"});
  // Each stream sees only its names; the one with both may get them in one
  // response or two (the changes may land in separate snapshots).
  auto b2 = blue->Next();
  auto g2 = green->Next();
  ASSERT_TRUE(b2 && g2);
  EXPECT_THAT(Names(*b2), ElementsAre("blue"));
  EXPECT_THAT(Names(*g2), ElementsAre("green"));
  std::set<std::string> seen;
  while (seen.size() < 2) {
    auto r = both->Next();
    ASSERT_TRUE(r);
    for (const auto& name : Names(*r)) seen.insert(name);
    EXPECT_THAT(Names(*r), ::testing::IsSubsetOf({"blue", "green"}));
    ASSERT_TRUE(both->Send(Ack(*r, {"blue", "green"})));
  }
}

// A state-of-the-world body is serialized once per snapshot and shared by the
// streams sent the same resources. Two streams at the same state version can
// still be sent different resources (one holds some already): each must get
// its own, and a stream sent what another was gets the same bytes.
TEST_F(AdsTest, SotwResponseBodiesAreSharedOnlyBetweenStreamsSentTheSame) {
  auto open = [&](const std::string& id) {
    auto stream = OpenSotw();
    DiscoveryRequest first = First(kEds, {"blue", "green"});
    first.mutable_node()->set_id(id);
    EXPECT_TRUE(stream->Send(first));
    return stream;
  };
  auto held = open("a");
  auto r = held->Next();
  ASSERT_TRUE(r);
  ASSERT_TRUE(held->Send(Ack(*r, {"blue", "green"})));

  SetInstances("green", {"10.0.0.8"});
  auto partial = held->Next();  // blue is unchanged: only green
  ASSERT_TRUE(partial);
  EXPECT_THAT(Names(*partial), ElementsAre("green"));
  ASSERT_TRUE(held->Send(Ack(*partial, {"blue", "green"})));

  // New streams, same snapshot and state version: they hold nothing yet.
  auto fresh = open("b");
  auto another = open("c");
  auto whole = fresh->Next();
  auto same = another->Next();
  ASSERT_TRUE(whole && same);
  EXPECT_EQ(whole->version_info(), partial->version_info());
  EXPECT_THAT(Names(*whole), ElementsAre("blue", "green"));
  envoy::config::endpoint::v3::ClusterLoadAssignment green;
  ASSERT_TRUE(whole->resources(1).UnpackTo(&green));
  EXPECT_EQ(green.endpoints(0).lb_endpoints(0).endpoint().address().socket_address().address(),
            "10.0.0.8");
  EXPECT_NE(whole->nonce(), "");
  DiscoveryResponse without_nonce = *whole;
  without_nonce.clear_nonce();
  DiscoveryResponse same_without_nonce = *same;
  same_without_nonce.clear_nonce();
  EXPECT_EQ(without_nonce.SerializeAsString(), same_without_nonce.SerializeAsString());
}

}  // namespace
}  // namespace causeway::xds::testing
