// Output shared by the verbs: formats, tables, ages, outcome lines, and the
// mapping from errors to exit codes.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/objects.h"
#include "model/yaml_json.h"

namespace causeway::cli {

using Json = nlohmann::json;

// Exit codes, documented in `causeway --help` (kExitCodesHelp).
enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,        // anything not below
  kExitUsage = 2,        // bad flags or arguments
  kExitInvalid = 3,      // invalid input: local validation or hub 400
  kExitAuth = 4,         // not authenticated / not allowed (401/403)
  kExitNotFound = 5,     // no such object (404)
  kExitConflict = 6,     // version conflict, already exists, still referenced (409)
  kExitUnavailable = 7,  // hub unreachable or timed out
};
inline constexpr std::string_view kExitCodesHelp =
    "Exit codes: 0 ok, 1 other error, 2 usage, 3 invalid input, 4 not authenticated or not\n"
    "allowed, 5 not found, 6 conflict (changed by someone else, exists, still referenced),\n"
    "7 hub unreachable.";

int ExitCodeFor(const absl::Status& status);

// A usage error (exit 2): wrong arguments rather than wrong content.
absl::Status UsageError(std::string_view message);

enum class Format { kTable, kWide, kJson, kYaml };
absl::StatusOr<Format> ParseFormat(std::string_view text);

// Columns padded to the widest cell, separated by three spaces (kubectl's
// look). rows[0] is the header.
std::string RenderTable(const std::vector<std::vector<std::string>>& rows);

// A JSON value as a table cell: strings as they are, null as nothing,
// booleans as yes/no, anything else as compact JSON.
std::string CellText(const nlohmann::json& v);

// "45s", "12m", "3h", "5d" between an RFC 3339 time and `now`; "" if unparsable.
std::string FormatAge(std::string_view rfc3339, std::chrono::system_clock::time_point now);
// Parses an RFC 3339 time.
absl::StatusOr<std::chrono::system_clock::time_point> ParseTime(std::string_view rfc3339);
// "90s", "15m", "2h30m", "7d" → duration.
absl::StatusOr<std::chrono::seconds> ParseSince(std::string_view text);

// An intercept's lease as seen from `now`: "25s", "3m", "expired".
std::string ExpiresIn(const nlohmann::json& intercept, std::chrono::system_clock::time_point now);
// An intercept's tunnel: "none" until a proxy holds the developer's tunnel,
// then "via PROXY (ADDRESS)".
std::string TunnelState(const nlohmann::json& intercept);

// The table for `objects` of `kind` (API JSON). `with_zone` adds a ZONE
// column (listing across zones).
std::vector<std::vector<std::string>> ObjectTable(model::Kind kind,
                                                  const std::vector<Json>& objects, bool wide,
                                                  bool with_zone,
                                                  std::chrono::system_clock::time_point now);

// "Route dev-local/api" for an API JSON object.
std::string ObjectLabel(const Json& object);

// The fields that differ between two versions of an object, one per line:
// "  path: /api → /v2" (metadata ignored); "" when none.
std::string FieldDiff(const Json& before, const Json& after);

// One line per apply result ("Route dev-local/api created") and a summary
// ("1 created, 0 updated, 4 unchanged; revision 12"), from the hub's apply
// answer.
std::string ApplyReport(const Json& response);

}  // namespace causeway::cli
