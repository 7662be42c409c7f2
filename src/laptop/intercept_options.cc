#include "laptop/intercept_options.h"

#include <cctype>
#include <fstream>

#include "absl/strings/numbers.h"
#include "cli/output.h"
#include "common/strings.h"
#include "model/intercept.h"
#include "model/objects.h"

namespace causeway::laptop {
namespace {

constexpr size_t kMaxNameLength = 253;

bool NameChar(char c) {
  return std::islower(static_cast<unsigned char>(c)) ||
         std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-';
}

bool EdgeChar(char c) { return c == '-' || c == '.'; }

}  // namespace

std::string DefaultInterceptName(std::string_view key, std::string_view cluster) {
  std::string name;
  for (char c : StrCat(key, "-", cluster)) {
    char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    name.push_back(NameChar(lower) ? lower : '-');
  }
  // A key of only '_' or '.' leaves separators at the front; the cluster,
  // a valid name, keeps at least one letter or digit.
  size_t start = 0;
  while (start < name.size() && EdgeChar(name[start])) ++start;
  name = name.substr(start, kMaxNameLength);
  while (!name.empty() && EdgeChar(name.back())) name.pop_back();
  return name;
}

absl::Status CheckHostPort(std::string_view flag, std::string_view value) {
  auto bad = [&](std::string_view why) {
    return cli::UsageError(StrCat(flag, " \"", value, "\": ", why, " (want HOST:PORT)"));
  };
  size_t colon = value.rfind(':');
  if (colon == std::string_view::npos) return bad("no port");
  std::string_view host = value.substr(0, colon);
  std::string_view port_text = value.substr(colon + 1);
  if (host.starts_with('[')) {
    if (host.size() < 3 || !host.ends_with(']')) return bad("an IPv6 address needs [ and ]");
  } else if (host.empty() || host.find(':') != std::string_view::npos) {
    return bad(host.empty() ? "no host" : "an IPv6 address needs [ and ]");
  }
  for (char c : host) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '/' || c == '@') {
      return bad("the host has a character a host name cannot hold");
    }
  }
  int port = 0;
  if (!absl::SimpleAtoi(ToAbsl(port_text), &port) || port < 1 || port > 65535) {
    return bad("the port must be a number from 1 to 65535");
  }
  return absl::OkStatus();
}

absl::StatusOr<InterceptPlan> PlanIntercept(const InterceptFlags& flags, std::string_view zone) {
  if (!model::IsValidName(flags.cluster)) {
    return cli::UsageError(StrCat("CLUSTER \"", flags.cluster,
                                  "\" is not a cluster name (lower case letters, digits, '.' "
                                  "and '-')"));
  }
  if (zone.empty()) {
    return cli::UsageError("--zone is required (or a context with a default zone)");
  }
  if (!model::IsValidName(zone))
    return cli::UsageError(StrCat("--zone \"", zone, "\" is not a zone name"));
  if (!model::IsValidRoutingKey(flags.key)) {
    return cli::UsageError(StrCat("--key \"", flags.key, "\" is not a routing key (1 to ",
                                  model::kMaxRoutingKeyLength, " of A-Z a-z 0-9 . _ -)"));
  }
  if (flags.to.empty()) return cli::UsageError("--to HOST:PORT (the local service) is required");
  if (absl::Status s = CheckHostPort("--to", flags.to); !s.ok()) return s;
  if (flags.lease_ms < model::kMinLeaseMs || flags.lease_ms > model::kMaxLeaseMs) {
    return cli::UsageError(StrCat("--lease-ms ", flags.lease_ms, ": must be between ",
                                  model::kMinLeaseMs, " and ", model::kMaxLeaseMs));
  }
  if (!flags.tunnel.empty()) {
    if (absl::Status s = CheckHostPort("--tunnel", flags.tunnel); !s.ok()) return s;
    if (!flags.tunnel_ca.empty() && !std::ifstream(flags.tunnel_ca)) {
      return cli::UsageError(StrCat("--tunnel-ca \"", flags.tunnel_ca, "\": cannot read the file"));
    }
  }
  if (flags.to_protocol != "http1" && flags.to_protocol != "http2") {
    return cli::UsageError(
        StrCat("--to-protocol \"", flags.to_protocol, "\": must be http1 or http2"));
  }
  InterceptPlan plan;
  plan.zone = std::string(zone);
  plan.cluster = flags.cluster;
  plan.key = flags.key;
  plan.name = flags.name.empty() ? DefaultInterceptName(flags.key, flags.cluster) : flags.name;
  if (!model::IsValidName(plan.name)) {
    return cli::UsageError(StrCat("--name \"", flags.name,
                                  "\" is not an object name (lower case letters, digits, '.' "
                                  "and '-', at most 253)"));
  }
  plan.lease_ms = static_cast<uint32_t>(flags.lease_ms);
  plan.to = flags.to;
  plan.tunnel = flags.tunnel;
  plan.tunnel_ca = flags.tunnel_ca;
  plan.to_http2 = flags.to_protocol == "http2";
  return plan;
}

}  // namespace causeway::laptop
