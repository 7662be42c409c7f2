#include "net/http_client.h"

#include <array>
#include <utility>

#include "absl/strings/ascii.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "common/status.h"
#include "common/strings.h"

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

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  auto it = headers.find(Lower(name));
  return it == headers.end() ? std::string() : it->second;
}

struct HttpClient::Connection {
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  bool used = false;  // carried a complete exchange (so the server may have closed it)

  absl::Status Connect(const std::string& host, const std::string& port,
                       std::chrono::milliseconds timeout) {
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    auto endpoints = resolver.resolve(host, port, ec);
    if (ec) return TransportError(StrCat("resolve ", host, ":", port), ec);
    bool done = false;
    stream.expires_after(timeout);
    stream.async_connect(endpoints, [&](const beast::error_code& e, const tcp::endpoint&) {
      ec = e;
      done = true;
    });
    RunUntil(ioc, &done);
    if (ec) return TransportError(StrCat("connect ", host, ":", port), ec);
    stream.socket().set_option(tcp::no_delay(true), ec);
    return absl::OkStatus();
  }

  absl::Status Write(const http::request<http::string_body>& req,
                     std::chrono::milliseconds timeout) {
    beast::error_code ec;
    bool done = false;
    stream.expires_after(timeout);
    http::async_write(stream, req, [&](const beast::error_code& e, size_t) {
      ec = e;
      done = true;
    });
    RunUntil(ioc, &done);
    if (ec) return TransportError("send request", ec);
    return absl::OkStatus();
  }

  template <typename Parser>
  absl::Status ReadHeader(Parser& parser, std::chrono::milliseconds timeout) {
    beast::error_code ec;
    bool done = false;
    stream.expires_after(timeout);
    http::async_read_header(stream, buffer, parser, [&](const beast::error_code& e, size_t) {
      ec = e;
      done = true;
    });
    RunUntil(ioc, &done);
    if (ec) return TransportError("read response", ec);
    return absl::OkStatus();
  }
};

absl::StatusOr<std::unique_ptr<HttpClient>> HttpClient::Create(std::string_view base_url,
                                                               Options options) {
  std::string_view rest = base_url;
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.find("://") != std::string_view::npos) {
    return absl::InvalidArgumentError(StrCat("unsupported URL \"", base_url, "\" (http:// only)"));
  }
  rest = rest.substr(0, rest.find('/'));
  size_t colon = rest.rfind(':');
  std::string host(rest.substr(0, colon));
  std::string port = colon == std::string_view::npos ? "80" : std::string(rest.substr(colon + 1));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty() || port.empty()) {
    return absl::InvalidArgumentError(StrCat("bad URL \"", base_url, "\""));
  }
  return std::make_unique<HttpClient>(std::move(host), std::move(port), options);
}

HttpClient::HttpClient(std::string host, std::string port, Options options)
    : host_(std::move(host)), port_(std::move(port)), options_(options) {}

HttpClient::~HttpClient() = default;

absl::StatusOr<HttpResponse> HttpClient::Send(std::string_view method, std::string_view target,
                                              std::string_view body, const Headers& headers) {
  auto req = MakeRequest(method, target, body, headers, host_);
  for (int attempt = 0;; ++attempt) {
    bool reused = conn_ != nullptr && conn_->used;
    if (conn_ == nullptr) {
      auto conn = std::make_unique<Connection>();
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
      conn_->stream.expires_after(options_.timeout);
      http::async_read(conn_->stream, conn_->buffer, parser,
                       [&](const beast::error_code& e, size_t) {
                         ec = e;
                         done = true;
                       });
      RunUntil(conn_->ioc, &done);
      if (ec) status = TransportError("read response", ec);
    }
    if (!status.ok()) {
      conn_.reset();
      // An idle keep-alive connection the server closed: nothing was
      // processed, so trying once more on a new connection is safe.
      if (reused && !got_header && attempt == 0 && !absl::IsDeadlineExceeded(status)) continue;
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
  explicit StreamImpl(std::unique_ptr<asio::io_context> ioc) : ioc_(std::move(ioc)) {}

  absl::Status Open(const std::string& host, const std::string& port,
                    http::request<http::string_body> req, std::chrono::milliseconds timeout) {
    tcp::resolver resolver(*ioc_);
    beast::error_code ec;
    auto endpoints = resolver.resolve(host, port, ec);
    if (ec) return TransportError(StrCat("resolve ", host, ":", port), ec);
    bool done = false;
    stream_.expires_after(timeout);
    stream_.async_connect(endpoints, [&](const beast::error_code& e, const tcp::endpoint&) {
      ec = e;
      done = true;
    });
    RunUntil(*ioc_, &done);
    if (ec) return TransportError(StrCat("connect ", host, ":", port), ec);
    done = false;
    http::async_write(stream_, req, [&](const beast::error_code& e, size_t) {
      ec = e;
      done = true;
    });
    RunUntil(*ioc_, &done);
    if (ec) return TransportError("send request", ec);
    parser_.body_limit(boost::none);
    done = false;
    http::async_read_header(stream_, buffer_, parser_, [&](const beast::error_code& e, size_t) {
      ec = e;
      done = true;
    });
    RunUntil(*ioc_, &done);
    if (ec) return TransportError("read response", ec);
    // From here on, ReadLine enforces its own deadlines; the stream itself
    // may stay quiet for as long as the server likes.
    stream_.expires_never();
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
    http::async_read_some(stream_, buffer_, parser_, [this](const beast::error_code& ec, size_t) {
      reading_ = false;
      size_t got = chunk_.size() - parser_.get().body().size;
      pending_.append(chunk_.data(), got);
      if (ec && ec != http::error::need_buffer) {
        finished_ = true;
        if (ec != http::error::end_of_stream && ec != asio::error::eof) {
          error_ = TransportError("read stream", ec);
        }
      } else if (parser_.is_done()) {
        finished_ = true;
      }
    });
  }

  std::unique_ptr<asio::io_context> ioc_;
  beast::tcp_stream stream_{*ioc_};
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
  auto stream = std::make_unique<StreamImpl>(std::make_unique<asio::io_context>());
  CW_RETURN_IF_ERROR(stream->Open(host_, port_, MakeRequest(method, target, {}, headers, host_),
                                  options_.timeout));
  return stream;
}

}  // namespace causeway
