// The HTTP/1.1 origin of the HTTP/2 feature tests (h2_features_origin.py:
// chunked trailers, a WebSocket echo server, an echo of the request head), run
// as a child process on a port the kernel picks. The script's path comes
// from the build (H2_FEATURES_ORIGIN_SCRIPT).
#pragma once

#include <memory>
#include <string>

#include "support/process.h"

namespace causeway::proxy::testing {

class H2FeaturesOrigin {
 public:
  H2FeaturesOrigin() {
    causeway::testing::Subprocess::Options o;
    o.argv = {"/usr/bin/env", "python3", H2_FEATURES_ORIGIN_SCRIPT};
    o.log_path = dir_.File("origin.log");
    process_ = std::make_unique<causeway::testing::Subprocess>(o);
    // The script prints its port once it accepts connections.
    causeway::testing::WaitFor(
        [this] {
          const std::string log = process_->Log();
          const size_t at = log.find("port ");
          if (at == std::string::npos || log.find('\n', at) == std::string::npos) return false;
          port_ = static_cast<uint16_t>(std::stoi(log.substr(at + 5)));
          return true;
        },
        std::chrono::seconds(30));
  }
  uint16_t port() const { return port_; }  // 0: it did not start
  std::string Log() const { return process_->Log(); }

 private:
  causeway::testing::TempDir dir_;
  std::unique_ptr<causeway::testing::Subprocess> process_;
  uint16_t port_ = 0;
};

}  // namespace causeway::proxy::testing
