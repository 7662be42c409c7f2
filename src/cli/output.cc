#include "cli/output.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "common/strings.h"

namespace causeway::cli {
namespace {

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

std::vector<std::string> Strings(const Json& list) {
  std::vector<std::string> out;
  if (!list.is_array()) return out;
  for (const Json& v : list) out.push_back(v.is_string() ? v.get<std::string>() : v.dump());
  return out;
}

size_t Size(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_array() ? it->size() : 0;
}

std::string Or(std::string s, std::string_view fallback = "<none>") {
  return s.empty() ? std::string(fallback) : s;
}

// "envoy-simple" or "blue:3,green:1": weights only when they differ.
std::string Targets(const Json& targets) {
  if (!targets.is_array()) return "";
  std::set<int64_t> weights;
  for (const Json& t : targets) weights.insert(t.value("weight", int64_t{1}));
  std::vector<std::string> parts;
  for (const Json& t : targets) {
    std::string part = t.value("cluster", "");
    if (weights.size() > 1) part += StrCat(":", t.value("weight", int64_t{1}));
    if (t.contains("metadata") && t["metadata"].is_object() && !t["metadata"].empty()) {
      std::vector<std::string> kv;
      for (auto it = t["metadata"].begin(); it != t["metadata"].end(); ++it) {
        kv.push_back(StrCat(it.key(), "=", it->is_string() ? it->get<std::string>() : it->dump()));
      }
      part += StrCat("{", Join(kv, ","), "}");
    }
    parts.push_back(part);
  }
  return Join(parts, ",");
}

std::string Ports(const Json& domains) {
  std::set<int> ports;
  for (const std::string& d : Strings(domains)) {
    int port = 0;
    if (absl::SimpleAtoi(ToAbsl(std::string_view(d).substr(d.rfind(':') + 1)), &port))
      ports.insert(port);
  }
  std::vector<std::string> parts;
  for (int p : ports) parts.push_back(std::to_string(p));
  return Join(parts, ",");
}

std::string Endpoints(const Json& instances) {
  std::vector<std::string> parts;
  if (instances.is_array()) {
    for (const Json& in : instances)
      parts.push_back(StrCat(in.value("host", ""), ":", in.value("port", 0)));
  }
  if (parts.size() > 4) {
    size_t more = parts.size() - 3;
    parts.resize(3);
    parts.push_back(StrCat("+", more, " more"));
  }
  return Join(parts, ",");
}

std::string VersionOf(const Json& o) {
  auto it = o.find("version");
  if (it == o.end()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

constexpr std::string_view kUsagePayload = "causeway.dev/cli-usage";

}  // namespace

absl::Status UsageError(std::string_view message) {
  absl::Status status = absl::InvalidArgumentError(ToAbsl(message));
  status.SetPayload(ToAbsl(kUsagePayload), absl::Cord("1"));
  return status;
}

int ExitCodeFor(const absl::Status& status) {
  if (status.GetPayload(ToAbsl(kUsagePayload))) return kExitUsage;
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return kExitInvalid;
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      return kExitAuth;
    case absl::StatusCode::kNotFound:
      return kExitNotFound;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
      return kExitConflict;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return kExitUnavailable;
    default:
      return kExitError;
  }
}

absl::StatusOr<Format> ParseFormat(std::string_view text) {
  if (text == "" || text == "table") return Format::kTable;
  if (text == "wide") return Format::kWide;
  if (text == "json") return Format::kJson;
  if (text == "yaml") return Format::kYaml;
  return absl::InvalidArgumentError(
      StrCat("unknown output format \"", text, "\" (table, wide, json or yaml)"));
}

std::string CellText(const nlohmann::json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  return v.dump();
}

std::string RenderTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(widths[c] - row[c].size() + 3, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

absl::StatusOr<std::chrono::system_clock::time_point> ParseTime(std::string_view rfc3339) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, ToAbsl(rfc3339), &t, &error)) {
    return absl::InvalidArgumentError(StrCat("bad time \"", rfc3339, "\": ", error));
  }
  return absl::ToChronoTime(t);
}

std::string FormatAge(std::string_view rfc3339, std::chrono::system_clock::time_point now) {
  auto t = ParseTime(rfc3339);
  if (!t.ok()) return "";
  int64_t s = std::chrono::duration_cast<std::chrono::seconds>(now - *t).count();
  if (s < 0) s = 0;
  if (s < 120) return StrCat(s, "s");
  if (s < 120 * 60) return StrCat(s / 60, "m");
  if (s < 48 * 3600) return StrCat(s / 3600, "h");
  return StrCat(s / 86400, "d");
}

absl::StatusOr<std::chrono::seconds> ParseSince(std::string_view text) {
  std::string t(absl::StripAsciiWhitespace(ToAbsl(text)));
  // absl::ParseDuration knows h, m, s but not days, which people ask for.
  if (!t.empty() && t.back() == 'd') {
    int64_t days = 0;
    if (absl::SimpleAtoi(t.substr(0, t.size() - 1), &days) && days >= 0) {
      return std::chrono::seconds(days * 86400);
    }
  }
  absl::Duration d;
  if (t.empty() || !absl::ParseDuration(t, &d) || d < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        StrCat("bad duration \"", text, "\" (examples: 90s, 15m, 2h30m, 7d)"));
  }
  return std::chrono::seconds(absl::ToInt64Seconds(d));
}

std::string ExpiresIn(const Json& intercept, std::chrono::system_clock::time_point now) {
  const Json& at = intercept.contains("expires_at") ? intercept["expires_at"] : Json();
  if (!at.is_string()) return "<none>";
  auto t = ParseTime(at.get<std::string>());
  if (!t.ok()) return "<none>";
  int64_t s = std::chrono::duration_cast<std::chrono::seconds>(*t - now).count();
  if (s < 0) return "expired";
  if (s < 120) return StrCat(s, "s");
  return StrCat(s / 60, "m");
}

std::string TunnelState(const Json& intercept) {
  const Json& tunnel = intercept.contains("tunnel") ? intercept["tunnel"] : Json();
  if (!tunnel.is_object()) return "none";
  return StrCat("via ", tunnel.value("proxy", ""), " (", tunnel.value("address", ""), ")");
}

std::vector<std::vector<std::string>> ObjectTable(model::Kind kind,
                                                  const std::vector<Json>& objects, bool wide,
                                                  bool with_zone,
                                                  std::chrono::system_clock::time_point now) {
  using model::Kind;
  std::vector<std::string> header;
  if (with_zone && kind != Kind::kZone) header.push_back("ZONE");
  header.push_back("NAME");
  switch (kind) {
    case Kind::kZone:
      header.insert(header.end(), {"DESCRIPTION"});
      break;
    case Kind::kProxy:
      header.insert(header.end(), {"DOMAINS"});
      if (wide) header.push_back("PORTS");
      break;
    case Kind::kDomain:
      header.insert(header.end(), {"ALIASES"});
      break;
    case Kind::kRouteGroup:
      header.insert(header.end(), {"DEFAULT", "RULES"});
      if (wide) header.push_back("RETRIES");
      break;
    case Kind::kRoute:
      header.insert(header.end(), {"DOMAIN", "PATH", "ROUTE GROUP"});
      if (wide) header.insert(header.end(), {"RULES", "TIMEOUT"});
      break;
    case Kind::kCluster:
      header.insert(header.end(), {"INSTANCES"});
      if (wide) header.push_back("ENDPOINTS");
      break;
    case Kind::kIntercept:
      header.insert(header.end(), {"CLUSTER", "KEY", "OWNER", "EXPIRES IN", "TUNNEL"});
      break;
  }
  header.push_back("AGE");
  if (wide) header.push_back("VERSION");

  std::vector<std::vector<std::string>> rows = {header};
  for (const Json& o : objects) {
    std::vector<std::string> row;
    if (with_zone && kind != Kind::kZone) row.push_back(o.value("zone", ""));
    row.push_back(o.value("name", ""));
    switch (kind) {
      case Kind::kZone:
        row.push_back(o.value("description", ""));
        break;
      case Kind::kProxy:
        row.push_back(Or(Join(Strings(o.value("domains", Json::array())), ",")));
        if (wide) row.push_back(Or(Ports(o.value("domains", Json::array()))));
        break;
      case Kind::kDomain:
        row.push_back(Or(Join(Strings(o.value("aliases", Json::array())), ",")));
        break;
      case Kind::kRouteGroup: {
        row.push_back(Or(Targets(o.value("default", Json::array()))));
        row.push_back(std::to_string(Size(o, "rules")));
        if (wide) {
          const Json& retry = o.contains("retry_policy") ? o["retry_policy"] : Json();
          row.push_back(retry.is_object() ? std::to_string(retry.value("num_retries", 0)) : "0");
        }
        break;
      }
      case Kind::kRoute:
        row.push_back(o.value("domain", ""));
        row.push_back(o.value("path", ""));
        row.push_back(o.value("route_group", ""));
        if (wide) {
          row.push_back(std::to_string(Size(o, "rules")));
          int64_t timeout = o.value("timeout_ms", int64_t{0});
          row.push_back(timeout > 0 ? StrCat(timeout, "ms") : "<none>");
        }
        break;
      case Kind::kCluster:
        row.push_back(std::to_string(Size(o, "instances")));
        if (wide) row.push_back(Or(Endpoints(o.value("instances", Json::array()))));
        break;
      case Kind::kIntercept:
        row.push_back(o.value("cluster", ""));
        row.push_back(o.value("key", ""));
        row.push_back(o.value("owner", ""));
        row.push_back(ExpiresIn(o, now));
        row.push_back(TunnelState(o));
        break;
    }
    row.push_back(FormatAge(o.value("created_at", ""), now));
    if (wide) row.push_back(VersionOf(o));
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string ObjectLabel(const Json& object) {
  std::string kind = object.value("kind", "");
  std::string name = object.value("name", "");
  auto parsed = model::ParseKind(kind);
  if (parsed && *parsed == model::Kind::kZone) return StrCat("Zone ", name);
  std::string zone = object.value("zone", "");
  return zone.empty() ? StrCat(kind, " ", name) : StrCat(kind, " ", zone, "/", name);
}

std::string FieldDiff(const Json& before, const Json& after) {
  static const std::set<std::string> kMetadata = {"version", "created_at", "updated_at"};
  auto show = [](const Json& v) {
    if (v.is_null()) return std::string("<none>");
    return v.is_string() ? v.get<std::string>() : v.dump();
  };
  std::set<std::string> keys;
  for (const Json* o : {&before, &after}) {
    if (!o->is_object()) continue;
    for (auto it = o->begin(); it != o->end(); ++it) keys.insert(it.key());
  }
  std::string out;
  for (const std::string& key : keys) {
    if (kMetadata.count(key)) continue;
    Json a = before.is_object() && before.contains(key) ? before[key] : Json();
    Json b = after.is_object() && after.contains(key) ? after[key] : Json();
    if (a == b) continue;
    out += StrCat("  ", key, ": ", show(a), " → ", show(b), "\n");
  }
  return out;
}

std::string ApplyReport(const Json& response) {
  std::vector<Json> results;
  if (response.is_array()) {
    results = response.get<std::vector<Json>>();
  } else if (response.is_object()) {
    for (const char* key : {"results", "objects", "items"}) {
      if (response.contains(key) && response[key].is_array()) {
        results = response[key].get<std::vector<Json>>();
        break;
      }
    }
  }
  std::map<std::string, int> counts;
  std::string out;
  for (const Json& r : results) {
    std::string outcome;
    for (const char* key : {"outcome", "result", "op", "status"}) {
      if (r.contains(key) && r[key].is_string()) {
        outcome = r[key].get<std::string>();
        break;
      }
    }
    const Json& who = r.contains("kind") ? r : r.value("object", Json::object());
    out += StrCat(ObjectLabel(who), " ", outcome, "\n");
    counts[outcome]++;
  }
  std::string summary = StrCat(counts["created"], " created, ", counts["updated"], " updated, ",
                               counts["unchanged"], " unchanged");
  if (counts["deleted"] > 0) summary += StrCat(", ", counts["deleted"], " deleted");
  if (response.is_object() && response.contains("revision")) {
    const Json& rev = response["revision"];
    summary += StrCat("; revision ", rev.is_string() ? rev.get<std::string>() : rev.dump());
  }
  return out + summary + "\n";
}

}  // namespace causeway::cli
