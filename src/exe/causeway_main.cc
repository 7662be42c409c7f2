// The `causeway` binary: the hub (`serve`) and, later, the agent and the CLI
// verbs.
#include "CLI/CLI.hpp"
#include "hub/serve_command.h"

int main(int argc, char** argv) {
  CLI::App app{"causeway: route a laptop's service calls into a shared staging environment"};
  app.require_subcommand(1);
  causeway::hub::AddServeCommand(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
