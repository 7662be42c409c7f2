#include "routed_zone.h"

#include <algorithm>

#include "gtest/gtest.h"

namespace causeway::testing {

using std::chrono::seconds;

namespace {
void Created(const Api::Result& r) { ASSERT_EQ(r.status, 201) << r.raw.body; }
}  // namespace

RoutedZone::RoutedZone(Api* api, std::string zone, int listen_port)
    : api_(api),
      zone_(std::move(zone)),
      listen_port_(listen_port),
      domain_("app.test:" + std::to_string(listen_port)) {}

std::string RoutedZone::Path(const std::string& rest) const { return "/v1/zones/" + zone_ + rest; }

void RoutedZone::Seed() {
  Created(api_->Post("/v1/zones", {{"name", zone_}}));
  for (const proxy::testing::TestOrigin* o : {&blue_, &green_}) {
    Created(api_->Post(
        Path("/clusters"),
        {{"name", o->name()}, {"instances", {{{"host", "127.0.0.1"}, {"port", o->port()}}}}}));
  }
  Created(api_->Post(Path("/domains"), {{"host", "app.test"}, {"port", listen_port_}}));
  Created(api_->Post(Path("/route-groups"),
                     {{"name", "main"}, {"default", {{{"cluster", "blue"}, {"weight", 1}}}}}));
  Created(
      api_->Post(Path("/routes"),
                 {{"name", "root"}, {"domain", domain_}, {"path", "/"}, {"route_group", "main"}}));
  Created(api_->Post(Path("/proxies"), {{"name", "edge"}, {"domains", {domain_}}}));
}

void RoutedZone::PointMainAt(const std::string& cluster, Api* via) {
  Api* api = via != nullptr ? via : api_;
  Api::Result current = api->Get(Path("/route-groups/main"));
  ASSERT_EQ(current.status, 200) << current.raw.body;
  Json body = current.body;
  body["default"] = Json::array({{{"cluster", cluster}, {"weight", 1}}});
  Api::Result put = api->Put(Path("/route-groups/main"), body);
  ASSERT_EQ(put.status, 200) << put.raw.body;
}

std::string RoutedZone::Through(const std::string& path) const {
  proxy::testing::RawClient::Response r = proxy::testing::Request(
      listen_port_, "GET " + path + " HTTP/1.1\r\nHost: " + domain_ + "\r\n\r\n");
  return r.status == 200 ? r.Header("x-origin") : "";
}

ProxyProcess::ProxyProcess(const RoutedZone* zone, std::string xds, std::vector<std::string> extra,
                           std::map<std::string, std::string> env)
    : zone_(zone),
      xds_(std::move(xds)),
      extra_(std::move(extra)),
      env_(std::move(env)),
      admin_port_(FreePort()) {}

void ProxyProcess::Start(const std::string& origin) {
  Subprocess::Options options;
  options.argv = {BuiltBinary("causeway-proxy"),
                  "--xds",
                  xds_,
                  "--proxy",
                  "edge",
                  "--zone",
                  zone_->zone(),
                  "--admin",
                  "127.0.0.1:" + std::to_string(admin_port_)};
  // Defaults that `extra` may set otherwise (a flag may be given once).
  const std::vector<std::pair<std::string, std::string>> defaults = {
      {"--listen-address", "127.0.0.1"}, {"--workers", "1"}, {"--access-log", "off"}};
  for (const auto& [flag, value] : defaults) {
    if (std::find(extra_.begin(), extra_.end(), flag) == extra_.end()) {
      options.argv.insert(options.argv.end(), {flag, value});
    }
  }
  options.argv.insert(options.argv.end(), extra_.begin(), extra_.end());
  options.env = env_;
  options.log_path = dir_.File("proxy.log");
  process_ = std::make_unique<Subprocess>(options);
  bool serving =
      WaitFor([&] { return !process_->Running() || zone_->Through() == origin; }, seconds(30));
  ASSERT_TRUE(serving && process_->Running()) << "the proxy did not serve:\n" << process_->Log();
}

}  // namespace causeway::testing
