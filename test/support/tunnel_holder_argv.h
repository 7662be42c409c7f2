// The command line of a causeway-proxy holding laptops' tunnels in a test:
// a static configuration file, one worker, no access log, the TLS tunnel
// listener and the forward listener on loopback ports, reporting tunnels to
// the hub with a proxy token.
#pragma once

#include <string>
#include <vector>

#include "support/process.h"

namespace causeway::testing {

struct TunnelHolderArgs {
  std::string config;  // the static configuration file (--config)
  std::string proxy;   // --proxy
  std::string cert, key;
  int tunnel_port = 0;
  int forward_port = 0;
  std::string hub_url;
  std::string token;               // --xds-token, a proxy token of the zone
  std::vector<std::string> extra;  // more flags (--tunnel-ping-ms ...)
};

inline std::vector<std::string> TunnelHolderArgv(const TunnelHolderArgs& a) {
  std::vector<std::string> argv = {BuiltBinary("causeway-proxy"),
                                   "--config",
                                   a.config,
                                   "--proxy",
                                   a.proxy,
                                   "--admin",
                                   "127.0.0.1:" + std::to_string(FreePort()),
                                   "--workers",
                                   "1",
                                   "--access-log",
                                   "off",
                                   "--tunnel-listen",
                                   "127.0.0.1:" + std::to_string(a.tunnel_port),
                                   "--tunnel-cert",
                                   a.cert,
                                   "--tunnel-key",
                                   a.key,
                                   "--tunnel-forward-listen",
                                   "127.0.0.1:" + std::to_string(a.forward_port),
                                   "--hub",
                                   a.hub_url,
                                   "--xds-token",
                                   a.token};
  argv.insert(argv.end(), a.extra.begin(), a.extra.end());
  return argv;
}

}  // namespace causeway::testing
