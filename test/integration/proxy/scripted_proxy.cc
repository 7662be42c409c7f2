#include "scripted_proxy.h"

#include <fstream>
#include <sstream>

#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "gtest/gtest.h"
#include "net/http_client.h"
#include "support/proxy/test_resources.h"

namespace causeway::proxy::testing {
namespace {

using causeway::testing::BuiltBinary;
using causeway::testing::FreePort;
using causeway::testing::Subprocess;
using causeway::testing::WaitFor;
using std::chrono::seconds;

envoy::config::listener::v3::Listener ScriptedListener(uint16_t port,
                                                       const ScriptedProxy::Options& options) {
  envoy::config::listener::v3::Listener listener;
  listener.set_name("main");
  auto* socket = listener.mutable_address()->mutable_socket_address();
  socket->set_address("127.0.0.1");
  socket->set_port_value(port);
  ScriptedProxy::Hcm hcm;
  hcm.set_stat_prefix("main");
  *hcm.mutable_route_config() = RouteConfig("main", "origin");
  auto* router = hcm.add_http_filters();
  router->set_name("envoy.filters.http.router");
  router->mutable_typed_config()->PackFrom(envoy::extensions::filters::http::router::v3::Router());
  if (options.hcm) options.hcm(hcm);
  auto* filter = listener.add_filter_chains()->add_filters();
  filter->set_name("envoy.filters.network.http_connection_manager");
  filter->mutable_typed_config()->PackFrom(hcm);
  if (options.listener) options.listener(listener);
  return listener;
}

envoy::config::cluster::v3::Cluster ScriptedCluster(uint16_t origin_port) {
  envoy::config::cluster::v3::Cluster cluster = Cluster("origin", /*eds=*/false);
  *cluster.mutable_load_assignment() = Assignment("origin", origin_port);
  return cluster;
}

}  // namespace

ScriptedProxy::ScriptedProxy(Options options)
    : options_(std::move(options)), listen_port_(FreePort()), admin_port_(FreePort()) {}

ScriptedProxy::~ScriptedProxy() {
  if (proxy_ && ::testing::Test::HasFailure()) {
    std::cerr << "--- causeway-proxy log ---\n" << proxy_->Log();
  }
  if (proxy_) proxy_->Stop();
  ads_.Stop();
}

bool ScriptedProxy::Start() {
  ads_.Start();
  std::vector<std::string> args = {BuiltBinary("causeway-proxy"),
                                   "--xds",
                                   ads_.address(),
                                   "--proxy",
                                   "edge",
                                   "--zone",
                                   "test",
                                   "--admin",
                                   "127.0.0.1:" + std::to_string(admin_port_),
                                   "--workers",
                                   "1",
                                   "--access-log",
                                   access_log_};
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  Subprocess::Options p;
  if (options_.shell_prefix.empty()) {
    p.argv = args;
  } else {
    std::string line = options_.shell_prefix + " && exec";
    for (const std::string& a : args) line += " '" + a + "'";
    p.argv = {"/bin/sh", "-c", line};
  }
  p.log_path = dir_.File("proxy.log");
  proxy_ = std::make_unique<Subprocess>(p);
  const std::string cds(TypeUrl(XdsType::kCluster));
  const std::string lds(TypeUrl(XdsType::kListener));
  if (!ads_.Next(cds, seconds(20))) {
    ADD_FAILURE() << "no CDS request from causeway-proxy";
    return false;
  }
  envoy::config::cluster::v3::Cluster cluster = OriginCluster();
  if (options_.cluster) options_.cluster(cluster);
  ads_.Send(Response(XdsType::kCluster, "1", "c1", std::vector{cluster}));
  if (!ads_.Next(lds, seconds(20))) {
    ADD_FAILURE() << "no LDS request from causeway-proxy";
    return false;
  }
  ads_.Send(Response(XdsType::kListener, "1", "l1",
                     std::vector{ScriptedListener(listen_port_, options_)}));
  // Serving once the admin page says so (it starts after the listeners).
  if (!WaitFor([&] { return Stat("xds_updates_accepted_total") >= 2; }, seconds(20))) {
    ADD_FAILURE() << "causeway-proxy did not accept its configuration";
    return false;
  }
  return true;
}

envoy::config::cluster::v3::Cluster ScriptedProxy::OriginCluster() const {
  return ScriptedCluster(options_.origin_port);
}

FakeAdsServer::Request ScriptedProxy::UpdateCluster(
    const envoy::config::cluster::v3::Cluster& cluster, const std::string& version) {
  const std::string cds(TypeUrl(XdsType::kCluster));
  ads_.ClearQueues();
  ads_.Send(Response(XdsType::kCluster, version, "n" + version, std::vector{cluster}));
  // The answer to this nonce (requests for other types may come between).
  while (auto request = ads_.Next(cds, seconds(20))) {
    if (request->response_nonce() == "n" + version) return *request;
  }
  ADD_FAILURE() << "no answer to CDS version " << version;
  return {};
}

std::vector<nlohmann::json> ScriptedProxy::AccessLog() const {
  std::vector<nlohmann::json> entries;
  std::ifstream in(access_log_);
  std::string line;
  while (std::getline(in, line)) {
    nlohmann::json e = nlohmann::json::parse(line, nullptr, false);
    if (e.is_object()) entries.push_back(std::move(e));
  }
  return entries;
}

nlohmann::json ScriptedProxy::WaitForEntry(const std::function<bool(const nlohmann::json&)>& pred) {
  nlohmann::json found;
  WaitFor(
      [&] {
        for (const nlohmann::json& e : AccessLog()) {
          if (pred(e)) {
            found = e;
            return true;
          }
        }
        return false;
      },
      seconds(20));
  if (found.is_null()) {
    std::ifstream in(access_log_);
    std::stringstream text;
    text << in.rdbuf();
    ADD_FAILURE() << "no matching access log entry in " << access_log_ << ":\n" << text.str();
  }
  return found;
}

double ScriptedProxy::Stat(const std::string& name) const {
  auto client = HttpClient::Create("127.0.0.1:" + std::to_string(admin_port_),
                                   HttpClient::Options{seconds(5)});
  if (!client.ok()) return -1;
  auto res = (*client)->Send("GET", "/stats?format=json");
  if (!res.ok() || res->status != 200) return -1;
  nlohmann::json page = nlohmann::json::parse(res->body, nullptr, false);
  if (!page.is_object() || !page.contains(name) || !page[name].is_number()) return -1;
  return page[name].get<double>();
}

}  // namespace causeway::proxy::testing
