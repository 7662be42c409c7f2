#include "xds/stream_auth.h"

#include <arpa/inet.h>
#include <strings.h>

#include "common/strings.h"

namespace causeway::xds {

absl::StatusOr<std::string> BearerSecret(std::string_view authorization, bool present) {
  if (!present) {
    return absl::UnauthenticatedError(
        "xDS needs a token: send \"authorization: Bearer TOKEN\" in the stream's metadata");
  }
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size() ||
      ::strncasecmp(authorization.data(), kScheme.data(), kScheme.size()) != 0) {
    return absl::UnauthenticatedError("the authorization metadata must be \"Bearer TOKEN\"");
  }
  std::string_view rest = authorization.substr(kScheme.size());
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
  while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t')) rest.remove_suffix(1);
  std::string secret(rest);
  if (secret.empty()) {
    return absl::UnauthenticatedError("the authorization metadata must be \"Bearer TOKEN\"");
  }
  return secret;
}

absl::Status AuthorizeNode(const StreamIdentity& identity, std::string_view node_zone) {
  if (identity.role != "proxy" && identity.role != "agent" && identity.role != "admin") {
    return absl::PermissionDeniedError(StrCat("token \"", identity.token, "\" has role ",
                                              identity.role,
                                              "; xDS streams need a proxy, agent or admin token"));
  }
  if (!identity.zone.empty() && identity.zone != node_zone) {
    return absl::PermissionDeniedError(StrCat("token \"", identity.token,
                                              "\" is limited to zone \"", identity.zone,
                                              "\" but the node claims zone \"", node_zone, "\""));
  }
  return absl::OkStatus();
}

bool IsLoopbackListenAddress(std::string_view listen_address) {
  std::string_view host = listen_address;
  if (host.starts_with('[')) {
    size_t close = host.find(']');
    if (close == std::string_view::npos) return false;
    host = host.substr(1, close - 1);
  } else if (size_t colon = host.rfind(':');
             colon != std::string_view::npos && host.find(':') == colon) {
    host = host.substr(0, colon);  // "host:port" (one colon: not a bare IPv6 address)
  }
  const std::string text(host);
  if (::strcasecmp(text.c_str(), "localhost") == 0) return true;
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6);
  }
  return false;
}

absl::StatusOr<XdsAuth> ResolveXdsAuth(std::string_view value, std::string_view listen_address) {
  const bool loopback = IsLoopbackListenAddress(listen_address);
  if (value.empty()) return loopback ? XdsAuth::kNone : XdsAuth::kToken;
  if (value == "token") return XdsAuth::kToken;
  if (value == "none") {
    if (!loopback) {
      return absl::InvalidArgumentError(
          StrCat("--xds-auth none is refused on ", listen_address,
                 ": it is not a loopback address, and without tokens anyone who reaches it "
                 "reads every zone's configuration (use --xds-auth token, or listen on "
                 "127.0.0.1)"));
    }
    return XdsAuth::kNone;
  }
  return absl::InvalidArgumentError(
      StrCat("--xds-auth: \"", value, "\" is not one of token, none"));
}

}  // namespace causeway::xds
