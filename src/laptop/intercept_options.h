// The flags of `causeway intercept` and their checks. Everything here is
// checked before the hub is contacted, so a bad flag writes nothing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace causeway::laptop {

// What the command line says, as typed.
struct InterceptFlags {
  std::string cluster;  // the positional CLUSTER
  std::string zone;
  std::string key;
  std::string to;      // HOST:PORT of the local service
  std::string name;    // empty: KEY-CLUSTER made a valid name
  std::string tunnel;  // HOST:PORT of the holder's tunnel listener; may be empty
  std::string tunnel_ca;
  int64_t lease_ms = 30000;
  std::string to_protocol = "http1";
};

// The checked plan the command runs.
struct InterceptPlan {
  std::string zone;
  std::string name;
  std::string cluster;
  std::string key;
  uint32_t lease_ms = 0;
  std::string to;
  std::string tunnel;  // empty: hold the lease only, no tunnel
  std::string tunnel_ca;
  bool to_http2 = false;
};

// "KEY-CLUSTER" made a valid object name: lower case, characters a name
// cannot hold become '-', no '-' or '.' at either end, at most 253
// characters. `cluster` must itself be a valid name, so the result is never
// empty.
std::string DefaultInterceptName(std::string_view key, std::string_view cluster);

// "host:port" with a non-empty host (a name, an IPv4 address or a bracketed
// IPv6 address) and a port of 1 to 65535. The error names `flag` and the value.
absl::Status CheckHostPort(std::string_view flag, std::string_view value);

// Checks every flag (usage errors naming the flag and its value) and fills in
// the default name. `zone` is the zone to use (the flag, else the context's).
absl::StatusOr<InterceptPlan> PlanIntercept(const InterceptFlags& flags, std::string_view zone);

}  // namespace causeway::laptop
