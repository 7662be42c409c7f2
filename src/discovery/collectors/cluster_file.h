// The cluster file format of the `file:` collector (Rotor's format):
//
//   - cluster: users
//     instances:
//       - host: 10.0.0.7
//         port: 8080
//         metadata: {stage: prod}     # or Rotor's [{key: stage, value: prod}]
//
// YAML or JSON (JSON is read by the same YAML parser). An empty file is an
// empty list. The same cluster listed twice has its instances merged.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "discovery/collector.h"

namespace causeway::discovery {

// Parses and validates a cluster file. Errors are InvalidArgument and say
// where: "line 4, column 9: [0].instances[1].port: must be 1..65535".
absl::StatusOr<ClusterSet> ParseClusterFile(std::string_view text);

}  // namespace causeway::discovery
