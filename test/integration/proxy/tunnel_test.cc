// The tunnel on the real binaries: a real `causeway serve`, a real
// causeway-proxy holding tunnels (--tunnel-listen), and the laptop's
// TunnelClient in this process forwarding to origins on loopback. The
// handshake's refusals, a request through the forward listener and the
// tunnel to the local service, the no-tunnel answer, the hub's record of
// the tunnel and its withdrawal, and a second tunnel replacing the first.
#include <grpcpp/grpcpp.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "echo_client.h"
#include "gtest/gtest.h"
#include "hub_fixture.h"
#include "net/http_client.h"
#include "proxy/tunnel/tunnel_client.h"
#include "proxy/tunnel/upgrade.h"
#include "support/process.h"
#include "support/test_certs.h"
#include "support/tunnel_holder_argv.h"
#include "test_origin.h"

namespace causeway::proxy {
namespace {

using causeway::testing::Api;
using causeway::testing::FreePort;
using causeway::testing::HubProcess;
using causeway::testing::Json;
using causeway::testing::PortOpen;
using causeway::testing::Subprocess;
using causeway::testing::TempDir;
using causeway::testing::WaitFor;
using proxy::testing::TestOrigin;
using std::chrono::seconds;
using tunnel::TunnelClient;
using tunnel::TunnelEvent;

constexpr char kTunnelTestIntercept[] = "/v1/zones/dev/intercepts/ana-web";

// A TunnelClient in this process, with the events it reported.
class LaptopUnderTest {
 public:
  explicit LaptopUnderTest(tunnel::TunnelClientOptions options) {
    auto made = TunnelClient::Create(std::move(options), [this](const TunnelEvent& e) {
      std::lock_guard lock(mu_);
      events_.push_back(e);
    });
    EXPECT_TRUE(made.ok()) << made.status();
    if (made.ok()) client_ = *std::move(made);
  }
  TunnelClient& client() { return *client_; }
  // The first event of `kind`, once there is one (within the deadline).
  std::optional<TunnelEvent> Await(TunnelEvent::Kind kind) {
    std::optional<TunnelEvent> found;
    WaitFor(
        [&] {
          std::lock_guard lock(mu_);
          for (const TunnelEvent& e : events_) {
            if (e.kind == kind) found = e;
          }
          return found.has_value();
        },
        seconds(30));
    return found;
  }

 private:
  std::mutex mu_;
  std::vector<TunnelEvent> events_;
  std::unique_ptr<TunnelClient> client_;
};

// A laptop's side of a tunnel made by hand, without the TunnelClient: TLS to
// the holder and the upgrade request for ana-web; `head` is the holder's
// answer. The connection stays open, and silent, until this goes.
struct HandDialedTunnel {
  HandDialedTunnel(const std::string& ca_file, int port, const std::string& token) {
    namespace asio = boost::asio;
    context.load_verify_file(ca_file);
    context.set_verify_mode(asio::ssl::verify_peer);
    tls.next_layer().connect({asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)});
    SSL_set_tlsext_host_name(tls.native_handle(), "localhost");
    tls.handshake(asio::ssl::stream_base::client);
    asio::write(tls,
                asio::buffer(tunnel::FormatUpgradeRequest({"localhost", token, "dev", "ana-web"})));
    asio::streambuf answer;
    asio::read_until(tls, answer, "\r\n\r\n");
    head.assign(asio::buffers_begin(answer.data()), asio::buffers_end(answer.data()));
  }

  boost::asio::io_context io;
  boost::asio::ssl::context context{boost::asio::ssl::context::tls_client};
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> tls{io, context};
  std::string head;
};

class TunnelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ca_.ok());
    holder_cert_ = ca_.Issue("holder", "localhost");
    hub_.Start();
    admin_ = std::make_unique<Api>(hub_.url(), hub_.admin_token());
    SeedZone(*admin_, "dev");
    ana_token_ = CreateToken(*admin_, "ana", "editor");
    bo_token_ = CreateToken(*admin_, "bo", "editor", "dev");
    Api ana(hub_.url(), ana_token_);
    Json body = {{"cluster", "web"}, {"key", "ana"}, {"lease_ms", 600000}};
    ASSERT_EQ(ana.Put(kTunnelTestIntercept, body).status, 201);
    StartHolder();
  }

  void StartHolder(const std::string& response_timeout_ms = "10000",
                   const std::string& ping_ms = "200") {
    tunnel_port_ = FreePort();
    forward_port_ = FreePort();
    const std::string config = dir_.File("edge.yaml");
    std::FILE* f = std::fopen(config.c_str(), "w");
    std::fputs("kind: Zone\nname: dev\n---\nkind: Proxy\nname: edge\nzone: dev\n", f);
    std::fclose(f);
    if (proxy_token_.empty()) proxy_token_ = CreateToken(*admin_, "edge", "proxy", "dev");
    holder_ = std::make_unique<Subprocess>(
        Subprocess::Options{.argv = causeway::testing::TunnelHolderArgv(
                                {.config = config,
                                 .proxy = "edge",
                                 .cert = holder_cert_.cert,
                                 .key = holder_cert_.key,
                                 .tunnel_port = tunnel_port_,
                                 .forward_port = forward_port_,
                                 .hub_url = hub_.url(),
                                 .token = proxy_token_,
                                 .extra = {"--tunnel-ping-ms", ping_ms,
                                           "--tunnel-response-timeout-ms", response_timeout_ms}}),
                            .log_path = dir_.File("holder.log")});
    ASSERT_TRUE(
        WaitFor([&] { return PortOpen(tunnel_port_) && PortOpen(forward_port_); }, seconds(30)))
        << holder_->Log();
  }

  tunnel::TunnelClientOptions Laptop(const std::string& token, const std::string& intercept,
                                     uint16_t to_port) {
    tunnel::TunnelClientOptions o;
    o.tunnel = "127.0.0.1:" + std::to_string(tunnel_port_);
    o.ca_file = ca_.cert();
    o.server_name = "localhost";
    o.token = token;
    o.zone = "dev";
    o.intercept = intercept;
    o.to = "127.0.0.1:" + std::to_string(to_port);
    o.backoff_initial = std::chrono::milliseconds(100);
    o.backoff_max = std::chrono::milliseconds(500);
    return o;
  }

  // A request to the holder's forward listener for `intercept`.
  HttpResponse Forward(const std::string& intercept, const std::string& path = "/hello") {
    auto client = HttpClient::Create("127.0.0.1:" + std::to_string(forward_port_));
    EXPECT_TRUE(client.ok());
    HttpClient::Headers headers;
    if (!intercept.empty()) headers["x-causeway-intercept"] = intercept;
    absl::StatusOr<HttpResponse> res = (*client)->Send("GET", path, "", headers);
    EXPECT_TRUE(res.ok()) << res.status();
    return res.ok() ? *res : HttpResponse{};
  }

  Json Tunnel() { return admin_->Get(kTunnelTestIntercept).body.value("tunnel", Json()); }

  TempDir dir_;
  causeway::testing::TestCa ca_{dir_.path(), "tunnel"};
  causeway::testing::CertFiles holder_cert_;
  HubProcess hub_;
  std::unique_ptr<Api> admin_;
  std::string ana_token_, bo_token_, proxy_token_;
  int tunnel_port_ = 0, forward_port_ = 0;
  std::unique_ptr<Subprocess> holder_;
};

TEST_F(TunnelTest, RefusalsArePermanentAndSayWhy) {
  TestOrigin origin("laptop");
  LaptopUnderTest unknown(Laptop("not-a-token", "ana-web", origin.port()));
  ASSERT_TRUE(unknown.client().Start().ok());
  std::optional<TunnelEvent> refused = unknown.Await(TunnelEvent::Kind::kRefused);
  ASSERT_TRUE(refused) << holder_->Log();
  EXPECT_EQ(refused->status, 401);
  EXPECT_TRUE(refused->permanent);
  EXPECT_NE(refused->message.find("token"), std::string::npos) << refused->message;

  LaptopUnderTest not_owner(Laptop(bo_token_, "ana-web", origin.port()));
  ASSERT_TRUE(not_owner.client().Start().ok());
  refused = not_owner.Await(TunnelEvent::Kind::kRefused);
  ASSERT_TRUE(refused) << holder_->Log();
  EXPECT_EQ(refused->status, 403);
  EXPECT_NE(refused->message.find("\"ana\""), std::string::npos) << refused->message;

  LaptopUnderTest missing(Laptop(ana_token_, "nobody", origin.port()));
  ASSERT_TRUE(missing.client().Start().ok());
  refused = missing.Await(TunnelEvent::Kind::kRefused);
  ASSERT_TRUE(refused) << holder_->Log();
  EXPECT_EQ(refused->status, 404);
  EXPECT_NE(refused->message.find("nobody"), std::string::npos) << refused->message;
  EXPECT_TRUE(Tunnel().is_null());
}

TEST_F(TunnelTest, RequestsReachTheLocalServiceAndTheHubRecordsTheTunnel) {
  // No tunnel yet: the holder says so, and the forwarding proxy falls back.
  HttpResponse none = Forward("ana-web");
  EXPECT_EQ(none.status, 503);
  EXPECT_EQ(none.Header("x-causeway-fallback"), "no-tunnel");
  EXPECT_EQ(none.body, "");

  TestOrigin origin("laptop");
  LaptopUnderTest laptop(Laptop(ana_token_, "ana-web", origin.port()));
  ASSERT_TRUE(laptop.client().Start().ok());
  ASSERT_TRUE(laptop.Await(TunnelEvent::Kind::kConnected)) << holder_->Log();
  Json tunnel = Tunnel();
  EXPECT_EQ(tunnel.value("proxy", ""), "edge") << tunnel.dump();
  EXPECT_EQ(tunnel.value("address", ""), "127.0.0.1:" + std::to_string(forward_port_));
  EXPECT_EQ(tunnel.value("state", ""), "connected");

  HttpResponse res;
  ASSERT_TRUE(WaitFor([&] {
    res = Forward("ana-web");
    return res.status == 200;
  })) << res.status
      << " " << res.body << holder_->Log();
  EXPECT_EQ(res.Header("x-origin"), "laptop");
  // The holder's routing header stops at the holder.
  EXPECT_EQ(res.body.find("x-causeway-intercept"), std::string::npos) << res.body;
  EXPECT_NE(res.body.find("GET /hello"), std::string::npos) << res.body;
  // Counted once the laptop's stream has ended, which may be just after
  // the answer went out.
  EXPECT_TRUE(WaitFor([&] { return laptop.client().requests_served() >= 1; }));
  // Another intercept has no tunnel.
  EXPECT_EQ(Forward("bo-web").Header("x-causeway-fallback"), "no-tunnel");

  // The laptop goes: the holder withdraws the tunnel at the hub.
  laptop.client().Stop();
  EXPECT_TRUE(WaitFor([&] { return Tunnel().is_null(); }, seconds(30))) << holder_->Log();
  EXPECT_TRUE(WaitFor([&] { return Forward("ana-web").status == 503; }, seconds(30)));
  Api::Result log = admin_->Get("/v1/changelog?kind=Intercept&name=ana-web");
  ASSERT_EQ(log.status, 200);
  EXPECT_EQ(log.body["items"].back()["actor"], "edge") << log.raw.body;
}

TEST_F(TunnelTest, ATunnelLostBeforeTheAnswerIsTunnelReset) {
  TestOrigin origin("laptop");
  LaptopUnderTest laptop(Laptop(ana_token_, "ana-web", origin.port()));
  ASSERT_TRUE(laptop.client().Start().ok());
  ASSERT_TRUE(laptop.Await(TunnelEvent::Kind::kConnected)) << holder_->Log();
  ASSERT_TRUE(WaitFor([&] { return Forward("ana-web").status == 200; }));
  // The local service holds the request; the tunnel goes before it answers.
  auto held = std::async(std::launch::async, [&] { return Forward("ana-web", "/hold"); });
  ASSERT_TRUE(WaitFor([&] { return origin.held() == 1; }, seconds(30)));
  laptop.client().Stop();
  HttpResponse res = held.get();
  origin.ReleaseHeld();
  EXPECT_EQ(res.status, 503) << res.body;
  EXPECT_EQ(res.Header("x-causeway-fallback"), "tunnel-reset");
  EXPECT_EQ(res.body, "");
}

TEST_F(TunnelTest, ALocalServiceThatIsNotRunningIsLocalRefused) {
  const int nothing = FreePort();  // nothing listens there
  LaptopUnderTest laptop(Laptop(ana_token_, "ana-web", static_cast<uint16_t>(nothing)));
  ASSERT_TRUE(laptop.client().Start().ok());
  ASSERT_TRUE(laptop.Await(TunnelEvent::Kind::kConnected)) << holder_->Log();
  HttpResponse res;
  ASSERT_TRUE(WaitFor([&] {
    res = Forward("ana-web");
    return res.Header("x-causeway-fallback") != "no-tunnel";
  }));
  EXPECT_EQ(res.status, 503) << res.body;
  EXPECT_EQ(res.Header("x-causeway-fallback"), "local-refused");
  EXPECT_EQ(res.body, "");
}

TEST_F(TunnelTest, NoResponseHeadInTimeIsTunnelTimeout) {
  holder_->Stop();
  StartHolder("1000");
  TestOrigin origin("laptop");
  LaptopUnderTest laptop(Laptop(ana_token_, "ana-web", origin.port()));
  ASSERT_TRUE(laptop.client().Start().ok());
  ASSERT_TRUE(laptop.Await(TunnelEvent::Kind::kConnected)) << holder_->Log();
  ASSERT_TRUE(WaitFor([&] { return Forward("ana-web").status == 200; }));
  // The local service holds the request past the holder's bound.
  HttpResponse res = Forward("ana-web", "/hold");
  origin.ReleaseHeld();
  EXPECT_EQ(res.status, 503) << res.body;
  EXPECT_EQ(res.Header("x-causeway-fallback"), "tunnel-timeout");
  EXPECT_EQ(res.body, "");
  // The tunnel itself stays up.
  EXPECT_TRUE(WaitFor([&] { return Forward("ana-web").status == 200; }));
}

// gRPC goes to the local service as h2c even though the laptop speaks
// HTTP/1.1 to it otherwise: unary and bidirectional streaming both cross.
TEST_F(TunnelTest, GrpcUnaryAndBidiCrossTheTunnel) {
  const int grpc_port = FreePort();
  Subprocess echo({.argv = {causeway::testing::BuiltBinary("causeway_grpc_echo_server"), "--port",
                            std::to_string(grpc_port)},
                   .log_path = dir_.File("echo.log")});
  ASSERT_TRUE(WaitFor([&] { return PortOpen(grpc_port); }, seconds(20))) << echo.Log();
  LaptopUnderTest laptop(Laptop(ana_token_, "ana-web", static_cast<uint16_t>(grpc_port)));
  ASSERT_TRUE(laptop.client().Start().ok());
  ASSERT_TRUE(laptop.Await(TunnelEvent::Kind::kConnected)) << holder_->Log();

  namespace echo_api = causeway::testing::grpc_echo;
  auto stub = causeway::test::Echo::NewStub(
      echo_api::EchoChannel("127.0.0.1:" + std::to_string(forward_port_)));
  grpc::Status unary_status;
  causeway::test::EchoReply reply;
  ASSERT_TRUE(WaitFor([&] {
    grpc::ClientContext context;
    context.AddMetadata("x-causeway-intercept", "ana-web");
    context.set_deadline(std::chrono::system_clock::now() + seconds(20));
    unary_status = stub->Unary(&context, echo_api::MakeEchoRequest(1000), &reply);
    return unary_status.ok();
  })) << unary_status.error_message()
      << holder_->Log();
  EXPECT_EQ(reply.payload().size(), 1000u);

  grpc::ClientContext context;
  context.AddMetadata("x-causeway-intercept", "ana-web");
  context.set_deadline(std::chrono::system_clock::now() + seconds(30));
  auto bidi = stub->Bidi(&context);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(bidi->Write(echo_api::MakeEchoRequest(100 + i)));
    causeway::test::EchoReply r;
    ASSERT_TRUE(bidi->Read(&r)) << "reply " << i;
    EXPECT_EQ(r.payload().size(), static_cast<size_t>(100 + i));
  }
  bidi->WritesDone();
  grpc::Status finished = bidi->Finish();
  EXPECT_TRUE(finished.ok()) << finished.error_message();
}

// A laptop that completes the upgrade and then never reads again: the
// holder's PINGs (every 200 ms here) go unanswered, and after three
// intervals it closes the tunnel and withdraws it at the hub.
TEST_F(TunnelTest, ASilentTunnelIsClosedAfterThreeUnansweredPings) {
  HandDialedTunnel laptop(ca_.cert(), tunnel_port_, ana_token_);
  ASSERT_EQ(laptop.head.rfind("HTTP/1.1 101", 0), 0u) << laptop.head;
  EXPECT_EQ(Tunnel().value("state", ""), "connected");

  EXPECT_TRUE(WaitFor([&] { return Tunnel().is_null(); }, seconds(30))) << holder_->Log();
  EXPECT_NE(holder_->Log().find("no PING answered"), std::string::npos) << holder_->Log();
}

TEST_F(TunnelTest, ATunnelGoneBeforeTheHolderNoticesIsTunnelReset) {
  // PINGs a minute apart: the holder does not notice the tunnel is gone.
  holder_.reset();
  ASSERT_NO_FATAL_FAILURE(StartHolder("10000", "60000"));
  HandDialedTunnel laptop(ca_.cert(), tunnel_port_, ana_token_);
  ASSERT_EQ(laptop.head.rfind("HTTP/1.1 101", 0), 0u) << laptop.head;
  // The laptop's process killed: its connection closes without a word.
  laptop.tls.next_layer().close();
  // Its requests find no connection to the laptop; the answer must still
  // send them to staging, over HTTP/1.1 as the zone's proxies ask.
  for (int i = 0; i < 5; ++i) {
    HttpResponse res = Forward("ana-web");
    EXPECT_EQ(res.status, 503) << res.body;
    EXPECT_EQ(res.Header("x-causeway-fallback"), "tunnel-reset") << res.body << holder_->Log();
    EXPECT_EQ(res.body, "");
  }
}

TEST_F(TunnelTest, ASecondTunnelReplacesTheFirst) {
  TestOrigin first_origin("first");
  TestOrigin second_origin("second");
  LaptopUnderTest first(Laptop(ana_token_, "ana-web", first_origin.port()));
  ASSERT_TRUE(first.client().Start().ok());
  ASSERT_TRUE(first.Await(TunnelEvent::Kind::kConnected)) << holder_->Log();
  ASSERT_TRUE(WaitFor([&] { return Forward("ana-web").Header("x-origin") == "first"; }));

  LaptopUnderTest second(Laptop(ana_token_, "ana-web", second_origin.port()));
  ASSERT_TRUE(second.client().Start().ok());
  ASSERT_TRUE(second.Await(TunnelEvent::Kind::kConnected)) << holder_->Log();
  // The holder sends the older tunnel away.
  std::optional<TunnelEvent> gone = first.Await(TunnelEvent::Kind::kDisconnected);
  ASSERT_TRUE(gone) << holder_->Log();
  first.client().Stop();
  EXPECT_TRUE(WaitFor([&] { return Forward("ana-web").Header("x-origin") == "second"; }))
      << holder_->Log();
  EXPECT_EQ(Tunnel().value("state", ""), "connected");
}

// The holder's flags are checked at start: what is missing or wrong is
// named, and the proxy does not start.
TEST(TunnelFlagsTest, MissingOrBadHolderFlagsAreNamed) {
  TempDir dir;
  const std::string config = dir.File("edge.yaml");
  std::FILE* f = std::fopen(config.c_str(), "w");
  std::fputs("kind: Zone\nname: dev\n---\nkind: Proxy\nname: edge\nzone: dev\n", f);
  std::fclose(f);
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = {causeway::testing::BuiltBinary("causeway-proxy"),
                                     "--config",
                                     config,
                                     "--proxy",
                                     "edge",
                                     "--admin",
                                     "127.0.0.1:" + std::to_string(FreePort())};
    argv.insert(argv.end(), extra.begin(), extra.end());
    Subprocess p({.argv = argv, .log_path = dir.File("proxy.log")});
    const int status = p.Wait(std::chrono::seconds(30));
    return std::make_pair(status, p.Log());
  };
  const std::string listen = "127.0.0.1:" + std::to_string(FreePort());
  auto [no_cert, log1] = run({"--tunnel-listen", listen, "--xds-token", "t"});
  EXPECT_NE(no_cert, 0);
  EXPECT_NE(log1.find("--tunnel-cert is required with --tunnel-listen"), std::string::npos) << log1;
  auto [no_token, log2] =
      run({"--tunnel-listen", listen, "--tunnel-cert", "c.pem", "--tunnel-key", "k.pem",
           "--tunnel-forward-listen", "127.0.0.1:0", "--hub", "http://127.0.0.1:1"});
  EXPECT_NE(no_token, 0);
  EXPECT_NE(log2.find("--xds-token"), std::string::npos) << log2;
  auto [bad_cert, log3] = run({"--tunnel-listen", listen, "--tunnel-cert", dir.File("none.pem"),
                               "--tunnel-key", dir.File("none.key"), "--tunnel-forward-listen",
                               "127.0.0.1:0", "--hub", "http://127.0.0.1:1", "--xds-token", "t"});
  EXPECT_NE(bad_cert, 0);
  EXPECT_NE(log3.find("none.pem"), std::string::npos) << log3;
}

}  // namespace
}  // namespace causeway::proxy
