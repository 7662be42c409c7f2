// The `causeway` binary: the hub (`serve`), the zone agent (`agent`) and the
// command-line verbs over the hub's REST API.
#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "cli/cli.h"
#include "discovery/agent_command.h"
#include "laptop/intercept_command.h"
#include "serve/serve_command.h"

int main(int argc, char** argv) {
  // Debian builds Abseil without NDEBUG, which leaves absl::Mutex deadlock
  // detection on: every lock of gRPC's mutexes updated a process-wide graph
  // that grows with each connection (a quarter of the CPU with thousands of
  // xDS streams, see bench/xds).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  CLI::App app{"causeway: route a laptop's service calls into a shared staging environment"};
  app.require_subcommand(1);
  causeway::serve::AddServeCommand(app);
  causeway::discovery::AddAgentCommand(app);
  causeway::cli::AddCliCommands(app);
  causeway::laptop::AddInterceptCommand(app);
  if (auto exit_code = causeway::cli::RejectUnknownVerb(app, argc, argv)) return *exit_code;
  CLI11_PARSE(app, argc, argv);
  return 0;
}
