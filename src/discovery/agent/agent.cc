#include "discovery/agent/agent.h"

#include <unistd.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "common/strings.h"
#include "common/time_source.h"
#include "discovery/agent/failover_hub_api.h"
#include "discovery/agent/relay_authenticator.h"
#include "model/objects.h"
#include "spdlog/spdlog.h"
#include "xds/relay_report.h"
#include "xds/server.h"

namespace causeway::discovery {
namespace {

// The host name as an agent name: lowercased, other characters than letters,
// digits, '-' and '.' turned into '-', and trimmed to start and end with a
// letter or digit ("" when nothing is left).
std::string HostAgentName() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) return "";
  std::string name = absl::AsciiStrToLower(host);
  for (char& c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.') c = '-';
  }
  auto alnum = [](char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)); };
  while (!name.empty() && !alnum(name.back())) name.pop_back();
  size_t start = 0;
  while (start < name.size() && !alnum(name[start])) ++start;
  return name.substr(start, 253);
}

// "the local catalog", "hub URL", or "hub URL (first of URL1, URL2)".
std::string HubsForLog(const HubList* hubs) {
  if (hubs == nullptr) return "the local catalog";
  std::string text = StrCat("hub ", hubs->Current());
  if (hubs->urls().size() > 1) {
    text += StrCat(" (first of ", absl::StrJoin(hubs->urls(), ", "), ")");
  }
  return text;
}

// The --xds relay's flags; fills in the agent's name and the resolved
// authentication mode.
absl::Status CheckRelayOptions(AgentOptions& options) {
  if (options.name.empty()) options.name = HostAgentName();
  if (!model::IsValidName(options.name)) {
    return absl::InvalidArgumentError(
        ToAbsl(StrCat("--name: \"", options.name,
                      "\" is not a valid agent name (lowercase letters, digits, '-' and '.')")));
  }
  auto auth = xds::ResolveXdsAuth(options.xds_auth, options.xds_address);
  if (!auth.ok()) return auth.status();
  options.xds_token_auth = *auth == xds::XdsAuth::kToken;
  if (options.xds_token_auth && options.token.empty()) {
    return absl::InvalidArgumentError(
        "--xds-auth token needs --token: the relay asks the hub about its proxies' tokens with "
        "the agent's own");
  }
  const auto cache = options.xds_auth_cache;
  if (cache < std::chrono::seconds(1) || cache > RelayAuthenticator::kMaxPositiveTtl) {
    return absl::InvalidArgumentError(
        ToAbsl(StrCat("--xds-auth-cache-ms: ", cache.count(), " is not between 1000 and ",
                      RelayAuthenticator::kMaxPositiveTtl.count(),
                      " (how long the relay trusts the hub's answer about a token)")));
  }
  const int64_t interval = options.status_interval.count();
  if (interval < xds::kMinReportIntervalMs || interval > xds::kMaxReportIntervalMs) {
    return absl::InvalidArgumentError(
        ToAbsl(StrCat("--status-interval-ms: ", interval, " is not between ",
                      xds::kMinReportIntervalMs, " and ", xds::kMaxReportIntervalMs)));
  }
  return absl::OkStatus();
}

}  // namespace

Agent::Agent(AgentOptions options) : options_(std::move(options)) {}

Agent::~Agent() {
  Stop();
  // Also after a failed Start: its thread reads the xDS server.
  if (reporter_) reporter_->Stop();
}

absl::StatusOr<std::unique_ptr<Agent>> Agent::Create(AgentOptions options,
                                                     std::unique_ptr<HubApi> api) {
  std::shared_ptr<HubList> hubs;
  if (api == nullptr) {
    auto listed = HubList::Create(options.hubs);
    if (!listed.ok()) return listed.status();
    hubs = *std::move(listed);
  }
  if (!model::IsValidName(options.sync.zone)) {
    return absl::InvalidArgumentError(
        ToAbsl(StrCat("--zone: \"", options.sync.zone, "\" is not a valid zone name")));
  }
  if (options.collectors.empty()) {
    return absl::InvalidArgumentError("at least one --collector is required");
  }
  if (!options.xds_address.empty() && api != nullptr) {
    return absl::InvalidArgumentError("--xds needs the hub's REST API (--hub)");
  }
  if (!options.xds_address.empty()) CW_RETURN_IF_ERROR(CheckRelayOptions(options));
  std::unique_ptr<Agent> agent(new Agent(std::move(options)));
  agent->hubs_ = std::move(hubs);
  for (const std::string& spec : agent->options_.collectors) {
    auto collector = MakeCollector(spec, agent->options_.environment);
    if (!collector.ok()) return collector.status();
    agent->collectors_.Add(*std::move(collector));
  }
  agent->api_ = api != nullptr ? std::move(api)
                               : std::make_unique<FailoverHubApi>(
                                     agent->hubs_, agent->options_.token, agent->options_.sync.zone,
                                     agent->options_.ca_file);
  agent->syncer_ = std::make_unique<Syncer>(agent->api_.get(), agent->options_.sync);
  return agent;
}

int Agent::metrics_port() const { return metrics_server_ ? metrics_server_->port() : 0; }

int Agent::xds_port() const { return xds_ ? xds_->port() : 0; }

absl::Status Agent::StartRelay() {
  replica_ = std::make_unique<ZoneReplica>(options_.sync.zone);
  ProxyReporter::Options report;
  report.zone = options_.sync.zone;
  report.agent = options_.name;
  report.interval = options_.status_interval;
  reporter_ = std::make_unique<ProxyReporter>(
      report, [this] { return xds_->ZoneStatus(options_.sync.zone); },
      ProxyReporter::HttpSender(hubs_, options_.token, options_.ca_file));
  xds::XdsServer::Options xds_options;
  if (options_.xds_token_auth) {
    // The hub holds the tokens: ask it, over the connection the reports use.
    auto sender = ProxyReporter::HttpSender(hubs_, options_.token, options_.ca_file);
    RelayAuthenticator::Options auth;
    auth.positive_ttl = options_.xds_auth_cache;
    relay_auth_ = std::make_unique<RelayAuthenticator>(
        [sender](const std::string& secret) { return IntrospectOnHub(sender, secret); },
        &RealTime::Instance(), auth);
    xds_options.authenticator = relay_auth_.get();
  }
  xds_options.on_stream_change = [this] { reporter_->Changed(); };
  xds_options.tls = options_.xds_tls;
  xds_ = std::make_unique<xds::XdsServer>(replica_.get(), &RealTime::Instance(), xds_options);
  CW_RETURN_IF_ERROR(xds_->Start(options_.xds_address));
  spdlog::info("discovery: serving xDS for zone {} on {} (port {}, {})", options_.sync.zone,
               options_.xds_address, xds_->port(),
               options_.xds_token_auth ? "tokens checked on the hub" : "no authentication");
  // The watch follows the agent's current hub: a new connection asks which
  // one, and a failed or closed watch moves the agent to the next.
  ZoneWatcher::Options watch;
  watch.ca_file = options_.ca_file;
  watch.hub_url = [hubs = hubs_] { return hubs->Current(); };
  watch.hub_failed = [hubs = hubs_](const std::string& url, const absl::Status& why) {
    hubs->Failed(url, why);
  };
  watcher_ = std::make_unique<ZoneWatcher>(hubs_->Current(), options_.token, replica_.get(), watch);
  watcher_->Start();
  reporter_->Start();
  return absl::OkStatus();
}

std::string Agent::MetricsText() const {
  std::string text = syncer_->metrics().RenderPrometheus();
  if (hubs_) {
    text +=
        "# HELP causeway_agent_hub_moves_total Times the agent moved to the next of its --hub "
        "URLs because the one in use failed.\n";
    text += "# TYPE causeway_agent_hub_moves_total counter\n";
    text += StrCat("causeway_agent_hub_moves_total ", hubs_->moves(), "\n");
    text += "# HELP causeway_agent_hub_in_use 1 for the --hub URL the agent uses now.\n";
    text += "# TYPE causeway_agent_hub_in_use gauge\n";
    const std::string current = hubs_->Current();
    for (const std::string& url : hubs_->urls()) {
      text += StrCat("causeway_agent_hub_in_use{url=\"", url, "\"} ", url == current ? 1 : 0, "\n");
    }
  }
  if (xds_) {
    text +=
        "# HELP causeway_agent_hub_watch_connected 1 while the zone copy follows the hub's "
        "watch stream.\n";
    text += "# TYPE causeway_agent_hub_watch_connected gauge\n";
    text += StrCat("causeway_agent_hub_watch_connected ", watcher_->connected() ? 1 : 0, "\n");
    text += xds_->PrometheusMetrics();
    text +=
        "# HELP causeway_agent_proxy_reports_total Reports of the xDS server's proxies sent to "
        "the hub, by result.\n";
    text += "# TYPE causeway_agent_proxy_reports_total counter\n";
    text +=
        StrCat("causeway_agent_proxy_reports_total{result=\"ok\"} ", reporter_->reports_ok(), "\n");
    text += StrCat("causeway_agent_proxy_reports_total{result=\"error\"} ",
                   reporter_->reports_failed(), "\n");
  }
  return text;
}

absl::Status Agent::StartMetrics() {
  http::Router router;
  router.Add({"GET", "/metrics", [this](http::Request&) {
                return http::Response::Text(200, MetricsText(), "text/plain; version=0.0.4");
              }});
  router.Add({"GET", "/healthz", [](http::Request&) { return http::Response::Text(200, "ok\n"); }});
  // Ready once the hub holds what the collectors report.
  router.Add({"GET", "/readyz", [this](http::Request&) {
                return syncer_->InSync() ? http::Response::Text(200, "ok\n")
                                         : http::Response::Text(503, "syncing\n");
              }});
  http::HttpServer::Options http_options;
  http_options.address = options_.metrics_address;
  http_options.io_threads = 1;
  http_options.worker_threads = 1;
  metrics_server_ = std::make_unique<http::HttpServer>(
      http_options, std::move(router),
      [](int status, std::string_view, std::string_view message) {
        return http::Response::Text(status, std::string(message) + "\n");
      },
      [](const http::Request&, int, std::string_view, std::chrono::steady_clock::duration) {});
  return metrics_server_->Start();
}

absl::Status Agent::Start() {
  if (!options_.xds_address.empty()) CW_RETURN_IF_ERROR(StartRelay());
  if (!options_.metrics_address.empty()) CW_RETURN_IF_ERROR(StartMetrics());
  spdlog::info("discovery: agent for zone {} syncing to {} from {} collector(s){}",
               options_.sync.zone, HubsForLog(hubs_.get()), collectors_.size(),
               options_.sync.delete_missing ? ", deleting missing clusters" : "");
  syncer_->Start();
  started_ = true;
  absl::Status status =
      collectors_.Start([this](const ClusterSet& clusters, const std::set<std::string>& changed,
                               std::chrono::steady_clock::time_point observed_at, bool complete) {
        // The local copy first: the zone's proxies follow at once, hub or not.
        if (replica_) replica_->UpdateLocal(clusters, changed);
        syncer_->UpdateDesired(clusters, changed, observed_at, complete);
      });
  if (!status.ok()) Stop();
  return status;
}

void Agent::Stop() {
  if (!started_) return;
  started_ = false;
  collectors_.Stop();  // no more callbacks into the syncer after this
  syncer_->Stop();
  if (metrics_server_) metrics_server_->Shutdown();
  if (watcher_) watcher_->Stop();
  // Withdraws the report while the hub can still be told.
  if (reporter_) reporter_->Stop();
  if (xds_) xds_->Stop();
}

}  // namespace causeway::discovery
