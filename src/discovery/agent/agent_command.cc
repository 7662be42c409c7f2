#include "discovery/agent_command.h"

#include <signal.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "common/strings.h"
#include "discovery/agent/agent.h"
#include "spdlog/spdlog.h"

namespace causeway::discovery {
namespace {

// Blocks until SIGINT or SIGTERM. The signals are blocked in this thread
// before any collector thread starts, so every thread inherits the mask and
// only sigwait sees them.
void WaitForTermination(const sigset_t& signals) {
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("discovery: agent stopping on signal {}", sig);
}

// The flags of the --xds relay. `status_interval` and `auth_cache` are in
// milliseconds.
void AddRelayFlags(CLI::App& cmd, AgentOptions& options, int64_t& status_interval,
                   int64_t& auth_cache) {
  cmd.add_option("--xds", options.xds_address,
                 "host:port of an xDS (ADS) server for the zone's proxies, fed from a copy of "
                 "the zone that follows the hub's watch stream and the collectors; it keeps "
                 "serving (and following the collectors) while the hub is unreachable "
                 "(default: none)");
  cmd.add_option("--tls-cert", options.xds_tls.cert,
                 "With --xds: PEM certificate chain; the relay serves xDS over TLS (read again "
                 "when the file changes; open streams keep theirs)");
  cmd.add_option("--tls-key", options.xds_tls.key, "With --xds: PEM private key of --tls-cert");
  cmd.add_option("--client-ca", options.xds_tls.client_ca,
                 "With --xds: PEM CA bundle; clients must present a certificate it signed (mTLS)");
  cmd.add_option("--xds-auth", options.xds_auth,
                 "With --xds: token (the default unless --xds is a loopback address): each "
                 "stream's bearer token is checked on the hub (POST /v1/tokens/introspect with "
                 "this agent's --token), which vouches only for proxy and agent tokens of this "
                 "zone; none: no check, allowed on loopback only")
      ->check(CLI::IsMember({"token", "none"}));
  cmd.add_option("--xds-auth-cache-ms", auth_cache,
                 "With --xds-auth token: how long the hub's answer that a token is valid is "
                 "trusted (1000 to 30000); a token revoked on the hub ends the relayed streams "
                 "within this, and while the hub is unreachable tokens whose answer is younger "
                 "are still honoured")
      ->capture_default_str();
  cmd.add_option("--name", options.name,
                 "This agent's name on the hub, under which `causeway status` lists the proxies "
                 "connected to its --xds server (default: the host name)")
      ->envname("CAUSEWAY_AGENT_NAME");
  cmd.add_option("--status-interval-ms", status_interval,
                 "With --xds: report the sync state of the proxies connected to this agent to "
                 "the hub this often, and within about a second of a change; the hub forgets "
                 "them after three intervals without a report")
      ->capture_default_str();
}

}  // namespace

void AddAgentCommand(CLI::App& app) {
  auto options = std::make_shared<AgentOptions>();
  auto* cmd = app.add_subcommand(
      "agent",
      "Run collectors where the services run and sync their clusters into one zone of the hub");
  cmd->add_option("--hub", options->hubs,
                  "Hub REST API base URL; several hubs of one store as URL1,URL2 or a repeated "
                  "--hub (CAUSEWAY_HUB takes the same comma list): the agent uses one at a time, "
                  "in this order, and moves to the next when the one in use cannot be reached, "
                  "answers 5xx or closes its watch, retrying with backoff; it logs each move, "
                  "and its --xds relay keeps serving its copy of the zone meanwhile")
      ->envname("CAUSEWAY_HUB")
      ->delimiter(',')
      ->required();
  cmd->add_option("--token", options->token, "Agent token limited to the zone")
      ->envname("CAUSEWAY_TOKEN");
  cmd->add_option("--ca", options->ca_file,
                  "PEM file of the CA that signed an https:// hub's certificate (default: the "
                  "system's roots)")
      ->envname("CAUSEWAY_CA");
  cmd->add_option("--zone", options->sync.zone, "Zone whose clusters this agent writes")
      ->envname("CAUSEWAY_ZONE")
      ->required();
  cmd->add_option("--collector", options->collectors, StrCat(kCollectorSyntax, " (repeatable)"))
      ->required();
  cmd->add_flag("--delete-missing", options->sync.delete_missing,
                "Delete the zone's clusters that no collector reports (once all have reported)");
  AddCollectorEnvironmentFlags(*cmd, options->environment);
  cmd->add_option("--metrics", options->metrics_address,
                  "host:port serving /metrics, /healthz and /readyz (default: none)");
  auto status_interval = std::make_shared<int64_t>(options->status_interval.count());
  auto auth_cache = std::make_shared<int64_t>(options->xds_auth_cache.count());
  AddRelayFlags(*cmd, *options, *status_interval, *auth_cache);
  auto debounce = std::make_shared<int64_t>(options->sync.debounce.count());
  auto max_delay = std::make_shared<int64_t>(options->sync.max_delay.count());
  cmd->add_option("--batch-quiet-ms", *debounce,
                  "Write after this much quiet in the sources (coalesces bursts)")
      ->capture_default_str();
  cmd->add_option("--batch-max-delay-ms", *max_delay,
                  "Write at most this long after the first change of a burst")
      ->capture_default_str();
  cmd->callback([options, debounce, max_delay, status_interval, auth_cache] {
    options->status_interval = std::chrono::milliseconds(*status_interval);
    options->xds_auth_cache = std::chrono::milliseconds(*auth_cache);
    options->sync.debounce = std::chrono::milliseconds(*debounce);
    options->sync.max_delay = std::chrono::milliseconds(*max_delay);
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    auto agent = Agent::Create(*options);
    if (!agent.ok()) {
      std::cerr << "causeway agent: " << FromAbsl(agent.status().message()) << "\n";
      throw CLI::RuntimeError(2);
    }
    absl::Status started = (*agent)->Start();
    if (!started.ok()) {
      std::cerr << "causeway agent: " << FromAbsl(started.message()) << "\n";
      throw CLI::RuntimeError(1);
    }
    WaitForTermination(signals);
    (*agent)->Stop();
  });
}

}  // namespace causeway::discovery
