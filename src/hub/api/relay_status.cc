#include "hub/api/relay_status.h"

#include <algorithm>
#include <array>

#include "absl/time/time.h"
#include "common/status.h"
#include "common/strings.h"

namespace causeway::hub::api {

absl::Status RelayReports::Put(const std::string& zone, const std::string& agent,
                               RelayReport report) {
  Entry entry;
  entry.received_at = time_->Now();
  entry.expires = time_->Monotonic() + kMissedIntervals * report.interval;
  entry.report = std::make_shared<const RelayReport>(std::move(report));
  std::lock_guard lock(mu_);
  Prune(zone);
  auto& agents = zones_[zone];
  if (agents.count(agent) == 0 && agents.size() >= kMaxReportingAgents) {
    return absl::ResourceExhaustedError(StrCat("zone \"", zone, "\" already has ",
                                               kMaxReportingAgents, " agents reporting proxies"));
  }
  agents[agent] = std::move(entry);
  return absl::OkStatus();
}

bool RelayReports::Remove(const std::string& zone, const std::string& agent) {
  std::lock_guard lock(mu_);
  Prune(zone);
  auto it = zones_.find(zone);
  if (it == zones_.end()) return false;
  const bool removed = it->second.erase(agent) > 0;
  if (it->second.empty()) zones_.erase(it);
  return removed;
}

void RelayReports::Prune(const std::string& zone) {
  auto it = zones_.find(zone);
  if (it == zones_.end()) return;
  const auto now = time_->Monotonic();
  std::erase_if(it->second, [&](const auto& e) { return e.second.expires <= now; });
  if (it->second.empty()) zones_.erase(it);
}

void RelayReports::AddTo(const std::string& zone, Json* status) {
  std::map<std::string, Entry> live;
  {
    std::lock_guard lock(mu_);
    Prune(zone);
    if (auto it = zones_.find(zone); it != zones_.end()) live = it->second;
  }
  const auto now_wall = time_->Now();
  const auto now_mono = time_->Monotonic();
  Json& proxies = (*status)["proxies"];
  if (!proxies.is_array()) proxies = Json::array();
  for (Json& p : proxies) {
    if (p.is_object() && !p.contains("via")) p["via"] = "hub";
  }
  Json agents = Json::array();
  std::map<std::string, int> relayed_of;  // proxy name → relayed streams
  for (const auto& [name, entry] : live) {
    const std::string reported_at = FormatRfc3339(entry.received_at);
    for (const Json& stream : entry.report->proxies) {
      Json p = stream;
      p["via"] = "agent";
      p["agent"] = name;
      p["reported_at"] = reported_at;
      relayed_of[p.value("proxy", "")]++;
      proxies.push_back(std::move(p));
    }
    Json a = {
        {"name", name},
        {"reported_at", reported_at},
        {"expires_at",
         FormatRfc3339(now_wall + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                      entry.expires - now_mono))},
        {"interval_ms", entry.report->interval.count()},
        {"revision", nullptr},
        {"streams", entry.report->proxies.size()},
        {"omitted", entry.report->omitted},
    };
    if (entry.report->revision) a["revision"] = *entry.report->revision;
    agents.push_back(std::move(a));
  }
  (*status)["agents"] = std::move(agents);
  if (status->contains("registered_proxies") && (*status)["registered_proxies"].is_array()) {
    for (Json& r : (*status)["registered_proxies"]) {
      if (!r.is_object()) continue;
      auto it = relayed_of.find(r.value("name", ""));
      r["relayed_streams"] = it == relayed_of.end() ? 0 : it->second;
    }
  }
}

}  // namespace causeway::hub::api
