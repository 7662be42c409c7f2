// The `causeway` command-line verbs over the hub's REST API (issue 3).
#pragma once

#include <optional>

#include "CLI/CLI.hpp"

namespace causeway::cli {

// Adds login, context, init-zone, get, describe, apply, create, edit, delete,
// export-zone, history, token, status and completion to `app`. Each verb
// runs from its CLI11 callback; a failure prints one line on stderr and
// throws CLI::RuntimeError with the exit code (see output.h), which
// CLI11_PARSE / App::exit turn into the process's exit status.
void AddCliCommands(CLI::App& app);

// The first word that is not an option must name a verb of `app`: otherwise
// prints an error and returns the usage exit status (2), even when --help
// follows (CLI11 would print the main help and exit 0). nullopt: go on.
std::optional<int> RejectUnknownVerb(const CLI::App& app, int argc, const char* const* argv);

}  // namespace causeway::cli
