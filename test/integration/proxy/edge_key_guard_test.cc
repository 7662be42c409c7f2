// Routing keys at staging's edge, on the real binaries: a real hub with a
// zone whose route sends app.test to cluster "blue" (staging), an intercept
// of blue for key "alice" owned by token alice, its tunnel (set by an admin)
// at an origin standing in for the holder, and causeway-proxy as the zone's
// edge (CAUSEWAY_EDGE=1). A key that comes with its proof (KEY~PROOF) reaches
// the holder as the bare key; a bare key, a wrong proof or an unknown key is
// removed before routing, in every carrier, so the request reaches staging
// without it. A proxy that is not an edge routes bare keys as before, and
// only the intercept's owner and admins see the proof.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "hub_fixture.h"
#include "net/http_client.h"
#include "nlohmann/json.hpp"
#include "proxy_observer.h"
#include "routed_zone.h"
#include "support/process.h"
#include "test_origin.h"

namespace causeway::proxy {
namespace {

using causeway::testing::Api;
using causeway::testing::FreePort;
using causeway::testing::HubProcess;
using causeway::testing::Json;
using causeway::testing::ProxyProcess;
using causeway::testing::RoutedZone;
using causeway::testing::TempDir;
using causeway::testing::WaitFor;
using proxy::testing::RawClient;
using proxy::testing::TestOrigin;
using std::chrono::seconds;

constexpr char kEdgeZone[] = "stage";
constexpr char kEdgeInterceptPath[] = "/v1/zones/stage/intercepts/alice-blue";

class EdgeKeyGuardFixture : public ::testing::Test {
 protected:
  // `edge`: start causeway-proxy as the zone's edge.
  void StartZone(bool edge) {
    ASSERT_NO_FATAL_FAILURE(hub_.Start());
    admin_ = std::make_unique<Api>(hub_.url(), hub_.admin_token());
    zone_ = std::make_unique<RoutedZone>(admin_.get(), kEdgeZone, FreePort());
    ASSERT_NO_FATAL_FAILURE(zone_->Seed());
    alice_ = std::make_unique<Api>(hub_.url(),
                                   causeway::testing::CreateToken(*admin_, "alice", "editor"));
    access_log_ = dir_.File("access.log");
    std::map<std::string, std::string> env;
    if (edge) env["CAUSEWAY_EDGE"] = "1";
    proxy_ =
        std::make_unique<ProxyProcess>(zone_.get(), "127.0.0.1:" + std::to_string(hub_.xds_port()),
                                       std::vector<std::string>{"--access-log", access_log_}, env);
    ASSERT_NO_FATAL_FAILURE(proxy_->Start("blue"));
  }

  void TearDown() override {
    if (HasFailure() && proxy_ != nullptr) std::cerr << "--- proxy log ---\n" << proxy_->Log();
  }

  // Alice's intercept of blue for key "alice", then its tunnel at the
  // holder, set by an admin. Returns the proof both writes answered with.
  std::string InterceptAlice() {
    Json body = {{"cluster", "blue"}, {"key", "alice"}, {"lease_ms", 600000}};
    Api::Result own = alice_->Put(kEdgeInterceptPath, body);
    EXPECT_EQ(own.status, 201) << own.raw.body;
    body["tunnel"] = {{"proxy", "edge"},
                      {"address", "127.0.0.1:" + std::to_string(holder_.port())}};
    Api::Result tunnel = admin_->Put(kEdgeInterceptPath, body);
    EXPECT_EQ(tunnel.status, 200) << tunnel.raw.body;
    EXPECT_EQ(tunnel.body["owner"], "alice");
    // The proof depends on zone, key and owner only: the admin's write
    // answers with the owner's proof, unchanged.
    EXPECT_TRUE(own.body["proof"].is_string()) << own.raw.body;
    EXPECT_EQ(tunnel.body["proof"], own.body["proof"]);
    return own.body.value("proof", "");
  }

  RawClient::Response Send(const std::string& path, const std::string& extra) {
    return proxy::testing::Request(
        static_cast<uint16_t>(zone_->listen_port()),
        "GET " + path + " HTTP/1.1\r\nHost: " + zone_->domain() + "\r\n" + extra + "\r\n");
  }

  // Waits until a request with `extra` headers reaches the holder.
  bool ReachesHolder(const std::string& extra) {
    return WaitFor([&] { return Send("/probe", extra).Header("x-origin") == "laptop"; },
                   seconds(30));
  }

  Json LogEntry(const std::string& path) {
    return proxy::testing::AccessLogEntry(access_log_, path);
  }
  double Stat(const std::string& name) {
    return proxy::testing::AdminStat(proxy_->admin_port(), name);
  }

  HubProcess hub_;
  std::unique_ptr<Api> admin_;
  std::unique_ptr<Api> alice_;
  std::unique_ptr<RoutedZone> zone_;
  TestOrigin holder_{"laptop"};  // echoes what it receives
  TempDir dir_;
  std::string access_log_;
  std::unique_ptr<ProxyProcess> proxy_;
};

class EdgeKeyGuardTest : public EdgeKeyGuardFixture {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(StartZone(true)); }
};

TEST_F(EdgeKeyGuardTest, ProvenKeyReachesTheHolderAndAnUnprovenOneStaging) {
  const std::string proof = InterceptAlice();
  ASSERT_FALSE(proof.empty());
  const std::string proven = "alice~" + proof;
  ASSERT_TRUE(ReachesHolder("x-causeway-key: " + proven + "\r\n"))
      << "a proven key never reached the tunnel's address";

  // Inside staging the key is bare.
  RawClient::Response keyed = Send("/proven", "x-causeway-key: " + proven + "\r\n");
  EXPECT_EQ(keyed.Header("x-origin"), "laptop");
  EXPECT_NE(keyed.body.find("x-causeway-key: alice\n"), std::string::npos) << keyed.body;
  EXPECT_EQ(keyed.body.find(proof), std::string::npos) << keyed.body;

  // The same key without its proof, with a wrong one, or a key nobody holds:
  // staging, and the key is gone before any route saw it.
  for (const std::string& value :
       {std::string("alice"), std::string("alice~not-the-proof"), std::string("bob~") + proof}) {
    RawClient::Response r = Send("/unproven", "x-causeway-key: " + value + "\r\n");
    EXPECT_EQ(r.status, 200) << value;
    EXPECT_EQ(r.Header("x-origin"), "blue") << value;
    EXPECT_EQ(r.Header("x-causeway-routed"), "") << value;
    EXPECT_EQ(r.body.find("x-causeway-key"), std::string::npos) << r.body;
  }

  Json stripped = LogEntry("/unproven");
  ASSERT_TRUE(stripped.is_object());
  EXPECT_EQ(stripped["key_guard"], "stripped");
  Json verified = LogEntry("/proven");
  ASSERT_TRUE(verified.is_object());
  EXPECT_EQ(verified["key_guard"], "verified");
  EXPECT_GE(Stat("routing_key.stripped"), 3);
  EXPECT_GE(Stat("routing_key.verified"), 1);
}

TEST_F(EdgeKeyGuardTest, BaggageAndCookieCarriersAreCheckedAndTheRestKept) {
  const std::string proof = InterceptAlice();
  ASSERT_FALSE(proof.empty());
  ASSERT_TRUE(ReachesHolder("x-causeway-key: alice~" + proof + "\r\n"));

  RawClient::Response baggage =
      Send("/baggage", "baggage: user=7, causeway-key=alice~" + proof + ";ttl=30\r\n");
  EXPECT_EQ(baggage.Header("x-origin"), "laptop");
  EXPECT_NE(baggage.body.find("baggage: user=7,causeway-key=alice;ttl=30\n"), std::string::npos)
      << baggage.body;
  RawClient::Response bare_baggage =
      Send("/baggage-bare", "baggage: user=7, causeway-key=alice\r\n");
  EXPECT_EQ(bare_baggage.Header("x-origin"), "blue");
  EXPECT_NE(bare_baggage.body.find("baggage: user=7\n"), std::string::npos) << bare_baggage.body;

  RawClient::Response cookie =
      Send("/cookie", "cookie: session=x; causeway-key=alice~" + proof + "\r\n");
  EXPECT_EQ(cookie.Header("x-origin"), "laptop");
  EXPECT_NE(cookie.body.find("cookie: session=x; causeway-key=alice\n"), std::string::npos)
      << cookie.body;
  RawClient::Response wrong_cookie =
      Send("/cookie-wrong", "cookie: causeway-key=alice~wrong; session=x\r\n");
  EXPECT_EQ(wrong_cookie.Header("x-origin"), "blue");
  EXPECT_NE(wrong_cookie.body.find("cookie: session=x\n"), std::string::npos) << wrong_cookie.body;
}

TEST_F(EdgeKeyGuardTest, OnlyTheOwnerAndAdminsSeeTheProof) {
  const std::string proof = InterceptAlice();
  ASSERT_FALSE(proof.empty());
  Api viewer(hub_.url(), causeway::testing::CreateToken(*admin_, "look", "viewer"));
  Api::Result read = viewer.Get(kEdgeInterceptPath);
  ASSERT_EQ(read.status, 200) << read.raw.body;
  EXPECT_FALSE(read.body.contains("proof")) << read.raw.body;
  EXPECT_EQ(read.raw.body.find(proof), std::string::npos) << read.raw.body;
  // Its hash is not a secret: what the edge checks against.
  EXPECT_EQ(read.body["proof_sha256"].get<std::string>().size(), 64u) << read.raw.body;
  Api::Result listed = viewer.Get("/v1/zones/stage/intercepts");
  EXPECT_EQ(listed.raw.body.find(proof), std::string::npos) << listed.raw.body;
  // The owner's and an admin's reads carry it.
  Api::Result own = alice_->Get(kEdgeInterceptPath);
  ASSERT_EQ(own.status, 200) << own.raw.body;
  EXPECT_EQ(own.body["proof"], proof);
  EXPECT_EQ(admin_->Get(kEdgeInterceptPath).body["proof"], proof);
  // An editor who is not the owner does not see it either.
  Api other(hub_.url(), causeway::testing::CreateToken(*admin_, "bo", "editor"));
  Api::Result others = other.Get(kEdgeInterceptPath);
  ASSERT_EQ(others.status, 200) << others.raw.body;
  EXPECT_FALSE(others.body.contains("proof")) << others.raw.body;
  // A renewal by the owner answers with the same proof.
  Api::Result renewed = alice_->Put(kEdgeInterceptPath,
                                    {{"cluster", "blue"}, {"key", "alice"}, {"lease_ms", 600000}});
  ASSERT_EQ(renewed.status, 200) << renewed.raw.body;
  EXPECT_EQ(renewed.body["proof"], proof);
}

class NonEdgeKeyGuardTest : public EdgeKeyGuardFixture {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(StartZone(false)); }
};

TEST_F(NonEdgeKeyGuardTest, BareKeysStillRoute) {
  ASSERT_FALSE(InterceptAlice().empty());
  ASSERT_TRUE(ReachesHolder("x-causeway-key: alice\r\n"))
      << "a proxy that is not an edge must route a bare key";
  RawClient::Response r = Send("/bare", "x-causeway-key: alice\r\n");
  EXPECT_NE(r.body.find("x-causeway-key: alice\n"), std::string::npos) << r.body;
  Json entry = LogEntry("/bare");
  ASSERT_TRUE(entry.is_object());
  EXPECT_FALSE(entry.contains("key_guard")) << entry;
}

}  // namespace
}  // namespace causeway::proxy
