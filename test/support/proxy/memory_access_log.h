// An access log that keeps its formatted lines in memory, for tests that
// check what the proxy logged.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "proxy/server/access_log.h"

namespace causeway::proxy {

class MemoryAccessLog final : public AccessLog {
 public:
  void Log(const AccessLogEntry& entry) override {
    std::string line = FormatAccessLogJson(entry);
    std::lock_guard<std::mutex> lock(mu_);
    lines_.push_back(std::move(line));
  }
  std::vector<std::string> Lines() const {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

}  // namespace causeway::proxy
