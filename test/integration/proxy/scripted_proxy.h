// The real causeway-proxy binary configured by a scripted ADS server
// (support/proxy/fake_ads_server.h) with Envoy resources the test writes,
// for behaviour that the hub's objects do not reach (listener timeouts,
// Envoy fields the hub never sets): one listener on 127.0.0.1 whose routes
// send everything to one static cluster.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "nlohmann/json.hpp"
#include "support/process.h"
#include "support/proxy/fake_ads_server.h"

namespace causeway::proxy::testing {

class ScriptedProxy {
 public:
  using Hcm =
      envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;

  struct Options {
    uint16_t origin_port = 0;  // the cluster's one endpoint
    // Adjusts the listener's connection manager (timeouts...).
    std::function<void(Hcm&)> hcm;
    // Adjusts the cluster and the listener (TLS...) before they are served.
    std::function<void(envoy::config::cluster::v3::Cluster&)> cluster;
    std::function<void(envoy::config::listener::v3::Listener&)> listener;
    std::vector<std::string> extra_args;  // more causeway-proxy flags
    // A shell line run before the proxy starts (e.g. "ulimit -n 64").
    std::string shell_prefix;
  };

  explicit ScriptedProxy(Options options);
  ~ScriptedProxy();

  // Starts the binary and serves its configuration; false (with the reason
  // in the test's failure output) if the listener does not serve in time.
  bool Start();

  uint16_t port() const { return listen_port_; }
  uint16_t admin_port() const { return admin_port_; }
  causeway::testing::Subprocess& process() { return *proxy_; }
  std::string Log() const { return proxy_ ? proxy_->Log() : std::string(); }

  // The access log's entries so far, one JSON object per line.
  std::vector<nlohmann::json> AccessLog() const;
  // Waits until an access log entry matches `pred`; returns it (or null).
  nlohmann::json WaitForEntry(const std::function<bool(const nlohmann::json&)>& pred);
  // A counter of the admin page's /stats (-1 when the page does not answer).
  double Stat(const std::string& name) const;

  // The cluster as Start() serves it (before Options::cluster adjusts it).
  envoy::config::cluster::v3::Cluster OriginCluster() const;
  // Serves `cluster` as CDS version `version`; returns the proxy's answer
  // (an ACK, or a NACK with error_detail), empty if none came.
  FakeAdsServer::Request UpdateCluster(const envoy::config::cluster::v3::Cluster& cluster,
                                       const std::string& version);

 private:
  Options options_;
  causeway::testing::TempDir dir_;
  const std::string access_log_ = dir_.File("access.log");
  const uint16_t listen_port_;
  const uint16_t admin_port_;
  FakeAdsServer ads_;
  std::unique_ptr<causeway::testing::Subprocess> proxy_;
};

}  // namespace causeway::proxy::testing
