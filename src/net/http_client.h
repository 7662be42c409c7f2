// A small synchronous HTTP/1.1 client over one keep-alive connection: the
// project's one HTTP client.
//
// Used by the CLI, the discovery agent and tests to talk to the hub's REST
// API and to follow its server-sent-event streams, and by the Kubernetes
// collector to list and watch the API server (mutual TLS or a bearer token,
// watch bodies read line by line). One HttpClient is one connection and is
// not thread-safe (use one per thread), except Cancel(), which any thread
// may call to interrupt a call blocked in another.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

namespace causeway {

namespace http_client_internal {
class Canceller;
}  // namespace http_client_internal

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
  // The value of header `name` (case-insensitive), or "".
  std::string Header(std::string_view name) const;
};

// One event of a text/event-stream (https://html.spec.whatwg.org/#server-sent-events).
struct SseEvent {
  std::string id;
  std::string event;  // "" when the stream did not name it ("message")
  std::string data;   // multi-line data joined with '\n'
};

class HttpClient {
 public:
  using Headers = std::map<std::string, std::string>;

  struct Options {
    // Limit for connecting and for each whole request/response exchange.
    std::chrono::milliseconds timeout{30000};
    // For https:// URLs: a PEM file of the CA(s) to trust instead of the
    // system's (a private CA such as `causeway tls init`'s ca.crt).
    std::string ca_file;
    // Or the PEM text of the CA(s) to trust (e.g. a kubeconfig's
    // certificate-authority-data).
    std::string ca_pem;
    // A client certificate chain and its key, PEM text, presented when the
    // server asks for one (mutual TLS).
    std::string client_cert_pem;
    std::string client_key_pem;
    // Skips the check of the server's certificate (a kubeconfig's
    // insecure-skip-tls-verify); never the default.
    bool insecure_skip_verify = false;
    // Sent with every request (e.g. Accept); a request's own headers of the
    // same name win.
    Headers headers;
    // The most a response body (Send) or one line of a stream (ReadLine)
    // may hold before it is refused with RESOURCE_EXHAUSTED: a peer cannot
    // make the client buffer without bound. 256 MiB holds the list of a
    // large Kubernetes namespace and any hub answer.
    size_t max_body_bytes = size_t{256} << 20;
  };

  // `base_url` is "http://host:port", "https://host:port" (a trailing path
  // is ignored) or "host:port" (plain HTTP). https:// verifies the server's
  // certificate (Options::ca_file or ca_pem, else the system store), sends SNI and
  // checks the host name or IP address; a failed check is UNAVAILABLE with
  // OpenSSL's reason and the CA that was trusted.
  static absl::StatusOr<std::unique_ptr<HttpClient>> Create(std::string_view base_url,
                                                            Options options);
  static absl::StatusOr<std::unique_ptr<HttpClient>> Create(std::string_view base_url) {
    return Create(base_url, Options{});
  }
  HttpClient(std::string host, std::string port, Options options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request and reads the whole response. Transport failures are
  // UNAVAILABLE (DEADLINE_EXCEEDED on timeout); any HTTP status is a success.
  // A request that fails on a reused connection before any response byte
  // arrives (the server closed it while idle) is retried once on a new one.
  absl::StatusOr<HttpResponse> Send(std::string_view method, std::string_view target,
                                    std::string_view body = {}, const Headers& headers = {});

  // A response read incrementally (server-sent events, long polls). It owns
  // the connection it was opened on.
  class Stream {
   public:
    virtual ~Stream() = default;
    // Status and headers of the response.
    virtual const HttpResponse& head() const = 0;
    // The next line of the body without its line ending; nullopt at the end
    // of the body. DEADLINE_EXCEEDED when no full line arrives in `timeout`
    // (the stream stays usable).
    virtual absl::StatusOr<std::optional<std::string>> ReadLine(
        std::chrono::milliseconds timeout) = 0;
    // The next event (comments such as keep-alives are skipped); nullopt at
    // the end of the body. DEADLINE_EXCEEDED when none completes in `timeout`.
    absl::StatusOr<std::optional<SseEvent>> NextEvent(std::chrono::milliseconds timeout);

   private:
    SseEvent partial_;
    bool has_partial_ = false;  // a data line arrived since the last dispatch
  };

  // Opens a streaming request on a fresh connection (this client's own
  // connection is left alone). Non-2xx responses are returned whole as a
  // stream whose ReadLine yields the body lines.
  absl::StatusOr<std::unique_ptr<Stream>> OpenStream(std::string_view method,
                                                     std::string_view target,
                                                     const Headers& headers = {});

  // Interrupts, from any thread, the call in progress on this client or on
  // any Stream opened from it (a connect, a TLS handshake, a blocked read):
  // it returns CANCELLED promptly, and so does every later call. The
  // connection is closed under the blocked call's own I/O loop, so nothing
  // touches it from two threads.
  void Cancel();

  const std::string& host() const { return host_; }
  const std::string& port() const { return port_; }

 private:
  struct Connection;

  std::string host_;
  std::string port_;
  Options options_;
  std::shared_ptr<boost::asio::ssl::context> tls_;  // null: plain HTTP
  std::unique_ptr<Connection> conn_;
  // Shared with every Stream opened here (a Stream may outlive the client).
  std::shared_ptr<http_client_internal::Canceller> canceller_;
};

}  // namespace causeway
