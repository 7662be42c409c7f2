// Proxies attached to agents' relay xDS servers (`causeway agent --xds`), as
// the agents report them:
//
//   PUT    /v1/zones/{zone}/agents/{agent}/proxies   the agent's current report
//   DELETE /v1/zones/{zone}/agents/{agent}/proxies   the agent is going away
//
// A report is live state, not configuration: the hub keeps the latest one of
// each agent in memory with the time it arrived (never in the store or the
// change log) and forgets it when the agent has missed kMissedIntervals of
// its own reporting intervals. GET /v1/zones/{zone}/status lists the
// reported proxies beside the hub's own (RelayReports::AddTo).
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
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/time_source.h"
#include "model/objects.h"

namespace causeway::hub::api {

using model::Json;

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

// The latest report of each agent, per zone. Thread-safe.
class RelayReports {
 public:
  explicit RelayReports(const TimeSource* time) : time_(time) {}

  // Replaces `agent`'s report. ResourceExhausted when kMaxReportingAgents
  // other agents of the zone have live reports.
  absl::Status Put(const std::string& zone, const std::string& agent, RelayReport report);
  // Forgets `agent`'s report; whether there was a live one.
  bool Remove(const std::string& zone, const std::string& agent);

  // Adds the zone's live reports to `status` (the shape of
  // XdsServer::ZoneStatus, whose own streams are marked "via": "hub"):
  //  - each reported stream to "proxies", with "via": "agent", "agent" (its
  //    name) and "reported_at" (when the hub received the report);
  //  - "agents": [{name, reported_at, expires_at, interval_ms, revision,
  //    streams, omitted}], sorted by name;
  //  - to each of "registered_proxies", "relayed_streams".
  void AddTo(const std::string& zone, Json* status);

 private:
  struct Entry {
    std::shared_ptr<const RelayReport> report;
    std::chrono::system_clock::time_point received_at;
    std::chrono::steady_clock::time_point expires;
  };
  // Drops the zone's expired reports; mu_ held.
  void Prune(const std::string& zone);

  const TimeSource* const time_;
  std::mutex mu_;
  std::map<std::string, std::map<std::string, Entry>> zones_;  // zone → agent → report
};

}  // namespace causeway::hub::api
