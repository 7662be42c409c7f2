// TLS from the real causeway-proxy binary to its upstreams (a cluster's
// UpstreamTlsContext), against Debian's nginx with an `ssl` listener on a
// run-time port and certificates made at run time: verified against the
// CA and the subject alt name, a client certificate when nginx asks for
// one, keep-alive reuse of the TLS connection, a wrong CA answered 503 with
// the reason in the access log, and TLS fields the proxy does not implement
// NACKed while traffic flows on the last good configuration.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "nginx_tls_origin.h"
#include "scripted_proxy.h"
#include "support/process.h"
#include "support/test_certs.h"
#include "test_origin.h"

namespace causeway::proxy::testing {
namespace {

using causeway::testing::CertFiles;
using causeway::testing::TempDir;
using causeway::testing::TestCa;
using envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext;
using ::testing::HasSubstr;

// The certificates the test issues: nginx's (for localhost) and the
// proxy's client certificate, from one CA; a second CA that signed neither.
struct OriginationCerts {
  TempDir dir;
  TestCa ca{dir.path(), "origin"};
  TestCa other_ca{dir.path(), "stranger"};
  CertFiles server = ca.Issue("nginx", "nginx origin");
  CertFiles client = ca.Issue("proxy-client", "causeway-proxy");
};

// The cluster's TLS as the hub writes it for `tls: {sni: localhost, ...}`.
UpstreamTlsContext VerifiedTls(const std::string& ca_file) {
  UpstreamTlsContext tls;
  tls.set_sni("localhost");
  auto* v = tls.mutable_common_tls_context()->mutable_validation_context();
  v->mutable_trusted_ca()->set_filename(ca_file);
  auto* san = v->add_match_typed_subject_alt_names();
  san->set_san_type(envoy::extensions::transport_sockets::tls::v3::SubjectAltNameMatcher::DNS);
  san->mutable_matcher()->set_exact("localhost");
  return tls;
}

void SetTls(envoy::config::cluster::v3::Cluster& cluster, const UpstreamTlsContext& tls) {
  cluster.mutable_transport_socket()->set_name("envoy.transport_sockets.tls");
  cluster.mutable_transport_socket()->mutable_typed_config()->PackFrom(tls);
}

std::string GetRequest() { return "GET /hello HTTP/1.1\r\nHost: app.test\r\n\r\n"; }

class TlsOriginationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(certs_.ca.ok() && certs_.other_ca.ok());
    ASSERT_FALSE(certs_.server.cert.empty());
    ASSERT_FALSE(certs_.client.cert.empty());
  }

  // nginx (requiring a client certificate when `mtls`) and the proxy in
  // front of it with `tls` on its cluster.
  void Start(const UpstreamTlsContext& tls, bool mtls = false) {
    NginxTlsOrigin::Options n{certs_.server.cert, certs_.server.key, mtls ? certs_.ca.cert() : ""};
    nginx_ = std::make_unique<NginxTlsOrigin>(n);
    ASSERT_TRUE(nginx_->Start());
    ScriptedProxy::Options p;
    p.origin_port = nginx_->port();
    p.cluster = [tls](envoy::config::cluster::v3::Cluster& c) { SetTls(c, tls); };
    proxy_ = std::make_unique<ScriptedProxy>(p);
    ASSERT_TRUE(proxy_->Start());
  }

  OriginationCerts certs_;
  std::unique_ptr<NginxTlsOrigin> nginx_;
  std::unique_ptr<ScriptedProxy> proxy_;
};

TEST_F(TlsOriginationTest, VerifiedTlsToNginxWithKeepAliveReuse) {
  Start(VerifiedTls(certs_.ca.cert()));
  RawClient client(proxy_->port());
  ASSERT_TRUE(client.Send(GetRequest()));
  RawClient::Response first = client.Read();
  ASSERT_EQ(first.status, 200) << first.head << proxy_->Log();
  EXPECT_EQ(first.Header("x-origin"), "nginx-tls");
  EXPECT_THAT(first.body, HasSubstr("sni=localhost"));
  EXPECT_THAT(first.body, HasSubstr("TLSv1."));
  // The next request goes on the same TLS connection, kept in the pool.
  ASSERT_TRUE(client.Send(GetRequest()));
  RawClient::Response second = client.Read();
  ASSERT_EQ(second.status, 200);
  EXPECT_EQ(second.Header("x-conn"), first.Header("x-conn"));
  RawClient::Response third = Request(proxy_->port(), GetRequest());
  ASSERT_EQ(third.status, 200);
  EXPECT_EQ(third.Header("x-conn"), first.Header("x-conn"));
  EXPECT_EQ(proxy_->Stat("cluster.origin.upstream_cx_tls_handshake_failed"), 0);
}

TEST_F(TlsOriginationTest, WrongCaIsAnswered503AndTheAccessLogSaysWhy) {
  Start(VerifiedTls(certs_.other_ca.cert()));
  RawClient::Response r = Request(proxy_->port(), GetRequest());
  EXPECT_EQ(r.status, 503) << r.head;
  nlohmann::json entry =
      proxy_->WaitForEntry([](const nlohmann::json& e) { return e.value("status", 0) == 503; });
  EXPECT_EQ(entry.value("flags", ""), "UF");
  EXPECT_THAT(entry.value("details", ""),
              HasSubstr("upstream_reset_before_response_started{tls_handshake_failed:"
                        "certificate verify failed"));
  EXPECT_GE(proxy_->Stat("cluster.origin.upstream_cx_tls_handshake_failed"), 1);
}

TEST_F(TlsOriginationTest, ClientCertificateWhenTheOriginRequiresOne) {
  UpstreamTlsContext tls = VerifiedTls(certs_.ca.cert());
  auto* cert = tls.mutable_common_tls_context()->add_tls_certificates();
  cert->mutable_certificate_chain()->set_filename(certs_.client.cert);
  cert->mutable_private_key()->set_filename(certs_.client.key);
  Start(tls, /*mtls=*/true);
  RawClient::Response with_cert = Request(proxy_->port(), GetRequest());
  EXPECT_EQ(with_cert.status, 200) << with_cert.head << with_cert.body;

  // Without the certificate nginx refuses the request (its 400 for a
  // missing client certificate).
  FakeAdsServer::Request ack = proxy_->UpdateCluster(
      [&] {
        auto c = proxy_->OriginCluster();
        SetTls(c, VerifiedTls(certs_.ca.cert()));
        return c;
      }(),
      "2");
  EXPECT_FALSE(ack.has_error_detail()) << ack.error_detail().message();
  RawClient::Response without = Request(proxy_->port(), GetRequest());
  EXPECT_EQ(without.status, 400) << without.body;
  EXPECT_THAT(without.body, HasSubstr("No required SSL certificate was sent"));
}

TEST_F(TlsOriginationTest, UnsupportedOrUnreadableTlsIsNackedAndTrafficKeepsFlowing) {
  Start(VerifiedTls(certs_.ca.cert()));
  ASSERT_EQ(Request(proxy_->port(), GetRequest()).status, 200);

  UpstreamTlsContext renegotiating = VerifiedTls(certs_.ca.cert());
  renegotiating.set_allow_renegotiation(true);
  auto cluster = proxy_->OriginCluster();
  SetTls(cluster, renegotiating);
  FakeAdsServer::Request nack = proxy_->UpdateCluster(cluster, "2");
  ASSERT_TRUE(nack.has_error_detail());
  EXPECT_THAT(nack.error_detail().message(),
              HasSubstr("cluster 'origin': transport_socket.typed_config.allow_renegotiation is "
                        "not supported by causeway-proxy"));
  EXPECT_EQ(Request(proxy_->port(), GetRequest()).status, 200);

  const std::string absent = certs_.dir.File("absent-ca.crt");
  SetTls(cluster, VerifiedTls(absent));
  nack = proxy_->UpdateCluster(cluster, "3");
  ASSERT_TRUE(nack.has_error_detail());
  EXPECT_THAT(nack.error_detail().message(),
              HasSubstr("cluster 'origin': transport_socket.typed_config.common_tls_context."
                        "validation_context.trusted_ca.filename: " +
                        absent + ": cannot load PEM CA certificates"));
  RawClient::Response still = Request(proxy_->port(), GetRequest());
  EXPECT_EQ(still.status, 200);
  EXPECT_EQ(still.Header("x-origin"), "nginx-tls");
}

// A failed handshake is a connect failure, and retry_on connect-failure
// retries it: a clear-text endpoint in the TLS cluster (nginx's clear-text
// port, which answers a ClientHello with an HTTP 400) costs the client
// nothing while another endpoint speaks TLS.
TEST_F(TlsOriginationTest, FailedHandshakeIsRetriedAsAConnectFailure) {
  NginxTlsOrigin::Options n{certs_.server.cert, certs_.server.key, ""};
  nginx_ = std::make_unique<NginxTlsOrigin>(n);
  ASSERT_TRUE(nginx_->Start());
  ScriptedProxy::Options p;
  p.origin_port = nginx_->port();
  const uint16_t clear_port = nginx_->clear_text_port();
  p.cluster = [&, clear_port](envoy::config::cluster::v3::Cluster& c) {
    SetTls(c, VerifiedTls(certs_.ca.cert()));
    auto* endpoints = c.mutable_load_assignment()->mutable_endpoints(0);
    auto copy = endpoints->lb_endpoints(0);
    copy.mutable_endpoint()->mutable_address()->mutable_socket_address()->set_port_value(
        clear_port);
    *endpoints->add_lb_endpoints() = copy;
  };
  p.hcm = [](ScriptedProxy::Hcm& hcm) {
    auto* route = hcm.mutable_route_config()->mutable_virtual_hosts(0)->mutable_routes(0);
    route->mutable_route()->mutable_retry_policy()->set_retry_on("connect-failure");
    route->mutable_route()->mutable_retry_policy()->mutable_num_retries()->set_value(2);
  };
  proxy_ = std::make_unique<ScriptedProxy>(p);
  ASSERT_TRUE(proxy_->Start());
  for (int i = 0; i < 4; ++i) {
    RawClient::Response r = Request(proxy_->port(), GetRequest());
    EXPECT_EQ(r.status, 200) << r.head << r.body;
    EXPECT_EQ(r.Header("x-origin"), "nginx-tls");
  }
  EXPECT_GE(proxy_->Stat("cluster.origin.upstream_cx_tls_handshake_failed"), 1);
  nlohmann::json retried =
      proxy_->WaitForEntry([](const nlohmann::json& e) { return e.value("attempts", 0) >= 2; });
  EXPECT_EQ(retried.value("status", 0), 200);
}

// Active health checks of a TLS cluster speak TLS too, verified as the
// traffic is: nginx answers them, and with a CA that did not sign its
// certificate every check fails.
TEST_F(TlsOriginationTest, HealthChecksOfATlsClusterSpeakTls) {
  auto add_check = [](envoy::config::cluster::v3::Cluster& c) {
    auto* hc = c.add_health_checks();
    hc->mutable_timeout()->set_seconds(2);
    hc->mutable_interval()->set_nanos(200 * 1000 * 1000);
    hc->mutable_unhealthy_threshold()->set_value(1);
    hc->mutable_healthy_threshold()->set_value(1);
    hc->mutable_http_health_check()->set_path("/healthz");
  };
  NginxTlsOrigin::Options n{certs_.server.cert, certs_.server.key, ""};
  nginx_ = std::make_unique<NginxTlsOrigin>(n);
  ASSERT_TRUE(nginx_->Start());
  ScriptedProxy::Options p;
  p.origin_port = nginx_->port();
  p.cluster = [&](envoy::config::cluster::v3::Cluster& c) {
    SetTls(c, VerifiedTls(certs_.ca.cert()));
    add_check(c);
  };
  proxy_ = std::make_unique<ScriptedProxy>(p);
  ASSERT_TRUE(proxy_->Start());
  EXPECT_TRUE(causeway::testing::WaitFor(
      [&] { return proxy_->Stat("cluster.origin.health_check.success") >= 2; },
      std::chrono::seconds(30)))
      << proxy_->Log();
  EXPECT_EQ(proxy_->Stat("cluster.origin.health_check.failure"), 0);
  EXPECT_EQ(proxy_->Stat("cluster.origin.health_check.healthy"), 1);

  auto wrong_ca = proxy_->OriginCluster();
  SetTls(wrong_ca, VerifiedTls(certs_.other_ca.cert()));
  add_check(wrong_ca);
  FakeAdsServer::Request ack = proxy_->UpdateCluster(wrong_ca, "2");
  EXPECT_FALSE(ack.has_error_detail()) << ack.error_detail().message();
  EXPECT_TRUE(causeway::testing::WaitFor(
      [&] { return proxy_->Stat("cluster.origin.health_check.healthy") == 0; },
      std::chrono::seconds(30)))
      << proxy_->Log();
  EXPECT_THAT(proxy_->Log(), HasSubstr("tls_handshake_failed:certificate verify failed"));
}

}  // namespace
}  // namespace causeway::proxy::testing
