#include "net/http_client.h"

#include <array>
#include <utility>

#include "absl/strings/ascii.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
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

// One TCP connection, plain or TLS. Visit() hands the stream to a generic
// lambda, so reads and writes are written once for both.
class Transport {
 public:
  Transport(asio::io_context& ioc, std::shared_ptr<asio::ssl::context> tls, std::string ca_file)
      : ca_file_(std::move(ca_file)) {
    if (tls) {
      tls_.emplace(ioc, *tls);
      tls_context_ = std::move(tls);
    } else {
      plain_.emplace(ioc);
    }
  }

  beast::tcp_stream& tcp() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

  template <typename F>
  decltype(auto) Visit(F&& f) {
    if (tls_) return f(*tls_);
    return f(*plain_);
  }

  // Connects (and, for TLS, handshakes) within `timeout`, running `ioc`.
  absl::Status Connect(asio::io_context& ioc, const std::string& host, const std::string& port,
                       std::chrono::milliseconds timeout) {
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    auto endpoints = resolver.resolve(host, port, ec);
    if (ec) return TransportError(StrCat("resolve ", host, ":", port), ec);
    bool done = false;
    tcp().expires_after(timeout);
    tcp().async_connect(endpoints, [&](const beast::error_code& e, const tcp::endpoint&) {
      ec = e;
      done = true;
    });
    RunUntil(ioc, &done);
    if (ec) return TransportError(StrCat("connect ", host, ":", port), ec);
    tcp().socket().set_option(tcp::no_delay(true), ec);
    if (!tls_) return absl::OkStatus();
    CW_RETURN_IF_ERROR(tls::PrepareClient(tls_->native_handle(), host));
    done = false;
    tcp().expires_after(timeout);
    tls_->async_handshake(asio::ssl::stream_base::client, [&](const beast::error_code& e) {
      ec = e;
      done = true;
    });
    RunUntil(ioc, &done);
    if (ec == beast::error::timeout) {
      return absl::DeadlineExceededError(
          StrCat("TLS handshake with ", host, ":", port, ": timed out"));
    }
    if (ec) {
      return absl::UnavailableError(
          tls::HandshakeError(tls_->native_handle(), ec, StrCat(host, ":", port), ca_file_));
    }
    return absl::OkStatus();
  }

 private:
  std::string ca_file_;
  std::shared_ptr<asio::ssl::context> tls_context_;  // outlives tls_
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
};

// A TLS peer that closes without close_notify is a truncation to OpenSSL;
// a response that is complete by its framing is still complete, so this
// counts as the end of the stream like a plain EOF.
bool IsEndOfStream(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::ssl::error::stream_truncated;
}

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  auto it = headers.find(Lower(name));
  return it == headers.end() ? std::string() : it->second;
}

struct HttpClient::Connection {
  Connection(std::shared_ptr<asio::ssl::context> tls, const std::string& ca_file)
      : stream(ioc, std::move(tls), ca_file) {}
  asio::io_context ioc;
  Transport stream;
  beast::flat_buffer buffer;
  bool used = false;  // carried a complete exchange (so the server may have closed it)

  absl::Status Connect(const std::string& host, const std::string& port,
                       std::chrono::milliseconds timeout) {
    return stream.Connect(ioc, host, port, timeout);
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
    if (ec) return TransportError("send request", ec);
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
    if (ec) return TransportError("read response", ec);
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
  if (!https && !options.ca_file.empty()) {
    return absl::InvalidArgumentError(StrCat("a CA file (", options.ca_file,
                                             ") is given but the URL \"", base_url,
                                             "\" is not https://"));
  }
  auto client = std::make_unique<HttpClient>(std::move(host), std::move(port), options);
  if (https) {
    CW_ASSIGN_OR_RETURN(client->tls_, tls::MakeClientContext(options.ca_file));
  }
  return client;
}

HttpClient::HttpClient(std::string host, std::string port, Options options)
    : host_(std::move(host)), port_(std::move(port)), options_(std::move(options)) {}

HttpClient::~HttpClient() = default;

absl::StatusOr<HttpResponse> HttpClient::Send(std::string_view method, std::string_view target,
                                              std::string_view body, const Headers& headers) {
  auto req = MakeRequest(method, target, body, headers, host_);
  for (int attempt = 0;; ++attempt) {
    bool reused = conn_ != nullptr && conn_->used;
    if (conn_ == nullptr) {
      auto conn = std::make_unique<Connection>(tls_, options_.ca_file);
      CW_RETURN_IF_ERROR(conn->Connect(host_, port_, options_.timeout));
      conn_ = std::move(conn);
    }
    absl::Status status = conn_->Write(req, options_.timeout);
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
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
      if (ec) status = TransportError("read response", ec);
    }
    if (!status.ok()) {
      conn_.reset();
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
             const std::string& ca_file)
      : ioc_(std::move(ioc)), stream_(*ioc_, std::move(tls), ca_file) {}

  absl::Status Open(const std::string& host, const std::string& port,
                    http::request<http::string_body> req, std::chrono::milliseconds timeout) {
    CW_RETURN_IF_ERROR(stream_.Connect(*ioc_, host, port, timeout));
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
    if (ec) return TransportError("send request", ec);
    parser_.body_limit(boost::none);
    done = false;
    stream_.Visit([&](auto& s) {
      http::async_read_header(s, buffer_, parser_, [&](const beast::error_code& e, size_t) {
        ec = e;
        done = true;
      });
    });
    RunUntil(*ioc_, &done);
    if (ec) return TransportError("read response", ec);
    // From here on, ReadLine enforces its own deadlines; the stream itself
    // may stay quiet for as long as the server likes.
    stream_.tcp().expires_never();
    head_.status = static_cast<int>(parser_.get().result_int());
    CopyHeaders(parser_.get().base(), &head_);
    return absl::OkStatus();
  }

  const HttpResponse& head() const override { return head_; }

  absl::StatusOr<std::optional<std::string>> ReadLine(std::chrono::milliseconds timeout) override {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      size_t nl = pending_.find('\n');
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
          if (!IsEndOfStream(ec)) error_ = TransportError("read stream", ec);
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
      std::make_unique<StreamImpl>(std::make_unique<asio::io_context>(), tls_, options_.ca_file);
  CW_RETURN_IF_ERROR(stream->Open(host_, port_, MakeRequest(method, target, {}, headers, host_),
                                  options_.timeout));
  return stream;
}

}  // namespace causeway
