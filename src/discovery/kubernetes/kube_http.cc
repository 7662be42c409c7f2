#include "discovery/kubernetes/kube_http.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include "common/status.h"
#include "common/strings.h"

namespace causeway::discovery {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

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

// One connection; every operation is asynchronous underneath and driven by
// RunUntil, which polls the cancel flag so another thread can interrupt it.
struct KubeHttp::Connection {
  Connection(const KubeConfig& config, const std::atomic<bool>& cancelled)
      : config(config),
        cancelled(cancelled),
        ssl_ctx(ssl::context::tls_client),
        context_status(Configure(config, ssl_ctx)),
        stream(ioc, ssl_ctx) {}

  // The context is complete before the stream is made from it: OpenSSL
  // copies the verify mode and the client certificate from the context into
  // each connection when the connection is created, so settings applied
  // later would silently not apply (no verification, no client
  // certificate).
  static absl::Status Configure(const KubeConfig& config, ssl::context& ctx) {
    if (!config.tls) return absl::OkStatus();
    ctx.set_verify_mode(config.insecure_skip_verify ? ssl::verify_none : ssl::verify_peer);
    beast::error_code ec;
    if (config.ca_pem.empty()) {
      ctx.set_default_verify_paths(ec);
    } else {
      ctx.add_certificate_authority(asio::buffer(config.ca_pem), ec);
    }
    if (ec) return absl::InvalidArgumentError(ToAbsl(StrCat("CA certificates: ", ec.message())));
    if (!config.client_cert_pem.empty()) {
      ctx.use_certificate_chain(asio::buffer(config.client_cert_pem), ec);
      if (!ec) ctx.use_private_key(asio::buffer(config.client_key_pem), ssl::context::pem, ec);
      if (ec) {
        return absl::InvalidArgumentError(ToAbsl(StrCat("client certificate: ", ec.message())));
      }
    }
    return absl::OkStatus();
  }

  // Drives the io_context until the operation started before finishes. The
  // operation's timeout is set before it starts (Beast requires it).
  absl::Status RunUntil(const bool& done) {
    while (!done) {
      ioc.run_for(std::chrono::milliseconds(100));
      if (!done && cancelled) {
        beast::get_lowest_layer(stream).cancel();
        beast::get_lowest_layer(stream).close();
      }
    }
    ioc.restart();
    if (cancelled) return absl::CancelledError("cancelled");
    return absl::OkStatus();
  }

  static absl::Status Error(std::string_view what, const beast::error_code& ec) {
    const std::string text = StrCat(what, ": ", ec.message());
    if (ec == beast::error::timeout) return absl::DeadlineExceededError(ToAbsl(text));
    return absl::UnavailableError(ToAbsl(text));
  }

  absl::Status Open(std::chrono::milliseconds timeout) {
    CW_RETURN_IF_ERROR(context_status);
    if (config.tls) {
      if (!config.insecure_skip_verify) {
        stream.set_verify_callback(ssl::host_name_verification(config.host));
      }
      // SNI, which API servers behind load balancers need.
      SSL_set_tlsext_host_name(stream.native_handle(), config.host.c_str());
    }
    bool done = false;
    beast::error_code ec;
    tcp::resolver resolver(ioc);
    tcp::resolver::results_type endpoints;
    resolver.async_resolve(config.host, config.port,
                           [&](beast::error_code e, tcp::resolver::results_type r) {
                             ec = e;
                             endpoints = std::move(r);
                             done = true;
                           });
    // The resolver is not bound to the stream's timer; the cancel flag still works.
    while (!done) {
      ioc.run_for(std::chrono::milliseconds(100));
      if (!done && cancelled) resolver.cancel();
    }
    ioc.restart();
    if (cancelled) return absl::CancelledError("cancelled");
    if (ec) return Error(StrCat("resolve ", config.host), ec);
    done = false;
    beast::get_lowest_layer(stream).expires_after(timeout);
    beast::get_lowest_layer(stream).async_connect(endpoints,
                                                  [&](beast::error_code e, const tcp::endpoint&) {
                                                    ec = e;
                                                    done = true;
                                                  });
    CW_RETURN_IF_ERROR(RunUntil(done));
    if (ec) return Error(StrCat("connect ", config.host, ":", config.port), ec);
    if (config.tls) {
      done = false;
      beast::get_lowest_layer(stream).expires_after(timeout);
      stream.async_handshake(ssl::stream_base::client, [&](beast::error_code e) {
        ec = e;
        done = true;
      });
      CW_RETURN_IF_ERROR(RunUntil(done));
      if (ec) return Error("TLS handshake", ec);
    }
    return absl::OkStatus();
  }

  // Runs `op(stream-like, handler)` on the TLS stream or the plain socket.
  template <typename Op>
  absl::Status Do(std::string_view what, std::chrono::milliseconds timeout, Op op,
                  beast::error_code* out_ec = nullptr) {
    bool done = false;
    beast::error_code ec;
    auto handler = [&](beast::error_code e, std::size_t) {
      ec = e;
      done = true;
    };
    beast::get_lowest_layer(stream).expires_after(timeout);
    if (config.tls) {
      op(stream, handler);
    } else {
      op(stream.next_layer(), handler);
    }
    CW_RETURN_IF_ERROR(RunUntil(done));
    if (out_ec != nullptr) {
      *out_ec = ec;
      return absl::OkStatus();
    }
    if (ec) return Error(what, ec);
    return absl::OkStatus();
  }

  absl::Status SendRequest(const std::string& target, std::chrono::milliseconds timeout) {
    request.method(http::verb::get);
    request.target(target);
    request.version(11);
    request.set(http::field::host, config.host);
    request.set(http::field::accept, "application/json");
    request.set(http::field::user_agent, "causeway-agent");
    std::string token = config.token;
    if (!config.token_file.empty()) {
      std::ifstream in(config.token_file);
      std::stringstream text;
      if (in) {
        text << in.rdbuf();
        token = text.str();
      }
    }
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    if (!token.empty()) request.set(http::field::authorization, "Bearer " + token);
    return Do("send request", timeout,
              [&](auto& s, auto handler) { http::async_write(s, request, handler); });
  }

  void Close() {
    beast::error_code ignored;
    beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(stream).close();
  }

  const KubeConfig& config;
  const std::atomic<bool>& cancelled;
  asio::io_context ioc;
  ssl::context ssl_ctx;
  const absl::Status context_status;  // of Configure(); declared before `stream`
  beast::ssl_stream<beast::tcp_stream> stream;
  http::request<http::empty_body> request;
  beast::flat_buffer buffer;
};

KubeHttp::KubeHttp(KubeConfig config) : config_(std::move(config)) {}

absl::StatusOr<KubeHttp::Response> KubeHttp::Get(const std::string& target,
                                                 std::chrono::milliseconds timeout) {
  Connection c(config_, cancelled_);
  CW_RETURN_IF_ERROR(c.Open(timeout));
  CW_RETURN_IF_ERROR(c.SendRequest(target, timeout));
  http::response_parser<http::string_body> parser;
  parser.body_limit(256ull << 20);  // a large namespace's pod list
  CW_RETURN_IF_ERROR(c.Do("read response", timeout, [&](auto& s, auto handler) {
    http::async_read(s, c.buffer, parser, handler);
  }));
  c.Close();
  Response response;
  response.status = static_cast<int>(parser.get().result_int());
  response.body = std::move(parser.get().body());
  return response;
}

absl::StatusOr<int> KubeHttp::Stream(const std::string& target,
                                     std::chrono::milliseconds idle_timeout,
                                     const std::function<bool(std::string_view)>& on_line,
                                     std::string* error_body) {
  Connection c(config_, cancelled_);
  CW_RETURN_IF_ERROR(c.Open(idle_timeout));
  CW_RETURN_IF_ERROR(c.SendRequest(target, idle_timeout));
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  CW_RETURN_IF_ERROR(c.Do("read response header", idle_timeout, [&](auto& s, auto handler) {
    http::async_read_header(s, c.buffer, parser, handler);
  }));
  const int status = static_cast<int>(parser.get().result_int());
  std::string pending;  // bytes of a line not yet complete
  char chunk[16 * 1024];
  while (!parser.is_done()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof(chunk);
    beast::error_code ec;
    CW_RETURN_IF_ERROR(c.Do(
        "read", idle_timeout,
        [&](auto& s, auto handler) { http::async_read_some(s, c.buffer, parser, handler); }, &ec));
    if (ec && ec != http::error::need_buffer) {
      if (ec == http::error::end_of_stream || ec == asio::error::eof) break;
      return Connection::Error("watch stream", ec);
    }
    const size_t n = sizeof(chunk) - parser.get().body().size;
    if (status != 200) {
      if (error_body != nullptr) error_body->append(chunk, n);
      continue;
    }
    pending.append(chunk, n);
    size_t start = 0;
    for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      std::string_view line(pending.data() + start, nl - start);
      if (!line.empty() && !on_line(line)) {
        c.Close();
        return status;
      }
    }
    pending.erase(0, start);
  }
  if (status == 200 && !pending.empty()) on_line(pending);
  c.Close();
  return status;
}

}  // namespace causeway::discovery
