// HTTP/2 clients of the real causeway-proxy binary, forwarded to an
// HTTP/1.1 origin: curl with prior knowledge and over TLS (ALPN h2), nghttp
// with concurrent streams, request bodies with and without a length, a
// local 404 as an HTTP/2 response, a stream reset mid-response beside
// another one, the idle timeout's GOAWAY, and HTTP/1.1 on the same port.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <map>

#include "command_output.h"
#include "envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.pb.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb.h"
#include "h2_features_origin.h"
#include "h2_raw_client.h"
#include "proxy/codec/http2_codec.h"
#include "scripted_proxy.h"
#include "support/process.h"
#include "support/test_certs.h"
#include "test_origin.h"

namespace causeway::proxy::testing {
namespace {

using ::causeway::testing::CommandOutput;
using ::causeway::testing::RunCommand;

using causeway::testing::TempDir;
using causeway::testing::WaitFor;
using ::testing::HasSubstr;
using namespace std::chrono_literals;  // NOLINT(google-build-using-namespace)

// Requests to the test's origin host on a raw client (h2_raw_client.h).
int32_t GetOn(H2RawClient& client, const std::string& path) {
  return client.Open(http2::RequestHead{"GET", "http", "app.test", path, {}}, /*end_stream=*/true);
}
// A request whose body never comes.
int32_t PostWithoutBodyOn(H2RawClient& client, const std::string& path,
                          const std::string& authority = "app.test") {
  return client.Open(http2::RequestHead{"POST", "http", authority, path, {}},
                     /*end_stream=*/false);
}

class Http2DownstreamTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (proxy_ && HasFailure()) std::cerr << "--- causeway-proxy log ---\n" << proxy_->Log();
  }

  // Routes for host app.test only: anything else has no route (404).
  void Start(std::function<void(envoy::config::listener::v3::Listener&)> listener = {},
             int idle_timeout_ms = 0,
             ScriptedProxy::Hcm::CodecType codec = ScriptedProxy::Hcm::AUTO) {
    ScriptedProxy::Options p;
    p.origin_port = origin_.port();
    p.hcm = [idle_timeout_ms, codec](ScriptedProxy::Hcm& hcm) {
      hcm.set_codec_type(codec);
      hcm.mutable_route_config()->mutable_virtual_hosts(0)->set_domains(0, "app.test");
      if (idle_timeout_ms > 0) {
        hcm.mutable_stream_idle_timeout()->set_nanos(idle_timeout_ms * 1000000);
      }
    };
    p.listener = std::move(listener);
    proxy_ = std::make_unique<ScriptedProxy>(p);
    ASSERT_TRUE(proxy_->Start());
  }

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(proxy_->port()) + path;
  }
  // curl with prior knowledge; prints the body, then status and version.
  CommandOutput Curl(const std::string& path, const std::string& extra = "") const {
    return RunCommand("curl -sS --max-time 30 --http2-prior-knowledge -H 'Host: app.test' " +
                      extra + " -w '\\n%{http_code} %{http_version}' " + Url(path));
  }

  TempDir dir_;
  TestOrigin origin_{"blue"};
  std::unique_ptr<ScriptedProxy> proxy_;
};

TEST_F(Http2DownstreamTest, PriorKnowledgeAndHttp1OnTheSamePort) {
  Start();
  CommandOutput h2 = Curl("/hello");
  EXPECT_EQ(h2.exit_status, 0) << h2.output;
  EXPECT_THAT(h2.output, HasSubstr("GET /hello"));  // the origin's echo
  EXPECT_THAT(h2.output, HasSubstr("\n200 2"));
  nlohmann::json entry = proxy_->WaitForEntry([](const nlohmann::json& e) {
    return e.value("path", "") == "/hello" && e.value("protocol", "") == "HTTP/2";
  });
  ASSERT_FALSE(entry.is_null());
  EXPECT_EQ(entry.value("status", 0), 200);

  RawClient::Response plain =
      Request(proxy_->port(), "GET /plain HTTP/1.1\r\nHost: app.test\r\n\r\n");
  EXPECT_EQ(plain.status, 200);
  EXPECT_EQ(plain.Header("x-origin"), "blue");
}

TEST_F(Http2DownstreamTest, NoRouteIsAnHttp2Response) {
  Start();
  CommandOutput r = RunCommand(
      "curl -sS --max-time 30 --http2-prior-knowledge -H 'Host: other' "
      "-o /dev/null -w '%{http_code} %{http_version}' " +
      Url("/x"));
  EXPECT_EQ(r.output, "404 2");
}

TEST_F(Http2DownstreamTest, ConcurrentStreamsOnOneConnection) {
  Start();
  CommandOutput r = RunCommand("nghttp -n -s -m 10 -H ':authority: app.test' " + Url("/delay/200"));
  EXPECT_EQ(r.exit_status, 0) << r.output;
  int ok = 0;
  for (size_t at = r.output.find(" 200 "); at != std::string::npos;
       at = r.output.find(" 200 ", at + 1)) {
    ++ok;
  }
  EXPECT_EQ(ok, 10) << r.output;
  EXPECT_TRUE(WaitFor(
      [&] {
        int h2 = 0;
        for (const nlohmann::json& e : proxy_->AccessLog()) {
          h2 += e.value("protocol", "") == "HTTP/2" && e.value("status", 0) == 200;
        }
        return h2 == 10;
      },
      20s));
}

TEST_F(Http2DownstreamTest, RequestBodiesReachTheOrigin) {
  Start();
  const std::string file = dir_.File("body.bin");
  std::ofstream(file) << std::string(1024 * 1024, 'b');
  // With a content-length (curl knows the file's size).
  CommandOutput sized = Curl("/upload", "-v -H 'Expect: 100-continue' --data-binary @" + file +
                                            " -o " + dir_.File("echo"));
  EXPECT_THAT(sized.output, HasSubstr("200 2"));
  EXPECT_THAT(sized.output, HasSubstr("< HTTP/2 100"));  // answered by the proxy
  std::ifstream echo(dir_.File("echo"));
  std::string echoed((std::istreambuf_iterator<char>(echo)), std::istreambuf_iterator<char>());
  EXPECT_THAT(echoed, HasSubstr("POST /upload"));
  EXPECT_THAT(echoed, HasSubstr(std::string(1024 * 1024, 'b')));
  // Without one (from a pipe): chunked to the origin.
  CommandOutput piped = RunCommand(
      "head -c 1048576 /dev/zero | tr '\\0' 'c' | curl -sS --max-time 30 "
      "--http2-prior-knowledge -H 'Host: app.test' -T - -o " +
      dir_.File("echo2") + " -w '%{http_code} %{http_version}' " + Url("/piped"));
  EXPECT_EQ(piped.output, "200 2");
  std::ifstream echo2(dir_.File("echo2"));
  std::string echoed2((std::istreambuf_iterator<char>(echo2)), std::istreambuf_iterator<char>());
  EXPECT_THAT(echoed2, HasSubstr("PUT /piped"));
  EXPECT_THAT(echoed2, HasSubstr(std::string(1024 * 1024, 'c')));
}

TEST_F(Http2DownstreamTest, ResetStreamLeavesTheOthersServed) {
  Start();
  H2RawClient client(proxy_->port());
  ASSERT_TRUE(client.ok());
  const int32_t big = GetOn(client, "/big/50000000");
  const int32_t slow = GetOn(client, "/delay/300");
  ASSERT_GT(big, 0);
  ASSERT_TRUE(client.Until([&] { return client.streams[big].body.size() > 0; }));
  client.Reset(big);
  ASSERT_TRUE(client.Until([&] { return client.streams[slow].ended; }));
  EXPECT_EQ(client.streams[slow].head.status, 200);
  EXPECT_FALSE(client.streams[big].ended);
  // The connection still takes new streams.
  const int32_t after = GetOn(client, "/after");
  ASSERT_TRUE(client.Until([&] { return client.streams[after].ended; }));
  EXPECT_EQ(client.streams[after].head.status, 200);
  EXPECT_EQ(client.PeerMaxStreams(), 100u);  // the proxy's SETTINGS
  nlohmann::json entry = proxy_->WaitForEntry(
      [](const nlohmann::json& e) { return e.value("path", "") == "/big/50000000"; });
  ASSERT_FALSE(entry.is_null());
  EXPECT_EQ(entry.value("flags", ""), "DC");
}

TEST_F(Http2DownstreamTest, SlowReaderHoldsBackTheUpstreamAndGetsTheWholeBody) {
  Start();
  H2RawClient client(proxy_->port());
  ASSERT_TRUE(client.ok());
  client.StopReading();
  const int32_t id = GetOn(client, "/big/20000000");
  // The windows (64 KiB) fill; nothing more comes until they open.
  ASSERT_TRUE(client.Until([&] { return client.streams[id].body.size() >= 65535; }));
  EXPECT_FALSE(client.streams[id].ended);
  EXPECT_FALSE(client.streams[id].reset);
  EXPECT_LE(client.streams[id].body.size(), 65535u);
  client.ResumeReading();
  ASSERT_TRUE(client.Until([&] { return client.streams[id].ended || client.streams[id].reset; }));
  EXPECT_FALSE(client.streams[id].reset);
  EXPECT_EQ(client.streams[id].body.size(), 20000000u);
}

TEST_F(Http2DownstreamTest, IdleConnectionGetsGoaway) {
  Start({}, /*idle_timeout_ms=*/500);
  H2RawClient client(proxy_->port());
  ASSERT_TRUE(client.ok());
  const int32_t id = GetOn(client, "/one");
  ASSERT_TRUE(client.Until([&] { return client.streams[id].ended; }));
  EXPECT_TRUE(client.Until([&] { return client.goaway; }));
}

TEST_F(Http2DownstreamTest, DrainSendsGoawayAndFinishesStreamsInFlight) {
  Start();
  H2RawClient client(proxy_->port());
  ASSERT_TRUE(client.ok());
  const int32_t id = GetOn(client, "/delay/1000");
  ASSERT_TRUE(client.Until([&] { return origin_.requests() >= 1; }));
  proxy_->process().Signal(SIGTERM);
  ASSERT_TRUE(client.Until([&] { return client.streams[id].ended; }));
  EXPECT_EQ(client.streams[id].head.status, 200);
  EXPECT_TRUE(client.Until([&] { return client.goaway; }));
}

TEST_F(Http2DownstreamTest, CodecTypeHttp2ServesHttp2Only) {
  Start({}, 0, ScriptedProxy::Hcm::HTTP2);
  EXPECT_THAT(Curl("/only").output, HasSubstr("\n200 2"));
  RawClient::Response plain =
      Request(proxy_->port(), "GET /plain HTTP/1.1\r\nHost: app.test\r\n\r\n");
  EXPECT_EQ(plain.status, 0);  // not HTTP/2: the connection ends without a response
}

TEST_F(Http2DownstreamTest, CodecTypeHttp1ServesHttp1Only) {
  Start({}, 0, ScriptedProxy::Hcm::HTTP1);
  CommandOutput r = Curl("/one");
  EXPECT_THAT(r.output, ::testing::Not(HasSubstr("200 2"))) << r.output;
  RawClient::Response plain =
      Request(proxy_->port(), "GET /plain HTTP/1.1\r\nHost: app.test\r\n\r\n");
  EXPECT_EQ(plain.status, 200);
}

TEST_F(Http2DownstreamTest, StalledBodyEndsAtTheStreamIdleTimeout) {
  Start({}, /*idle_timeout_ms=*/500);
  H2RawClient client(proxy_->port());
  ASSERT_TRUE(client.ok());
  const int32_t id = PostWithoutBodyOn(client, "/stalled");
  ASSERT_GT(id, 0);
  ASSERT_TRUE(client.Until([&] { return client.streams[id].ended || client.streams[id].reset; }));
  EXPECT_TRUE(client.streams[id].reset || client.streams[id].head.status == 408)
      << client.streams[id].head.status;
  nlohmann::json entry = proxy_->WaitForEntry(
      [](const nlohmann::json& e) { return e.value("path", "") == "/stalled"; });
  ASSERT_FALSE(entry.is_null());
  EXPECT_NE(entry.value("status", 0), 200);
}

TEST_F(Http2DownstreamTest, AnswerBeforeTheBodyEndsTheStream) {
  Start();
  H2RawClient client(proxy_->port());
  ASSERT_TRUE(client.ok());
  // No route: answered at once, the body the client still means to send
  // is not wanted.
  const int32_t id = PostWithoutBodyOn(client, "/x", "other");
  ASSERT_GT(id, 0);
  ASSERT_TRUE(client.Until([&] { return client.streams[id].ended; }));
  EXPECT_EQ(client.streams[id].head.status, 404);
  // Closed on the proxy's side too: a GET on the connection is served.
  const int32_t next = GetOn(client, "/next");
  ASSERT_TRUE(client.Until([&] { return client.streams[next].ended; }));
  EXPECT_EQ(client.streams[next].head.status, 200);
}

// The listener as the hub writes it for a domain with `tls`, offering h2.
void AddH2TlsChain(envoy::config::listener::v3::Listener& l,
                   const envoy::extensions::transport_sockets::tls::v3::DownstreamTlsContext& tls) {
  l.add_listener_filters()->set_name("envoy.filters.listener.tls_inspector");
  l.mutable_listener_filters(0)->mutable_typed_config()->PackFrom(
      envoy::extensions::filters::listener::tls_inspector::v3::TlsInspector());
  envoy::config::listener::v3::FilterChain chain = l.filter_chains(0);
  chain.mutable_filter_chain_match()->add_server_names("localhost");
  chain.mutable_filter_chain_match()->set_transport_protocol("tls");
  chain.mutable_transport_socket()->set_name("envoy.transport_sockets.tls");
  chain.mutable_transport_socket()->mutable_typed_config()->PackFrom(tls);
  *l.add_filter_chains() = l.filter_chains(0);
  *l.mutable_filter_chains(0) = chain;
}

TEST_F(Http2DownstreamTest, H2OverTlsByAlpn) {
  causeway::testing::TestCa ca(dir_.path(), "edge");
  ASSERT_TRUE(ca.ok());
  causeway::testing::CertFiles server = ca.Issue("edge-server", "edge");
  envoy::extensions::transport_sockets::tls::v3::DownstreamTlsContext tls;
  auto* common = tls.mutable_common_tls_context();
  auto* cert = common->add_tls_certificates();
  cert->mutable_certificate_chain()->set_filename(server.cert);
  cert->mutable_private_key()->set_filename(server.key);
  common->add_alpn_protocols("h2");
  common->add_alpn_protocols("http/1.1");
  Start([tls](envoy::config::listener::v3::Listener& l) { AddH2TlsChain(l, tls); });
  const std::string port = std::to_string(proxy_->port());
  const std::string curl = "curl -sS --max-time 30 --cacert '" + ca.cert() +
                           "' --resolve localhost:" + port +
                           ":127.0.0.1 -H 'Host: app.test' -w '\\n%{http_code} %{http_version}' ";
  CommandOutput h2 = RunCommand(curl + "--http2 https://localhost:" + port + "/tls");
  EXPECT_EQ(h2.exit_status, 0) << h2.output;
  EXPECT_THAT(h2.output, HasSubstr("GET /tls"));
  EXPECT_THAT(h2.output, HasSubstr("\n200 2"));
  // A client that offers HTTP/1.1 only still gets it.
  CommandOutput h1 = RunCommand(curl + "--http1.1 https://localhost:" + port + "/tls1");
  EXPECT_THAT(h1.output, HasSubstr("\n200 1.1"));
}

// Trailers from an HTTP/1.1 origin's chunked body (h2_features_origin.py),
// seen by nghttp as a trailers HEADERS frame that ends the stream.
class Http2TrailersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(origin_.port(), 0) << origin_.Log();
    ScriptedProxy::Options p;
    p.origin_port = origin_.port();
    proxy_ = std::make_unique<ScriptedProxy>(p);
    ASSERT_TRUE(proxy_->Start());
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << "--- causeway-proxy log ---\n" << proxy_->Log() << origin_.Log();
  }
  CommandOutput Nghttp(const std::string& path) const {
    return RunCommand(
        "nghttp -v -H 'te: trailers' http://127.0.0.1:" + std::to_string(proxy_->port()) + path);
  }

  H2FeaturesOrigin origin_;
  std::unique_ptr<ScriptedProxy> proxy_;
};

TEST_F(Http2TrailersTest, ChunkedTrailersBecomeATrailersFrame) {
  CommandOutput r = Nghttp("/trailers");
  EXPECT_EQ(r.exit_status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("hello world"));
  // The origin saw the client's te: trailers (it echoes it as x-te).
  EXPECT_THAT(r.output, HasSubstr("x-te: trailers"));
  const size_t body = r.output.find("hello world");
  const size_t status = r.output.find("grpc-status: 0");
  ASSERT_NE(status, std::string::npos) << r.output;
  EXPECT_GT(status, body) << "trailers come after the body";
  EXPECT_THAT(r.output, HasSubstr("grpc-message: all%20good"));
  EXPECT_THAT(r.output, HasSubstr("x-checksum: c0ffee"));
  // The last HEADERS frame carries END_STREAM (flags 0x05).
  const size_t last_headers = r.output.rfind("recv HEADERS frame");
  ASSERT_NE(last_headers, std::string::npos);
  EXPECT_GT(last_headers, body);
  EXPECT_THAT(r.output.substr(last_headers, 80), HasSubstr("flags=0x05"));
}

TEST_F(Http2TrailersTest, TrailersWithoutABody) {
  CommandOutput r = Nghttp("/trailers-only");
  EXPECT_EQ(r.exit_status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr(":status: 200"));
  EXPECT_THAT(r.output, HasSubstr("grpc-status: 0"));
  EXPECT_THAT(r.output, HasSubstr("x-checksum: c0ffee"));
  nlohmann::json entry = proxy_->WaitForEntry(
      [](const nlohmann::json& e) { return e.value("path", "") == "/trailers-only"; });
  ASSERT_FALSE(entry.is_null());
  EXPECT_EQ(entry.value("status", 0), 200);
  EXPECT_EQ(entry.value("flags", ""), "");
}

}  // namespace
}  // namespace causeway::proxy::testing
