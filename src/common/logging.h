// Structured logging: spdlog loggers that write one JSON object per line
// (`--log-format json`, the default for servers) or human text.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "spdlog/spdlog.h"

namespace causeway {

enum class LogFormat { kText, kJson };

// Configures the default logger (stderr). `level` is one of spdlog's names
// (trace, debug, info, warn, error, off).
void SetupLogging(LogFormat format, std::string_view level);

// Escapes `s` for embedding inside a JSON string literal.
std::string JsonEscape(std::string_view s);

}  // namespace causeway
