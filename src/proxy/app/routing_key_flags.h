// causeway-proxy's flags for stamping the routing key
// (proxy/server/routing_key_stamp.h) and what /stats shows of it.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "CLI/CLI.hpp"
#include "nlohmann/json.hpp"
#include "proxy/server/routing_key_stamp.h"

namespace causeway::proxy {

struct RoutingKeyFlags {
  std::string routing_key;          // --routing-key / CAUSEWAY_ROUTING_KEY
  int64_t memory_entries = 100000;  // --key-memory-entries
  int64_t memory_ms = 60000;        // --key-memory-ms
};

// Adds --routing-key, --key-memory-entries and --key-memory-ms to `app`; a
// value out of range or a key that is not a routing key is refused naming
// the flag and the value.
void AddRoutingKeyFlags(CLI::App& app, RoutingKeyFlags* flags);

RoutingKeyStamper::Options StamperOptions(const RoutingKeyFlags& flags);

// The admin page /routing_keys: the proxy's own key and up to 100 of the
// traces it remembers, each with its key and how long it has left.
nlohmann::json RoutingKeysPage(const RoutingKeyStamper& stamper);

// The stamper's counters under /stats names (routing_key.*).
void AddRoutingKeyStats(const RoutingKeyStamper& stamper, std::map<std::string, double>* stats);

}  // namespace causeway::proxy
