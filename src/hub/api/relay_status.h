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
#include "xds/relay_report.h"

namespace causeway::hub::api {

using model::Json;
using xds::kMaxReportingAgents;
using xds::kMissedIntervals;
using xds::RelayReport;

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
