// The proxy's request path end to end: a ProxyServer in-process, real test
// origins on loopback ports chosen by the kernel, raw HTTP/1.1 clients.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/thread_slice.h"
#include "common/time_source.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "proxy/config/build_config.h"
#include "proxy/server/proxy_server.h"
#include "support/process.h"
#include "support/proxy/memory_access_log.h"
#include "test_origin.h"

// Every epoll_ctl of this process passes through here while counting is on:
// the test binary's definition takes precedence over libc's, and Asio, built
// into the binary, calls it directly.
namespace epoll_ctl_count {
std::atomic<bool> on{false};
std::mutex mu;
std::map<int, int> calls;  // by descriptor
}  // namespace epoll_ctl_count

extern "C" int epoll_ctl(int epfd, int op, int fd, struct epoll_event* event) {
  if (epoll_ctl_count::on.load()) {
    std::lock_guard lock(epoll_ctl_count::mu);
    ++epoll_ctl_count::calls[fd];
  }
  return static_cast<int>(syscall(SYS_epoll_ctl, epfd, op, fd, event));
}

namespace causeway::proxy {
namespace {

using causeway::testing::WaitFor;
using envoy::config::cluster::v3::Cluster;
using envoy::config::endpoint::v3::ClusterLoadAssignment;
using envoy::config::listener::v3::Listener;
using envoy::config::route::v3::RouteConfiguration;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::RawClient;
using testing::Request;
using testing::TestOrigin;

template <typename Proto>
Proto Text(const std::string& text) {
  Proto p;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &p)) << text;
  return p;
}

Listener MakeListener(const std::string& name, const std::string& rds) {
  envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager hcm;
  hcm.set_stat_prefix(name);
  hcm.mutable_rds()->set_route_config_name(rds);
  Listener l;
  l.set_name(name);
  l.mutable_address()->mutable_socket_address()->set_address("127.0.0.1");
  l.mutable_address()->mutable_socket_address()->set_port_value(0);
  auto* f = l.add_filter_chains()->add_filters();
  f->set_name("envoy.filters.network.http_connection_manager");
  f->mutable_typed_config()->PackFrom(hcm);
  return l;
}

ClusterLoadAssignment Endpoints(const std::string& cluster,
                                const std::vector<std::pair<uint16_t, std::string>>& eps) {
  ClusterLoadAssignment cla;
  cla.set_cluster_name(cluster);
  auto* loc = cla.add_endpoints();
  for (const auto& [port, stage] : eps) {
    auto* lbe = loc->add_lb_endpoints();
    auto* sa = lbe->mutable_endpoint()->mutable_address()->mutable_socket_address();
    sa->set_address("127.0.0.1");
    sa->set_port_value(port);
    if (!stage.empty()) {
      (*(*lbe->mutable_metadata()->mutable_filter_metadata())["envoy.lb"].mutable_fields())["stage"]
          .set_string_value(stage);
    }
  }
  return cla;
}

Cluster EdsCluster(const std::string& name, int connect_timeout_ms = 1000) {
  Cluster c;
  c.set_name(name);
  c.set_type(Cluster::EDS);
  // Seconds and nanos apart: 5,000 ms in nanos alone overflows an int.
  c.mutable_connect_timeout()->set_seconds(connect_timeout_ms / 1000);
  c.mutable_connect_timeout()->set_nanos((connect_timeout_ms % 1000) * 1000000);
  return c;
}

// A port nothing listens on: bound then closed.
uint16_t DeadPort() {
  TestOrigin* o = new TestOrigin("dead");
  uint16_t port = o->port();
  delete o;
  return port;
}

const char* kRoutes = R"pb(
  name: "main"
  response_headers_to_add { header { key: "x-proxy" value: "causeway" } }
  virtual_hosts {
    name: "api"
    domains: [ "api.test", "api.test:8080", "*.api.test" ]
    request_headers_to_add { header { key: "x-vhost" value: "api" } }
    routes {
      name: "direct"
      match { path: "/healthz" }
      direct_response {
        status: 200
        body { inline_string: "healthy" }
      }
    }
    routes {
      name: "canary"
      match {
        prefix: "/"
        headers {
          name: "x-canary"
          string_match { exact: "1" }
        }
      }
      route {
        cluster: "app"
        metadata_match {
          filter_metadata {
            key: "envoy.lb"
            value {
              fields {
                key: "stage"
                value { string_value: "canary" }
              }
            }
          }
        }
      }
    }
    routes {
      name: "rewrite"
      match { prefix: "/old/" }
      route { cluster: "app" prefix_rewrite: "/new/" host_rewrite_literal: "backend.internal" }
      request_headers_to_remove: "x-secret"
      response_headers_to_remove: "x-origin-conn"
    }
    routes {
      name: "regex"
      match { safe_regex { regex: "/users/[0-9]+" } }
      route { cluster: "app" }
    }
    routes {
      name: "query"
      match {
        prefix: "/q"
        query_parameters {
          name: "v"
          string_match { exact: "2" }
        }
      }
      direct_response {
        status: 202
        body { inline_string: "v2" }
      }
    }
    routes {
      name: "timeout"
      match { prefix: "/delay/" }
      route {
        cluster: "app"
        timeout { nanos: 300000000 }
      }
    }
    routes {
      name: "default"
      match { prefix: "/" }
      route { cluster: "app" }
    }
  }
  virtual_hosts {
    name: "other"
    domains: [ "other.*" ]
    routes {
      name: "empty"
      match { prefix: "/" }
      route { cluster: "empty" }
    }
    routes {
      name: "none"
      match { prefix: "/" }
      route { cluster: "missing" }
    }
  }
  virtual_hosts {
    name: "flaky"
    domains: [ "flaky.test" ]
    routes {
      name: "retry-5xx"
      match { prefix: "/" }
      route {
        cluster: "mixed"
        retry_policy {
          retry_on: "5xx"
          num_retries { value: 2 }
        }
      }
    }
  }
  virtual_hosts {
    name: "dead"
    domains: [ "dead.test" ]
    routes {
      name: "retry-connect"
      match { prefix: "/retry" }
      route {
        cluster: "half-dead"
        retry_policy {
          retry_on: "connect-failure"
          num_retries { value: 2 }
        }
      }
    }
    routes {
      name: "no-retry"
      match { prefix: "/" }
      route { cluster: "all-dead" }
    }
  }
  virtual_hosts {
    name: "slow"
    domains: [ "slow.test" ]
    routes {
      name: "per-try"
      match { prefix: "/" }
      route {
        cluster: "slow-then-fast"
        timeout { seconds: 5 }
        retry_policy {
          retry_on: "5xx"
          num_retries { value: 1 }
          per_try_timeout { nanos: 200000000 }
        }
      }
    }
  }
)pb";

class ProxyIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    prod_ = std::make_unique<TestOrigin>("prod");
    canary_ = std::make_unique<TestOrigin>("canary");
    bad_ = std::make_unique<TestOrigin>("bad", 503);
    ProxyServerOptions options{2, &log_};
    if (simulated_) options.time = &sim_;
    server_ = std::make_unique<ProxyServer>(options);
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_TRUE(Apply({MakeListener("main", "main")}).ok());
    port_ = *server_->ListenerPort("main");
  }

  absl::Status Apply(const std::vector<Listener>& listeners) {
    uint16_t dead = DeadPort();
    std::vector<Cluster> clusters = {EdsCluster("app"),      EdsCluster("empty"),
                                     EdsCluster("mixed"),    EdsCluster("half-dead"),
                                     EdsCluster("all-dead"), EdsCluster("slow-then-fast")};
    std::vector<ClusterLoadAssignment> eds = {
        Endpoints("app", {{prod_->port(), "prod"}, {canary_->port(), "canary"}}),
        Endpoints("mixed", {{bad_->port(), ""}, {prod_->port(), ""}}),
        Endpoints("half-dead", {{dead, ""}, {prod_->port(), ""}}),
        Endpoints("all-dead", {{dead, ""}}),
        Endpoints("slow-then-fast", {{prod_->port(), ""}, {canary_->port(), ""}}),
    };
    auto snapshot = BuildConfig(listeners, {Text<RouteConfiguration>(kRoutes)}, clusters, eds);
    if (!snapshot.ok()) return snapshot.status();
    return server_->UpdateConfig(*snapshot);
  }

  std::string Get(const std::string& host, const std::string& path, const std::string& extra = "") {
    return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n" + extra + "\r\n";
  }

  // Set by fixtures whose proxy runs on simulated time (before the server,
  // which it outlives).
  bool simulated_ = false;
  SimulatedTime sim_;
  MemoryAccessLog log_;
  std::unique_ptr<TestOrigin> prod_, canary_, bad_;
  std::unique_ptr<ProxyServer> server_;
  uint16_t port_ = 0;
};

TEST_F(ProxyIntegrationTest, KeepAliveBothSides) {
  RawClient c(port_);
  ASSERT_TRUE(c.connected());
  std::string conn;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(c.Send(Get("api.test", "/users/7")));
    auto r = c.Read();
    ASSERT_EQ(r.status, 200) << r.head;
    EXPECT_THAT(r.body, HasSubstr("GET /users/7\n"));
    EXPECT_EQ(r.Header("x-proxy"), "causeway");
    EXPECT_THAT(r.body, HasSubstr("x-vhost: api"));
    if (r.Header("x-origin") == "prod") {
      if (conn.empty()) conn = r.Header("x-origin-conn");
      EXPECT_EQ(r.Header("x-origin-conn"), conn) << "upstream connection not reused";
    }
  }
  EXPECT_LE(prod_->connections() + canary_->connections(), 2);
}

TEST_F(ProxyIntegrationTest, StreamsContentLengthAndChunkedBodies) {
  RawClient c(port_);
  std::string big(3 * 1024 * 1024, 'b');
  ASSERT_TRUE(c.Send("POST /upload HTTP/1.1\r\nHost: api.test\r\nContent-Length: " +
                     std::to_string(big.size()) + "\r\n\r\n" + big));
  auto r = c.Read();
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr("Content-Length: 3145728"));
  EXPECT_TRUE(r.body.ends_with(big));

  ASSERT_TRUE(
      c.Send("POST /c HTTP/1.1\r\nHost: api.test\r\nTransfer-Encoding: chunked\r\n\r\n"
             "4\r\nwiki\r\n5\r\npedia\r\n0\r\n\r\n"));
  r = c.Read();
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr("transfer-encoding: chunked"));
  EXPECT_TRUE(r.body.ends_with("\nwikipedia")) << r.body;

  ASSERT_TRUE(c.Send(Get("api.test", "/chunked")));
  r = c.Read();
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello world");

  ASSERT_TRUE(c.Send(Get("api.test", "/big/2000000")));
  r = c.Read();
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), 2000000u);
}

TEST_F(ProxyIntegrationTest, Http10) {
  RawClient c(port_);
  ASSERT_TRUE(c.Send("GET /x HTTP/1.0\r\nHost: api.test\r\n\r\n"));
  auto r = c.Read();
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr("GET /x\n"));
  EXPECT_TRUE(c.WaitClosed());
  RawClient k(port_);
  ASSERT_TRUE(k.Send("GET /x HTTP/1.0\r\nHost: api.test\r\nConnection: keep-alive\r\n\r\n"));
  r = k.Read();
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("connection"), "keep-alive");
  ASSERT_TRUE(k.Send("GET /y HTTP/1.0\r\nHost: api.test\r\n\r\n"));
  EXPECT_EQ(k.Read().status, 200);
}

TEST_F(ProxyIntegrationTest, RefusesSmugglingAndHugeHeaders) {
  RawClient c(port_);
  ASSERT_TRUE(
      c.Send("POST / HTTP/1.1\r\nHost: api.test\r\nContent-Length: 4\r\n"
             "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
  auto r = c.Read();
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("both Content-Length and Transfer-Encoding"));
  EXPECT_TRUE(c.WaitClosed());

  RawClient d(port_);
  ASSERT_TRUE(
      d.Send("POST / HTTP/1.1\r\nHost: api.test\r\nContent-Length: 1\r\n"
             "Content-Length: 1\r\n\r\nx"));
  EXPECT_EQ(d.Read().status, 400);
  EXPECT_TRUE(d.WaitClosed());

  RawClient e(port_);
  ASSERT_TRUE(
      e.Send("GET / HTTP/1.1\r\nHost: api.test\r\nX-Big: " + std::string(70000, 'a') + "\r\n\r\n"));
  EXPECT_EQ(e.Read().status, 431);
  EXPECT_TRUE(e.WaitClosed());
  EXPECT_EQ(prod_->requests() + canary_->requests(), 0);
}

TEST_F(ProxyIntegrationTest, RoutingFeatures) {
  auto r = Request(port_, Get("api.test", "/healthz"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "healthy");

  r = Request(port_, Get("nowhere.test", "/"));
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(r.body, HasSubstr("no virtual host"));

  r = Request(port_, Get("v1.api.test", "/q?a=1&v=2"));
  EXPECT_EQ(r.status, 202);

  r = Request(port_, Get("api.test:8080", "/old/thing?z=1", "X-Secret: s\r\nX-Keep: k\r\n"));
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr("GET /new/thing?z=1\n"));
  EXPECT_THAT(r.body, HasSubstr("host: backend.internal"));
  EXPECT_THAT(r.body, Not(HasSubstr("X-Secret")));
  EXPECT_THAT(r.body, HasSubstr("X-Keep: k"));
  EXPECT_EQ(r.Header("x-origin-conn"), "");

  for (int i = 0; i < 5; ++i) {
    r = Request(port_, Get("api.test", "/", "x-canary: 1\r\n"));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.Header("x-origin"), "canary");
  }
}

TEST_F(ProxyIntegrationTest, UpstreamFailuresMapToStatuses) {
  auto r = Request(port_, Get("other.test", "/"));
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.body, HasSubstr("no healthy upstream"));

  r = Request(port_, Get("dead.test", "/"));
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.body, HasSubstr("upstream connect failure"));

  for (int i = 0; i < 4; ++i) {
    r = Request(port_, Get("dead.test", "/retry"));
    EXPECT_EQ(r.status, 200) << "connect-failure retry";
  }

  auto start = std::chrono::steady_clock::now();
  r = Request(port_, Get("api.test", "/delay/1000"));
  EXPECT_EQ(r.status, 504);
  EXPECT_THAT(r.body, HasSubstr("upstream request timeout"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(900));
}

TEST_F(ProxyIntegrationTest, RetriesOn5xx) {
  // "mixed" is an always-503 origin plus a good one, round robin: with
  // retries on 5xx every request succeeds, and the sick origin was tried.
  int ok = 0;
  for (int i = 0; i < 6; ++i) {
    auto r = Request(port_, Get("flaky.test", "/echo"));
    ok += r.status == 200 && r.Header("x-origin") == "prod";
  }
  EXPECT_EQ(ok, 6);
  EXPECT_GT(bad_->requests(), 0);
}

TEST_F(ProxyIntegrationTest, PerTryTimeoutThenRouteTimeout) {
  // Both endpoints are slower than the 200 ms per-try timeout: one retry,
  // then 504, well before the 5 s route timeout.
  auto start = std::chrono::steady_clock::now();
  auto r = Request(port_, Get("slow.test", "/delay/700"));
  EXPECT_EQ(r.status, 504);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, std::chrono::milliseconds(390));
  EXPECT_LT(took, std::chrono::milliseconds(690));
}

// The same proxy on simulated time: its timeouts and retry back-off move only
// when the test advances the clock, so each is asserted at its exact time.
// Sockets stay real; the test waits (with a deadline) for the proxy to reach
// each step before it moves the clock.
class ProxySimulatedTimeTest : public ProxyIntegrationTest {
 protected:
  ProxySimulatedTimeTest() { simulated_ = true; }
  void SetUp() override {
    ProxyIntegrationTest::SetUp();
    t0_ = sim_.Monotonic();
  }
  // The earliest pending timer of the proxy, in ms since the start; -1: none.
  int64_t NextDeadlineMs() {
    std::chrono::steady_clock::time_point at;
    if (!sim_.NextDeadline(&at)) return -1;
    return std::chrono::duration_cast<std::chrono::milliseconds>(at - t0_).count();
  }
  int OriginRequests() { return prod_->requests() + canary_->requests(); }
  nlohmann::json LastLogLine() {
    EXPECT_TRUE(WaitFor([&] { return !log_.Lines().empty(); }, std::chrono::seconds(5)));
    auto lines = log_.Lines();
    return lines.empty() ? nlohmann::json() : nlohmann::json::parse(lines.back());
  }
  std::chrono::steady_clock::time_point t0_;
};

TEST_F(ProxySimulatedTimeTest, PerTryTimeoutsAndBackoffAtTheirExactTimes) {
  using std::chrono::milliseconds;
  const auto wait = std::chrono::seconds(5);
  RawClient c(port_);
  ASSERT_TRUE(c.Send(Get("slow.test", "/hold")));  // neither endpoint answers
  // Sent: the earliest deadline is the 200 ms per-try timeout (route: 5 s).
  ASSERT_TRUE(WaitFor([&] { return OriginRequests() == 1 && NextDeadlineMs() == 200; }, wait));
  sim_.Advance(milliseconds(199));
  EXPECT_EQ(NextDeadlineMs(), 200);
  sim_.Advance(milliseconds(1));
  // Timed out at 200 ms; the retry waits out Envoy's back-off, below 25 ms
  // for a first retry (none at all if the jitter drew 0).
  int64_t backoff = -1;
  ASSERT_TRUE(WaitFor(
      [&] {
        int64_t next = NextDeadlineMs();
        if (next > 200 && next < 225 && OriginRequests() == 1) backoff = next - 200;
        if (OriginRequests() == 2) backoff = std::max<int64_t>(backoff, 0);
        return backoff >= 0;
      },
      wait));
  if (OriginRequests() == 1) {
    sim_.Advance(milliseconds(backoff - 1));
    EXPECT_EQ(OriginRequests(), 1) << "the retry went before its back-off ended";
    sim_.Advance(milliseconds(1));
  }
  // The second attempt, to the other endpoint, has its own 200 ms.
  ASSERT_TRUE(
      WaitFor([&] { return OriginRequests() == 2 && NextDeadlineMs() == 400 + backoff; }, wait));
  EXPECT_EQ(prod_->requests(), 1);
  EXPECT_EQ(canary_->requests(), 1);
  sim_.Advance(milliseconds(199));
  EXPECT_EQ(NextDeadlineMs(), 400 + backoff);
  sim_.Advance(milliseconds(1));
  RawClient::Response r = c.Read();
  EXPECT_EQ(r.status, 504);
  nlohmann::json j = LastLogLine();
  EXPECT_EQ(j["status"], 504);
  EXPECT_EQ(j["attempts"], 2);
  EXPECT_EQ(j["flags"], "UT");
  EXPECT_DOUBLE_EQ(j["duration_ms"].get<double>(), 400.0 + backoff);
}

TEST_F(ProxySimulatedTimeTest, RouteTimeoutAtEnvoysDefaultFifteenSeconds) {
  using std::chrono::milliseconds;
  RawClient c(port_);
  ASSERT_TRUE(c.Send(Get("api.test", "/hold")));
  ASSERT_TRUE(WaitFor([&] { return OriginRequests() == 1 && NextDeadlineMs() == 15000; },
                      std::chrono::seconds(5)));
  sim_.Advance(milliseconds(14999));
  EXPECT_EQ(NextDeadlineMs(), 15000);
  sim_.Advance(milliseconds(1));
  EXPECT_EQ(c.Read().status, 504);
  nlohmann::json j = LastLogLine();
  EXPECT_EQ(j["attempts"], 1);
  EXPECT_DOUBLE_EQ(j["duration_ms"].get<double>(), 15000.0);
}

TEST_F(ProxySimulatedTimeTest, SilentConnectionClosedAtTheIdleTimeout) {
  using std::chrono::milliseconds;
  RawClient c(port_);  // connects and sends nothing
  // Waiting for a first byte: Envoy's default stream idle timeout, 5 minutes.
  ASSERT_TRUE(WaitFor([&] { return NextDeadlineMs() == 300000; }, std::chrono::seconds(5)));
  sim_.Advance(milliseconds(299999));
  EXPECT_FALSE(c.WaitClosed(100)) << "closed before the idle timeout";
  sim_.Advance(milliseconds(1));
  EXPECT_TRUE(c.WaitClosed());
}

TEST_F(ProxyIntegrationTest, AccessLogLine) {
  auto r = Request(port_, Get("api.test", "/users/1"));
  ASSERT_EQ(r.status, 200);
  // The line is written once the response is out: wait for it with a deadline.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  auto lines = log_.Lines();
  while (lines.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
    lines = log_.Lines();
  }
  ASSERT_FALSE(lines.empty());
  auto j = nlohmann::json::parse(lines.back());
  EXPECT_EQ(j["method"], "GET");
  EXPECT_EQ(j["authority"], "api.test");
  EXPECT_EQ(j["path"], "/users/1");
  EXPECT_EQ(j["status"], 200);
  EXPECT_EQ(j["route"], "regex");
  EXPECT_EQ(j["cluster"], "app");
  EXPECT_THAT(j["upstream_address"].get<std::string>(), HasSubstr("127.0.0.1:"));
  EXPECT_GT(j["bytes_sent"].get<int>(), 0);
  EXPECT_FALSE(j["upstream_time_ms"].is_null());
}

// An access log whose first line holds the worker that writes it until the
// test lets it go: what arrives meanwhile is all waiting when it resumes.
class HoldingAccessLog final : public AccessLog {
 public:
  void Log(const AccessLogEntry& entry) override {
    lines_.Log(entry);
    if (first_.exchange(false)) {
      held_.set_value();
      release_.get_future().wait();
    }
  }
  bool WaitHeld(std::chrono::seconds timeout) {
    return held_.get_future().wait_for(timeout) == std::future_status::ready;
  }
  void Release() {
    if (!released_.exchange(true)) release_.set_value();
  }
  std::vector<std::string> Lines() const { return lines_.Lines(); }

 private:
  MemoryAccessLog lines_;
  std::atomic<bool> first_{true};
  std::atomic<bool> released_{false};
  std::promise<void> held_;
  std::promise<void> release_;
};

// Requests the proxy answers itself never wait for a socket, so a client
// pipelining many of them would hold its worker until the pipeline ran dry
// were there no yield between them: another client's request on the same
// worker is answered in between. The worker is held while both arrive, so
// the order it finds them in does not depend on how fast this thread runs.
TEST_F(ProxyIntegrationTest, PipelinedRequestsDoNotHoldTheWorker) {
  HoldingAccessLog log;
  ProxyServer one(ProxyServerOptions{1, &log});
  // Declared after the server, so destroyed before it: a failed assertion
  // below never leaves the worker held while the server waits for it.
  struct ReleaseOnExit {
    HoldingAccessLog& log;
    ~ReleaseOnExit() { log.Release(); }
  } release_on_exit{log};
  ASSERT_TRUE(one.Start().ok());
  auto snapshot = BuildConfig({MakeListener("main", "main")}, {Text<RouteConfiguration>(kRoutes)},
                              {EdsCluster("app")}, {Endpoints("app", {{prod_->port(), ""}})});
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  ASSERT_TRUE(one.UpdateConfig(*snapshot).ok());
  uint16_t port = *one.ListenerPort("main");

  // Few enough that the pipeline fits the socket buffers while the worker is
  // held, and every answer fits them while the client reads none.
  const int kPipelined = 1000;
  std::string pipeline;
  for (int i = 0; i < kPipelined; ++i) pipeline += Get("api.test", "/healthz");
  RawClient a(port);
  ASSERT_TRUE(a.Send(Get("api.test", "/healthz")));
  ASSERT_TRUE(log.WaitHeld(std::chrono::seconds(10))) << "the first request was not answered";
  ASSERT_TRUE(a.Send(pipeline));
  RawClient b(port);
  ASSERT_TRUE(b.Send(Get("api.test:8080", "/healthz")));
  log.Release();

  ASSERT_EQ(b.Read().status, 200);
  for (int i = 0; i <= kPipelined; ++i) ASSERT_EQ(a.Read().status, 200) << "response " << i;

  // The log line of a request is written once its response is out.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto lines = log.Lines();
  while (lines.size() < kPipelined + 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
    lines = log.Lines();
  }
  ASSERT_EQ(lines.size(), kPipelined + 2u);
  size_t b_index = lines.size();
  for (size_t i = 0; i < lines.size(); ++i) {
    if (nlohmann::json::parse(lines[i])["authority"] == "api.test:8080") b_index = i;
  }
  ASSERT_LT(b_index, lines.size());
  EXPECT_LT(b_index, kPipelined / 2) << "the other client waited for most of the pipeline";
}

// The threads of this process whose scheduling slice is `slice`.
int ThreadsWithSlice(std::chrono::nanoseconds slice) {
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
    auto got = ThreadSlice(static_cast<pid_t>(std::stoi(entry.path().filename().string())));
    if (got.ok() && *got == slice) ++n;  // a thread may end while listed
  }
  return n;
}

// Per-thread slices arrived in Linux 6.12: before, the kernel reports none
// and the workers keep its own (and say so in the log).
bool KernelHasSlices() {
  auto own = ThreadSlice();
  return own.ok() && own->count() > 0;
}

// Every worker thread, and no other, asks for the configured slice (the
// fixture's server: the default).
TEST_F(ProxyIntegrationTest, WorkersRunWithTheirSchedulingSlice) {
  const int expected = KernelHasSlices() ? 2 : 0;
  EXPECT_EQ(ThreadsWithSlice(kDefaultWorkerSlice), expected);

  ProxyServerOptions options{.workers = 3, .worker_slice = std::chrono::microseconds(250)};
  ProxyServer three(options);
  // Start returns once every worker thread has set itself up.
  ASSERT_TRUE(three.Start().ok());
  EXPECT_EQ(ThreadsWithSlice(std::chrono::microseconds(250)), KernelHasSlices() ? 3 : 0);
  EXPECT_EQ(ThreadsWithSlice(kDefaultWorkerSlice), expected);
}

// The proxy's end of the connection whose local end is `client_fd`.
int ServerSideOf(int client_fd) {
  sockaddr_storage local{};
  socklen_t local_len = sizeof(local);
  if (getsockname(client_fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) return -1;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    int fd = std::stoi(entry.path().filename().string());
    sockaddr_storage peer{};
    socklen_t peer_len = sizeof(peer);
    if (fd == client_fd || getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) {
      continue;
    }
    if (peer_len == local_len && std::memcmp(&peer, &local, local_len) == 0) return fd;
  }
  return -1;
}

// Keep-alive requests cost no epoll_ctl, neither while the connection waits
// for its next request nor while a request waits for its upstream answer:
// Asio re-arms a descriptor with one for every async_wait, and both waits
// used to be one (two system calls per request).
TEST_F(ProxyIntegrationTest, KeepAliveRequestsCostNoEpollCtl) {
  RawClient c(port_);
  // Until the worker has a connection to each of the cluster's two origins
  // (opening one registers it with epoll).
  for (int i = 0; i < 100 && (prod_->requests() == 0 || canary_->requests() == 0); ++i) {
    ASSERT_TRUE(c.Send(Get("api.test", "/x")));
    ASSERT_EQ(c.Read().status, 200);
  }
  ASSERT_GT(prod_->requests(), 0);
  ASSERT_GT(canary_->requests(), 0);
  const int server_fd = ServerSideOf(c.fd());
  ASSERT_GE(server_fd, 0);

  {
    std::lock_guard lock(epoll_ctl_count::mu);
    epoll_ctl_count::calls.clear();
  }
  epoll_ctl_count::on = true;
  const int kRequests = 50;
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_TRUE(c.Send(Get("api.test", "/x")));
    ASSERT_EQ(c.Read().status, 200) << "request " << i;
  }
  // The counting itself works.
  int epoll_fd = epoll_create1(0);
  ASSERT_GE(epoll_fd, 0);
  epoll_event event{};
  event.events = EPOLLIN;
  ASSERT_EQ(epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c.fd(), &event), 0);
  close(epoll_fd);
  epoll_ctl_count::on = false;

  std::lock_guard lock(epoll_ctl_count::mu);
  EXPECT_EQ(epoll_ctl_count::calls[server_fd], 0) << "the downstream connection";
  EXPECT_EQ(epoll_ctl_count::calls[c.fd()], 1);
  // The test origins serve with blocking threads: every other descriptor
  // counted is the proxy's, and the upstream connection is one of them.
  int others = 0;
  for (const auto& [fd, calls] : epoll_ctl_count::calls) {
    if (fd != server_fd && fd != c.fd()) others += calls;
  }
  EXPECT_EQ(others, 0) << "upstream connections";
}

TEST_F(ProxyIntegrationTest, ExpectContinue) {
  RawClient c(port_);
  ASSERT_TRUE(
      c.Send("POST /e HTTP/1.1\r\nHost: api.test\r\nContent-Length: 5\r\n"
             "Expect: 100-continue\r\n\r\n"));
  auto interim = c.Read();
  ASSERT_EQ(interim.status, 100);
  ASSERT_TRUE(c.Send("hello"));
  auto r = c.Read();
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.ends_with("\nhello"));
  EXPECT_THAT(r.body, Not(HasSubstr("Expect")));
}

TEST_F(ProxyIntegrationTest, UpgradeTunnel) {
  RawClient c(port_);
  ASSERT_TRUE(
      c.Send("GET /ws HTTP/1.1\r\nHost: api.test\r\nConnection: Upgrade\r\n"
             "Upgrade: websocket\r\n\r\n"));
  auto r = c.Read();
  ASSERT_EQ(r.status, 101) << r.head;
  ASSERT_TRUE(c.Send("ping-frame"));
  std::string echoed;
  while (echoed.size() < 10) {
    std::string got = c.ReadSome();
    if (got.empty()) break;
    echoed += got;
  }
  EXPECT_EQ(echoed, "ping-frame");
}

TEST_F(ProxyIntegrationTest, ListenersAddedAndRemovedAtRunTime) {
  RawClient existing(port_);
  ASSERT_TRUE(existing.Send(Get("api.test", "/a")));
  ASSERT_EQ(existing.Read().status, 200);

  ASSERT_TRUE(Apply({MakeListener("main", "main"), MakeListener("second", "main")}).ok());
  uint16_t second = *server_->ListenerPort("second");
  EXPECT_EQ(Request(second, Get("api.test", "/b")).status, 200);
  EXPECT_EQ(*server_->ListenerPort("main"), port_);

  ASSERT_TRUE(Apply({MakeListener("second", "main")}).ok());
  EXPECT_FALSE(server_->ListenerPort("main").has_value());
  // The connection accepted before removal finishes its next request and is
  // then closed; new connections are refused once every worker applied the
  // change (wait on that condition with a deadline).
  ASSERT_TRUE(existing.Send(Get("api.test", "/c")));
  auto r = existing.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("connection"), "close");
  EXPECT_TRUE(existing.WaitClosed());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  bool refused = false;
  while (!refused && std::chrono::steady_clock::now() < deadline) {
    RawClient probe(port_);
    refused = !probe.connected();
    if (!refused) std::this_thread::yield();
  }
  EXPECT_TRUE(refused);
  EXPECT_EQ(Request(second, Get("api.test", "/d")).status, 200);
}

TEST_F(ProxyIntegrationTest, RejectsInvalidConfigKeepingTheOld) {
  Listener bad = MakeListener("main", "main");
  bad.mutable_address()->mutable_socket_address()->set_address("not-an-ip");
  absl::Status s = Apply({MakeListener("main", "main"), MakeListener("x", "main"), bad});
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(Request(port_, Get("api.test", "/")).status, 200);
}

TEST_F(ProxyIntegrationTest, GracefulDrain) {
  RawClient idle(port_);
  ASSERT_TRUE(idle.Send(Get("api.test", "/")));
  ASSERT_EQ(idle.Read().status, 200);
  RawClient busy(port_);
  // Count before sending: the origin may see the request before this thread
  // runs again.
  int before = prod_->requests() + canary_->requests();
  ASSERT_TRUE(busy.Send(Get("slow.test", "/delay/100")));
  // Wait until the proxy has the request in flight (the origin saw it).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (prod_->requests() + canary_->requests() == before &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_NE(prod_->requests() + canary_->requests(), before) << "the origin never saw the request";
  EXPECT_TRUE(server_->Drain(std::chrono::seconds(5)));
  EXPECT_TRUE(idle.WaitClosed());
  auto r = busy.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("connection"), "close");
}

// Upstream connection reuse under bursts, on one worker (one pool). Before,
// the pool kept at most max_idle_per_endpoint idle connections and closed
// the rest the moment they were released, so under many concurrent
// requests a third of them opened a new upstream connection; those bursts
// of SYNs overflowed the origin's accept queue, and a dropped SYN is only
// retried after 1 s: connect timeouts, 503s.
class ConnectionReuseTest : public ::testing::Test {
 protected:
  void Start(ConnectionPool::Options pool, uint16_t origin_port = 0) {
    if (origin_port == 0) origin_port = origin_.port();
    ProxyServerOptions options{1, &log_};
    options.pool = pool;
    server_ = std::make_unique<ProxyServer>(options);
    ASSERT_TRUE(server_->Start().ok());
    auto routes = Text<RouteConfiguration>(R"pb(
      name: "one"
      virtual_hosts {
        name: "any"
        domains: "*"
        routes {
          match { prefix: "/" }
          route { cluster: "one" }
        }
      }
    )pb");
    auto snapshot = BuildConfig({MakeListener("one", "one")}, {routes}, {EdsCluster("one", 5000)},
                                {Endpoints("one", {{origin_port, ""}})});
    ASSERT_TRUE(snapshot.ok()) << snapshot.status();
    ASSERT_TRUE(server_->UpdateConfig(*snapshot).ok());
    port_ = *server_->ListenerPort("one");
  }

  // `n` clients at once, each one request to /hold; returns once the origin
  // holds all of them, has answered them and every client read its answer.
  void Burst(int n) {
    std::vector<std::thread> clients;
    std::atomic<int> ok{0};
    int held_before = origin_.held();
    for (int i = 0; i < n; ++i) {
      clients.emplace_back([&] {
        RawClient c(port_);
        if (c.Send("GET /hold HTTP/1.1\r\nHost: one.test\r\n\r\n") && c.Read().status == 200) {
          ++ok;
        }
      });
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (origin_.held() < held_before + n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_EQ(origin_.held(), held_before + n) << "the burst never reached the origin";
    EXPECT_EQ(server_->RequestsInProgress(), n);  // beyond kAtOnceUpTo: queued steps
    origin_.ReleaseHeld();
    for (auto& t : clients) t.join();
    EXPECT_EQ(ok.load(), n);
    auto settled = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (server_->RequestsInProgress() != 0 && std::chrono::steady_clock::now() < settled) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_EQ(server_->RequestsInProgress(), 0) << "requests still counted in progress";
  }

  TestOrigin origin_{"origin"};
  MemoryAccessLog log_;
  std::unique_ptr<ProxyServer> server_;
  uint16_t port_ = 0;
};

TEST_F(ConnectionReuseTest, BurstReusesTheConnectionsOfTheBurstBefore) {
  Start({.max_idle_per_endpoint = 4, .idle_trim_delay = std::chrono::seconds(60)});
  Burst(40);
  EXPECT_EQ(origin_.connections(), 40);
  // Every connection of the first burst is still there for the second.
  Burst(40);
  EXPECT_EQ(origin_.connections(), 40) << "connections were closed and reopened";
}

TEST_F(ConnectionReuseTest, IdleConnectionsBeyondTheLimitCloseAfterTheDelay) {
  Start({.max_idle_per_endpoint = 4, .idle_trim_delay = std::chrono::milliseconds(100)});
  Burst(20);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (origin_.open_connections() > 4 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(origin_.open_connections(), 4);
  // The ones kept serve the next requests.
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(Request(port_, "GET / HTTP/1.1\r\nHost: one.test\r\n\r\n").status, 200);
  EXPECT_EQ(origin_.connections(), 20);
}

TEST_F(ConnectionReuseTest, IdleConnectionClosedByTheOriginIsReplacedTransparently) {
  // A connection parked a moment ago is handed out without probing it; when
  // the origin has closed it meanwhile the request goes again on a new one.
  Start({});
  std::string get = "GET /then-close HTTP/1.1\r\nHost: one.test\r\n\r\n";
  for (int i = 0; i < 3; ++i) {
    RawClient c(port_);
    ASSERT_TRUE(c.Send(get));
    auto r = c.Read();
    EXPECT_EQ(r.status, 200) << "request " << i;
    // Wait until the origin's side of the connection is gone.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (origin_.open_connections() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  EXPECT_EQ(origin_.connections(), 3);
  EXPECT_EQ(origin_.requests(), 3);
}

TEST_F(ConnectionReuseTest, BurstBeyondTheConnectLimitIsServedInFull) {
  // 60 requests at once through a pool that opens at most 8 connections at
  // a time: all are served, each over its own connection (the origin holds
  // them all), so the pool kept starting connects as earlier ones completed.
  Start({.max_connecting_per_endpoint = 8});
  Burst(60);
  EXPECT_EQ(origin_.connections(), 60);
}

// Connections of this process in SYN-SENT toward 127.0.0.1:`port`: connects
// the kernel has started and the peer has not answered (/proc/net/tcp, state
// 02; addresses are hex, the port after the colon).
int SynSentTo(uint16_t port) {
  std::ifstream tcp("/proc/net/tcp");
  std::string line;
  std::getline(tcp, line);  // header
  char want[16];
  std::snprintf(want, sizeof(want), "0100007F:%04X", port);
  int count = 0;
  while (std::getline(tcp, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    fields >> slot >> local >> remote >> state;
    if (remote == want && state == "02") ++count;
  }
  return count;
}

TEST_F(ConnectionReuseTest, ConnectsToOneEndpointAreBounded) {
  // An origin whose accept queue is full: the kernel drops further SYNs, so
  // every connect the pool starts stays in SYN-SENT, where it can be
  // counted. 20 requests at once; at most 8 connects may be in flight.
  const int stalled = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(stalled, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(stalled, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(stalled, 0), 0);  // one queued connection, never accepted
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(stalled, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const uint16_t stalled_port = ntohs(addr.sin_port);

  Start({.max_connecting_per_endpoint = 8}, stalled_port);
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 20; ++i) {
    clients.push_back(std::make_unique<RawClient>(port_));
    ASSERT_TRUE(clients.back()->Send("GET / HTTP/1.1\r\nHost: one.test\r\n\r\n"));
  }
  // Every request has reached the pool and the limit is full; the most ever
  // seen connecting is the limit (19 would connect at once without it: all
  // but the one the origin's queue took).
  int most = 0;
  ASSERT_TRUE(WaitFor([&] {
    const int now = SynSentTo(stalled_port);
    most = std::max(most, now);
    return server_->RequestsInProgress() == 20 && now == 8;
  })) << "in progress "
      << server_->RequestsInProgress() << ", connecting " << SynSentTo(stalled_port);
  for (int i = 0; i < 50; ++i) most = std::max(most, SynSentTo(stalled_port));
  EXPECT_EQ(most, 8);
  clients.clear();
  ::close(stalled);
}

// Strict output toward the client: an upstream that puts a bare CR or LF
// (or another control character) in its reason phrase cannot make the proxy
// write a header, or a second response, of the upstream's choosing.

// An origin that answers each request with the raw bytes mapped to its path
// (404 otherwise), then closes the connection. One connection at a time.
class RawOrigin {
 public:
  explicit RawOrigin(std::map<std::string, std::string> answers) : answers_(std::move(answers)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(listen_fd_, 16);
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~RawOrigin() {
    stop_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    thread_.join();
    ::close(listen_fd_);
  }
  uint16_t port() const { return port_; }

 private:
  void Serve() {
    while (!stop_) {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      std::string in;
      char buf[4096];
      while (in.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
      }
      size_t sp1 = in.find(' ');
      size_t sp2 = sp1 == std::string::npos ? sp1 : in.find(' ', sp1 + 1);
      std::string path = sp2 == std::string::npos ? "" : in.substr(sp1 + 1, sp2 - sp1 - 1);
      auto it = answers_.find(path);
      std::string out =
          it != answers_.end()
              ? it->second
              : "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
      ::shutdown(fd, SHUT_WR);
      while (::recv(fd, buf, sizeof(buf), 0) > 0) {
      }
      ::close(fd);
    }
  }

  std::map<std::string, std::string> answers_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class UpstreamReasonPhraseTest : public ::testing::Test {
 protected:
  static constexpr const char* kTail = "Content-Length: 2\r\nConnection: close\r\n\r\nhi";

  void SetUp() override {
    server_ = std::make_unique<ProxyServer>(ProxyServerOptions{1, &log_});
    ASSERT_TRUE(server_->Start().ok());
    auto routes = Text<RouteConfiguration>(R"pb(
      name: "raw"
      virtual_hosts {
        name: "any"
        domains: "*"
        routes {
          match { prefix: "/" }
          route { cluster: "raw" }
        }
      }
    )pb");
    auto snapshot = BuildConfig({MakeListener("raw", "raw")}, {routes}, {EdsCluster("raw")},
                                {Endpoints("raw", {{origin_.port(), ""}})});
    ASSERT_TRUE(snapshot.ok()) << snapshot.status();
    ASSERT_TRUE(server_->UpdateConfig(*snapshot).ok());
    port_ = *server_->ListenerPort("raw");
  }

  RawClient::Response Get(const std::string& path) {
    return Request(port_, "GET " + path + " HTTP/1.1\r\nHost: raw.test\r\n\r\n");
  }

  // Every line of the head the client got ends in CRLF: no bare CR or LF
  // that some client could take for a line end.
  static bool OnlyCrlfLines(const std::string& head) {
    for (size_t i = 0; i < head.size(); ++i) {
      if (head[i] == '\r' && (i + 1 == head.size() || head[i + 1] != '\n')) return false;
      if (head[i] == '\n' && (i == 0 || head[i - 1] != '\r')) return false;
    }
    return true;
  }

  RawOrigin origin_{{
      {"/cr", std::string("HTTP/1.1 200 OK\rX-Injected: 1\r\n") + kTail},
      {"/lf", std::string("HTTP/1.1 200 OK\nX-Injected: 1\r\n") + kTail},
      {"/nul", std::string("HTTP/1.1 200 O\0K\r\n", 18) + kTail},
      {"/esc", std::string("HTTP/1.1 200 OK\x1b[2J\r\n") + kTail},
      // A second response in the first one's status line.
      {"/split", std::string("HTTP/1.1 200 OK\nContent-Length: 0\n\nHTTP/1.1 302 Found\n"
                             "Location: http://elsewhere.test/\r\n") +
                     kTail},
      {"/header-cr", std::string("HTTP/1.1 200 OK\r\nX-A: 1\rX-Injected: 1\r\n") + kTail},
      {"/custom", std::string("HTTP/1.1 201 Made It\r\n") + kTail},
  }};
  MemoryAccessLog log_;
  std::unique_ptr<ProxyServer> server_;
  uint16_t port_ = 0;
};

TEST_F(UpstreamReasonPhraseTest, ControlCharactersInTheReasonPhraseAreReplaced) {
  for (std::string path : {"/cr", "/lf", "/nul", "/esc", "/split"}) {
    RawClient::Response r = Get(path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_TRUE(r.head.starts_with("HTTP/1.1 200 OK\r\n")) << path << ": " << r.head;
    EXPECT_THAT(r.head, Not(HasSubstr("Injected"))) << path;
    EXPECT_THAT(r.head, Not(HasSubstr("302"))) << path;
    EXPECT_THAT(r.head, Not(HasSubstr("elsewhere"))) << path;
    EXPECT_TRUE(OnlyCrlfLines(r.head)) << path << ": " << r.head;
    EXPECT_EQ(r.body, "hi") << path;
  }
}

TEST_F(UpstreamReasonPhraseTest, ControlCharactersInAHeaderLineFailTheResponse) {
  // The parser refuses the head, so nothing of it reaches the client.
  RawClient::Response r = Get("/header-cr");
  EXPECT_EQ(r.status, 502);
  EXPECT_THAT(r.head, Not(HasSubstr("Injected")));
  EXPECT_TRUE(OnlyCrlfLines(r.head)) << r.head;
}

TEST_F(UpstreamReasonPhraseTest, AVisibleReasonPhraseIsForwarded) {
  RawClient::Response r = Get("/custom");
  EXPECT_EQ(r.status, 201);
  EXPECT_TRUE(r.head.starts_with("HTTP/1.1 201 Made It\r\n")) << r.head;
  EXPECT_EQ(r.body, "hi");
}

}  // namespace
}  // namespace causeway::proxy
