// TLS settings built from Envoy's tls.v3 messages: what a cluster's and a
// listener's TLS turn into, and the NACKs for files that do not load.
#include "proxy/config/tls_context.h"

#include "envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxy/config/build_config.h"
#include "support/process.h"
#include "support/test_certs.h"
#include "support/xds/translate_test_util.h"
#include "xds/translate.h"

namespace causeway::proxy {
namespace {

using envoy::extensions::transport_sockets::tls::v3::DownstreamTlsContext;
using envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext;
using ::testing::HasSubstr;

class TlsContextBuildTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ca_.ok());
    server_ = ca_.Issue("server", "origin.test");
    ASSERT_FALSE(server_.cert.empty());
  }

  envoy::config::cluster::v3::Cluster TlsCluster(const UpstreamTlsContext& tls) const {
    envoy::config::cluster::v3::Cluster c;
    c.set_name("api");
    c.set_type(envoy::config::cluster::v3::Cluster::STATIC);
    c.mutable_transport_socket()->set_name("envoy.transport_sockets.tls");
    c.mutable_transport_socket()->mutable_typed_config()->PackFrom(tls);
    return c;
  }

  UpstreamTlsContext Verified(const std::string& ca_file) const {
    UpstreamTlsContext tls;
    tls.set_sni("origin.test");
    auto* v = tls.mutable_common_tls_context()->mutable_validation_context();
    v->mutable_trusted_ca()->set_filename(ca_file);
    auto* san = v->add_match_typed_subject_alt_names();
    san->set_san_type(envoy::extensions::transport_sockets::tls::v3::SubjectAltNameMatcher::DNS);
    san->mutable_matcher()->set_exact("origin.test");
    return tls;
  }

  // A listener with one TLS chain for `names` and the plain chain last.
  envoy::config::listener::v3::Listener TlsListener(const DownstreamTlsContext& tls,
                                                    bool inspector = true) const {
    envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager hcm;
    hcm.mutable_rds()->set_route_config_name("edge:443");
    envoy::config::listener::v3::Listener l;
    l.set_name("edge:443");
    l.mutable_address()->mutable_socket_address()->set_address("127.0.0.1");
    if (inspector) {
      l.add_listener_filters()->mutable_typed_config()->PackFrom(
          envoy::extensions::filters::listener::tls_inspector::v3::TlsInspector());
    }
    auto* chain = l.add_filter_chains();
    chain->mutable_filter_chain_match()->add_server_names("app.test");
    chain->mutable_filter_chain_match()->add_server_names("*.apps.test");
    chain->mutable_filter_chain_match()->set_transport_protocol("tls");
    chain->mutable_transport_socket()->mutable_typed_config()->PackFrom(tls);
    chain->add_filters()->mutable_typed_config()->PackFrom(hcm);
    l.add_filter_chains()->add_filters()->mutable_typed_config()->PackFrom(hcm);
    return l;
  }

  DownstreamTlsContext ServerTls() const {
    DownstreamTlsContext tls;
    auto* cert = tls.mutable_common_tls_context()->add_tls_certificates();
    cert->mutable_certificate_chain()->set_filename(server_.cert);
    cert->mutable_private_key()->set_filename(server_.key);
    tls.mutable_common_tls_context()->add_alpn_protocols("http/1.1");
    return tls;
  }

  causeway::testing::TempDir dir_;
  causeway::testing::TestCa ca_{dir_.path(), "tlsctx"};
  causeway::testing::CertFiles server_;
};

TEST_F(TlsContextBuildTest, ClusterTlsWithCaSniAndSubjectAltName) {
  auto built = BuildCluster(TlsCluster(Verified(ca_.cert())), nullptr);
  ASSERT_TRUE(built.ok()) << built.status();
  const auto& tls = (*built)->tls;
  ASSERT_NE(tls, nullptr);
  EXPECT_EQ(tls->sni, "origin.test");
  EXPECT_EQ(tls->ca_file, ca_.cert());
  EXPECT_THAT(tls->san_exact, ::testing::ElementsAre("origin.test"));
  EXPECT_NE(tls->context, nullptr);
  EXPECT_THAT(tls->pool_prefix, HasSubstr("origin.test"));
}

TEST_F(TlsContextBuildTest, ClusterWithoutTransportSocketIsClearText) {
  envoy::config::cluster::v3::Cluster c;
  c.set_name("plain");
  auto built = BuildCluster(c, nullptr);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ((*built)->tls, nullptr);
}

TEST_F(TlsContextBuildTest, UnreadableFilesNameTheFileAndField) {
  auto missing_ca = BuildCluster(TlsCluster(Verified(dir_.File("absent.crt"))), nullptr);
  ASSERT_FALSE(missing_ca.ok());
  EXPECT_THAT(std::string(missing_ca.status().message()),
              HasSubstr("cluster 'api': transport_socket.typed_config.common_tls_context."
                        "validation_context.trusted_ca.filename: " +
                        dir_.File("absent.crt") + ": cannot load"));

  UpstreamTlsContext with_cert = Verified(ca_.cert());
  auto* cert = with_cert.mutable_common_tls_context()->add_tls_certificates();
  cert->mutable_certificate_chain()->set_filename(server_.cert);
  cert->mutable_private_key()->set_filename(ca_.cert());  // not a key
  auto bad_key = BuildCluster(TlsCluster(with_cert), nullptr);
  ASSERT_FALSE(bad_key.ok());
  EXPECT_THAT(std::string(bad_key.status().message()),
              HasSubstr("tls_certificates[0].private_key.filename: " + ca_.cert()));
}

TEST_F(TlsContextBuildTest, InlineKeyMaterialIsRefused) {
  UpstreamTlsContext tls = Verified(ca_.cert());
  tls.mutable_common_tls_context()
      ->mutable_validation_context()
      ->mutable_trusted_ca()
      ->set_inline_string("-----BEGIN CERTIFICATE-----");
  auto built = BuildCluster(TlsCluster(tls), nullptr);
  ASSERT_FALSE(built.ok());
  EXPECT_THAT(std::string(built.status().message()),
              HasSubstr("validation_context.trusted_ca: only a filename is supported"));
}

TEST_F(TlsContextBuildTest, OnlyExactDnsSubjectAltNames) {
  UpstreamTlsContext tls = Verified(ca_.cert());
  auto* m = tls.mutable_common_tls_context()
                ->mutable_validation_context()
                ->mutable_match_typed_subject_alt_names(0)
                ->mutable_matcher();
  m->set_prefix("origin");
  auto built = BuildCluster(TlsCluster(tls), nullptr);
  ASSERT_FALSE(built.ok());
  EXPECT_THAT(std::string(built.status().message()),
              HasSubstr("match_typed_subject_alt_names[0].matcher: only a non-empty exact match"));
}

TEST_F(TlsContextBuildTest, ListenerTlsChainsAndPlainChain) {
  auto built = BuildListener(TlsListener(ServerTls()));
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_TRUE(built->plain_chain);
  EXPECT_EQ(built->route_config_name, "edge:443");
  ASSERT_EQ(built->tls_chains.size(), 1u);
  const DownstreamTlsChain& chain = *built->tls_chains[0];
  EXPECT_TRUE(chain.Matches("app.test"));
  EXPECT_TRUE(chain.Matches("APP.test"));
  EXPECT_TRUE(chain.Matches("a.apps.test"));
  EXPECT_FALSE(chain.Matches("apps.test"));
  EXPECT_FALSE(chain.Matches("a.b.apps.test"));
  EXPECT_FALSE(chain.Matches("other.test"));
  EXPECT_NE(chain.certificates->Current(), nullptr);
}

TEST_F(TlsContextBuildTest, ListenerTlsErrorsNameTheField) {
  auto no_inspector = BuildListener(TlsListener(ServerTls(), /*inspector=*/false));
  ASSERT_FALSE(no_inspector.ok());
  EXPECT_THAT(std::string(no_inspector.status().message()),
              HasSubstr("listener 'edge:443'.listener_filters: "
                        "envoy.filters.listener.tls_inspector is required"));

  DownstreamTlsContext mtls = ServerTls();
  mtls.mutable_require_client_certificate()->set_value(true);
  auto no_ca = BuildListener(TlsListener(mtls));
  ASSERT_FALSE(no_ca.ok());
  EXPECT_THAT(std::string(no_ca.status().message()),
              HasSubstr("require_client_certificate: needs common_tls_context.validation_context"));

  DownstreamTlsContext missing = ServerTls();
  missing.mutable_common_tls_context()
      ->mutable_tls_certificates(0)
      ->mutable_certificate_chain()
      ->set_filename(dir_.File("gone.crt"));
  auto no_file = BuildListener(TlsListener(missing));
  ASSERT_FALSE(no_file.ok());
  EXPECT_THAT(std::string(no_file.status().message()),
              HasSubstr("filter_chains[0].transport_socket.typed_config.common_tls_context."
                        "tls_certificates[0].certificate_chain.filename: " +
                        dir_.File("gone.crt")));
}

TEST_F(TlsContextBuildTest, ServerCertificatesFollowReplacedFiles) {
  auto built = BuildListener(TlsListener(ServerTls()));
  ASSERT_TRUE(built.ok()) << built.status();
  auto& certs = *built->tls_chains[0]->certificates;
  auto first = certs.Current();
  ca_.Issue("server", "renewed.test");  // the same files, replaced
  // Looked at again at most once a second.
  ASSERT_TRUE(causeway::testing::WaitFor([&] { return certs.Current() != first; },
                                         std::chrono::seconds(20)));
  X509* now = SSL_CTX_get0_certificate(certs.Current()->native_handle());
  char cn[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(now), NID_commonName, cn, sizeof(cn));
  EXPECT_STREQ(cn, "renewed.test");
}

// The hub's translation of a domain's and a cluster's `tls` is what the
// proxy builds: one TLS chain per TLS domain before the plain chain, and the
// cluster's verified UpstreamTlsContext.
TEST_F(TlsContextBuildTest, TheHubsTlsTranslationIsAccepted) {
  using xds::testing::Target;
  xds::testing::ZoneBuilder zone;
  zone.AddProxy("edge", {"app.test:443", "plain.test:443"});
  zone.AddDomain("app.test", 443, {"*.apps.test"}).tls =
      model::DownstreamTls{server_.cert, server_.key, ca_.cert()};
  zone.AddDomain("plain.test", 443);
  zone.AddGroup("main", {Target("blue")});
  zone.AddRoute("root", "app.test:443", "/", "main");
  zone.AddCluster("blue", {{"127.0.0.1", 8443, {}}}).tls =
      model::UpstreamTls{"origin.test", ca_.cert(), "", ""};
  auto resources = xds::TranslateProxy(zone.View(), "edge");
  ASSERT_TRUE(resources.ok()) << resources.status();
  auto built = BuildConfig(resources->listeners, resources->routes, resources->clusters,
                           resources->endpoints);
  ASSERT_TRUE(built.ok()) << built.status();
  const ListenerConfig& listener = (*built)->listeners.at(0);
  ASSERT_EQ(listener.tls_chains.size(), 1u);
  EXPECT_NE(listener.tls, nullptr);
  EXPECT_TRUE(listener.plain_chain);
  EXPECT_TRUE(listener.tls_chains[0]->Matches("app.test"));
  EXPECT_TRUE(listener.tls_chains[0]->Matches("x.apps.test"));
  EXPECT_FALSE(listener.tls_chains[0]->Matches("plain.test"));
  EXPECT_EQ(listener.tls->Find("plain.test"), nullptr);
  const ClusterConfig* cluster = (*built)->FindCluster("blue");
  ASSERT_NE(cluster, nullptr);
  ASSERT_NE(cluster->tls, nullptr);
  EXPECT_EQ(cluster->tls->sni, "origin.test");
  EXPECT_EQ(cluster->tls->ca_file, ca_.cert());
  EXPECT_THAT(cluster->tls->san_exact, ::testing::ElementsAre("origin.test"));
}

}  // namespace
}  // namespace causeway::proxy
