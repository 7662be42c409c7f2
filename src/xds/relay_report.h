// The report an agent sends the hub of the streams on its relay xDS server
// (`causeway agent --xds`): the format both sides share, its bounds and its
// validation. The hub keeps the reports (hub/api/relay_status.h); the agent
// builds them (discovery/agent/proxy_reporter.h).
//
// A report body:
//   {"interval_ms": 10000,        // how often the agent reports (required)
//    "revision": 42,              // the revision of the agent's zone copy (optional)
//    "omitted": 0,                // streams left out to keep the body bounded (optional)
//    "proxies": [ <stream> ... ]} // required, at most kMaxReportedProxies
// where each stream has the shape of an entry of XdsServer::ZoneStatus's
// "proxies" without "resource_names": {node_id, proxy, zone, peer, variant,
// registered, connected_at, snapshot_revision, types: {cds|eds|lds|rds:
// {type_url, version_sent, version_acked, pending, wildcard, last_ack_time,
// last_nack: null | {message, version, time}}}}. Unknown fields are ignored
// (a newer agent may send more); known ones are checked, and errors name the
// field ("proxies[3].types.lds.version_sent").
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace causeway::xds {

using Json = nlohmann::json;

// Bounds of a report (the body itself is bounded by the HTTP server, 1 MiB).
inline constexpr size_t kMaxReportedProxies = 5000;
inline constexpr size_t kMaxReportIdLength = 512;        // node_id, proxy, zone, peer
inline constexpr size_t kMaxReportVersionLength = 256;   // version_sent, ...
inline constexpr size_t kMaxReportMessageLength = 4096;  // last_nack.message
inline constexpr int64_t kMinReportIntervalMs = 100;
inline constexpr int64_t kMaxReportIntervalMs = 10 * 60 * 1000;
// A report is dropped once its agent has missed this many intervals.
inline constexpr int kMissedIntervals = 3;
// Agents reporting into one zone at the same time.
inline constexpr size_t kMaxReportingAgents = 64;

struct RelayReport {
  std::chrono::milliseconds interval{0};
  std::optional<int64_t> revision;
  int64_t omitted = 0;
  // The streams, checked and rebuilt from their known fields only.
  Json proxies = Json::array();
};

// Checks a report body for `zone` (each stream's "zone", when given, must be
// it). InvalidArgument naming the field.
absl::StatusOr<RelayReport> ParseRelayReport(const Json& body, std::string_view zone);

}  // namespace causeway::xds
