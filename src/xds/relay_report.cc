#include "xds/relay_report.h"

#include <algorithm>
#include <array>

#include "absl/time/time.h"
#include "common/status.h"
#include "common/strings.h"

namespace causeway::xds {
namespace {

constexpr std::array<std::string_view, 4> kTypeKeys = {"cds", "eds", "lds", "rds"};

// Reads the known fields of one JSON object, naming `path` in errors, and
// copies each it accepts into `out`.
class FieldReader {
 public:
  FieldReader(const Json& j, std::string path, Json* out)
      : j_(j), path_(std::move(path)), out_(out) {}

  std::string Path(std::string_view key) const {
    return path_.empty() ? std::string(key) : StrCat(path_, ".", key);
  }

  absl::Status CheckObject() const {
    if (!j_.is_object()) return FieldError(path_, "must be an object");
    return absl::OkStatus();
  }

  const Json* Find(std::string_view key) const {
    auto it = j_.find(std::string(key));
    if (it == j_.end() || it->is_null()) return nullptr;
    return &*it;
  }

  absl::Status String(std::string_view key, size_t max_length, bool required,
                      std::string* value = nullptr) {
    const Json* v = Find(key);
    if (v == nullptr) {
      if (required) return FieldError(Path(key), "is required");
      (*out_)[std::string(key)] = "";
      return absl::OkStatus();
    }
    if (!v->is_string()) return FieldError(Path(key), "must be a string");
    const std::string& s = v->get_ref<const std::string&>();
    if (s.size() > max_length) {
      return FieldError(Path(key), StrCat("is longer than ", max_length, " characters"));
    }
    if (value != nullptr) *value = s;
    (*out_)[std::string(key)] = s;
    return absl::OkStatus();
  }

  // An RFC 3339 time, or "" (never happened).
  absl::Status Time(std::string_view key) {
    std::string text;
    CW_RETURN_IF_ERROR(String(key, 64, false, &text));
    if (text.empty()) return absl::OkStatus();
    absl::Time t;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
      return FieldError(Path(key), StrCat("\"", text, "\" is not an RFC 3339 time"));
    }
    return absl::OkStatus();
  }

  absl::Status Bool(std::string_view key) {
    const Json* v = Find(key);
    if (v == nullptr) {
      (*out_)[std::string(key)] = false;
      return absl::OkStatus();
    }
    if (!v->is_boolean()) return FieldError(Path(key), "must be true or false");
    (*out_)[std::string(key)] = v->get<bool>();
    return absl::OkStatus();
  }

  absl::Status Count(std::string_view key, bool required, int64_t* value = nullptr) {
    const Json* v = Find(key);
    if (v == nullptr) {
      if (required) return FieldError(Path(key), "is required");
      (*out_)[std::string(key)] = 0;
      return absl::OkStatus();
    }
    if (!v->is_number_integer() || v->get<int64_t>() < 0) {
      return FieldError(Path(key), "must be an integer of at least 0");
    }
    if (value != nullptr) *value = v->get<int64_t>();
    (*out_)[std::string(key)] = v->get<int64_t>();
    return absl::OkStatus();
  }

 private:
  const Json& j_;
  const std::string path_;
  Json* out_;
};

absl::StatusOr<Json> ParseTypeState(const Json& j, const std::string& path) {
  Json out = Json::object();
  FieldReader r(j, path, &out);
  CW_RETURN_IF_ERROR(r.CheckObject());
  CW_RETURN_IF_ERROR(r.String("type_url", kMaxReportIdLength, false));
  CW_RETURN_IF_ERROR(r.String("version_sent", kMaxReportVersionLength, false));
  CW_RETURN_IF_ERROR(r.String("version_acked", kMaxReportVersionLength, false));
  CW_RETURN_IF_ERROR(r.Bool("pending"));
  CW_RETURN_IF_ERROR(r.Bool("wildcard"));
  CW_RETURN_IF_ERROR(r.Time("last_ack_time"));
  out["last_nack"] = nullptr;
  if (const Json* nack = r.Find("last_nack")) {
    Json n = Json::object();
    FieldReader nr(*nack, r.Path("last_nack"), &n);
    CW_RETURN_IF_ERROR(nr.CheckObject());
    CW_RETURN_IF_ERROR(nr.String("message", kMaxReportMessageLength, false));
    CW_RETURN_IF_ERROR(nr.String("version", kMaxReportVersionLength, false));
    CW_RETURN_IF_ERROR(nr.Time("time"));
    out["last_nack"] = std::move(n);
  }
  return out;
}

absl::StatusOr<Json> ParseStream(const Json& j, const std::string& path, std::string_view zone) {
  Json out = Json::object();
  FieldReader r(j, path, &out);
  CW_RETURN_IF_ERROR(r.CheckObject());
  CW_RETURN_IF_ERROR(r.String("node_id", kMaxReportIdLength, true));
  CW_RETURN_IF_ERROR(r.String("proxy", kMaxReportIdLength, false));
  std::string stream_zone;
  CW_RETURN_IF_ERROR(r.String("zone", kMaxReportIdLength, false, &stream_zone));
  if (!stream_zone.empty() && stream_zone != zone) {
    return FieldError(r.Path("zone"), StrCat("is \"", stream_zone,
                                             "\", but the report is for zone \"", zone, "\""));
  }
  out["zone"] = std::string(zone);
  CW_RETURN_IF_ERROR(r.String("peer", kMaxReportIdLength, false));
  std::string variant;
  CW_RETURN_IF_ERROR(r.String("variant", 16, false, &variant));
  if (variant.empty()) {
    out["variant"] = "sotw";
  } else if (variant != "sotw" && variant != "delta") {
    return FieldError(r.Path("variant"), StrCat("\"", variant, "\" is not one of sotw, delta"));
  }
  CW_RETURN_IF_ERROR(r.Bool("registered"));
  CW_RETURN_IF_ERROR(r.Time("connected_at"));
  CW_RETURN_IF_ERROR(r.Count("snapshot_revision", false));
  const Json* types = r.Find("types");
  if (types == nullptr) return FieldError(r.Path("types"), "is required");
  if (!types->is_object()) return FieldError(r.Path("types"), "must be an object");
  Json out_types = Json::object();
  for (auto it = types->begin(); it != types->end(); ++it) {
    const std::string type_path = StrCat(r.Path("types"), ".", it.key());
    if (std::find(kTypeKeys.begin(), kTypeKeys.end(), it.key()) == kTypeKeys.end()) {
      return FieldError(type_path, "is not one of cds, eds, lds, rds");
    }
    CW_ASSIGN_OR_RETURN(out_types[it.key()], ParseTypeState(it.value(), type_path));
  }
  out["types"] = std::move(out_types);
  return out;
}

}  // namespace

absl::StatusOr<RelayReport> ParseRelayReport(const Json& body, std::string_view zone) {
  RelayReport report;
  Json known = Json::object();  // what FieldReader copies; only the values below are kept
  FieldReader r(body, "", &known);
  if (!body.is_object()) return absl::InvalidArgumentError("the report must be a JSON object");
  int64_t interval_ms = 0;
  CW_RETURN_IF_ERROR(r.Count("interval_ms", true, &interval_ms));
  if (interval_ms < kMinReportIntervalMs || interval_ms > kMaxReportIntervalMs) {
    return FieldError("interval_ms", StrCat("must be between ", kMinReportIntervalMs, " and ",
                                            kMaxReportIntervalMs));
  }
  report.interval = std::chrono::milliseconds(interval_ms);
  if (r.Find("revision") != nullptr) {
    int64_t revision = 0;
    CW_RETURN_IF_ERROR(r.Count("revision", true, &revision));
    report.revision = revision;
  }
  CW_RETURN_IF_ERROR(r.Count("omitted", false, &report.omitted));
  const Json* proxies = r.Find("proxies");
  if (proxies == nullptr) return FieldError("proxies", "is required");
  if (!proxies->is_array()) return FieldError("proxies", "must be a list");
  if (proxies->size() > kMaxReportedProxies) {
    return FieldError("proxies",
                      StrCat("has ", proxies->size(), " entries; at most ", kMaxReportedProxies,
                             " are accepted (report the rest as "
                             "\"omitted\")"));
  }
  for (size_t i = 0; i < proxies->size(); ++i) {
    CW_ASSIGN_OR_RETURN(Json stream, ParseStream((*proxies)[i], StrCat("proxies[", i, "]"), zone));
    report.proxies.push_back(std::move(stream));
  }
  return report;
}

}  // namespace causeway::xds
