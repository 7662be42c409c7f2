// Where the CLI connects: flags, environment, saved contexts, and the local
// default hub. Kept free of I/O besides reading/writing the files named here,
// so the precedence rules are unit-tested.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace causeway::cli {

inline constexpr std::string_view kDefaultHub = "http://127.0.0.1:8380";

// A named hub + credentials saved by `causeway login`.
struct Context {
  std::string name;
  std::string hub;
  std::string token;
  std::string zone;  // default for -z; may be empty
  std::string ca;    // PEM CA file for an https:// hub with a private CA; may be empty
};

// ~/.config/causeway/config.yaml.
struct ConfigFile {
  std::string current;  // name of the current context, may be empty
  std::vector<Context> contexts;

  const Context* Find(std::string_view name) const;
  // Adds or replaces the context of the same name.
  void Put(Context context);
};

// Reads the environment; tests pass a fake.
using Getenv = std::function<std::optional<std::string>(std::string_view)>;
Getenv ProcessEnv();

// $CAUSEWAY_CONFIG, else $XDG_CONFIG_HOME/causeway/config.yaml, else
// $HOME/.config/causeway/config.yaml.
std::string ConfigPath(const Getenv& env);
// The token file a hub started with default flags writes:
// $XDG_DATA_HOME/causeway/admin.token, else $HOME/.local/share/causeway/admin.token.
std::string DefaultAdminTokenPath(const Getenv& env);

// A missing file is an empty config; a malformed one is an error naming it.
absl::StatusOr<ConfigFile> LoadConfig(const std::string& path);
// Writes atomically (temp file + rename) with mode 0600, creating the
// directory (0700) if needed: the file holds bearer tokens.
absl::Status SaveConfig(const std::string& path, const ConfigFile& config);

// What the user asked for on the command line.
struct ConnectionFlags {
  std::string hub;
  std::string token;
  std::string context;  // --context NAME
  std::string ca;       // --ca FILE
};

struct Connection {
  std::string hub;           // normalized: scheme://host:port, no trailing slash
  std::string token;         // may be empty (the hub will say 401)
  std::string zone;          // the context's default zone, may be empty
  std::string hub_source;    // "--hub", "CAUSEWAY_HUB", "context NAME", "default"
  std::string token_source;  // likewise, or "admin.token", or ""
  std::string ca;            // CA file for https://; "" = the system's trusted CAs
  std::string ca_source;     // "--ca", "CAUSEWAY_CA", "context NAME", or ""
};

// "host:port" → "http://host:port"; drops a trailing "/".
std::string NormalizeHub(std::string_view hub);
// Whether the hub's host is this machine (127.0.0.0/8, ::1, localhost):
// only then is the local admin.token offered to it.
bool IsLoopbackHub(std::string_view hub);

// Precedence, first match wins:
//   hub:   --hub, $CAUSEWAY_HUB, the context (--context or the current one), kDefaultHub
//   token: --token, $CAUSEWAY_TOKEN, the context's token when the hub is the
//          context's hub, the local admin.token when the hub is on loopback.
//   ca:    --ca, $CAUSEWAY_CA, the context's ca when the hub is the context's
//          hub; none means the system's trusted CAs.
absl::StatusOr<Connection> ResolveConnection(const ConnectionFlags& flags, const Getenv& env);

}  // namespace causeway::cli
