// `causeway agent`: runs collectors where the services run and keeps the
// zone's clusters on the hub current (src/discovery/README.md, Collectors).
#pragma once

namespace CLI {
class App;
}

namespace causeway::discovery {

// Adds the `agent` subcommand to `app`.
void AddAgentCommand(CLI::App& app);

}  // namespace causeway::discovery
