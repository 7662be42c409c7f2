// causeway-proxy's flags for holding laptops' tunnels
// (proxy/tunnel/holder.h, docs/two-way-routing.md "The tunnel").
#pragma once

#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "proxy/server/access_log.h"
#include "proxy/tunnel/holder.h"

namespace causeway::proxy {

struct TunnelFlags {
  std::string listen;              // --tunnel-listen ADDR:PORT (TLS); empty: no tunnels
  std::string cert, key;           // --tunnel-cert, --tunnel-key
  std::string forward_listen;      // --tunnel-forward-listen ADDR:PORT
  std::string advertise;           // --tunnel-advertise HOST:PORT
  std::string hub;                 // --hub URL
  std::string hub_ca;              // --hub-ca FILE
  int ping_ms = 1000;              // --tunnel-ping-ms
  int response_timeout_ms = 3000;  // --tunnel-response-timeout-ms
};

void AddTunnelFlags(CLI::App& app, TunnelFlags* flags);

// The holder, when --tunnel-listen is given (nullptr otherwise); errors
// name the flag. `token` or `token_file`: this proxy's own (its xDS token).
absl::StatusOr<std::unique_ptr<tunnel::TunnelHolder>> StartTunnelHolder(
    const TunnelFlags& flags, const std::string& proxy, const std::string& token,
    const std::string& token_file, AccessLog* access_log);

}  // namespace causeway::proxy
