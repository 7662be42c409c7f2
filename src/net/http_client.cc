#include "net/http_client.h"

#include <array>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/synchronization/mutex.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/post.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"
#include "common/status.h"
#include "common/strings.h"
#include "net/tls_client.h"

namespace causeway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

absl::Status TransportError(std::string_view what, const beast::error_code& ec) {
  if (ec == beast::error::timeout) {
    return absl::DeadlineExceededError(StrCat(what, ": timed out"));
  }
  return absl::UnavailableError(StrCat(what, ": ", ec.message()));
}

// Runs `ioc` until the operation that sets `*done` completes.
void RunUntil(asio::io_context& ioc, const bool* done) {
  ioc.restart();
  while (!*done && ioc.run_one() > 0) {
  }
}

std::string Lower(std::string_view s) { return absl::AsciiStrToLower(ToAbsl(s)); }

void CopyHeaders(const http::fields& fields, HttpResponse* out) {
  for (const auto& field : fields) {
    out->headers[Lower(FromAbsl(absl::string_view(
        field.name_string().data(), field.name_string().size())))] = std::string(field.value());
  }
}

http::request<http::string_body> MakeRequest(std::string_view method, std::string_view target,
                                             std::string_view body,
                                             const HttpClient::Headers& headers,
                                             const std::string& host) {
  http::request<http::string_body> req;
  req.method_string(beast::string_view(method.data(), method.size()));
  req.target(beast::string_view(target.data(), target.size()));
  req.version(11);
  req.set(http::field::host, host);
  req.set(http::field::user_agent, "causeway");
  for (const auto& [name, value] : headers) req.set(name, value);
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    if (req.find(http::field::content_type) == req.end()) {
      req.set(http::field::content_type, "application/json");
    }
    req.body() = std::string(body);
    req.prepare_payload();
  }
  req.keep_alive(true);
  return req;
}

class Transport;

}  // namespace

namespace http_client_internal {

// Cancel() for one HttpClient and its Streams. Each connection registers
// while it is open; Cancel() posts a close to the connection's own
// io_context, so the close runs on the thread driving that connection (the
// one blocked in it) and the pending operation ends with
// operation_aborted. A close posted while no operation is pending runs as
// the next one starts, so a call made after Cancel() ends at once too.
class Canceller {
 public:
  // CANCELLED when Cancel() has been called already.
  absl::Status Enter(asio::io_context& ioc, Transport& transport) ABSL_LOCKS_EXCLUDED(mu_);
  void Leave(Transport& transport) ABSL_LOCKS_EXCLUDED(mu_);
  void Cancel() ABSL_LOCKS_EXCLUDED(mu_);
  bool cancelled() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return cancelled_;
  }

 private:
  absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::pair<asio::io_context*, Transport*>> open_ ABSL_GUARDED_BY(mu_);
};

}  // namespace http_client_internal

namespace {

using http_client_internal::Canceller;

// One TCP connection, plain or TLS. Visit() hands the stream to a generic
// lambda, so reads and writes are written once for both. While connected
// it is registered with its client's Canceller (until destroyed).
class Transport {
 public:
  Transport(asio::io_context& ioc, std::shared_ptr<asio::ssl::context> tls, std::string ca_source,
            std::shared_ptr<Canceller> canceller)
      : ioc_(ioc), ca_source_(std::move(ca_source)), canceller_(std::move(canceller)) {
    if (tls) {
      tls_.emplace(ioc, *tls);
      tls_context_ = std::move(tls);
    } else {
      plain_.emplace(ioc);
    }
  }
  ~Transport() {
    if (registered_) canceller_->Leave(*this);
  }
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  beast::tcp_stream& tcp() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

  template <typename F>
  decltype(auto) Visit(F&& f) {
    if (tls_) return f(*tls_);
    return f(*plain_);
  }

  // Closes the socket: pending operations end with operation_aborted. Runs
  // on the thread that drives the io_context (posted by the Canceller).
  void Abort() {
    beast::error_code ignored;
    tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
    tcp().close();
  }

  // An operation's failure: CANCELLED after Cancel(), else as TransportError.
  absl::Status Error(std::string_view what, const beast::error_code& ec) {
    if (canceller_->cancelled()) return absl::CancelledError(StrCat(what, ": cancelled"));
    return TransportError(what, ec);
  }
  bool cancelled() { return canceller_->cancelled(); }

  // Connects (and, for TLS, handshakes) within `timeout`, running `ioc`.
  absl::Status Connect(const std::string& host, const std::string& port,
                       std::chrono::milliseconds timeout) {
    CW_RETURN_IF_ERROR(canceller_->Enter(ioc_, *this));
    registered_ = true;
    tcp::resolver resolver(ioc_);
    beast::error_code ec;
    auto endpoints = resolver.resolve(host, port, ec);
    if (ec) return Error(StrCat("resolve ", host, ":", port), ec);
    bool done = false;
    tcp().expires_after(timeout);
    tcp().async_connect(endpoints, [&](const beast::error_code& e, const tcp::endpoint&) {
      ec = e;
      done = true;
    });
    RunUntil(ioc_, &done);
    if (ec) return Error(StrCat("connect ", host, ":", port), ec);
    tcp().socket().set_option(tcp::no_delay(true), ec);
    if (!tls_) return absl::OkStatus();
    return Handshake(host, port, timeout);
  }

 private:
  absl::Status Handshake(const std::string& host, const std::string& port,
                         std::chrono::milliseconds timeout) {
    CW_RETURN_IF_ERROR(tls::PrepareClient(tls_->native_handle(), host));
    beast::error_code ec;
    bool done = false;
    tcp().expires_after(timeout);
    tls_->async_handshake(asio::ssl::stream_base::client, [&](const beast::error_code& e) {
      ec = e;
      done = true;
    });
    RunUntil(ioc_, &done);
    if (!ec) return absl::OkStatus();
    if (cancelled()) return absl::CancelledError("TLS handshake: cancelled");
    if (ec == beast::error::timeout) {
      return absl::DeadlineExceededError(
          StrCat("TLS handshake with ", host, ":", port, ": timed out"));
    }
    return absl::UnavailableError(
        tls::HandshakeError(tls_->native_handle(), ec, StrCat(host, ":", port), ca_source_));
  }

  asio::io_context& ioc_;
  std::string ca_source_;
  std::shared_ptr<Canceller> canceller_;
  bool registered_ = false;
  std::shared_ptr<asio::ssl::context> tls_context_;  // outlives tls_
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
};

// A TLS peer that closes without close_notify is a truncation to OpenSSL;
// a response that is complete by its framing is still complete, so this
// counts as the end of the stream like a plain EOF.
// Beast refused a body beyond the parser's body_limit (the limit is added
// by the caller, which knows it).
absl::Status BodyTooLarge() {
  return absl::ResourceExhaustedError("read response: the body is too large");
}

bool IsEndOfStream(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::ssl::error::stream_truncated;
}

// Which CAs a connection trusts, for handshake errors ("" for the system's).
std::string CaSource(const HttpClient::Options& options) {
  if (!options.ca_file.empty()) return options.ca_file;
  if (!options.ca_pem.empty()) return "the CA certificates given";
  return "";
}

// `own` over `defaults`, names compared case-insensitively.
HttpClient::Headers WithDefaults(const HttpClient::Headers& defaults,
                                 const HttpClient::Headers& own) {
  if (defaults.empty()) return own;
  HttpClient::Headers out = own;
  for (const auto& [name, value] : defaults) {
    bool overridden = false;
    for (const auto& [own_name, own_value] : own) {
      if (Lower(own_name) == Lower(name)) overridden = true;
    }
    if (!overridden) out[name] = value;
  }
  return out;
}

}  // namespace

namespace http_client_internal {

absl::Status Canceller::Enter(asio::io_context& ioc, Transport& transport) {
  absl::MutexLock lock(&mu_);
  if (cancelled_) return absl::CancelledError("cancelled");
  open_.emplace_back(&ioc, &transport);
  return absl::OkStatus();
}

void Canceller::Leave(Transport& transport) {
  absl::MutexLock lock(&mu_);
  std::erase_if(open_, [&](const auto& entry) { return entry.second == &transport; });
}

void Canceller::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  // The transport stays registered (and its io_context alive) until it is
  // destroyed, which Leave() orders after this post; a close still queued
  // then is destroyed with the io_context, never run.
  for (const auto& [ioc, transport] : open_) {
    asio::post(*ioc, [t = transport] { t->Abort(); });
  }
}

}  // namespace http_client_internal

std::string HttpResponse::Header(std::string_view name) const {
  auto it = headers.find(Lower(name));
  return it == headers.end() ? std::string() : it->second;
}

struct HttpClient::Connection {
  Connection(std::shared_ptr<asio::ssl::context> tls, const std::string& ca_source,
             std::shared_ptr<Canceller> canceller)
      : stream(ioc, std::move(tls), ca_source, std::move(canceller)) {}
  asio::io_context ioc;
  Transport stream;
  beast::flat_buffer buffer;
  bool used = false;  // carried a complete exchange (so the server may have closed it)

  absl::Status Connect(const std::string& host, const std::string& port,
                       std::chrono::milliseconds timeout) {
    return stream.Connect(host, port, timeout);
  }

  absl::Status Write(const http::request<http::string_body>& req,
                     std::chrono::milliseconds timeout) {
    beast::error_code ec;
    bool done = false;
    stream.tcp().expires_after(timeout);
    stream.Visit([&](auto& s) {
      http::async_write(s, req, [&](const beast::error_code& e, size_t) {
        ec = e;
        done = true;
      });
    });
    RunUntil(ioc, &done);
    if (ec) return stream.Error("send request", ec);
    return absl::OkStatus();
  }

  template <typename Parser>
  absl::Status ReadHeader(Parser& parser, std::chrono::milliseconds timeout) {
    beast::error_code ec;
    bool done = false;
    stream.tcp().expires_after(timeout);
    stream.Visit([&](auto& s) {
      http::async_read_header(s, buffer, parser, [&](const beast::error_code& e, size_t) {
        ec = e;
        done = true;
      });
    });
    RunUntil(ioc, &done);
    if (ec == http::error::body_limit) return BodyTooLarge();
    if (ec) return stream.Error("read response", ec);
    return absl::OkStatus();
  }
};

absl::StatusOr<std::unique_ptr<HttpClient>> HttpClient::Create(std::string_view base_url,
                                                               Options options) {
  std::string_view rest = base_url;
  bool https = false;
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
    https = true;
  } else if (rest.find("://") != std::string_view::npos) {
    return absl::InvalidArgumentError(
        StrCat("unsupported URL \"", base_url, "\" (http:// or https:// only)"));
  }
  rest = rest.substr(0, rest.find('/'));
  // "[::1]:8380": the port follows the bracket, not the address's colons.
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && rest.find(']') != std::string_view::npos &&
      colon < rest.find(']')) {
    colon = std::string_view::npos;
  }
  std::string host(rest.substr(0, colon));
  std::string port = colon == std::string_view::npos ? (https ? "443" : "80")
                                                     : std::string(rest.substr(colon + 1));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty() || port.empty()) {
    return absl::InvalidArgumentError(StrCat("bad URL \"", base_url, "\""));
  }
  if (!https && (!options.ca_file.empty() || !options.ca_pem.empty())) {
    return absl::InvalidArgumentError(StrCat(
        "a CA (", CaSource(options), ") is given but the URL \"", base_url, "\" is not https://"));
  }
  auto client = std::make_unique<HttpClient>(std::move(host), std::move(port), options);
  if (https) {
    CW_ASSIGN_OR_RETURN(client->tls_, tls::MakeClientContext(tls::ClientOptions{
                                          .ca_file = options.ca_file,
                                          .ca_pem = options.ca_pem,
                                          .cert_pem = options.client_cert_pem,
                                          .key_pem = options.client_key_pem,
                                          .insecure_skip_verify = options.insecure_skip_verify}));
  }
  return client;
}

HttpClient::HttpClient(std::string host, std::string port, Options options)
    : host_(std::move(host)),
      port_(std::move(port)),
      options_(std::move(options)),
      canceller_(std::make_shared<Canceller>()) {}

void HttpClient::Cancel() { canceller_->Cancel(); }

HttpClient::~HttpClient() = default;

absl::StatusOr<HttpResponse> HttpClient::Send(std::string_view method, std::string_view target,
                                              std::string_view body, const Headers& headers) {
  auto req = MakeRequest(method, target, body, WithDefaults(options_.headers, headers), host_);
  for (int attempt = 0;; ++attempt) {
    bool reused = conn_ != nullptr && conn_->used;
    if (conn_ == nullptr) {
      auto conn = std::make_unique<Connection>(tls_, CaSource(options_), canceller_);
      CW_RETURN_IF_ERROR(conn->Connect(host_, port_, options_.timeout));
      conn_ = std::move(conn);
    }
    absl::Status status = conn_->Write(req, options_.timeout);
    http::response_parser<http::string_body> parser;
    parser.body_limit(options_.max_body_bytes);
    bool got_header = false;
    if (status.ok()) {
      status = conn_->ReadHeader(parser, options_.timeout);
      got_header = status.ok();
    }
    if (status.ok()) {
      beast::error_code ec;
      bool done = false;
      conn_->stream.tcp().expires_after(options_.timeout);
      conn_->stream.Visit([&](auto& s) {
        http::async_read(s, conn_->buffer, parser, [&](const beast::error_code& e, size_t) {
          ec = e;
          done = true;
        });
      });
      RunUntil(conn_->ioc, &done);
      if (ec == http::error::body_limit) status = BodyTooLarge();
      if (ec && status.ok()) status = conn_->stream.Error("read response", ec);
    }
    if (!status.ok()) {
      conn_.reset();
      if (absl::IsCancelled(status)) return status;
      if (absl::IsResourceExhausted(status)) {
        return absl::ResourceExhaustedError(
            StrCat(status.message(), " (larger than ", options_.max_body_bytes, " bytes)"));
      }
      // An idle keep-alive connection the server closed: nothing was
      // processed, so trying once more on a new connection is safe.
      if (reused && !got_header && attempt == 0 && !absl::IsDeadlineExceeded(status)) continue;
      // A fresh plain connection closed before any answer is what a TLS
      // server does with a plaintext request.
      if (!tls_ && !reused && !got_header && absl::IsUnavailable(status)) {
        return absl::UnavailableError(
            StrCat(status.message(),
                   " (the server closed the connection without answering; if it serves TLS, "
                   "use an https:// URL)"));
      }
      return status;
    }
    auto res = parser.release();
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    CopyHeaders(res.base(), &out);
    out.body = std::move(res.body());
    if (res.keep_alive()) {
      conn_->used = true;
    } else {
      conn_.reset();
    }
    return out;
  }
}

namespace {

class StreamImpl final : public HttpClient::Stream {
 public:
  StreamImpl(std::unique_ptr<asio::io_context> ioc, std::shared_ptr<asio::ssl::context> tls,
             const std::string& ca_source, std::shared_ptr<Canceller> canceller,
             size_t max_line_bytes)
      : ioc_(std::move(ioc)),
        stream_(*ioc_, std::move(tls), ca_source, std::move(canceller)),
        max_line_bytes_(max_line_bytes) {}

  absl::Status Open(const std::string& host, const std::string& port,
                    http::request<http::string_body> req, std::chrono::milliseconds timeout) {
    CW_RETURN_IF_ERROR(stream_.Connect(host, port, timeout));
    beast::error_code ec;
    bool done = false;
    stream_.tcp().expires_after(timeout);
    stream_.Visit([&](auto& s) {
      http::async_write(s, req, [&](const beast::error_code& e, size_t) {
        ec = e;
        done = true;
      });
    });
    RunUntil(*ioc_, &done);
    if (ec) return stream_.Error("send request", ec);
    parser_.body_limit(boost::none);
    done = false;
    stream_.Visit([&](auto& s) {
      http::async_read_header(s, buffer_, parser_, [&](const beast::error_code& e, size_t) {
        ec = e;
        done = true;
      });
    });
    RunUntil(*ioc_, &done);
    if (ec) return stream_.Error("read response", ec);
    // From here on, ReadLine enforces its own deadlines; the stream itself
    // may stay quiet for as long as the server likes.
    stream_.tcp().expires_never();
    head_.status = static_cast<int>(parser_.get().result_int());
    CopyHeaders(parser_.get().base(), &head_);
    return absl::OkStatus();
  }

  const HttpResponse& head() const override { return head_; }

  absl::StatusOr<std::optional<std::string>> ReadLine(std::chrono::milliseconds timeout) override {
    if (stream_.cancelled()) return absl::CancelledError("read stream: cancelled");
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      size_t nl = pending_.find('\n');
      if (std::min(nl, pending_.size()) > max_line_bytes_) {
        return absl::ResourceExhaustedError(
            StrCat("read stream: a line longer than ", max_line_bytes_, " bytes"));
      }
      if (nl != std::string::npos) {
        std::string line = pending_.substr(0, nl);
        pending_.erase(0, nl + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return std::optional<std::string>(std::move(line));
      }
      if (finished_) {
        if (!error_.ok()) return error_;
        if (pending_.empty()) return std::optional<std::string>();
        std::string line = std::move(pending_);
        pending_.clear();
        return std::optional<std::string>(std::move(line));
      }
      if (!reading_) StartRead();
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return absl::DeadlineExceededError("no complete line in time");
      ioc_->restart();
      ioc_->run_one_for(deadline - now);
    }
  }

 private:
  void StartRead() {
    reading_ = true;
    parser_.get().body().data = chunk_.data();
    parser_.get().body().size = chunk_.size();
    stream_.Visit([this](auto& s) {
      http::async_read_some(s, buffer_, parser_, [this](const beast::error_code& ec, size_t) {
        reading_ = false;
        size_t got = chunk_.size() - parser_.get().body().size;
        pending_.append(chunk_.data(), got);
        if (ec && ec != http::error::need_buffer) {
          finished_ = true;
          if (!IsEndOfStream(ec)) {
            error_ = stream_.Error("read stream", ec);
          } else if (!parser_.is_done() && !parser_.need_eof()) {
            // A TLS peer gone without close_notify before the framing
            // (chunks, Content-Length) said the body was complete.
            error_ = stream_.Error("read stream: the body was cut short", ec);
          }
        } else if (parser_.is_done()) {
          finished_ = true;
        }
      });
    });
  }

  std::unique_ptr<asio::io_context> ioc_;
  Transport stream_;
  beast::flat_buffer buffer_;
  http::response_parser<http::buffer_body> parser_;
  std::array<char, 8192> chunk_{};
  std::string pending_;
  const size_t max_line_bytes_;
  bool reading_ = false;
  bool finished_ = false;
  absl::Status error_;
  HttpResponse head_;
};

}  // namespace

absl::StatusOr<std::optional<SseEvent>> HttpClient::Stream::NextEvent(
    std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) left = std::chrono::milliseconds(0);
    CW_ASSIGN_OR_RETURN(std::optional<std::string> line, ReadLine(left));
    if (!line.has_value()) return std::optional<SseEvent>();
    if (line->empty()) {
      // A blank line dispatches the event collected so far; as in browsers,
      // one without data (e.g. only "retry:") is dropped.
      SseEvent event = std::move(partial_);
      partial_ = SseEvent{};
      bool has_data = has_partial_;
      has_partial_ = false;
      if (has_data) return std::optional<SseEvent>(std::move(event));
      continue;
    }
    if (line->front() == ':') continue;  // comment (keep-alive)
    size_t colon = line->find(':');
    std::string field = line->substr(0, colon);
    std::string value = colon == std::string::npos ? "" : line->substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.erase(0, 1);
    if (field == "id") {
      partial_.id = value;
    } else if (field == "event") {
      partial_.event = value;
    } else if (field == "data") {
      if (has_partial_) partial_.data += '\n';
      partial_.data += value;
      has_partial_ = true;
    }
  }
}

absl::StatusOr<std::unique_ptr<HttpClient::Stream>> HttpClient::OpenStream(std::string_view method,
                                                                           std::string_view target,
                                                                           const Headers& headers) {
  auto stream =
      std::make_unique<StreamImpl>(std::make_unique<asio::io_context>(), tls_, CaSource(options_),
                                   canceller_, options_.max_body_bytes);
  CW_RETURN_IF_ERROR(stream->Open(
      host_, port_, MakeRequest(method, target, {}, WithDefaults(options_.headers, headers), host_),
      options_.timeout));
  return stream;
}

}  // namespace causeway
