// `causeway serve`: the hub's command line.
#pragma once

#include "CLI/CLI.hpp"

namespace causeway::serve {

// Adds the `serve` subcommand to `app`.
void AddServeCommand(CLI::App& app);

}  // namespace causeway::serve
