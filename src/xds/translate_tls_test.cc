// Cluster tls/protocol and Domain tls as Envoy v3 fields: the exact fields
// and type URLs the proxy and Envoy read, and no new field at all for
// objects without them.
#include <string>

#include "envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "support/xds/translate_test_util.h"
#include "xds/translate.h"

namespace causeway::xds {
namespace {

namespace tls_v3 = envoy::extensions::transport_sockets::tls::v3;
using envoy::config::cluster::v3::Cluster;
using envoy::config::listener::v3::Listener;
using envoy::extensions::upstreams::http::v3::HttpProtocolOptions;
using ::testing::ElementsAre;
using testing::SeedZone;
using testing::Target;
using testing::ZoneBuilder;

constexpr char kUpstreamTlsType[] =
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";
constexpr char kDownstreamTlsType[] =
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext";
constexpr char kProtocolOptionsKey[] = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";
constexpr char kProtocolOptionsType[] =
    "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions";
constexpr char kTlsInspectorType[] =
    "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector";

Cluster TranslateTlsCluster(const model::Cluster& cluster) {
  ZoneBuilder zone;
  zone.AddCluster(cluster.name) = cluster;
  absl::StatusOr<ZoneIndex> index = ZoneIndex::Build(zone.View());
  EXPECT_TRUE(index.ok()) << index.status();
  absl::StatusOr<Cluster> out = TranslateCluster(*index, cluster.name);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : Cluster();
}

tls_v3::UpstreamTlsContext UpstreamContextOf(const Cluster& cluster) {
  EXPECT_EQ(cluster.transport_socket().name(), "envoy.transport_sockets.tls");
  EXPECT_EQ(cluster.transport_socket().typed_config().type_url(), kUpstreamTlsType);
  tls_v3::UpstreamTlsContext context;
  EXPECT_TRUE(cluster.transport_socket().typed_config().UnpackTo(&context));
  return context;
}

HttpProtocolOptions ProtocolOptionsOf(const Cluster& cluster) {
  EXPECT_EQ(cluster.typed_extension_protocol_options_size(), 1);
  auto it = cluster.typed_extension_protocol_options().find(kProtocolOptionsKey);
  HttpProtocolOptions options;
  if (it == cluster.typed_extension_protocol_options().end()) {
    ADD_FAILURE() << "no " << kProtocolOptionsKey;
    return options;
  }
  EXPECT_EQ(it->second.type_url(), kProtocolOptionsType);
  EXPECT_TRUE(it->second.UnpackTo(&options));
  return options;
}

TEST(TranslateTlsClusterTest, EveryFieldAndAutoProtocol) {
  model::Cluster svc{"svc", {{"10.0.0.1", 443, {}}}};
  svc.tls = model::UpstreamTls{"api.example.com", "/etc/causeway/ca.pem", "/etc/causeway/c.pem",
                               "/etc/causeway/k.pem"};
  svc.protocol = model::ClusterProtocol::kAuto;
  Cluster out = TranslateTlsCluster(svc);

  tls_v3::UpstreamTlsContext context = UpstreamContextOf(out);
  EXPECT_EQ(context.sni(), "api.example.com");
  const tls_v3::CommonTlsContext& common = context.common_tls_context();
  const auto& validation = common.validation_context();
  EXPECT_EQ(validation.trusted_ca().filename(), "/etc/causeway/ca.pem");
  ASSERT_EQ(validation.match_typed_subject_alt_names_size(), 1);
  EXPECT_EQ(validation.match_typed_subject_alt_names(0).san_type(),
            tls_v3::SubjectAltNameMatcher::DNS);
  EXPECT_EQ(validation.match_typed_subject_alt_names(0).matcher().exact(), "api.example.com");
  ASSERT_EQ(common.tls_certificates_size(), 1);
  EXPECT_EQ(common.tls_certificates(0).certificate_chain().filename(), "/etc/causeway/c.pem");
  EXPECT_EQ(common.tls_certificates(0).private_key().filename(), "/etc/causeway/k.pem");
  EXPECT_THAT(common.alpn_protocols(), ElementsAre("h2", "http/1.1"));

  HttpProtocolOptions options = ProtocolOptionsOf(out);
  ASSERT_TRUE(options.has_auto_config());
  EXPECT_TRUE(options.auto_config().has_http_protocol_options());
  EXPECT_TRUE(options.auto_config().has_http2_protocol_options());
  EXPECT_FALSE(options.has_explicit_http_config());
}

TEST(TranslateTlsClusterTest, EmptyTlsVerifiesAgainstTheSystemBundle) {
  model::Cluster svc{"svc", {{"10.0.0.1", 443, {}}}};
  svc.tls = model::UpstreamTls{};
  svc.protocol = model::ClusterProtocol::kHttp2;
  Cluster out = TranslateTlsCluster(svc);

  tls_v3::UpstreamTlsContext context = UpstreamContextOf(out);
  EXPECT_EQ(context.sni(), "");
  const tls_v3::CommonTlsContext& common = context.common_tls_context();
  ASSERT_TRUE(common.has_validation_context());
  EXPECT_EQ(common.validation_context().trusted_ca().filename(),
            "/etc/ssl/certs/ca-certificates.crt");
  EXPECT_EQ(common.validation_context().match_typed_subject_alt_names_size(), 0);
  EXPECT_EQ(common.tls_certificates_size(), 0);
  EXPECT_EQ(common.alpn_protocols_size(), 0);  // http2 is not negotiated

  HttpProtocolOptions options = ProtocolOptionsOf(out);
  ASSERT_TRUE(options.has_explicit_http_config());
  EXPECT_TRUE(options.explicit_http_config().has_http2_protocol_options());
  EXPECT_FALSE(options.has_auto_config());
}

TEST(TranslateTlsClusterTest, Http2InClearTextHasNoTransportSocket) {
  model::Cluster svc{"svc", {{"10.0.0.1", 80, {}}}};
  svc.protocol = model::ClusterProtocol::kHttp2;
  Cluster out = TranslateTlsCluster(svc);
  EXPECT_FALSE(out.has_transport_socket());
  EXPECT_TRUE(ProtocolOptionsOf(out).explicit_http_config().has_http2_protocol_options());
}

TEST(TranslateTlsClusterTest, WithoutTlsOrProtocolNothingIsAdded) {
  model::Cluster svc{"svc", {{"10.0.0.1", 80, {}}}};
  Cluster plain = TranslateTlsCluster(svc);
  EXPECT_FALSE(plain.has_transport_socket());
  EXPECT_EQ(plain.typed_extension_protocol_options_size(), 0);
  // http1 said out loud is the default, not a field.
  svc.protocol = model::ClusterProtocol::kHttp1;
  EXPECT_EQ(SerializeDeterministic(TranslateTlsCluster(svc)), SerializeDeterministic(plain));
}

// Port 443 serves two TLS domains and a plain one; port 80 has no TLS domain.
ZoneBuilder TlsListenerZone() {
  ZoneBuilder zone;
  zone.AddProxy(
      "edge", {"b.example.com:443", "a.example.com:443", "c.example.com:443", "d.example.com:80"});
  model::Domain& a = zone.AddDomain(
      "a.example.com", 443, {"*.a.example.com", "a.*", "www.a.example.org", "a.example.com"});
  a.tls = model::DownstreamTls{"/tls/a.crt", "/tls/a.key", "/tls/clients.pem"};
  model::Domain& b = zone.AddDomain("b.example.com", 443);
  b.tls = model::DownstreamTls{"/tls/b.crt", "/tls/b.key", ""};
  zone.AddDomain("c.example.com", 443);
  zone.AddDomain("d.example.com", 80);
  zone.AddGroup("default", {Target("svc")});
  for (const char* domain :
       {"a.example.com:443", "b.example.com:443", "c.example.com:443", "d.example.com:80"}) {
    zone.AddRoute(std::string("r-") + domain[0], domain, "/", "default");
  }
  zone.AddCluster("svc", {{"10.0.0.1", 80, {}}});
  return zone;
}

tls_v3::DownstreamTlsContext DownstreamContextOf(
    const envoy::config::listener::v3::FilterChain& chain) {
  EXPECT_EQ(chain.transport_socket().name(), "envoy.transport_sockets.tls");
  EXPECT_EQ(chain.transport_socket().typed_config().type_url(), kDownstreamTlsType);
  tls_v3::DownstreamTlsContext context;
  EXPECT_TRUE(chain.transport_socket().typed_config().UnpackTo(&context));
  return context;
}

TEST(TranslateTlsListenerTest, OneChainPerTlsDomainThenThePlainChain) {
  absl::StatusOr<ProxyResources> r = TranslateProxy(TlsListenerZone().View(), "edge");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->listeners.size(), 2u);
  const Listener& tls_listener = r->listeners[0];
  ASSERT_EQ(tls_listener.name(), "edge:443");
  ASSERT_EQ(tls_listener.listener_filters_size(), 1);
  EXPECT_EQ(tls_listener.listener_filters(0).name(), "envoy.filters.listener.tls_inspector");
  EXPECT_EQ(tls_listener.listener_filters(0).typed_config().type_url(), kTlsInspectorType);

  ASSERT_EQ(tls_listener.filter_chains_size(), 3);
  const auto& a = tls_listener.filter_chains(0);
  const auto& b = tls_listener.filter_chains(1);
  const auto& plain = tls_listener.filter_chains(2);
  // "a.*" cannot be said in SNI server_names; the others can, once each.
  EXPECT_THAT(a.filter_chain_match().server_names(),
              ElementsAre("a.example.com", "*.a.example.com", "www.a.example.org"));
  EXPECT_EQ(a.filter_chain_match().transport_protocol(), "tls");
  EXPECT_THAT(b.filter_chain_match().server_names(), ElementsAre("b.example.com"));
  EXPECT_EQ(b.filter_chain_match().transport_protocol(), "tls");
  EXPECT_FALSE(plain.has_filter_chain_match());
  EXPECT_FALSE(plain.has_transport_socket());

  tls_v3::DownstreamTlsContext a_context = DownstreamContextOf(a);
  ASSERT_EQ(a_context.common_tls_context().tls_certificates_size(), 1);
  EXPECT_EQ(a_context.common_tls_context().tls_certificates(0).certificate_chain().filename(),
            "/tls/a.crt");
  EXPECT_EQ(a_context.common_tls_context().tls_certificates(0).private_key().filename(),
            "/tls/a.key");
  EXPECT_EQ(a_context.common_tls_context().validation_context().trusted_ca().filename(),
            "/tls/clients.pem");
  EXPECT_TRUE(a_context.require_client_certificate().value());
  EXPECT_THAT(a_context.common_tls_context().alpn_protocols(), ElementsAre("h2", "http/1.1"));

  tls_v3::DownstreamTlsContext b_context = DownstreamContextOf(b);
  EXPECT_EQ(b_context.common_tls_context().tls_certificates(0).certificate_chain().filename(),
            "/tls/b.crt");
  EXPECT_FALSE(b_context.common_tls_context().has_validation_context());
  EXPECT_FALSE(b_context.has_require_client_certificate());

  // Every chain runs the same connection manager (RDS "edge:443").
  const std::string hcm = SerializeDeterministic(plain.filters(0));
  EXPECT_EQ(plain.filters_size(), 1);
  EXPECT_EQ(SerializeDeterministic(a.filters(0)), hcm);
  EXPECT_EQ(SerializeDeterministic(b.filters(0)), hcm);

  const Listener& plain_listener = r->listeners[1];
  EXPECT_EQ(plain_listener.name(), "edge:80");
  EXPECT_EQ(plain_listener.listener_filters_size(), 0);
  ASSERT_EQ(plain_listener.filter_chains_size(), 1);
  EXPECT_FALSE(plain_listener.filter_chains(0).has_filter_chain_match());
}

// A port whose domains all terminate TLS has no clear-text chain: a client
// in clear text, or naming no TLS domain, finds no chain and is refused.
TEST(TranslateTlsListenerTest, PortOfTlsDomainsOnlyHasNoPlainChain) {
  ZoneBuilder zone;
  zone.AddProxy("edge", {"a.example.com:443", "b.example.com:443"});
  zone.AddDomain("a.example.com", 443).tls =
      model::DownstreamTls{"/tls/a.crt", "/tls/a.key", "/tls/clients.pem"};
  zone.AddDomain("b.example.com", 443).tls = model::DownstreamTls{"/tls/b.crt", "/tls/b.key", ""};
  zone.AddGroup("default", {Target("svc")});
  zone.AddRoute("r-a", "a.example.com:443", "/", "default");
  zone.AddRoute("r-b", "b.example.com:443", "/", "default");
  zone.AddCluster("svc", {{"10.0.0.1", 80, {}}});
  absl::StatusOr<ProxyResources> r = TranslateProxy(zone.View(), "edge");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->listeners.size(), 1u);
  const Listener& listener = r->listeners[0];
  ASSERT_EQ(listener.filter_chains_size(), 2);
  for (const auto& chain : listener.filter_chains()) {
    EXPECT_EQ(chain.filter_chain_match().transport_protocol(), "tls");
    EXPECT_TRUE(chain.has_transport_socket());
  }
  EXPECT_EQ(listener.listener_filters_size(), 1);
}

// A listener none of whose domains has tls is the listener of a zone that
// never heard of TLS, byte for byte.
TEST(TranslateTlsListenerTest, NoTlsDomainLeavesTheListenerAsItWas) {
  ZoneBuilder zone = TlsListenerZone();
  ZoneBuilder without = SeedZone();
  absl::StatusOr<ProxyResources> seed = TranslateProxy(without.View(), "dev-proxy");
  ASSERT_TRUE(seed.ok()) << seed.status();
  ASSERT_EQ(seed->listeners.size(), 1u);
  const Listener& listener = seed->listeners[0];
  EXPECT_EQ(listener.listener_filters_size(), 0);
  ASSERT_EQ(listener.filter_chains_size(), 1);
  EXPECT_FALSE(listener.filter_chains(0).has_filter_chain_match());
  EXPECT_FALSE(listener.filter_chains(0).has_transport_socket());
  // The port-80 listener of the TLS zone equals one translated from a zone
  // with only that domain.
  absl::StatusOr<ProxyResources> mixed = TranslateProxy(zone.View(), "edge");
  ZoneBuilder only80;
  only80.AddProxy("edge", {"d.example.com:80"});
  only80.AddDomain("d.example.com", 80);
  only80.AddGroup("default", {Target("svc")});
  only80.AddRoute("r-d", "d.example.com:80", "/", "default");
  only80.AddCluster("svc", {{"10.0.0.1", 80, {}}});
  absl::StatusOr<ProxyResources> alone = TranslateProxy(only80.View(), "edge");
  ASSERT_TRUE(mixed.ok() && alone.ok());
  EXPECT_EQ(SerializeDeterministic(mixed->listeners[1]),
            SerializeDeterministic(alone->listeners[0]));
}

}  // namespace
}  // namespace causeway::xds
