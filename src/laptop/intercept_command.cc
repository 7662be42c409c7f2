#include "laptop/intercept_command.h"

#include <iostream>
#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "cli/commands.h"
#include "cli/output.h"
#include "common/status.h"
#include "laptop/intercept_options.h"
#include "laptop/intercept_runner.h"

namespace causeway::laptop {
namespace {

constexpr char kInterceptExamples[] =
    "  causeway intercept color --zone staging --key ana --to 127.0.0.1:8080 \\\n"
    "      --tunnel staging-edge.example:9443 --tunnel-ca ca.crt\n"
    "  CAUSEWAY_TUNNEL=staging-edge.example:9443 causeway intercept api -z staging \\\n"
    "      --key ana --to 127.0.0.1:9090 --to-protocol http2\n"
    "Staging requests to CLUSTER that carry the routing key (header x-causeway-key: KEY,\n"
    "baggage causeway-key=KEY or cookie causeway-key=KEY) are sent over the tunnel to\n"
    "--to; everyone else's stay in staging, and so do yours whenever the tunnel is down.\n"
    "The intercept is renewed every third of --lease-ms while the command runs; Ctrl-C\n"
    "or SIGTERM closes the tunnel, deletes the intercept and exits 0. Another token's\n"
    "live intercept on the same key stops the command with exit 6, naming its owner.";

// `causeway --hub URL intercept ...`: the CLI's top-level connection flags
// are bound to the CLI's own storage; take them when the verb's are unset.
void InheritTopLevelConnection(const CLI::App& root, cli::ConnectionFlags* flags) {
  auto take = [&](const char* name, std::string* value) {
    const CLI::Option* option = root.get_option_no_throw(name);
    if (value->empty() && option != nullptr && option->count() > 0) {
      *value = option->as<std::string>();
    }
  };
  take("--hub", &flags->hub);
  take("--token", &flags->token);
  take("--context", &flags->context);
  take("--ca", &flags->ca);
}

absl::Status RunInterceptVerb(const cli::Globals& globals, const InterceptFlags& flags) {
  if (flags.key.empty()) return cli::UsageError("--key KEY (the routing key) is required");
  CW_ASSIGN_OR_RETURN(std::unique_ptr<cli::HubClient> hub, cli::ConnectHub(globals));
  CW_ASSIGN_OR_RETURN(InterceptPlan plan, PlanIntercept(flags, cli::ZoneOr(flags.zone, *hub)));
  return RunIntercept(plan, *hub, std::cerr);
}

void AddInterceptFlags(CLI::App* cmd, InterceptFlags* flags) {
  cmd->add_option("cluster", flags->cluster, "The staging cluster whose requests to intercept")
      ->required();
  cmd->add_option("-z,--zone", flags->zone, "Zone (default: the context's)");
  cmd->add_option("--key", flags->key,
                  "Routing key: requests that carry it come to this laptop (1 to 32 of "
                  "A-Z a-z 0-9 . _ -)");
  cmd->add_option("--to", flags->to, "HOST:PORT of the local service, e.g. 127.0.0.1:8080");
  cmd->add_option("--name", flags->name,
                  "Name of the intercept (default: KEY-CLUSTER in lower case)");
  cmd->add_option("--tunnel", flags->tunnel,
                  "HOST:PORT of a staging proxy's tunnel listener (TLS); without it the key "
                  "is held but nothing reaches this laptop")
      ->envname("CAUSEWAY_TUNNEL");
  cmd->add_option("--tunnel-ca", flags->tunnel_ca,
                  "PEM file of the CA that signed the tunnel listener's certificate "
                  "(default: the system's trusted CAs)")
      ->envname("CAUSEWAY_TUNNEL_CA");
  cmd->add_option("--lease-ms", flags->lease_ms,
                  "How long the intercept outlives this command if it is killed; renewed "
                  "every third of it (1000 to 600000)")
      ->default_val(30000);
  cmd->add_option("--to-protocol", flags->to_protocol,
                  "http1 (default; gRPC requests still go as HTTP/2) or http2 (HTTP/2 without "
                  "TLS for every request)")
      ->default_val("http1");
}

}  // namespace

void AddInterceptCommand(CLI::App& app) {
  static cli::Globals globals;
  static InterceptFlags flags;
  CLI::App* cmd = cli::AddVerb(
      app, "intercept",
      "Route your requests to a staging service to a service on this laptop, until Ctrl-C",
      kInterceptExamples);
  AddInterceptFlags(cmd, &flags);
  cli::AddConnectionFlags(cmd, &globals);
  cmd->callback([&app] {
    InheritTopLevelConnection(app, &globals.connection);
    cli::RunVerb([] { return RunInterceptVerb(globals, flags); });
  });
}

}  // namespace causeway::laptop
