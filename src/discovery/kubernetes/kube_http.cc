#include "discovery/kubernetes/kube_http.h"

#include <cctype>
#include <fstream>
#include <optional>
#include <sstream>
#include <utility>

#include "common/status.h"
#include "common/strings.h"

namespace causeway::discovery {

std::string UrlEncode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

KubeHttp::KubeHttp(KubeConfig config) : config_(std::move(config)) {}

void KubeHttp::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  if (current_ != nullptr) current_->Cancel();
}

absl::StatusOr<std::shared_ptr<HttpClient>> KubeHttp::NewClient(std::chrono::milliseconds timeout) {
  HttpClient::Options options;
  options.timeout = timeout;
  if (config_.tls) {
    options.ca_pem = config_.ca_pem;
    options.client_cert_pem = config_.client_cert_pem;
    options.client_key_pem = config_.client_key_pem;
    options.insecure_skip_verify = config_.insecure_skip_verify;
  }
  // An IPv6 address goes in brackets, as in any URL.
  const std::string host =
      config_.host.find(':') != std::string::npos ? StrCat("[", config_.host, "]") : config_.host;
  CW_ASSIGN_OR_RETURN(
      std::unique_ptr<HttpClient> client,
      HttpClient::Create(StrCat(config_.tls ? "https://" : "http://", host, ":", config_.port),
                         std::move(options)));
  std::shared_ptr<HttpClient> shared = std::move(client);
  absl::MutexLock lock(&mu_);
  if (cancelled_) return absl::CancelledError("cancelled");
  current_ = shared;
  return shared;
}

HttpClient::Headers KubeHttp::RequestHeaders() const {
  HttpClient::Headers headers{{"Accept", "application/json"}, {"User-Agent", "causeway-agent"}};
  std::string token = config_.token;
  if (!config_.token_file.empty()) {
    std::ifstream in(config_.token_file);
    std::stringstream text;
    if (in) {
      text << in.rdbuf();
      token = text.str();
    }
  }
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  if (!token.empty()) headers["Authorization"] = StrCat("Bearer ", token);
  return headers;
}

absl::StatusOr<KubeHttp::Response> KubeHttp::Get(const std::string& target,
                                                 std::chrono::milliseconds timeout) {
  CW_ASSIGN_OR_RETURN(std::shared_ptr<HttpClient> client, NewClient(timeout));
  CW_ASSIGN_OR_RETURN(HttpResponse res, client->Send("GET", target, {}, RequestHeaders()));
  return Response{res.status, std::move(res.body)};
}

absl::StatusOr<int> KubeHttp::Stream(const std::string& target,
                                     std::chrono::milliseconds idle_timeout,
                                     const std::function<bool(std::string_view)>& on_line,
                                     std::string* error_body) {
  CW_ASSIGN_OR_RETURN(std::shared_ptr<HttpClient> client, NewClient(idle_timeout));
  CW_ASSIGN_OR_RETURN(std::unique_ptr<HttpClient::Stream> stream,
                      client->OpenStream("GET", target, RequestHeaders()));
  const int status = stream->head().status;
  while (true) {
    CW_ASSIGN_OR_RETURN(std::optional<std::string> line, stream->ReadLine(idle_timeout));
    if (!line.has_value()) return status;
    if (status != 200) {
      if (error_body != nullptr) error_body->append(*line).append("\n");
      continue;
    }
    if (!line->empty() && !on_line(*line)) return status;
  }
}

}  // namespace causeway::discovery
