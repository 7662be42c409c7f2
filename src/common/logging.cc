#include "common/logging.h"

#include "absl/strings/str_format.h"
#include "spdlog/sinks/stdout_sinks.h"

namespace causeway {

void SetupLogging(LogFormat format, std::string_view level) {
  auto logger = spdlog::stderr_logger_mt("causeway");
  if (format == LogFormat::kJson) {
    // Messages are pre-escaped by callers only when they embed values; the
    // pattern escapes nothing itself, so log messages must not contain quotes
    // unescaped. Use JsonEscape for user-supplied text.
    logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","msg":"%v"})",
                        spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(spdlog::level::from_str(std::string(level)));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

std::string JsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

}  // namespace causeway
