// HTTP(S) GETs to the Kubernetes API server, whole or streamed line by line
// (watch responses are newline-delimited JSON): the kubeconfig's server,
// CA, client certificate and bearer token applied to net's HttpClient.
//
// Every call opens its own connection (lists are rare, a watch holds its
// connection for minutes; the token file is read again for each, as bound
// tokens rotate) and can be interrupted from another thread with Cancel(),
// so a collector stops promptly even in the middle of a watch.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "discovery/kubernetes/kube_config.h"
#include "net/http_client.h"

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
  void Cancel() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // A client for one call, registered so Cancel() reaches it; CANCELLED
  // once Cancel() has been called.
  absl::StatusOr<std::shared_ptr<HttpClient>> NewClient(std::chrono::milliseconds timeout)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Accept, User-Agent and the bearer token (the token file read now).
  HttpClient::Headers RequestHeaders() const;

  const KubeConfig config_;
  absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::shared_ptr<HttpClient> current_ ABSL_GUARDED_BY(mu_);  // of the call in progress
};

// Percent-encodes a query parameter value.
std::string UrlEncode(std::string_view value);

}  // namespace causeway::discovery
