// TLS termination by the real causeway-proxy binary: a listener whose
// filter chains carry DownstreamTlsContexts chosen by SNI (as the hub
// writes a domain's `tls`), with curl and openssl's s_client as clients and
// certificates made at run time: the chain's certificate served and
// verified, clear text on the same port served by the plain chain, an SNI
// no chain serves refused, client certificates required (mTLS), and a
// certificate replaced on disk served to the next handshake.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <cstdio>

#include "command_output.h"
#include "envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "scripted_proxy.h"
#include "support/process.h"
#include "support/test_certs.h"
#include "test_origin.h"

namespace causeway::proxy::testing {
namespace {

using ::causeway::testing::CommandOutput;
using ::causeway::testing::RunCommand;

using causeway::testing::CertFiles;
using causeway::testing::TempDir;
using causeway::testing::TestCa;
using causeway::testing::WaitFor;
using envoy::extensions::transport_sockets::tls::v3::DownstreamTlsContext;
using ::testing::HasSubstr;
using namespace std::chrono_literals;  // NOLINT(google-build-using-namespace)

// The listener as the hub writes it for a domain with `tls` on its port: the
// tls_inspector, one TLS chain for the domain's names, the plain chain last.
void AddTlsChain(envoy::config::listener::v3::Listener& l, const std::vector<std::string>& names,
                 const DownstreamTlsContext& tls) {
  l.add_listener_filters()->set_name("envoy.filters.listener.tls_inspector");
  l.mutable_listener_filters(0)->mutable_typed_config()->PackFrom(
      envoy::extensions::filters::listener::tls_inspector::v3::TlsInspector());
  envoy::config::listener::v3::FilterChain chain = l.filter_chains(0);
  for (const std::string& n : names) chain.mutable_filter_chain_match()->add_server_names(n);
  chain.mutable_filter_chain_match()->set_transport_protocol("tls");
  chain.mutable_transport_socket()->set_name("envoy.transport_sockets.tls");
  chain.mutable_transport_socket()->mutable_typed_config()->PackFrom(tls);
  *l.add_filter_chains() = l.filter_chains(0);
  *l.mutable_filter_chains(0) = chain;
}

class TlsTerminationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ca_.ok());
    ASSERT_FALSE(server_.cert.empty());
    ASSERT_FALSE(client_.cert.empty());
  }

  DownstreamTlsContext ServerTls(bool mtls) const {
    DownstreamTlsContext tls;
    auto* common = tls.mutable_common_tls_context();
    auto* cert = common->add_tls_certificates();
    cert->mutable_certificate_chain()->set_filename(server_.cert);
    cert->mutable_private_key()->set_filename(server_.key);
    common->add_alpn_protocols("http/1.1");
    if (mtls) {
      common->mutable_validation_context()->mutable_trusted_ca()->set_filename(ca_.cert());
      tls.mutable_require_client_certificate()->set_value(true);
    }
    return tls;
  }

  void Start(bool mtls = false) {
    ScriptedProxy::Options p;
    p.origin_port = origin_.port();
    DownstreamTlsContext tls = ServerTls(mtls);
    p.listener = [tls](envoy::config::listener::v3::Listener& l) {
      AddTlsChain(l, {"localhost", "*.apps.test"}, tls);
    };
    proxy_ = std::make_unique<ScriptedProxy>(p);
    ASSERT_TRUE(proxy_->Start());
  }

  // curl to https://NAME:PORT/hello (NAME resolved to 127.0.0.1), verifying
  // the proxy's certificate against the test CA; `extra`: more arguments.
  CommandOutput Curl(const std::string& name, const std::string& extra = "") const {
    const std::string port = std::to_string(proxy_->port());
    return RunCommand("curl -sS --max-time 20 --cacert '" + ca_.cert() + "' --resolve " + name +
                      ":" + port + ":127.0.0.1 -D - " + extra + " https://" + name + ":" + port +
                      "/hello");
  }

  // The subject of the certificate the proxy presents for SNI localhost.
  std::string ServedSubject() const {
    return RunCommand("openssl s_client -connect 127.0.0.1:" + std::to_string(proxy_->port()) +
                      " -servername localhost </dev/null 2>/dev/null | openssl x509 -noout "
                      "-subject")
        .output;
  }

  TempDir dir_;
  TestCa ca_{dir_.path(), "edge"};
  CertFiles server_ = ca_.Issue("edge-server", "edge first");
  CertFiles client_ = ca_.Issue("edge-client", "edge client");
  TestOrigin origin_{"blue"};
  std::unique_ptr<ScriptedProxy> proxy_;
};

TEST_F(TlsTerminationTest, TlsBySniAndClearTextOnTheSamePort) {
  Start();
  CommandOutput tls = Curl("localhost");
  EXPECT_EQ(tls.exit_status, 0) << tls.output;
  EXPECT_THAT(tls.output, HasSubstr("HTTP/1.1 200"));
  EXPECT_THAT(tls.output, HasSubstr("x-origin: blue"));
  EXPECT_THAT(tls.output, HasSubstr("GET /hello\n"));  // the origin's echo
  // A wildcard server name covers one more label.
  CommandOutput wildcard =
      Curl("a.apps.test", "--insecure");  // the test certificate names localhost only
  EXPECT_THAT(wildcard.output, HasSubstr("HTTP/1.1 200")) << wildcard.output;
  // Two requests on one TLS connection (keep-alive after the handshake).
  CommandOutput twice =
      RunCommand("curl -sS --max-time 20 --cacert '" + ca_.cert() +
                 "' -o /dev/null -o /dev/null -w '%{http_code} ' " +
                 "https://localhost:" + std::to_string(proxy_->port()) +
                 "/a https://localhost:" + std::to_string(proxy_->port()) + "/b -v");
  EXPECT_THAT(twice.output, HasSubstr("200 200")) << twice.output;
  EXPECT_THAT(twice.output, HasSubstr("Re-using existing connection")) << twice.output;

  RawClient::Response plain = Request(proxy_->port(), "GET /plain HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(plain.status, 200);
  EXPECT_EQ(plain.Header("x-origin"), "blue");
  EXPECT_GE(proxy_->Stat("ssl.handshake"), 3);
  EXPECT_EQ(proxy_->Stat("ssl.connection_error"), 0);
}

TEST_F(TlsTerminationTest, SniWithoutChainIsRefused) {
  Start();
  CommandOutput other = Curl("other.test", "--insecure");
  EXPECT_NE(other.exit_status, 0) << other.output;
  EXPECT_THAT(other.output, ::testing::Not(HasSubstr("HTTP/1.1 200")));
  EXPECT_TRUE(WaitFor([&] { return proxy_->Stat("no_filter_chain_match") >= 1; }, 20s));
  EXPECT_GE(proxy_->Stat("ssl.connection_error"), 1);
  // Still serving the names it has.
  EXPECT_THAT(Curl("localhost").output, HasSubstr("HTTP/1.1 200"));
}

TEST_F(TlsTerminationTest, ClientCertificateRequired) {
  Start(/*mtls=*/true);
  CommandOutput without = Curl("localhost");
  EXPECT_NE(without.exit_status, 0) << without.output;
  EXPECT_THAT(without.output, ::testing::Not(HasSubstr("HTTP/1.1 200")));
  CommandOutput with =
      Curl("localhost", "--cert '" + client_.cert + "' --key '" + client_.key + "'");
  EXPECT_EQ(with.exit_status, 0) << with.output;
  EXPECT_THAT(with.output, HasSubstr("HTTP/1.1 200"));
}

TEST_F(TlsTerminationTest, ReplacedCertificateServedToTheNextHandshake) {
  Start();
  ASSERT_THAT(ServedSubject(), HasSubstr("edge first"));
  // The same files, replaced (as a renewal does).
  ASSERT_FALSE(ca_.Issue("edge-server", "edge renewed").cert.empty());
  // The files are looked at again at most once a second.
  EXPECT_TRUE(
      WaitFor([&] { return ServedSubject().find("edge renewed") != std::string::npos; }, 20s))
      << ServedSubject();
  EXPECT_THAT(Curl("localhost").output, HasSubstr("HTTP/1.1 200"));
}

// An upgraded connection (101) over TLS: the tunnel carries bytes both
// ways through the TLS session. Asynchronous operations under a bounded
// run of the io_context, so a broken tunnel fails rather than hangs.
TEST_F(TlsTerminationTest, UpgradedConnectionTunnelsOverTls) {
  namespace asio = boost::asio;
  Start();
  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.load_verify_file(ca_.cert());
  ctx.set_verify_mode(asio::ssl::verify_peer);
  asio::ssl::stream<asio::ip::tcp::socket> stream(io, ctx);
  SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
  stream.next_layer().connect(
      {asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(proxy_->port())});
  std::string head, echoed;
  const std::string upgrade =
      "GET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
  std::array<char, 64> chunk;
  std::function<void()> read_echo = [&] {
    stream.async_read_some(asio::buffer(chunk), [&](boost::system::error_code ec, size_t n) {
      if (ec) return;
      echoed.append(chunk.data(), n);
      if (echoed.size() < 10) read_echo();
    });
  };
  stream.async_handshake(asio::ssl::stream_base::client, [&](boost::system::error_code ec) {
    ASSERT_FALSE(ec) << ec.message();
    asio::async_write(stream, asio::buffer(upgrade), [&](boost::system::error_code, size_t) {
      asio::async_read_until(
          stream, asio::dynamic_buffer(head), "\r\n\r\n",
          [&](boost::system::error_code rec, size_t n) {
            if (rec) return;
            echoed = head.substr(n);  // bytes after the head, if any came with it
            head.resize(n);
            static const std::string kPing = "ping-frame";
            asio::async_write(stream, asio::buffer(kPing),
                              [&](boost::system::error_code, size_t) { read_echo(); });
          });
    });
  });
  io.run_for(std::chrono::seconds(20));
  EXPECT_THAT(head, HasSubstr("HTTP/1.1 101"));
  EXPECT_EQ(echoed, "ping-frame");
}

// One proxy originating TLS to another that terminates it, with a client
// certificate both ways verified (mTLS between two causeway-proxies): plain
// requests and an upgraded connection, whose tunnel then runs through a TLS
// session on the front proxy's upstream side and the back proxy's
// downstream side.
TEST_F(TlsTerminationTest, ProxyToProxyMutualTlsCarriesRequestsAndAnUpgrade) {
  Start(/*mtls=*/true);
  ScriptedProxy::Options front_options;
  front_options.origin_port = proxy_->port();
  const std::string ca = ca_.cert();
  const CertFiles client = client_;
  front_options.cluster = [ca, client](envoy::config::cluster::v3::Cluster& c) {
    envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext tls;
    tls.set_sni("localhost");
    auto* common = tls.mutable_common_tls_context();
    common->mutable_validation_context()->mutable_trusted_ca()->set_filename(ca);
    auto* cert = common->add_tls_certificates();
    cert->mutable_certificate_chain()->set_filename(client.cert);
    cert->mutable_private_key()->set_filename(client.key);
    c.mutable_transport_socket()->set_name("envoy.transport_sockets.tls");
    c.mutable_transport_socket()->mutable_typed_config()->PackFrom(tls);
  };
  ScriptedProxy front(front_options);
  ASSERT_TRUE(front.Start());

  RawClient::Response plain = Request(front.port(), "GET /via HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(plain.status, 200) << plain.head << plain.body;
  EXPECT_EQ(plain.Header("x-origin"), "blue");

  RawClient c(front.port());
  ASSERT_TRUE(
      c.Send("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"));
  RawClient::Response r = c.Read();
  ASSERT_EQ(r.status, 101) << r.head;
  ASSERT_TRUE(c.Send("ping-frame"));
  std::string echoed;
  while (echoed.size() < 10) {
    std::string got = c.ReadSome();
    if (got.empty()) break;
    echoed += got;
  }
  EXPECT_EQ(echoed, "ping-frame");
  EXPECT_EQ(front.Stat("cluster.origin.upstream_cx_tls_handshake_failed"), 0);
  EXPECT_GE(proxy_->Stat("ssl.handshake"), 1);
}

}  // namespace
}  // namespace causeway::proxy::testing
