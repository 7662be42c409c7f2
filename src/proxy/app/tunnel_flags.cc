#include "proxy/app/tunnel_flags.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "common/strings.h"

namespace causeway::proxy {

void AddTunnelFlags(CLI::App& app, TunnelFlags* f) {
  app.add_option("--tunnel-listen", f->listen,
                 "Hold laptops' tunnels: the TLS listener ADDR:PORT they dial "
                 "(needs --tunnel-cert, --tunnel-key, --tunnel-forward-listen and --hub)")
      ->envname("CAUSEWAY_TUNNEL_LISTEN");
  app.add_option("--tunnel-cert", f->cert, "PEM certificate of the tunnel listener");
  app.add_option("--tunnel-key", f->key, "PEM key of the tunnel listener");
  app.add_option("--tunnel-forward-listen", f->forward_listen,
                 "ADDR:PORT where the zone's proxies send requests for the tunnels "
                 "(HTTP/1.1 and h2c; header x-causeway-intercept names the tunnel). It trusts "
                 "that header: bind it where only staging's proxies reach it");
  app.add_option("--tunnel-advertise", f->advertise,
                 "HOST:PORT the zone's proxies reach the forward listener at "
                 "(default: its own address)");
  app.add_option("--hub", f->hub, "The hub's URL, which checks laptops' tokens and records tunnels")
      ->envname("CAUSEWAY_HUB");
  app.add_option("--hub-ca", f->hub_ca, "PEM CA file for an https:// hub");
  app.add_option("--tunnel-ping-ms", f->ping_ms,
                 "PING interval of a tunnel; 3 without an answer close it")
      ->capture_default_str()
      ->check(CLI::Range(10, 600000));
  app.add_option("--tunnel-response-timeout-ms", f->response_timeout_ms,
                 "How long a tunneled request waits for the laptop's response head")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600000));
}

namespace {

absl::StatusOr<std::string> HolderToken(const std::string& token, const std::string& file) {
  if (!token.empty() || file.empty()) return token;
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return absl::InvalidArgumentError(StrCat("--xds-token-file: cannot read ", file));
  return std::string(absl::StripAsciiWhitespace(text.str()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<tunnel::TunnelHolder>> StartTunnelHolder(
    const TunnelFlags& f, const std::string& proxy, const std::string& xds_token,
    const std::string& token_file, AccessLog* access_log) {
  if (f.listen.empty()) return nullptr;
  absl::StatusOr<std::string> token = HolderToken(xds_token, token_file);
  if (!token.ok()) return token.status();
  const std::pair<const char*, const std::string*> required[] = {
      {"--tunnel-cert", &f.cert},
      {"--tunnel-key", &f.key},
      {"--tunnel-forward-listen", &f.forward_listen},
      {"--hub", &f.hub}};
  for (const auto& [flag, value] : required) {
    if (value->empty()) {
      return absl::InvalidArgumentError(StrCat(flag, " is required with --tunnel-listen"));
    }
  }
  if (token->empty()) {
    return absl::InvalidArgumentError(
        "--tunnel-listen needs this proxy's token (--xds-token or --xds-token-file): the hub "
        "takes tunnel reports from the zone's proxies only");
  }
  tunnel::TunnelHolderOptions o;
  o.listen = f.listen;
  o.cert = f.cert;
  o.key = f.key;
  o.forward_listen = f.forward_listen;
  o.advertise = f.advertise;
  o.ping_interval = std::chrono::milliseconds(f.ping_ms);
  o.response_timeout = std::chrono::milliseconds(f.response_timeout_ms);
  o.hub = {.hub = f.hub, .hub_ca = f.hub_ca, .token = *token, .proxy = proxy, .advertise = ""};
  o.access_log = access_log;
  return tunnel::TunnelHolder::Start(std::move(o));
}

}  // namespace causeway::proxy
