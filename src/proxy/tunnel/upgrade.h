// The tunnel's opening exchange (docs/two-way-routing.md, "The tunnel"):
// the laptop's `GET /v1/tunnel` asking for the upgrade to causeway-tunnel,
// and the holder's answer, 101 or an error with a JSON body. Both ends read
// one HTTP/1.1 head over TLS with the proxy's HTTP/1.1 codec before the
// connection turns into HTTP/2.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "proxy/config/tls_stream.h"

namespace causeway::proxy::tunnel {

inline constexpr std::string_view kUpgradeToken = "causeway-tunnel";
inline constexpr std::string_view kTunnelPath = "/v1/tunnel";
inline constexpr std::string_view kZoneHeader = "x-causeway-zone";
inline constexpr std::string_view kInterceptHeader = "x-causeway-intercept";
inline constexpr std::string_view kFallbackHeader = "x-causeway-fallback";

struct UpgradeRequest {
  std::string host;  // Host header
  std::string token;
  std::string zone;
  std::string intercept;
};

std::string FormatUpgradeRequest(const UpgradeRequest& r);
// The request's fields, or an error naming what is missing or wrong
// (INVALID_ARGUMENT: 400; UNAUTHENTICATED: no bearer token, 401).
absl::StatusOr<UpgradeRequest> ParseUpgradeRequest(std::string_view head);

std::string FormatSwitchingProtocols();
// A refusal: `status` with {"error": {"code", "message"}}; the connection
// closes after it.
std::string FormatRefusal(int status, std::string_view code, std::string_view message);

struct UpgradeAnswer {
  int status = 0;
  std::string message;  // the error's message (refusals)
  std::string rest;     // bytes read past the head (after a 101: the peer's first frames)
};
// Reads the holder's answer (head and, for a refusal, its body).
boost::asio::awaitable<absl::StatusOr<UpgradeAnswer>> ReadUpgradeAnswer(TlsStream& tls);

// Reads one request or response head: the head in `head`, bytes after it
// in `rest`. An error when the peer closes first or the head is too large.
boost::asio::awaitable<absl::Status> ReadHead(TlsStream& tls, std::string* head, std::string* rest);

}  // namespace causeway::proxy::tunnel
