// Authentication, authorization and TLS of the ADS server: raw ADS streams
// against an in-process server whose tokens come from a test authenticator,
// and TLS from PEM files made with the openssl command line.
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/credentials.h>

#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "support/process.h"
#include "support/test_certs.h"
#include "support/xds/ads_test_util.h"
#include "xds/server_tls.h"
#include "xds/stream_auth.h"

namespace causeway::xds::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

// Tokens by secret; revoking one makes both calls fail from then on.
class TestAuthenticator final : public StreamAuthenticator {
 public:
  void Add(const std::string& secret, StreamIdentity identity) {
    std::lock_guard lock(mu_);
    tokens_[secret] = std::move(identity);
  }
  void Revoke(const std::string& secret) {
    std::lock_guard lock(mu_);
    tokens_.erase(secret);
  }
  absl::StatusOr<StreamIdentity> Authenticate(const std::string& secret) override {
    std::lock_guard lock(mu_);
    auto it = tokens_.find(secret);
    if (it == tokens_.end()) return absl::UnauthenticatedError("unknown or revoked token");
    return it->second;
  }
  absl::Status Recheck(const std::string& secret, const StreamIdentity&) override {
    return Authenticate(secret).status();
  }

 private:
  std::mutex mu_;
  std::map<std::string, StreamIdentity> tokens_;
};

std::multimap<std::string, std::string> Bearer(const std::string& secret) {
  return {{"authorization", "Bearer " + secret}};
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class XdsAuthTest : public AdsTest {
 protected:
  void SetUp() override {
    auth_.Add("proxy-z", {"edge-z", "proxy", "z"});
    auth_.Add("agent-z", {"agent-z", "agent", "z"});
    auth_.Add("proxy-other", {"edge-other", "proxy", "other"});
    auth_.Add("viewer", {"reader", "viewer", ""});
    auth_.Add("admin", {"admin", "admin", ""});
    AdsTest::SetUp();
  }
  void AdjustOptions(XdsServer::Options* options) override {
    options->authenticator = &auth_;
    options->auth_recheck = milliseconds(100);
  }

  std::unique_ptr<SotwStream> OpenAs(const std::string& secret) {
    return std::make_unique<SotwStream>(stub_.get(), Bearer(secret));
  }

  // Opens a stream, sends the first CDS request and expects `code` with
  // nothing sent before it.
  void ExpectRefused(std::unique_ptr<SotwStream> s, grpc::StatusCode code,
                     const std::string& message) {
    s->Send(First(kCds));  // may fail: the server can end the call first
    auto end = s->WaitEnd();
    ASSERT_TRUE(end.has_value()) << "the stream was not ended";
    EXPECT_EQ(end->error_code(), code) << end->error_message();
    EXPECT_THAT(end->error_message(), HasSubstr(message));
    EXPECT_FALSE(s->Next(milliseconds(0)).has_value()) << "a resource was sent";
    EXPECT_TRUE(server_->ZoneStatus("z")["proxies"].empty());
  }

  TestAuthenticator auth_;
};

TEST_F(XdsAuthTest, NoTokenIsUnauthenticatedAndNothingIsSent) {
  ExpectRefused(OpenSotw(), grpc::StatusCode::UNAUTHENTICATED, "needs a token");
}

TEST_F(XdsAuthTest, DeltaStreamsNeedATokenToo) {
  auto s = OpenDelta();
  s->Send(DeltaFirst(kCds));
  auto end = s->WaitEnd();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_FALSE(s->Next(milliseconds(0)).has_value());
}

TEST_F(XdsAuthTest, UnknownOrMalformedTokenIsUnauthenticated) {
  ExpectRefused(OpenAs("nobody"), grpc::StatusCode::UNAUTHENTICATED, "unknown or revoked");
  ExpectRefused(std::make_unique<SotwStream>(stub_.get(),
                                             std::multimap<std::string, std::string>{
                                                 {"authorization", "Basic cHJveHk6eg=="}}),
                grpc::StatusCode::UNAUTHENTICATED, "Bearer TOKEN");
}

TEST_F(XdsAuthTest, TokenOfAnotherZoneIsPermissionDeniedAndNothingIsSent) {
  ExpectRefused(OpenAs("proxy-other"), grpc::StatusCode::PERMISSION_DENIED,
                "token \"edge-other\" is limited to zone \"other\" but the node claims zone "
                "\"z\"");
}

TEST_F(XdsAuthTest, RolesOtherThanProxyAgentAdminArePermissionDenied) {
  ExpectRefused(OpenAs("viewer"), grpc::StatusCode::PERMISSION_DENIED, "role viewer");
}

TEST_F(XdsAuthTest, ProxyAgentAndAdminTokensAreServedAndStatusNamesTheToken) {
  for (const std::string secret : {"proxy-z", "agent-z", "admin"}) {
    auto s = OpenAs(secret);
    ASSERT_TRUE(s->Send(First(kCds)));
    auto response = s->Next();
    ASSERT_TRUE(response.has_value()) << secret;
    EXPECT_EQ(response->type_url(), kCds);
    auto proxies = server_->ZoneStatus("z")["proxies"];
    ASSERT_EQ(proxies.size(), 1u) << proxies.dump();
    EXPECT_EQ(proxies[0]["token"], auth_.Authenticate(secret)->token) << proxies.dump();
    s.reset();
    ASSERT_TRUE(
        ::causeway::testing::WaitFor([&] { return server_->ZoneStatus("z")["proxies"].empty(); }));
  }
}

TEST_F(XdsAuthTest, RevocationEndsTheStreamWithinOneSecondAndOnlyThatOne) {
  auto revoked = OpenAs("proxy-z");
  auto kept = OpenAs("agent-z");
  for (auto* s : {revoked.get(), kept.get()}) {
    ASSERT_TRUE(s->Send(First(kCds)));
    auto response = s->Next();
    ASSERT_TRUE(response.has_value());
    ASSERT_TRUE(s->Send(Ack(*response)));
  }
  const auto start = std::chrono::steady_clock::now();
  auth_.Revoke("proxy-z");
  auto end = revoked->WaitEnd(seconds(5));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->error_code(), grpc::StatusCode::UNAUTHENTICATED) << end->error_message();
  EXPECT_THAT(end->error_message(), HasSubstr("no longer authenticates"));
  EXPECT_LT(took, seconds(1)) << std::chrono::duration<double>(took).count() << " s";

  // The other token's stream stays and follows changes.
  EXPECT_FALSE(kept->WaitEnd(milliseconds(300)).has_value());
  PointGroupAt("green");
  auto push = kept->Next();
  ASSERT_TRUE(push.has_value());
  EXPECT_EQ(push->type_url(), kCds);
}

// TLS from files: a replaced certificate serves new connections, and a
// stream opened before keeps going.
class XdsTlsTest : public XdsAuthTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ca_.ok()) << "openssl could not make a CA";
    server_files_ = ca_.Issue("xds-server", "hub-one");
    ASSERT_FALSE(server_files_.cert.empty());
    XdsAuthTest::SetUp();
  }
  void AdjustOptions(XdsServer::Options* options) override {
    XdsAuthTest::AdjustOptions(options);
    options->tls = {server_files_.cert, server_files_.key, client_ca_};
    options->tls_refresh = seconds(1);
  }
  std::shared_ptr<grpc::ChannelCredentials> ClientCredentials() override {
    return Credentials(client_files_);
  }
  std::shared_ptr<grpc::ChannelCredentials> Credentials(const ::causeway::testing::CertFiles& c) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadAll(ca_.cert());
    if (!c.cert.empty()) {
      ssl.pem_cert_chain = ReadAll(c.cert);
      ssl.pem_private_key = ReadAll(c.key);
    }
    return grpc::SslCredentials(ssl);
  }

  // The common name of the certificate a new connection is served, after
  // one response on a stream of it ("" when none came).
  std::string PeerNameOfANewConnection(const ::causeway::testing::CertFiles& client = {}) {
    grpc::ChannelArguments args;
    // A channel of its own: gRPC would otherwise reuse a connection.
    args.SetInt("causeway.test.probe", ++probes_);
    auto channel = grpc::CreateCustomChannel(address_, Credentials(client), args);
    auto stub = AggregatedDiscoveryService::NewStub(channel);
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer proxy-z");
    context.set_deadline(std::chrono::system_clock::now() + seconds(5));
    auto stream = stub->StreamAggregatedResources(&context);
    DiscoveryResponse response;
    std::string name;
    if (stream->Write(First(kCds)) && stream->Read(&response)) {
      for (const auto& value : context.auth_context()->FindPropertyValues("x509_common_name")) {
        name = std::string(value.data(), value.size());
      }
    }
    context.TryCancel();
    stream->Finish();
    return name;
  }

  ::causeway::testing::TestCa ca_{dir_.path(), "xds"};
  ::causeway::testing::CertFiles server_files_;
  ::causeway::testing::CertFiles client_files_;
  std::string client_ca_;
  int probes_ = 0;
};

TEST_F(XdsTlsTest, ReplacedCertificateServesNewConnectionsWhileStreamsStayUp) {
  auto s = OpenAs("proxy-z");
  ASSERT_TRUE(s->Send(First(kCds)));
  auto first = s->Next();
  ASSERT_TRUE(first.has_value()) << "no response over TLS";
  ASSERT_TRUE(s->Send(Ack(*first)));
  EXPECT_EQ(PeerNameOfANewConnection(), "hub-one");

  // Rotation: new files in place (renamed over the old ones).
  ASSERT_FALSE(ca_.Issue("xds-server", "hub-two").cert.empty());
  EXPECT_TRUE(::causeway::testing::WaitFor([&] { return PeerNameOfANewConnection() == "hub-two"; },
                                           seconds(15)));

  // The stream opened before the rotation is still up and still pushed to.
  EXPECT_FALSE(s->WaitEnd(milliseconds(0)).has_value());
  PointGroupAt("green");
  auto push = s->Next();
  ASSERT_TRUE(push.has_value()) << "the established stream got nothing after the rotation";
  EXPECT_EQ(push->type_url(), kCds);
}

// mTLS: with a client CA, only clients with a certificate it signed connect.
class XdsMutualTlsTest : public XdsTlsTest {
 protected:
  void SetUp() override {
    client_ca_ = ca_.cert();
    client_files_ = ca_.Issue("client", "edge-client");
    ASSERT_FALSE(client_files_.cert.empty());
    XdsTlsTest::SetUp();
  }
};

TEST_F(XdsMutualTlsTest, ClientsNeedACertificateOfTheClientCa) {
  EXPECT_EQ(PeerNameOfANewConnection(client_files_), "hub-one");
  EXPECT_EQ(PeerNameOfANewConnection({}), "") << "a client without a certificate was served";
}

TEST(ServerTlsFilesTest, UnusableFilesAreNamed) {
  ::causeway::testing::TempDir dir;
  ::causeway::testing::TestCa ca(dir.path(), "t");
  ASSERT_TRUE(ca.ok());
  auto one = ca.Issue("one", "one");
  auto two = ca.Issue("two", "two");
  auto status = MakeServerCredentials({one.cert, two.key, ""}, seconds(1)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("--tls-key " + two.key));
  EXPECT_THAT(std::string(status.message()), HasSubstr("is not the key of the certificate"));

  status = MakeServerCredentials({dir.File("missing.crt"), one.key, ""}, seconds(1)).status();
  EXPECT_THAT(std::string(status.message()), HasSubstr("--tls-cert"));
  status = MakeServerCredentials({one.key, one.key, ""}, seconds(1)).status();
  EXPECT_THAT(std::string(status.message()), HasSubstr("holds no PEM certificate"));
  status = MakeServerCredentials({one.cert, "", ""}, seconds(1)).status();
  EXPECT_THAT(std::string(status.message()), HasSubstr("go together"));
  status = MakeServerCredentials({one.cert, one.key, one.key}, seconds(1)).status();
  EXPECT_THAT(std::string(status.message()), HasSubstr("--client-ca"));
  EXPECT_TRUE(MakeServerCredentials({one.cert, one.key, ca.cert()}, seconds(1)).ok());
}

TEST(StreamAuthTest, BearerSecret) {
  EXPECT_EQ(*BearerSecret("Bearer abc", true), "abc");
  EXPECT_EQ(*BearerSecret("bearer  abc ", true), "abc");
  EXPECT_EQ(BearerSecret("", false).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(BearerSecret("Basic abc", true).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(BearerSecret("Bearer   ", true).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(StreamAuthTest, LoopbackAddresses) {
  for (const char* a : {"127.0.0.1:50000", "127.1.2.3:0", "localhost:50000", "[::1]:50000"}) {
    EXPECT_TRUE(IsLoopbackListenAddress(a)) << a;
  }
  for (const char* a :
       {"0.0.0.0:50000", "[::]:50000", "10.0.0.1:50000", "hub.internal:50000", "[2001:db8::1]:1"}) {
    EXPECT_FALSE(IsLoopbackListenAddress(a)) << a;
  }
}

TEST(StreamAuthTest, ModeDefaultsToTokenOffLoopbackAndRefusesNoneThere) {
  EXPECT_EQ(*ResolveXdsAuth("", "127.0.0.1:50000"), XdsAuth::kNone);
  EXPECT_EQ(*ResolveXdsAuth("", "0.0.0.0:50000"), XdsAuth::kToken);
  EXPECT_EQ(*ResolveXdsAuth("token", "127.0.0.1:50000"), XdsAuth::kToken);
  EXPECT_EQ(*ResolveXdsAuth("none", "localhost:1"), XdsAuth::kNone);
  auto refused = ResolveXdsAuth("none", "0.0.0.0:50000");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("--xds-auth none is refused on 0.0.0.0:50000"));
  EXPECT_THAT(std::string(ResolveXdsAuth("tls", "127.0.0.1:1").status().message()),
              HasSubstr("\"tls\" is not one of token, none"));
}

}  // namespace
}  // namespace causeway::xds::testing
