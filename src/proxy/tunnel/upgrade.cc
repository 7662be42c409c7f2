#include "proxy/tunnel/upgrade.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "absl/strings/ascii.h"
#include "common/strings.h"
#include "nlohmann/json.hpp"
#include "proxy/codec/http1.h"

namespace causeway::proxy::tunnel {
namespace asio = boost::asio;
namespace {

std::string_view FindHeader(const http1::RequestHead& req, std::string_view name) {
  for (const http1::Header& h : req.headers) {
    if (http1::EqualsIgnoreCase(h.name, name)) return h.value;
  }
  return {};
}

std::string_view FindHeader(const http1::ResponseHead& resp, std::string_view name) {
  for (const http1::Header& h : resp.headers) {
    if (http1::EqualsIgnoreCase(h.name, name)) return h.value;
  }
  return {};
}

// Reads until `want` bytes are in `buf` or the peer closes.
asio::awaitable<void> ReadAtLeast(TlsStream& tls, std::string* buf, size_t want) {
  char chunk[4096];
  while (buf->size() < want) {
    auto [ec, n] =
        co_await tls.async_read_some(asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
    if (ec || n == 0) co_return;
    buf->append(chunk, n);
  }
}

// The refusal's message from its JSON body, else the body itself.
std::string RefusalMessage(const std::string& body, int status) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("error") && j["error"].is_object() &&
      j["error"].value("message", nlohmann::json()).is_string()) {
    return j["error"]["message"].get<std::string>();
  }
  if (!body.empty()) return body;
  return StrCat("the holder answered ", status);
}

}  // namespace

std::string FormatUpgradeRequest(const UpgradeRequest& r) {
  return StrCat("GET ", kTunnelPath, " HTTP/1.1\r\nHost: ", r.host, "\r\nAuthorization: Bearer ",
                r.token, "\r\nConnection: Upgrade\r\nUpgrade: ", kUpgradeToken, "\r\n", kZoneHeader,
                ": ", r.zone, "\r\n", kInterceptHeader, ": ", r.intercept, "\r\n\r\n");
}

absl::StatusOr<UpgradeRequest> ParseUpgradeRequest(std::string_view head) {
  http1::RequestHead req;
  http1::ParseResult parsed = http1::ParseRequestHead(head, &req);
  if (parsed.status != http1::ParseStatus::kOk) {
    return absl::InvalidArgumentError(StrCat("malformed request: ", parsed.reason));
  }
  if (req.method != "GET" || req.target != kTunnelPath) {
    return absl::InvalidArgumentError(
        StrCat("expected GET ", kTunnelPath, ", not ", req.method, " ", req.target));
  }
  if (!req.upgrade || !http1::HasToken(FindHeader(req, "upgrade"), kUpgradeToken)) {
    return absl::InvalidArgumentError(
        StrCat("upgrade: expected Connection: Upgrade and Upgrade: ", kUpgradeToken));
  }
  UpgradeRequest r;
  r.host = std::string(req.host);
  std::string_view auth = FindHeader(req, "authorization");
  if (auth.size() <= 7 || !http1::EqualsIgnoreCase(auth.substr(0, 7), "bearer ")) {
    return absl::UnauthenticatedError("authorization: a bearer token is required");
  }
  r.token = std::string(FromAbsl(absl::StripAsciiWhitespace(ToAbsl(auth.substr(7)))));
  r.zone = std::string(FindHeader(req, kZoneHeader));
  r.intercept = std::string(FindHeader(req, kInterceptHeader));
  if (r.zone.empty()) return absl::InvalidArgumentError(StrCat(kZoneHeader, ": is required"));
  if (r.intercept.empty()) {
    return absl::InvalidArgumentError(StrCat(kInterceptHeader, ": is required"));
  }
  return r;
}

std::string FormatSwitchingProtocols() {
  return StrCat("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ",
                kUpgradeToken, "\r\n\r\n");
}

std::string FormatRefusal(int status, std::string_view code, std::string_view message) {
  std::string body =
      nlohmann::json{{"error", {{"code", std::string(code)}, {"message", std::string(message)}}}}
          .dump() +
      "\n";
  return StrCat("HTTP/1.1 ", status, " ", status == 401 ? "Unauthorized" : "Refused",
                "\r\nContent-Type: application/json\r\nContent-Length: ", body.size(),
                "\r\nConnection: close\r\n\r\n", body);
}

asio::awaitable<absl::Status> ReadHead(TlsStream& tls, std::string* head, std::string* rest) {
  std::string buf = std::move(*rest);
  rest->clear();
  while (true) {
    bool too_large = false;
    const size_t end = http1::FindHeadEnd(buf, &too_large);
    if (too_large) co_return absl::InvalidArgumentError("the head is too large");
    if (end > 0) {
      *head = buf.substr(0, end);
      *rest = buf.substr(end);
      co_return absl::OkStatus();
    }
    const size_t before = buf.size();
    co_await ReadAtLeast(tls, &buf, before + 1);
    if (buf.size() == before) co_return absl::UnavailableError("the peer closed before a head");
  }
}

asio::awaitable<absl::StatusOr<UpgradeAnswer>> ReadUpgradeAnswer(TlsStream& tls) {
  UpgradeAnswer answer;
  std::string head;
  absl::Status read = co_await ReadHead(tls, &head, &answer.rest);
  if (!read.ok()) co_return read;
  http1::ResponseHead resp;
  http1::ParseResult parsed = http1::ParseResponseHead(head, false, &resp);
  if (parsed.status != http1::ParseStatus::kOk) {
    co_return absl::UnavailableError(StrCat("malformed answer: ", parsed.reason));
  }
  answer.status = resp.status;
  if (resp.status == 101) {
    if (!http1::HasToken(FindHeader(resp, "upgrade"), kUpgradeToken)) {
      co_return absl::UnavailableError("the holder switched to another protocol");
    }
    co_return answer;
  }
  if (resp.body == http1::BodyKind::kContentLength && resp.content_length < (1 << 20)) {
    co_await ReadAtLeast(tls, &answer.rest, resp.content_length);
  }
  answer.message = RefusalMessage(answer.rest, resp.status);
  co_return answer;
}

}  // namespace causeway::proxy::tunnel
