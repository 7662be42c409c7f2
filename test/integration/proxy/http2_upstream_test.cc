// HTTP/2 from the real causeway-proxy binary to its upstreams (a cluster's
// HttpProtocolOptions), against Debian's nginx with `http2` listeners in
// clear text (prior knowledge) and over TLS, on run-time ports. nginx hands
// every request to an HTTP/1.1 echo origin and says on each response which
// protocol and which connection it was reached by (x-proto, x-conn), so
// the tests see what went over the wire: HTTP/1.1 and HTTP/2 clients
// through an h2 upstream with bodies both ways, many requests sharing one
// upstream connection (or spreading over more under a stream cap), `auto`
// choosing by ALPN, and an upstream killed mid-response ending the client's
// response with an error instead of a hang.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <set>
#include <sstream>

#include "command_output.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"
#include "scripted_proxy.h"
#include "support/nginx_server.h"
#include "support/process.h"
#include "support/test_certs.h"
#include "test_origin.h"

namespace causeway::proxy::testing {
namespace {

using causeway::testing::FreePort;
using causeway::testing::PortOpen;
using causeway::testing::RunCommand;
using causeway::testing::Subprocess;
using causeway::testing::TempDir;
using causeway::testing::WaitFor;
using envoy::extensions::upstreams::http::v3::HttpProtocolOptions;
using ::testing::HasSubstr;

// nginx in front of an HTTP/1.1 echo origin: an h2c port, an h2 TLS port
// and a TLS port without h2 (ALPN http/1.1 only).
class NginxH2UpstreamOrigin {
 public:
  NginxH2UpstreamOrigin(const std::string& cert, const std::string& key, uint16_t backend)
      : nginx_(HttpBlock(cert, key, backend), /*worker_connections=*/512) {}
  bool Start() { return nginx_.Start({h2c_, h2_tls_, h1_tls_}); }
  void Kill() { nginx_.Stop(); }
  uint16_t h2c() const { return h2c_; }
  uint16_t h2_tls() const { return h2_tls_; }
  uint16_t h1_tls() const { return h1_tls_; }

 private:
  std::string HttpBlock(const std::string& cert, const std::string& key, uint16_t backend) const {
    std::ostringstream conf;
    conf << "  client_max_body_size 64m;\n  proxy_request_buffering off;\n"
         << "  proxy_buffering off;\n  proxy_http_version 1.1;\n"
         << "  ssl_certificate " << cert << ";\n  ssl_certificate_key " << key << ";\n"
         << "  server {\n    listen 127.0.0.1:" << h2c_ << " http2;\n"
         << "    listen 127.0.0.1:" << h2_tls_ << " ssl http2;\n"
         << "    listen 127.0.0.1:" << h1_tls_ << " ssl;\n"
         << "    location / {\n"
         << "      add_header x-proto $server_protocol always;\n"
         << "      add_header x-conn $connection always;\n"
         << "      proxy_pass http://127.0.0.1:" << backend << ";\n    }\n  }\n";
    return conf.str();
  }

  const uint16_t h2c_ = static_cast<uint16_t>(FreePort());
  const uint16_t h2_tls_ = static_cast<uint16_t>(FreePort());
  const uint16_t h1_tls_ = static_cast<uint16_t>(FreePort());
  causeway::testing::NginxServer nginx_;
};

HttpProtocolOptions ExplicitHttp2(uint32_t max_streams = 0) {
  HttpProtocolOptions options;
  auto* h2 = options.mutable_explicit_http_config()->mutable_http2_protocol_options();
  if (max_streams > 0) h2->mutable_max_concurrent_streams()->set_value(max_streams);
  return options;
}

HttpProtocolOptions AutoHttp() {
  HttpProtocolOptions options;
  options.mutable_auto_config()->mutable_http_protocol_options();
  options.mutable_auto_config()->mutable_http2_protocol_options();
  return options;
}

class Http2UpstreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access("/usr/sbin/nginx", X_OK) != 0) GTEST_SKIP() << "nginx not installed";
    ASSERT_TRUE(backend_.listening());
    ASSERT_TRUE(ca_.ok());
    ASSERT_FALSE(server_.cert.empty());
    nginx_ = std::make_unique<NginxH2UpstreamOrigin>(server_.cert, server_.key, backend_.port());
    ASSERT_TRUE(nginx_->Start());
  }

  // The proxy in front of nginx's `port` with `options` (and TLS if `tls`).
  void StartProxy(uint16_t port, const HttpProtocolOptions& options, bool tls = false) {
    ScriptedProxy::Options p;
    p.origin_port = port;
    const std::string ca = ca_.cert();
    p.cluster = [options, tls, ca](envoy::config::cluster::v3::Cluster& c) {
      (*c.mutable_typed_extension_protocol_options())
          ["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
              .PackFrom(options);
      if (!tls) return;
      envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext context;
      context.set_sni("localhost");
      context.mutable_common_tls_context()
          ->mutable_validation_context()
          ->mutable_trusted_ca()
          ->set_filename(ca);
      c.mutable_transport_socket()->set_name("envoy.transport_sockets.tls");
      c.mutable_transport_socket()->mutable_typed_config()->PackFrom(context);
    };
    proxy_ = std::make_unique<ScriptedProxy>(p);
    ASSERT_TRUE(proxy_->Start());
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(proxy_->port()) + path;
  }

  TestOrigin backend_{"echo"};
  TempDir dir_;
  causeway::testing::TestCa ca_{dir_.path(), "h2-origin"};
  causeway::testing::CertFiles server_ = ca_.Issue("nginx", "localhost");
  std::unique_ptr<NginxH2UpstreamOrigin> nginx_;
  std::unique_ptr<ScriptedProxy> proxy_;
};

std::string HeadRequest(const std::string& method, const std::string& path,
                        const std::string& extra = "") {
  return method + " " + path + " HTTP/1.1\r\nHost: app.test\r\n" + extra + "\r\n";
}

TEST_F(Http2UpstreamTest, Http11ClientThroughH2cUpstreamWithBodies) {
  StartProxy(nginx_->h2c(), ExplicitHttp2());
  RawClient client(proxy_->port());
  ASSERT_TRUE(client.Send(HeadRequest("GET", "/hello")));
  RawClient::Response get = client.Read();
  ASSERT_EQ(get.status, 200) << get.head << proxy_->Log();
  EXPECT_EQ(get.Header("x-proto"), "HTTP/2.0");
  EXPECT_THAT(get.body, HasSubstr("GET /hello\n"));

  // A body with content-length, and a chunked one, on the same connection.
  const std::string body(100 * 1000, 'b');
  ASSERT_TRUE(client.Send(HeadRequest("POST", "/upload", "Content-Length: 100000\r\n") + body));
  RawClient::Response post = client.Read();
  ASSERT_EQ(post.status, 200) << post.head;
  EXPECT_THAT(post.body, HasSubstr(body));
  ASSERT_TRUE(client.Send(HeadRequest("POST", "/chunks", "Transfer-Encoding: chunked\r\n") +
                          "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
  RawClient::Response chunked = client.Read();
  ASSERT_EQ(chunked.status, 200) << chunked.head;
  EXPECT_THAT(chunked.body, HasSubstr("hello world"));
  // A big response comes back whole.
  ASSERT_TRUE(client.Send(HeadRequest("GET", "/big/3000000")));
  RawClient::Response big = client.Read();
  ASSERT_EQ(big.status, 200);
  EXPECT_EQ(big.body.size(), 3000000u);
  EXPECT_EQ(big.Header("x-conn"), get.Header("x-conn")) << "one upstream connection";
}

TEST_F(Http2UpstreamTest, Http2ClientsThroughH2cUpstream) {
  StartProxy(nginx_->h2c(), ExplicitHttp2());
  auto get = RunCommand("curl -sS -i --http2-prior-knowledge " + Url("/h2client"));
  ASSERT_EQ(get.exit_status, 0) << get.output << proxy_->Log();
  EXPECT_THAT(get.output, HasSubstr("HTTP/2 200"));
  EXPECT_THAT(get.output, HasSubstr("x-proto: HTTP/2.0"));
  EXPECT_THAT(get.output, HasSubstr("GET /h2client\n"));
  // A body whose length the client does not announce goes chunked to the
  // proxy's request path and as DATA to nginx.
  const std::string file = dir_.File("upload.bin");
  std::ofstream(file) << std::string(300 * 1000, 'u');
  auto post = RunCommand("curl -sS --http2-prior-knowledge -H 'content-length:' -T " + file + " " +
                         Url("/put"));
  ASSERT_EQ(post.exit_status, 0) << post.output;
  EXPECT_THAT(post.output, HasSubstr(std::string(300 * 1000, 'u')));
  auto many = RunCommand("nghttp -n -s " + Url("/a") + " " + Url("/b") + " " + Url("/c"));
  ASSERT_EQ(many.exit_status, 0) << many.output;
}

TEST_F(Http2UpstreamTest, ConcurrentRequestsShareOneUpstreamConnection) {
  StartProxy(nginx_->h2c(), ExplicitHttp2());
  backend_.SetDelay(std::chrono::milliseconds(300));
  std::string urls;
  for (int i = 0; i < 20; ++i) urls += " -o /dev/null " + Url("/c" + std::to_string(i));
  // 20 HTTP/1.1 connections at once; each response's x-conn names nginx's
  // connection it came over.
  auto run = RunCommand("curl -sS -Z --parallel-max 20 -D - " + urls);
  ASSERT_EQ(run.exit_status, 0) << run.output << proxy_->Log();
  std::set<std::string> conns;
  std::istringstream lines(run.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("x-conn: ")) conns.insert(line.substr(8));
  }
  EXPECT_EQ(conns.size(), 1u) << run.output;
}

TEST_F(Http2UpstreamTest, StreamCapOpensMoreConnections) {
  StartProxy(nginx_->h2c(), ExplicitHttp2(/*max_streams=*/2));
  backend_.SetDelay(std::chrono::milliseconds(500));
  std::string urls;
  for (int i = 0; i < 6; ++i) urls += " -o /dev/null " + Url("/cap" + std::to_string(i));
  auto run = RunCommand("curl -sS -Z --parallel-max 6 -D - " + urls);
  ASSERT_EQ(run.exit_status, 0) << run.output << proxy_->Log();
  std::set<std::string> conns;
  std::istringstream lines(run.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("x-conn: ")) conns.insert(line.substr(8));
  }
  EXPECT_GE(conns.size(), 3u) << run.output;
}

TEST_F(Http2UpstreamTest, TlsExplicitHttp2) {
  StartProxy(nginx_->h2_tls(), ExplicitHttp2(), /*tls=*/true);
  RawClient::Response r = Request(proxy_->port(), HeadRequest("GET", "/tls"));
  ASSERT_EQ(r.status, 200) << r.head << proxy_->Log();
  EXPECT_EQ(r.Header("x-proto"), "HTTP/2.0");
}

TEST_F(Http2UpstreamTest, AutoChoosesH2ByAlpn) {
  StartProxy(nginx_->h2_tls(), AutoHttp(), /*tls=*/true);
  RawClient client(proxy_->port());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(client.Send(HeadRequest("GET", "/auto")));
    RawClient::Response r = client.Read();
    ASSERT_EQ(r.status, 200) << r.head << proxy_->Log();
    EXPECT_EQ(r.Header("x-proto"), "HTTP/2.0");
  }
}

TEST_F(Http2UpstreamTest, AutoFallsBackToHttp11WithoutH2Alpn) {
  StartProxy(nginx_->h1_tls(), AutoHttp(), /*tls=*/true);
  RawClient client(proxy_->port());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(client.Send(HeadRequest("GET", "/auto")));
    RawClient::Response r = client.Read();
    ASSERT_EQ(r.status, 200) << r.head << proxy_->Log();
    EXPECT_EQ(r.Header("x-proto"), "HTTP/1.1");
  }
}

TEST_F(Http2UpstreamTest, UpstreamKilledMidResponseEndsTheClientsResponse) {
  StartProxy(nginx_->h2c(), ExplicitHttp2());
  // 50 MB that the client does not read: the response's head and the start
  // of its body are out when nginx is killed.
  constexpr size_t kSize = 50 * 1000 * 1000;
  RawClient client(proxy_->port());
  ASSERT_TRUE(client.Send(HeadRequest("GET", "/big/" + std::to_string(kSize))));
  std::string got;
  ASSERT_TRUE(WaitFor(
      [&] {
        got += client.ReadSome();
        return got.find("\r\n\r\n") != std::string::npos;
      },
      std::chrono::seconds(30)))
      << proxy_->Log();
  EXPECT_THAT(got, HasSubstr("HTTP/1.1 200"));
  nginx_->Kill();
  // The proxy cuts the client's connection short of the body's length: an
  // error the client sees, not a response that never ends.
  EXPECT_TRUE(client.WaitClosed(60000)) << proxy_->Log();
  std::string rest = client.ReadSome();
  EXPECT_LT(got.size() + rest.size(), kSize);
  nlohmann::json entry =
      proxy_->WaitForEntry([](const nlohmann::json& e) { return e.value("status", 0) == 200; });
  EXPECT_EQ(entry.value("flags", ""), "UR");
}

TEST_F(Http2UpstreamTest, DrainLetsTheStreamsInFlightFinish) {
  StartProxy(nginx_->h2c(), ExplicitHttp2());
  RawClient client(proxy_->port());
  ASSERT_TRUE(client.Send(HeadRequest("GET", "/delay/1500")));
  ASSERT_TRUE(WaitFor([&] { return backend_.requests() >= 1; }, std::chrono::seconds(20)));
  proxy_->process().Signal(SIGTERM);  // drains: no new streams, these finish
  RawClient::Response r = client.Read();
  EXPECT_EQ(r.status, 200) << r.head << proxy_->Log();
  EXPECT_EQ(r.Header("x-proto"), "HTTP/2.0");
}

TEST_F(Http2UpstreamTest, UnimplementedHttp2OptionIsRefusedByName) {
  StartProxy(nginx_->h2c(), ExplicitHttp2());
  envoy::config::cluster::v3::Cluster cluster = proxy_->OriginCluster();
  HttpProtocolOptions options = ExplicitHttp2();
  options.mutable_explicit_http_config()
      ->mutable_http2_protocol_options()
      ->mutable_initial_stream_window_size()
      ->set_value(1 << 20);
  (*cluster.mutable_typed_extension_protocol_options())
      ["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
          .PackFrom(options);
  FakeAdsServer::Request answer = proxy_->UpdateCluster(cluster, "2");
  EXPECT_THAT(answer.error_detail().message(),
              HasSubstr("http2_protocol_options.initial_stream_window_size is not supported"));
}

}  // namespace
}  // namespace causeway::proxy::testing
