// The laptop's configuration, built in memory: every request that arrives
// over the tunnel goes to the local service `to`, over HTTP/1.1, or over
// HTTP/2 with prior knowledge (h2c) when asked for or when the request is
// gRPC, so a gRPC call never meets an HTTP/1.1 hop that cannot carry it.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "proxy/config/proxy_config.h"

namespace causeway::proxy::tunnel {

inline constexpr char kLaptopListener[] = "tunnel";

// `to` is host:port (host an IP literal or a name); `http2_always`: every
// request goes as h2c.
absl::StatusOr<ProxyConfigSnapshot> BuildLaptopConfig(const std::string& to, bool http2_always);

// host and port of "host:port", or an error naming `what` and the value;
// port 0 (any free port) only with `allow_zero`.
absl::Status SplitHostPort(const std::string& what, const std::string& value, std::string* host,
                           uint16_t* port, bool allow_zero = false);

}  // namespace causeway::proxy::tunnel
