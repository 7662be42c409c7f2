// HTTP(S) GETs to the Kubernetes API server, whole or streamed line by line
// (watch responses are newline-delimited JSON), over Beast and OpenSSL.
//
// Every call opens its own connection (lists are rare, a watch holds its
// connection for minutes) and can be interrupted from another thread with
// Cancel(), so a collector stops promptly even in the middle of a watch.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "discovery/kubernetes/kube_config.h"

namespace causeway::discovery {

class KubeHttp {
 public:
  explicit KubeHttp(KubeConfig config);

  struct Response {
    int status = 0;
    std::string body;
  };

  // GET `target` (path and query) and read the whole response.
  absl::StatusOr<Response> Get(const std::string& target, std::chrono::milliseconds timeout);

  // GET `target` and call `on_line` with each line of a 200 response body as
  // it arrives; `on_line` returns false to stop reading. Returns the HTTP
  // status (with the body of a non-200 response in `error_body`) when the
  // stream ends. UNAVAILABLE on connection errors, DEADLINE_EXCEEDED when
  // nothing arrives for `idle_timeout`, CANCELLED after Cancel().
  absl::StatusOr<int> Stream(const std::string& target, std::chrono::milliseconds idle_timeout,
                             const std::function<bool(std::string_view)>& on_line,
                             std::string* error_body);

  // Interrupts the call in progress (from any thread), and every later one.
  void Cancel() { cancelled_ = true; }

 private:
  struct Connection;

  KubeConfig config_;
  std::atomic<bool> cancelled_{false};
};

// Percent-encodes a query parameter value.
std::string UrlEncode(std::string_view value);

}  // namespace causeway::discovery
