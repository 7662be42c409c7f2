// Key-routed requests on the real binaries: a real hub with a zone whose
// route sends app.test to cluster "blue" (staging), an intercept of blue for
// key "ana" whose tunnel address an admin sets, and causeway-proxy following
// the hub. The tunnel's address is, in turn, a port nobody listens on, a
// holder that signals it has no tunnel, and a laptop that answers: the key
// reaches the laptop when it can answer and staging otherwise, and the
// client, the access log and /stats say which.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "command_output.h"
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
using causeway::testing::RunCommand;
using causeway::testing::TempDir;
using causeway::testing::WaitFor;
using proxy::testing::RawClient;
using std::chrono::seconds;

constexpr char kFallbackZone[] = "stage";
constexpr char kInterceptPath[] = "/v1/zones/stage/intercepts/ana-blue";

// Stands in for the holder of a tunnel (or the laptop behind it): answers
// every request with one canned response and keeps the heads and bodies it
// received. One connection at a time, each closed after its answer.
class CannedHolder {
 public:
  explicit CannedHolder(std::string response) : response_(std::move(response)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Accept(); });
  }
  ~CannedHolder() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // Every request received so far, head and body as they came.
  std::string Received() const {
    std::lock_guard lock(mu_);
    return received_;
  }

 private:
  void Accept() {
    while (!stop_) {
      const int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) return;
      Serve(conn);
      ::close(conn);
    }
  }
  // Reads the head and a content-length body, then answers.
  void Serve(int conn) {
    std::string in;
    char buf[4096];
    size_t need = std::string::npos;
    while (need == std::string::npos || in.size() < need) {
      const ssize_t n = ::recv(conn, buf, sizeof(buf), 0);
      if (n <= 0) return;
      in.append(buf, static_cast<size_t>(n));
      const size_t end = in.find("\r\n\r\n");
      if (need == std::string::npos && end != std::string::npos) {
        need = end + 4 + ContentLength(in.substr(0, end));
      }
    }
    {
      std::lock_guard lock(mu_);
      received_ += in;
    }
    (void)::send(conn, response_.data(), response_.size(), MSG_NOSIGNAL);
  }
  static size_t ContentLength(std::string head) {
    for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const size_t at = head.find("\r\ncontent-length:");
    return at == std::string::npos ? 0 : std::stoul(head.substr(at + 17));
  }

  const std::string response_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::string received_;
  std::thread thread_;
};

std::string Canned(const std::string& status_line, const std::string& headers,
                   const std::string& body) {
  return "HTTP/1.1 " + status_line + "\r\n" + headers +
         "content-length: " + std::to_string(body.size()) + "\r\nconnection: close\r\n\r\n" + body;
}

class InterceptFallbackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(hub_.Start());
    admin_ = std::make_unique<Api>(hub_.url(), hub_.admin_token());
    zone_ = std::make_unique<RoutedZone>(admin_.get(), kFallbackZone, FreePort());
    ASSERT_NO_FATAL_FAILURE(zone_->Seed());
    access_log_ = dir_.File("access.log");
    proxy_ =
        std::make_unique<ProxyProcess>(zone_.get(), "127.0.0.1:" + std::to_string(hub_.xds_port()),
                                       std::vector<std::string>{"--access-log", access_log_});
    ASSERT_NO_FATAL_FAILURE(proxy_->Start("blue"));
  }

  void TearDown() override {
    if (HasFailure() && proxy_ != nullptr) std::cerr << "--- proxy log ---\n" << proxy_->Log();
  }

  // The intercept of blue for key "ana", its tunnel at `address`; waits
  // until a keyed request no longer gets staging's plain answer (the key
  // routes are served).
  void InterceptTo(const std::string& address) {
    Json body = {{"cluster", "blue"},
                 {"key", "ana"},
                 {"lease_ms", 600000},
                 {"tunnel", {{"proxy", "edge"}, {"address", address}}}};
    Api::Result put = admin_->Put(kInterceptPath, body);
    ASSERT_TRUE(put.status == 200 || put.status == 201) << put.raw.body;
    ASSERT_TRUE(WaitFor(
        [&] {
          RawClient::Response r = Send("GET", "/probe", true);
          return r.status != 0 && !r.Header("x-causeway-routed").empty();
        },
        seconds(30)))
        << "the key routes were not served";
  }

  RawClient::Response Send(const std::string& method, const std::string& path, bool keyed,
                           const std::string& body = "", const std::string& extra = "") {
    std::string raw = method + " " + path + " HTTP/1.1\r\nHost: " + zone_->domain() + "\r\n" +
                      (keyed ? "x-causeway-key: ana\r\n" : "") + extra;
    if (!body.empty()) raw += "content-length: " + std::to_string(body.size()) + "\r\n";
    raw += "\r\n" + body;
    return proxy::testing::Request(static_cast<uint16_t>(zone_->listen_port()), raw);
  }

  // curl over HTTP/2 with prior knowledge: the head (-i) and the body.
  // `header`: one more request header.
  std::string SendHttp2(const std::string& path, const std::string& body,
                        const std::string& header = "x-test: 1") {
    std::string line =
        "curl -sS -i --max-time 30 --http2-prior-knowledge -H 'Host: " + zone_->domain() +
        "' -H 'x-causeway-key: ana' -H '" + header + "' ";
    if (!body.empty()) line += "--data-binary '" + body + "' ";
    line += "http://127.0.0.1:" + std::to_string(zone_->listen_port()) + path;
    return RunCommand(line).output;
  }

  Json LogEntry(const std::string& path) {
    return proxy::testing::AccessLogEntry(access_log_, path);
  }
  double Stat(const std::string& name) {
    return proxy::testing::AdminStat(proxy_->admin_port(), name);
  }

  HubProcess hub_;
  std::unique_ptr<Api> admin_;
  std::unique_ptr<RoutedZone> zone_;
  TempDir dir_;
  std::string access_log_;
  std::unique_ptr<ProxyProcess> proxy_;
};

TEST_F(InterceptFallbackTest, UnreachableTunnelFallsBackToStaging) {
  ASSERT_NO_FATAL_FAILURE(InterceptTo("127.0.0.1:" + std::to_string(FreePort())));

  RawClient::Response keyed = Send("GET", "/keyed", true);
  EXPECT_EQ(keyed.status, 200) << keyed.head;
  EXPECT_EQ(keyed.Header("x-origin"), "blue");
  EXPECT_EQ(keyed.Header("x-causeway-routed"), "staging; fallback=connect-failed");
  // Staging gets the request as if there were no key route.
  EXPECT_EQ(keyed.body.find("x-causeway-intercept"), std::string::npos) << keyed.body;

  RawClient::Response plain = Send("GET", "/plain", false);
  EXPECT_EQ(plain.status, 200);
  EXPECT_EQ(plain.Header("x-origin"), "blue");
  EXPECT_EQ(plain.Header("x-causeway-routed"), "");

  RawClient::Response post = Send("POST", "/upload", true, "the-request-body");
  EXPECT_EQ(post.status, 200);
  EXPECT_EQ(post.Header("x-causeway-routed"), "staging; fallback=connect-failed");
  EXPECT_NE(post.body.find("the-request-body"), std::string::npos) << post.body;

  const std::string h2 = SendHttp2("/over-h2", "h2-body");
  EXPECT_NE(h2.find("HTTP/2 200"), std::string::npos) << h2;
  EXPECT_NE(h2.find("x-causeway-routed: staging; fallback=connect-failed"), std::string::npos)
      << h2;
  EXPECT_NE(h2.find("h2-body"), std::string::npos) << h2;

  Json entry = LogEntry("/keyed");
  ASSERT_TRUE(entry.is_object());
  EXPECT_EQ(entry["intercept"], "staging; fallback=connect-failed");
  EXPECT_EQ(entry["cluster"], "blue");
  Json plain_entry = LogEntry("/plain");
  ASSERT_TRUE(plain_entry.is_object());
  EXPECT_FALSE(plain_entry.contains("intercept")) << plain_entry;
  // /probe, /keyed, /upload and /over-h2 at least.
  EXPECT_GE(Stat("intercept.fallback"), 4);
  EXPECT_EQ(Stat("intercept.laptop"), 0);
}

TEST_F(InterceptFallbackTest, HolderWithoutTunnelSendsTheRequestToStaging) {
  CannedHolder holder(Canned("503 Service Unavailable", "x-causeway-fallback: no-tunnel\r\n", ""));
  ASSERT_NO_FATAL_FAILURE(InterceptTo(holder.address()));

  RawClient::Response post = Send("POST", "/no-tunnel", true, "body-for-staging");
  EXPECT_EQ(post.status, 200) << post.head;
  EXPECT_EQ(post.Header("x-origin"), "blue");
  EXPECT_EQ(post.Header("x-causeway-routed"), "staging; fallback=no-tunnel");
  EXPECT_EQ(post.Header("x-causeway-fallback"), "");
  EXPECT_NE(post.body.find("body-for-staging"), std::string::npos) << post.body;
  // The holder had it first, with the intercept named.
  EXPECT_NE(holder.Received().find("x-causeway-intercept: ana-blue"), std::string::npos)
      << holder.Received();

  // More than the proxy reads with the head: it waits for the rest (up to
  // 64 KiB) so that staging can be given the body too.
  const std::string medium(48 * 1024, 'm');
  RawClient::Response medium_post = Send("POST", "/no-tunnel-48k", true, medium);
  EXPECT_EQ(medium_post.status, 200) << medium_post.head;
  EXPECT_EQ(medium_post.Header("x-causeway-routed"), "staging; fallback=no-tunnel");
  EXPECT_NE(medium_post.body.find(medium), std::string::npos);

  const std::string h2 = SendHttp2("/no-tunnel-h2", "");
  EXPECT_NE(h2.find("HTTP/2 200"), std::string::npos) << h2;
  EXPECT_NE(h2.find("x-causeway-routed: staging; fallback=no-tunnel"), std::string::npos) << h2;
  // A gRPC call takes the same way (staging's answer here is no gRPC one:
  // the head is what counts).
  const std::string grpc = SendHttp2("/echo.Echo/Say", "frame", "content-type: application/grpc");
  EXPECT_NE(grpc.find("x-causeway-routed: staging; fallback=no-tunnel"), std::string::npos) << grpc;
  EXPECT_NE(holder.Received().find("content-type: application/grpc"), std::string::npos);

  Json entry = LogEntry("/no-tunnel");
  ASSERT_TRUE(entry.is_object());
  EXPECT_EQ(entry["intercept"], "staging; fallback=no-tunnel");
  EXPECT_EQ(entry["status"], 200);
}

TEST_F(InterceptFallbackTest, StreamedBodyCannotFallBackAndTheLogSaysSo) {
  CannedHolder holder(Canned("503 Service Unavailable", "x-causeway-fallback: no-tunnel\r\n", ""));
  ASSERT_NO_FATAL_FAILURE(InterceptTo(holder.address()));

  // Far more than arrives with the head: streamed to the holder as it
  // comes, so it is not there to be sent to staging.
  const std::string big(4 << 20, 'b');
  RawClient::Response post = Send("POST", "/big-upload", true, big);
  EXPECT_EQ(post.status, 503) << post.head;
  EXPECT_EQ(post.Header("x-causeway-fallback"), "no-tunnel");
  EXPECT_EQ(post.Header("x-causeway-routed"), "");
  EXPECT_EQ(post.Header("x-origin"), "");
  Json entry = LogEntry("/big-upload");
  ASSERT_TRUE(entry.is_object());
  EXPECT_EQ(entry["intercept"], "unrouted; fallback=no-tunnel");
  EXPECT_EQ(entry["details"], "intercept_fallback_body_not_replayable");
}

TEST_F(InterceptFallbackTest, LaptopAnswersReachTheClientAsTheyAre) {
  CannedHolder laptop(Canned("200 OK", "x-from: laptop\r\n", "laptop"));
  ASSERT_NO_FATAL_FAILURE(InterceptTo(laptop.address()));

  // A client's own x-causeway-intercept is overwritten by the route's.
  RawClient::Response keyed = Send("GET", "/keyed", true, "", "x-causeway-intercept: other\r\n");
  EXPECT_EQ(keyed.status, 200) << keyed.head;
  EXPECT_EQ(keyed.body, "laptop");
  EXPECT_EQ(keyed.Header("x-causeway-routed"), "laptop");
  const std::string received = laptop.Received();
  EXPECT_NE(received.find("x-causeway-intercept: ana-blue"), std::string::npos) << received;
  EXPECT_EQ(received.find("x-causeway-intercept: other"), std::string::npos) << received;

  RawClient::Response plain = Send("GET", "/plain", false);
  EXPECT_EQ(plain.Header("x-origin"), "blue");
  EXPECT_EQ(plain.Header("x-causeway-routed"), "");

  const std::string h2 = SendHttp2("/keyed-h2", "");
  EXPECT_NE(h2.find("HTTP/2 200"), std::string::npos) << h2;
  EXPECT_NE(h2.find("x-causeway-routed: laptop"), std::string::npos) << h2;
  EXPECT_NE(h2.find("laptop"), std::string::npos) << h2;

  Json entry = LogEntry("/keyed");
  ASSERT_TRUE(entry.is_object());
  EXPECT_EQ(entry["intercept"], "laptop");
  EXPECT_GE(Stat("intercept.laptop"), 2);
}

TEST_F(InterceptFallbackTest, LaptopsOwn503PassesThrough) {
  CannedHolder laptop(Canned("503 Service Unavailable", "", "laptop is down for lunch"));
  ASSERT_NO_FATAL_FAILURE(InterceptTo(laptop.address()));

  RawClient::Response keyed = Send("GET", "/keyed", true);
  EXPECT_EQ(keyed.status, 503) << keyed.head;
  EXPECT_EQ(keyed.body, "laptop is down for lunch");
  EXPECT_EQ(keyed.Header("x-causeway-routed"), "laptop");
  EXPECT_EQ(Stat("intercept.fallback"), 0);
}

}  // namespace
}  // namespace causeway::proxy
