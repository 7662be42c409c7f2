// tls init: a local CA and certificates for trying the hub over TLS.
#include <iostream>

#include "cli/commands.h"
#include "cli/tls_init.h"
#include "common/strings.h"

namespace causeway::cli {

void AddTlsCommands(CLI::App& app) {
  static TlsInitOptions options;
  CLI::App* tls = AddVerb(app, "tls", "Make TLS certificates for trying a hub over https",
                          "  causeway tls init ./tls --name hub.internal --name 127.0.0.1");
  tls->require_subcommand(1);
  CLI::App* init = AddVerb(
      *tls, "init",
      "Write a new CA (ca.crt, ca.key), a hub certificate (hub.crt, hub.key) and a client "
      "certificate (client.crt, client.key) into DIR",
      "  causeway tls init ./tls --name hub.internal --name 10.0.0.5 --name 127.0.0.1\n"
      "  causeway serve --api 0.0.0.0:8443 --tls-cert ./tls/hub.crt --tls-key ./tls/hub.key\n"
      "  causeway --hub https://hub.internal:8443 --ca ./tls/ca.crt get zones\n"
      "Keys are written mode 0600. For trying TLS; a real deployment's certificates come "
      "from its own CA.");
  init->add_option("dir", options.dir, "Directory to write into (created if missing)")->required();
  init->add_option("--name", options.names,
                   "A host name or IP address clients use to reach the hub (repeatable; the "
                   "first is the certificate's common name)")
      ->required();
  init->add_option("--client-name", options.client_name, "Common name of the client certificate")
      ->capture_default_str();
  init->add_option("--days", options.days, "Validity of the hub and client certificates")
      ->capture_default_str();
  init->add_flag("--force", options.force, "Replace files that already exist");
  init->callback([] {
    RunVerb([]() -> absl::Status {
      absl::StatusOr<std::vector<std::string>> written = WriteTlsFiles(options);
      if (!written.ok()) return written.status();
      for (const std::string& file : *written) std::cout << "wrote " << file << "\n";
      return absl::OkStatus();
    });
  });
}

}  // namespace causeway::cli
