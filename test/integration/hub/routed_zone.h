// What the tests that run causeway-proxy against a real hub share: a zone
// whose one route sends a domain on the proxy's port to cluster "blue" or
// "green" (one test origin each), and a causeway-proxy process following
// the hub until it serves that route.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hub_fixture.h"
#include "support/process.h"
#include "test_origin.h"

namespace causeway::testing {

class RoutedZone {
 public:
  // The zone's objects go to `api`'s hub; the domain is app.test on
  // `listen_port`.
  RoutedZone(Api* api, std::string zone, int listen_port);

  // Zone, clusters blue and green, domain app.test:PORT, route group main
  // (default → blue), route root (/ → main) and proxy edge on the domain.
  void Seed();
  // Points route group main at `cluster`, through `via` (another hub of
  // the same store) when given.
  void PointMainAt(const std::string& cluster, Api* via = nullptr);
  // "/v1/zones/ZONE" + rest.
  std::string Path(const std::string& rest) const;

  const std::string& zone() const { return zone_; }
  const std::string& domain() const { return domain_; }
  int listen_port() const { return listen_port_; }
  const proxy::testing::TestOrigin& blue() const { return blue_; }
  const proxy::testing::TestOrigin& green() const { return green_; }

  // The origin a GET of `path` through the proxy on the domain reached
  // ("" when it failed).
  std::string Through(const std::string& path = "/") const;

 private:
  Api* api_;
  const std::string zone_;
  const int listen_port_;
  const std::string domain_;
  proxy::testing::TestOrigin blue_{"blue"};
  proxy::testing::TestOrigin green_{"green"};
};

// causeway-proxy as proxy "edge" of a RoutedZone, configured over xDS.
class ProxyProcess {
 public:
  // `xds` is a gRPC target ("127.0.0.1:PORT", or "ipv4:A,B" for several
  // hubs); `extra` flags go after the defaults; `env` is added to the
  // process's environment.
  ProxyProcess(const RoutedZone* zone, std::string xds, std::vector<std::string> extra = {},
               std::map<std::string, std::string> env = {});

  // Starts the process and waits until a request through it reaches
  // `origin` (a failed start fails the test with the proxy's log).
  void Start(const std::string& origin = "blue");

  int admin_port() const { return admin_port_; }
  Subprocess* process() const { return process_.get(); }
  std::string Log() const { return process_ ? process_->Log() : ""; }

 private:
  const RoutedZone* zone_;
  const std::string xds_;
  const std::vector<std::string> extra_;
  const std::map<std::string, std::string> env_;
  const int admin_port_;
  TempDir dir_;
  std::unique_ptr<Subprocess> process_;
};

}  // namespace causeway::testing
