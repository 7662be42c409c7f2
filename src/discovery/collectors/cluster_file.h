// The cluster file format of the `file:` collector (Rotor's format):
//
//   - cluster: users
//     instances:
//       - host: 10.0.0.7
//         port: 8080
//         metadata: {stage: prod}     # or Rotor's [{key: stage, value: prod}]
//
// YAML or JSON. An empty file is an empty list. The same cluster listed
// twice has its instances merged.
#pragma once

#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "discovery/collector.h"

namespace causeway::discovery {

// Parses and validates a cluster file. Errors are InvalidArgument and say
// where: "line 4, column 9: [0].instances[1].port: must be 1..65535".
absl::StatusOr<ClusterSet> ParseClusterFile(std::string_view text);

// ParseClusterFile's fast path (exposed for tests): JSON in the canonical
// form only (string hosts and metadata values, integer ports, metadata as a
// map), read with nlohmann::json. nullopt for anything else, valid or not,
// which ParseClusterFile then reads with the YAML parser: that one accepts
// every form and says on which line a problem is.
std::optional<ClusterSet> ParseCanonicalJson(std::string_view text);

}  // namespace causeway::discovery
