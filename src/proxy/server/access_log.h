// One JSON line per request.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace causeway::proxy {

struct AccessLogEntry {
  std::chrono::system_clock::time_point start_time;
  std::string_view listener;
  std::string_view method;
  std::string_view authority;
  std::string_view path;
  int protocol_major = 1;  // 2: HTTP/2 (one entry per stream)
  int protocol_minor = 1;
  int status = 0;
  std::string_view route;  // route name, "" if none matched
  std::string_view cluster;
  std::string_view upstream_address;  // "ip:port" of the last try
  uint64_t bytes_received = 0;        // request body bytes
  uint64_t bytes_sent = 0;            // response body bytes
  std::chrono::microseconds duration{0};
  std::chrono::microseconds upstream_time{-1};  // to the upstream's response head; -1 if none
  uint32_t attempts = 0;
  // Envoy-style response flags: NR no route, UH no healthy upstream,
  // UF upstream connect failure, UT upstream timeout, UR upstream reset,
  // DC downstream closed, NC cluster not found, SI stream idle timeout,
  // UO upstream overflow (a circuit breaker), DPE downstream protocol error.
  std::string_view flags;
  // Why, in Envoy's %RESPONSE_CODE_DETAILS% words, when flags alone do not
  // say: request_header_timeout, request_overall_timeout,
  // stream_idle_timeout, upstream_per_try_timeout,
  // upstream_response_timeout. Empty otherwise.
  std::string_view details;
  // On an edge proxy, a request whose routing key the guard looked at
  // (server/routing_key_guard.h): "verified" (every key had its proof) or
  // "stripped" (a key without one was removed). Left out otherwise.
  std::string_view key_guard;
  // Only for a request that matched a key route (a route to an intercept
  // cluster): "laptop" or "staging; fallback=REASON", as the client's
  // x-causeway-routed header says. The field is left out otherwise.
  std::string_view intercept;
};

std::string FormatAccessLogJson(const AccessLogEntry& entry);

class AccessLog {
 public:
  virtual ~AccessLog() = default;
  // Called on worker threads; implementations must be thread-safe.
  virtual void Log(const AccessLogEntry& entry) = 0;
};

// Writes lines to a stdio stream (one fwrite per line, so lines never mix).
// The stream stays buffered (a write per request would cost a system call
// each); its owner calls Flush periodically (causeway-proxy: every second,
// as Envoy's file access log does) so that `tail -f` sees requests promptly.
class StreamAccessLog final : public AccessLog {
 public:
  explicit StreamAccessLog(std::FILE* out) : out_(out) {}
  void Log(const AccessLogEntry& entry) override;
  // Thread-safe (stdio locks the stream).
  void Flush();

 private:
  std::FILE* out_;
};

}  // namespace causeway::proxy
