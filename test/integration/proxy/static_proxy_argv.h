// The command line the proxy's integration tests start causeway-proxy with
// in static mode: proxy `edge` serving the objects of `config` on loopback,
// its admin page on `admin_port`.
#pragma once

#include <string>
#include <vector>

#include "support/process.h"

namespace causeway::proxy::testing {

inline std::vector<std::string> StaticProxyArgv(const std::string& config, int admin_port,
                                                int workers, const std::string& access_log) {
  return {causeway::testing::BuiltBinary("causeway-proxy"),
          "--config",
          config,
          "--proxy",
          "edge",
          "--admin",
          "127.0.0.1:" + std::to_string(admin_port),
          "--listen-address",
          "127.0.0.1",
          "--workers",
          std::to_string(workers),
          "--access-log",
          access_log};
}

}  // namespace causeway::proxy::testing
