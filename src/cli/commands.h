// What the verb files share: internal to src/cli and to the verbs built on it
// in higher modules (src/laptop).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cli/config.h"
#include "cli/hub_client.h"
#include "model/objects.h"

namespace causeway::cli {

// Flags every hub-facing verb accepts.
struct Globals {
  ConnectionFlags connection;
};

// Adds --hub, --token and --context to `cmd`.
void AddConnectionFlags(CLI::App* cmd, Globals* globals);

// A verb with help text and examples; the footer lists exit codes.
CLI::App* AddVerb(CLI::App& parent, const std::string& name, const std::string& description,
                  const std::string& examples);

// Runs `fn` as the verb's body: an error prints "error: MESSAGE" on stderr
// and throws CLI::RuntimeError carrying the exit code.
void RunVerb(const std::function<absl::Status()>& fn);

// Resolves the connection (flags, env, contexts) and opens a hub client.
absl::StatusOr<std::unique_ptr<HubClient>> ConnectHub(const Globals& globals);

// The kind named on the command line, or a usage error listing the kinds.
absl::StatusOr<model::Kind> KindArg(const std::string& text);

// The zone for a verb: -z, else the context's default zone (may be "").
std::string ZoneOr(const std::string& flag, const HubClient& hub);

// Finds the one object `name` of `kind` when no zone was given, by looking
// in every zone; an error asks for -z when several zones have it.
absl::StatusOr<model::ObjectKey> ResolveKey(HubClient& hub, model::Kind kind,
                                            const std::string& zone, const std::string& name);

// Verb groups, one file each.
void AddConnectionCommands(CLI::App& app, Globals* globals);  // login, context
void AddInitZoneCommand(CLI::App& app, Globals* globals);     // init-zone
void AddReadCommands(CLI::App& app, Globals* globals);        // get, describe
void AddWriteCommands(CLI::App& app, Globals* globals);       // apply, create, delete
void AddEditCommand(CLI::App& app, Globals* globals);         // edit
void AddZoneCommands(CLI::App& app, Globals* globals);        // export-zone, status
void AddAdminCommands(CLI::App& app, Globals* globals);       // history, token
void AddCompletionCommand(CLI::App& app);                     // completion
void AddTlsCommands(CLI::App& app);                           // tls init
void AddExplainCommand(CLI::App& app, Globals* globals);      // explain
void AddInterceptCommands(CLI::App& app, Globals* globals);   // intercepts

}  // namespace causeway::cli
