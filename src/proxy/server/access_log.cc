#include "proxy/server/access_log.h"

#include <ctime>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace causeway::proxy {
namespace {

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(out, "\\u%04x", static_cast<unsigned char>(c));
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

void AppendField(std::string* out, std::string_view name, std::string_view value) {
  out->push_back(',');
  AppendJsonString(out, name);
  out->push_back(':');
  AppendJsonString(out, value);
}

std::string Rfc3339(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm;
  gmtime_r(&secs, &tm);
  return absl::StrFormat("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
}

double Millis(std::chrono::microseconds d) { return static_cast<double>(d.count()) / 1000.0; }

}  // namespace

std::string FormatAccessLogJson(const AccessLogEntry& e) {
  std::string out = "{\"start_time\":";
  AppendJsonString(&out, Rfc3339(e.start_time));
  AppendField(&out, "listener", e.listener);
  AppendField(&out, "method", e.method);
  AppendField(&out, "authority", e.authority);
  AppendField(&out, "path", e.path);
  AppendField(&out, "protocol",
              e.protocol_major == 2   ? "HTTP/2"
              : e.protocol_minor == 0 ? "HTTP/1.0"
                                      : "HTTP/1.1");
  absl::StrAppend(&out, ",\"status\":", e.status);
  AppendField(&out, "route", e.route);
  AppendField(&out, "cluster", e.cluster);
  AppendField(&out, "upstream_address", e.upstream_address);
  absl::StrAppend(&out, ",\"bytes_received\":", e.bytes_received, ",\"bytes_sent\":", e.bytes_sent);
  absl::StrAppendFormat(&out, ",\"duration_ms\":%.3f", Millis(e.duration));
  if (e.upstream_time.count() >= 0) {
    absl::StrAppendFormat(&out, ",\"upstream_time_ms\":%.3f", Millis(e.upstream_time));
  } else {
    out.append(",\"upstream_time_ms\":null");
  }
  absl::StrAppend(&out, ",\"attempts\":", e.attempts);
  AppendField(&out, "flags", e.flags);
  AppendField(&out, "details", e.details);
  if (!e.key_guard.empty()) AppendField(&out, "key_guard", e.key_guard);
  if (!e.intercept.empty()) AppendField(&out, "intercept", e.intercept);
  out.push_back('}');
  return out;
}

void StreamAccessLog::Flush() { std::fflush(out_); }

void StreamAccessLog::Log(const AccessLogEntry& entry) {
  std::string line = FormatAccessLogJson(entry);
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), out_);
}

}  // namespace causeway::proxy
