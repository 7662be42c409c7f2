// causeway-proxy as a program, configured by a real hub: the real
// `causeway serve` (SQLite, temporary data directory), the real
// `causeway-proxy` following it over xDS, and test origins on loopback, all on
// ports chosen at run time. Objects are written through the hub's REST API;
// traffic is raw HTTP/1.1 keep-alive from client threads that record every
// outcome, so "no request lost" is checked request by request.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hub_fixture.h"
#include "net/http_client.h"
#include "nlohmann/json.hpp"
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
using causeway::testing::Subprocess;
using causeway::testing::TempDir;
using causeway::testing::WaitFor;
using proxy::testing::RawClient;
using proxy::testing::TestOrigin;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

constexpr char kZone[] = "shop";
constexpr char kProxy[] = "edge";
constexpr char kExpectedAllocator[] = CAUSEWAY_EXPECTED_ALLOCATOR;

// Client threads sending keep-alive GETs through the proxy back to back. A
// request counts as lost unless it gets a complete 200; a connection the
// proxy closes without saying `connection: close` first loses the request
// sent on it. Each thread keeps the origins of its latest responses.
class Load {
 public:
  Load(uint16_t port, std::string host, int threads) : port_(port), host_(std::move(host)) {
    per_thread_.resize(threads);
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this, i] { Run(i); });
  }
  ~Load() { Stop(); }

  void Stop() {
    stop_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  int64_t ok() const { return ok_.load(); }
  int64_t lost() const { return lost_.load(); }

  std::string Failures() const {
    std::lock_guard lock(mu_);
    std::string out;
    for (const auto& f : failures_) out += f + "\n";
    return out;
  }

  // True when every thread has at least `n` responses and its last `n` all
  // came from `origin`.
  bool AllRecentFrom(const std::string& origin, size_t n) const {
    std::lock_guard lock(mu_);
    for (const auto& t : per_thread_) {
      if (t.recent.size() < n) return false;
      for (size_t i = t.recent.size() - n; i < t.recent.size(); ++i) {
        if (t.recent[i] != origin) return false;
      }
    }
    return true;
  }

  // Responses per origin so far.
  std::map<std::string, int64_t> ByOrigin() const {
    std::lock_guard lock(mu_);
    return by_origin_;
  }

  // Waits until every thread has completed `n` more requests than when
  // called (so the load demonstrably went on through whatever happened).
  bool WaitForProgress(int n, milliseconds timeout) {
    std::vector<int64_t> start;
    {
      std::lock_guard lock(mu_);
      for (const auto& t : per_thread_) start.push_back(t.done);
    }
    return WaitFor(
        [&] {
          std::lock_guard lock(mu_);
          for (size_t i = 0; i < per_thread_.size(); ++i) {
            if (per_thread_[i].done < start[i] + n) return false;
          }
          return true;
        },
        timeout);
  }

 private:
  struct PerThread {
    std::deque<std::string> recent;  // origins of the latest responses
    int64_t done = 0;                // requests answered 200
  };

  void Run(int id) {
    std::unique_ptr<RawClient> client;
    for (int64_t seq = 0; !stop_; ++seq) {
      if (client == nullptr) {
        client = std::make_unique<RawClient>(port_);
        if (!client->connected()) {
          Lost(id, seq, "connect failed");
          client.reset();
          // Keep the failure visible without spinning the CPU the proxy needs.
          std::this_thread::sleep_for(milliseconds(10));
          continue;
        }
      }
      std::string request = "GET /load/" + std::to_string(id) + "/" + std::to_string(seq) +
                            " HTTP/1.1\r\nHost: " + host_ + "\r\n\r\n";
      if (!client->Send(request)) {
        Lost(id, seq, "send failed");
        client.reset();
        continue;
      }
      RawClient::Response r = client->Read();
      if (r.status != 200) {
        Lost(id, seq,
             "status " + std::to_string(r.status) + (r.closed_after ? " (connection closed)" : "") +
                 " " + r.head.substr(0, 200) + r.body.substr(0, 200));
        client.reset();
        continue;
      }
      ++ok_;
      {
        std::lock_guard lock(mu_);
        PerThread& t = per_thread_[id];
        const std::string origin = r.Header("x-origin");
        t.recent.push_back(origin);
        if (t.recent.size() > 64) t.recent.pop_front();
        ++t.done;
        ++by_origin_[origin];
      }
      if (r.Header("connection") == "close") client.reset();
    }
  }

  void Lost(int id, int64_t seq, const std::string& why) {
    ++lost_;
    std::lock_guard lock(mu_);
    if (failures_.size() < 20) {
      failures_.push_back("thread " + std::to_string(id) + " request " + std::to_string(seq) +
                          ": " + why);
    }
  }

  const uint16_t port_;
  const std::string host_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> ok_{0};
  std::atomic<int64_t> lost_{0};
  mutable std::mutex mu_;
  std::vector<PerThread> per_thread_;
  std::map<std::string, int64_t> by_origin_;
  std::vector<std::string> failures_;
  std::vector<std::thread> threads_;
};

// A socket listening on 127.0.0.1 without SO_REUSEPORT: the proxy cannot
// bind a listener on its port.
class PortBlocker {
 public:
  PortBlocker() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~PortBlocker() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

class ProxyWithHubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // One xDS thread: every stream and every snapshot fan-out on one
    // completion queue (the other tests run several).
    ASSERT_NO_FATAL_FAILURE(hub_.Start({"--xds-threads", "1"}));
    api_ = std::make_unique<Api>(hub_.url(), hub_.admin_token());
    zone_ = std::make_unique<RoutedZone>(api_.get(), kZone, FreePort());
    listen_port_ = zone_->listen_port();
    domain_ = zone_->domain();
    ASSERT_NO_FATAL_FAILURE(zone_->Seed());
  }

  void TearDown() override {
    if (proxy_ != nullptr && HasFailure()) {
      // The hub's log without its per-request lines.
      std::istringstream hub_log(hub_.Log());
      std::string hub_lines;
      for (std::string line; std::getline(hub_log, line);) {
        if (line.find("\"msg\":\"request\"") == std::string::npos) hub_lines += line + "\n";
      }
      std::cerr << "--- causeway-proxy log ---\n"
                << proxy_->Log() << "--- hub log ---\n"
                << hub_lines;
    }
  }

  std::string ZonePath(const std::string& rest) const { return zone_->Path(rest); }

  static void Created(const Api::Result& r) { ASSERT_EQ(r.status, 201) << r.raw.body; }

  // Starts causeway-proxy (two workers) against the hub and waits until it
  // serves the seeded route (a request through it reaches blue).
  void StartProxy(int drain_seconds = 10) {
    proxy_ =
        std::make_unique<ProxyProcess>(zone_.get(), "127.0.0.1:" + std::to_string(hub_.xds_port()),
                                       std::vector<std::string>{"--workers", "2", "--drain-seconds",
                                                                std::to_string(drain_seconds)});
    ASSERT_NO_FATAL_FAILURE(proxy_->Start("blue"));
    admin_port_ = proxy_->admin_port();
  }

  std::string Get(const std::string& path) const {
    return "GET " + path + " HTTP/1.1\r\nHost: " + domain_ + "\r\n\r\n";
  }

  // GET on the proxy's admin endpoint (a fresh connection each time).
  HttpResponse AdminGet(const std::string& path) {
    auto client = HttpClient::Create("127.0.0.1:" + std::to_string(admin_port_),
                                     HttpClient::Options{seconds(10)});
    EXPECT_TRUE(client.ok()) << client.status();
    if (!client.ok()) return {};
    auto res = (*client)->Send("GET", path);
    EXPECT_TRUE(res.ok()) << path << ": " << res.status();
    return res.ok() ? *res : HttpResponse{};
  }

  Json AdminJson(const std::string& path) {
    HttpResponse res = AdminGet(path);
    EXPECT_EQ(res.status, 200) << path << ": " << res.body;
    Json j = Json::parse(res.body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << path << ": " << res.body;
    return j.is_discarded() ? Json() : j;
  }

  double Stat(const std::string& name) {
    Json stats = AdminJson("/stats?format=json");
    return stats.is_object() && stats.contains(name) ? stats[name].get<double>() : -1;
  }

  // Replaces an object's spec fields (the current version is read first).
  void Update(const std::string& path, const Json& fields) {
    Api::Result current = api_->Get(path);
    ASSERT_EQ(current.status, 200) << current.raw.body;
    Json body = current.body;
    for (const auto& [k, v] : fields.items()) body[k] = v;
    Api::Result r = api_->Put(path, body);
    ASSERT_EQ(r.status, 200) << r.raw.body;
  }

  void RouteTo(const std::string& cluster) {
    Update(ZonePath("/route-groups/main"), {{"default", {{{"cluster", cluster}, {"weight", 1}}}}});
  }

  // This proxy's stream in the hub's zone status, or null.
  Json ProxyStatus() {
    Api::Result r = api_->Get(ZonePath("/status"));
    if (r.status != 200 || !r.body.contains("proxies")) return nullptr;
    for (const Json& p : r.body["proxies"]) {
      if (p.value("proxy", "") == kProxy) return p;
    }
    return nullptr;
  }

  // The NACK messages the hub recorded for this proxy, by xDS type.
  std::map<std::string, std::string> Nacks() {
    std::map<std::string, std::string> out;
    Json p = ProxyStatus();
    if (p.is_null()) return out;
    for (const auto& [type, state] : p["types"].items()) {
      if (state.contains("last_nack") && state["last_nack"].is_object()) {
        out[type] = state["last_nack"].value("message", "");
      }
    }
    return out;
  }

  // True when the hub sees this proxy with nothing pending and every type
  // ACKed at the version it sent.
  bool InSync() {
    Json p = ProxyStatus();
    if (p.is_null() || !p.contains("types") || p["types"].empty()) return false;
    for (const auto& [type, state] : p["types"].items()) {
      if (state.value("pending", true)) return false;
      if (state["version_sent"] != state["version_acked"]) return false;
    }
    return true;
  }

  void NackScenario(bool route_change);

  TempDir dir_;
  HubProcess hub_;
  std::unique_ptr<Api> api_;
  std::unique_ptr<RoutedZone> zone_;
  int listen_port_ = 0;
  int admin_port_ = 0;
  std::string domain_;
  std::unique_ptr<ProxyProcess> proxy_;
};

// The counters /clusters shows for the blue endpoint.
struct EndpointCounters {
  int64_t requests = -1, errors = -1, active_connections = -1, active_requests = -1;
};

EndpointCounters CountersOf(const Json& clusters, const std::string& cluster,
                            const std::string& address) {
  EndpointCounters out;
  for (const Json& c : clusters) {
    if (c.value("name", "") != cluster) continue;
    for (const Json& e : c["endpoints"]) {
      if (e.value("address", "") != address) continue;
      out.requests = e.value("requests", -1);
      out.errors = e.value("errors", -1);
      out.active_connections = e.value("active_connections", -1);
      out.active_requests = e.value("active_requests", -1);
    }
  }
  return out;
}

// A slice outside the kernel's range is refused at start, naming the flag
// and the value, rather than silently clamped.
TEST_F(ProxyWithHubTest, RefusesAWorkerSliceOutsideTheKernelsRange) {
  for (const char* value : {"50", "100001", "-1"}) {
    Subprocess::Options options;
    options.argv = {causeway::testing::BuiltBinary("causeway-proxy"),
                    "--xds",
                    "127.0.0.1:" + std::to_string(hub_.xds_port()),
                    "--proxy",
                    kProxy,
                    "--zone",
                    kZone,
                    "--worker-slice-us",
                    value};
    options.log_path = dir_.File(std::string("slice-") + value + ".log");
    Subprocess proxy(options);
    EXPECT_NE(proxy.Wait(), 0) << value;
    EXPECT_THAT(proxy.Log(), ::testing::HasSubstr("--worker-slice-us")) << proxy.Log();
    EXPECT_THAT(proxy.Log(), ::testing::HasSubstr(std::string("got ") + value)) << proxy.Log();
  }
}

TEST_F(ProxyWithHubTest, AdminEndpointsShowTheHubsConfiguration) {
  ASSERT_NO_FATAL_FAILURE(StartProxy());
  const std::string blue_endpoint = "127.0.0.1:" + std::to_string(zone_->blue().port());
  // The admin page records a configuration just after the workers serve
  // it, so on a loaded machine the warm-up can come back first.
  EndpointCounters before;
  WaitFor(
      [&] {
        before = CountersOf(AdminJson("/clusters"), "blue", blue_endpoint);
        return before.requests >= 1;
      },
      seconds(10));
  ASSERT_GE(before.requests, 1);  // the warm-up
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(proxy::testing::Request(listen_port_, Get("/x")).status, 200);
  }
  ASSERT_EQ(proxy::testing::Request(listen_port_, Get("/status/503")).status, 503);

  HttpResponse ready = AdminGet("/ready");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "LIVE\n");

  Json info = AdminJson("/server_info");
  EXPECT_EQ(info.value("proxy", ""), kProxy);
  EXPECT_EQ(info.value("zone", ""), kZone);
  // No --node-id: the default is the proxy's name, the host and the pid.
  const std::string node_id = info.value("node_id", "");
  EXPECT_THAT(node_id, ::testing::StartsWith("edge-"));
  EXPECT_THAT(node_id, ::testing::EndsWith("-" + std::to_string(proxy_->process()->pid())));
  EXPECT_EQ(info.value("mode", ""), "xds");
  EXPECT_EQ(info.value("state", ""), "LIVE");
  EXPECT_EQ(info.value("workers", 0), 2);
  EXPECT_EQ(info.value("worker_slice_us", -1), 100);  // the default (kDefaultWorkerSlice)
  // Release builds link tcmalloc; sanitizer builds keep libc's malloc.
  EXPECT_EQ(info.value("allocator", ""), kExpectedAllocator);

  // The dump holds the resources the hub serves this proxy, with versions.
  const std::string listener = std::string(kProxy) + ":" + std::to_string(listen_port_);
  Json dump = AdminJson("/config_dump");
  EXPECT_TRUE(dump.value("connected", false)) << dump.dump();
  ASSERT_EQ(dump["listeners"].size(), 1u) << dump.dump();
  EXPECT_EQ(dump["listeners"][0].value("name", ""), listener);
  EXPECT_EQ(dump["listeners"][0]["address"]["socket_address"].value("port_value", 0), listen_port_);
  ASSERT_EQ(dump["routes"].size(), 1u) << dump.dump();
  EXPECT_EQ(dump["routes"][0].value("name", ""), listener);
  EXPECT_THAT(dump["routes"][0].dump(), HasSubstr("\"blue\""));
  std::vector<std::string> clusters;
  for (const Json& c : dump["clusters"]) clusters.push_back(c.value("name", ""));
  EXPECT_THAT(clusters, ::testing::ElementsAre("blue"));  // green is not routed to
  for (const char* type : {"CDS", "EDS", "LDS", "RDS"}) {
    EXPECT_FALSE(dump["versions"].value(type, "").empty()) << type << ": " << dump.dump();
  }

  // The hub's view of what it sent matches what the proxy says it applied.
  ASSERT_TRUE(WaitFor([&] { return InSync(); }, seconds(10))) << ProxyStatus().dump();
  Json status = ProxyStatus();
  EXPECT_EQ(status.value("node_id", ""), node_id);  // the same name in both places
  for (const auto& [hub_type, proxy_type] : std::map<std::string, std::string>{
           {"cds", "CDS"}, {"eds", "EDS"}, {"lds", "LDS"}, {"rds", "RDS"}}) {
    ASSERT_TRUE(status["types"].contains(hub_type)) << status.dump();
    EXPECT_EQ(status["types"][hub_type].value("version_acked", ""),
              dump["versions"].value(proxy_type, ""))
        << proxy_type;
  }

  // /clusters: the endpoint with the requests just made, the 503 as an
  // error, its pooled keep-alive connection(s) and nothing in flight.
  Json clusters_page = AdminJson("/clusters");
  ASSERT_TRUE(clusters_page.is_array()) << clusters_page.dump();
  ASSERT_EQ(clusters_page.size(), 1u) << clusters_page.dump();
  EXPECT_EQ(clusters_page[0].value("name", ""), "blue");
  ASSERT_EQ(clusters_page[0]["endpoints"].size(), 1u) << clusters_page.dump();
  const EndpointCounters after = CountersOf(clusters_page, "blue", blue_endpoint);
  EXPECT_EQ(after.requests - before.requests, 4) << clusters_page.dump();
  EXPECT_EQ(after.errors - before.errors, 1) << clusters_page.dump();
  EXPECT_GE(after.active_connections, 1) << clusters_page.dump();
  EXPECT_LE(after.active_connections, 2) << clusters_page.dump();  // one pool per worker
  EXPECT_EQ(after.active_requests, 0) << clusters_page.dump();
  // ?name= narrows the page to one cluster (cheap to poll with thousands).
  EXPECT_EQ(AdminJson("/clusters?name=blue"), clusters_page);
  EXPECT_EQ(AdminJson("/clusters?name=green"), Json::array()) << "green is not routed to";

  // Plain stats: "name: value" lines; the requests made above are counted.
  HttpResponse stats = AdminGet("/stats");
  ASSERT_EQ(stats.status, 200);
  std::map<std::string, double> plain;
  std::istringstream lines(stats.body);
  for (std::string line; std::getline(lines, line);) {
    size_t colon = line.find(": ");
    ASSERT_NE(colon, std::string::npos) << line;
    plain[line.substr(0, colon)] = std::stod(line.substr(colon + 2));
  }
  EXPECT_EQ(plain["xds_connected"], 1);
  EXPECT_GE(plain["xds_connects_total"], 1);
  EXPECT_GE(plain["xds_updates_accepted_total"], 4);  // at least one of each type
  EXPECT_EQ(plain["xds_updates_rejected_total"], 0);
  EXPECT_GE(plain["downstream_requests_total"], 5);  // warm-up and the four above
  ASSERT_EQ(plain.count("downstream_requests_active"), 1u);
  EXPECT_EQ(plain["downstream_requests_active"], 0);  // the admin port's own are not counted
  // The allocator's own numbers, where it has them (src/proxy/app/allocator.h).
  if (std::string_view(kExpectedAllocator) == "tcmalloc") {
    EXPECT_GT(plain["memory_allocated_bytes"], 1e5);  // a few listeners and pools at least
    EXPECT_GE(plain["memory_heap_size_bytes"], plain["memory_allocated_bytes"]);
    EXPECT_LE(plain["memory_physical_size_bytes"], plain["memory_heap_size_bytes"]);
  } else {
    EXPECT_EQ(plain.count("memory_allocated_bytes"), 0u);
  }

  // Prometheus text: every line a comment or "name value", every sample
  // declared by a TYPE line, the same numbers as /stats.
  HttpResponse prom = AdminGet("/stats/prometheus");
  ASSERT_EQ(prom.status, 200);
  EXPECT_THAT(prom.Header("content-type"), HasSubstr("text/plain"));
  std::map<std::string, std::string> types;
  std::map<std::string, double> samples;
  std::istringstream prom_lines(prom.body);
  for (std::string line; std::getline(prom_lines, line);) {
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream f(line.substr(7));
      std::string name, type;
      f >> name >> type;
      types[name] = type;
      continue;
    }
    ASSERT_NE(line[0], '#') << line;
    std::istringstream f(line);
    std::string name;
    double value = 0;
    ASSERT_TRUE(f >> name >> value) << line;
    ASSERT_TRUE(types.count(name)) << "sample without TYPE: " << line;
    EXPECT_TRUE(std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    })) << name;
    samples[name] = value;
  }
  EXPECT_EQ(samples.size(), plain.size());
  EXPECT_EQ(samples["causeway_proxy_xds_connected"], 1);
  EXPECT_GE(samples["causeway_proxy_downstream_requests_total"], 5);
  EXPECT_EQ(samples["causeway_proxy_xds_updates_rejected_total"], 0);
  EXPECT_EQ(types["causeway_proxy_downstream_requests_total"], "counter");
  EXPECT_EQ(types["causeway_proxy_downstream_requests_active"], "gauge");
}

// A Cluster's outlier detection and circuit breakers, written through the
// REST API, reach the proxy as Envoy's fields (translated by the hub) and
// are ACKed and applied; an agent's instance sync leaves them in place.
TEST_F(ProxyWithHubTest, ClusterPoliciesReachTheProxy) {
  ASSERT_NO_FATAL_FAILURE(StartProxy());
  ASSERT_NO_FATAL_FAILURE(
      Update(ZonePath("/clusters/blue"),
             {{"circuit_breakers", {{"max_requests", 7}}},
              {"outlier_detection", {{"consecutive_5xx", 4}, {"max_ejection_percent", 50}}}}));
  auto blue_page = [&] {
    Json page = AdminJson("/clusters?name=blue");
    return page.is_array() && !page.empty() ? page[0] : Json::object();
  };
  ASSERT_TRUE(WaitFor([&] { return blue_page()["circuit_breakers"].value("max_requests", 0) == 7; },
                      seconds(15)))
      << blue_page().dump();
  Json blue = blue_page();
  EXPECT_EQ(blue["circuit_breakers"].value("max_retries", 0), 3);  // the default, filled in
  EXPECT_EQ(blue["outlier_detection"].value("consecutive_5xx", 0), 4) << blue.dump();
  EXPECT_EQ(blue["outlier_detection"].value("max_ejection_percent", 0), 50) << blue.dump();
  EXPECT_EQ(blue["outlier_detection"].value("base_ejection_ms", 0), 30000) << blue.dump();
  ASSERT_TRUE(WaitFor([&] { return InSync(); }, seconds(10))) << ProxyStatus().dump();
  EXPECT_TRUE(Nacks().empty());
  EXPECT_EQ(zone_->Through("/"), "blue");

  // The instances alone, as an agent writes them: the policies stay.
  Json instances = {{"instances", {{{"host", "127.0.0.1"}, {"port", zone_->blue().port()}}}}};
  ASSERT_EQ(api_->Put(ZonePath("/clusters/blue/instances"), instances).status, 200);
  Api::Result cluster = api_->Get(ZonePath("/clusters/blue"));
  ASSERT_EQ(cluster.status, 200);
  EXPECT_EQ(cluster.body["circuit_breakers"].value("max_requests", 0), 7) << cluster.body.dump();
  EXPECT_EQ(cluster.body["outlier_detection"].value("consecutive_5xx", 0), 4);
}

TEST_F(ProxyWithHubTest, RouteChangeUnderLoadLosesNoRequest) {
  ASSERT_NO_FATAL_FAILURE(StartProxy());
  Load load(listen_port_, domain_, 4);
  ASSERT_TRUE(load.WaitForProgress(20, seconds(20))) << load.Failures();
  ASSERT_TRUE(load.AllRecentFrom("blue", 20));

  ASSERT_NO_FATAL_FAILURE(RouteTo("green"));
  EXPECT_TRUE(WaitFor([&] { return load.AllRecentFrom("green", 20); }, seconds(20)))
      << "responses by origin: " << Json(load.ByOrigin()).dump();
  // And back, so the change is not a one-off.
  ASSERT_NO_FATAL_FAILURE(RouteTo("blue"));
  EXPECT_TRUE(WaitFor([&] { return load.AllRecentFrom("blue", 20); }, seconds(20)))
      << "responses by origin: " << Json(load.ByOrigin()).dump();
  load.Stop();

  EXPECT_EQ(load.lost(), 0) << load.Failures();
  EXPECT_GT(load.ByOrigin()["green"], 0);
  Json dump = AdminJson("/config_dump");
  EXPECT_THAT(dump["routes"][0].dump(), HasSubstr("\"blue\""));
  EXPECT_EQ(Stat("xds_updates_rejected_total"), 0);
}

TEST_F(ProxyWithHubTest, HubKilledUnderLoadLosesNoRequestAndReconnects) {
  ASSERT_NO_FATAL_FAILURE(StartProxy());
  Load load(listen_port_, domain_, 4);
  ASSERT_TRUE(load.WaitForProgress(20, seconds(20))) << load.Failures();
  const double connects = Stat("xds_connects_total");
  ASSERT_GE(connects, 1);

  hub_.Kill();
  ASSERT_TRUE(WaitFor([&] { return Stat("xds_connected") == 0; }, seconds(20)));
  // The last configuration keeps serving while the hub is away.
  ASSERT_TRUE(load.WaitForProgress(50, seconds(30))) << load.Failures();
  EXPECT_TRUE(load.AllRecentFrom("blue", 20));
  EXPECT_EQ(AdminGet("/ready").status, 200);

  // Same data directory and ports: the proxy reconnects on its own.
  ASSERT_NO_FATAL_FAILURE(hub_.Start());
  api_ = std::make_unique<Api>(hub_.url(), hub_.admin_token());
  ASSERT_TRUE(WaitFor([&] { return Stat("xds_connects_total") > connects; }, seconds(30)))
      << proxy_->Log();
  ASSERT_TRUE(WaitFor([&] { return InSync(); }, seconds(20))) << ProxyStatus().dump();
  EXPECT_TRUE(load.AllRecentFrom("blue", 1));

  // A change made after the restart reaches the proxy.
  ASSERT_NO_FATAL_FAILURE(RouteTo("green"));
  EXPECT_TRUE(WaitFor([&] { return load.AllRecentFrom("green", 20); }, seconds(20)))
      << "responses by origin: " << Json(load.ByOrigin()).dump();
  load.Stop();
  EXPECT_EQ(load.lost(), 0) << load.Failures();
  EXPECT_EQ(Stat("xds_updates_rejected_total"), 0);
}

// Valid objects the proxy cannot apply: a second domain whose port another
// process holds, so its listener cannot bind. The whole set is refused and
// the previous one keeps serving. With `route_change`, the same push also
// moves the route to green, which must not arrive either.
void ProxyWithHubTest::NackScenario(bool route_change) {
  ASSERT_NO_FATAL_FAILURE(StartProxy());
  Load load(listen_port_, domain_, 4);
  ASSERT_TRUE(load.WaitForProgress(20, seconds(20))) << load.Failures();
  ASSERT_TRUE(WaitFor([&] { return InSync(); }, seconds(10))) << ProxyStatus().dump();
  const double rejected = Stat("xds_updates_rejected_total");
  ASSERT_EQ(rejected, 0);
  Json dump_before = AdminJson("/config_dump");

  PortBlocker blocker;
  const std::string blocked = "blocked.test:" + std::to_string(blocker.port());
  Created(api_->Post(ZonePath("/domains"), {{"host", "blocked.test"}, {"port", blocker.port()}}));
  ASSERT_NO_FATAL_FAILURE(Update(ZonePath("/proxies/edge"), {{"domains", {domain_, blocked}}}));
  if (route_change) {
    ASSERT_NO_FATAL_FAILURE(RouteTo("green"));
  }

  ASSERT_TRUE(WaitFor([&] { return Stat("xds_updates_rejected_total") > rejected; }, seconds(20)))
      << proxy_->Log();
  std::map<std::string, std::string> nacks;
  ASSERT_TRUE(WaitFor(
      [&] {
        nacks = Nacks();
        return !nacks.empty();
      },
      seconds(20)))
      << ProxyStatus().dump();
  for (const auto& [type, message] : nacks) {
    EXPECT_THAT(message, HasSubstr("bind")) << type;
    EXPECT_THAT(message, HasSubstr(std::to_string(blocker.port()))) << type;
  }

  // Watch traffic for longer than the proxy's warming timeout (15 s), the
  // point at which a half-received set would be applied anyway.
  const auto watch_until = std::chrono::steady_clock::now() + seconds(17);
  while (std::chrono::steady_clock::now() < watch_until && load.lost() == 0) {
    ASSERT_TRUE(load.WaitForProgress(10, seconds(20))) << load.Failures();
  }
  EXPECT_EQ(load.lost(), 0) << load.Failures();
  EXPECT_TRUE(load.AllRecentFrom("blue", 30)) << Json(load.ByOrigin()).dump();
  EXPECT_EQ(load.ByOrigin().count("green"), 0u);
  Json dump_after = AdminJson("/config_dump");
  EXPECT_EQ(dump_after["listeners"], dump_before["listeners"]);
  EXPECT_EQ(dump_after["routes"], dump_before["routes"]);
  EXPECT_EQ(dump_after["clusters"], dump_before["clusters"]);
  EXPECT_EQ(dump_after["versions"], dump_before["versions"]);
  EXPECT_THAT(dump_after.value("last_error", ""), HasSubstr("bind"));
  EXPECT_EQ(AdminGet("/ready").status, 200);

  // Taking the blocked domain off the proxy makes the set valid again, and
  // a change made next reaches the proxy.
  ASSERT_NO_FATAL_FAILURE(Update(ZonePath("/proxies/edge"), {{"domains", {domain_}}}));
  if (!route_change) {
    ASSERT_NO_FATAL_FAILURE(RouteTo("green"));
  }
  EXPECT_TRUE(WaitFor([&] { return load.AllRecentFrom("green", 20); }, seconds(20)))
      << "responses by origin: " << Json(load.ByOrigin()).dump();
  EXPECT_TRUE(WaitFor([&] { return InSync(); }, seconds(10))) << ProxyStatus().dump();
  load.Stop();
  EXPECT_EQ(load.lost(), 0) << load.Failures();
}

TEST_F(ProxyWithHubTest, NackedUpdateLeavesTrafficUntouched) {
  NackScenario(/*route_change=*/false);
}

// The refused push also moves the route to another cluster: the proxy keeps
// its old routes, so the hub must keep serving the cluster they name (else
// the proxy, after its warming timeout, would route to a cluster it lacks).
TEST_F(ProxyWithHubTest, NackedUpdateWithARouteChangeLeavesTrafficUntouched) {
  NackScenario(/*route_change=*/true);
}

TEST_F(ProxyWithHubTest, SigtermLetsTheRequestInFlightFinish) {
  constexpr int kDrainSeconds = 6;
  ASSERT_NO_FATAL_FAILURE(StartProxy(kDrainSeconds));
  const int origin_requests = zone_->blue().requests();

  RawClient client(static_cast<uint16_t>(listen_port_));
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.Send(Get("/delay/1500")));
  // The request is at the origin: it is in flight when the signal comes.
  ASSERT_TRUE(WaitFor([&] { return zone_->blue().requests() > origin_requests; }, seconds(10)));
  const auto signalled = std::chrono::steady_clock::now();
  proxy_->process()->Signal(SIGTERM);

  RawClient::Response r = client.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "slow");
  int status = proxy_->process()->Wait(seconds(kDrainSeconds + 10));
  const auto took = std::chrono::steady_clock::now() - signalled;
  ASSERT_NE(status, -1) << "still running " << kDrainSeconds + 10 << " s after SIGTERM";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  // Drained: it left as soon as the connection closed, not at the deadline.
  EXPECT_LT(took, seconds(kDrainSeconds)) << proxy_->Log();
  EXPECT_FALSE(causeway::testing::PortOpen(listen_port_));
}

}  // namespace
}  // namespace causeway::proxy
