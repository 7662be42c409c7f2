// What a test reads back from a running causeway-proxy: a counter of its
// admin /stats page and the JSON access log entry of a request.
#pragma once

#include <chrono>
#include <fstream>
#include <string>

#include "net/http_client.h"
#include "nlohmann/json.hpp"
#include "support/process.h"

namespace causeway::proxy::testing {

// The counter `name` of the admin page on `admin_port`, or -1.
inline double AdminStat(int admin_port, const std::string& name) {
  auto client = HttpClient::Create("127.0.0.1:" + std::to_string(admin_port),
                                   HttpClient::Options{std::chrono::seconds(5)});
  if (!client.ok()) return -1;
  auto res = (*client)->Send("GET", "/stats?format=json");
  if (!res.ok() || res->status != 200) return -1;
  nlohmann::json page = nlohmann::json::parse(res->body, nullptr, false);
  return page.is_object() && page.contains(name) ? page[name].get<double>() : -1;
}

// The last entry of the JSON access log `log_file` for `path`, waiting up to
// 10 s for one to appear (null if none does).
inline nlohmann::json AccessLogEntry(const std::string& log_file, const std::string& path) {
  nlohmann::json found;
  causeway::testing::WaitFor(
      [&] {
        std::ifstream in(log_file);
        for (std::string line; std::getline(in, line);) {
          nlohmann::json e = nlohmann::json::parse(line, nullptr, false);
          if (e.is_object() && e.value("path", "") == path) found = e;
        }
        return !found.is_null();
      },
      std::chrono::seconds(10));
  return found;
}

}  // namespace causeway::proxy::testing
