#include "serve/serve_command.h"

#include <pthread.h>
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/logging.h"
#include "common/strings.h"
#include "discovery/agent/collector_spec.h"
#include "serve/hub_server.h"
#include "spdlog/spdlog.h"
#include "store/history_compactor.h"

namespace causeway::serve {

namespace {

struct ServeFlags {
  std::string api = "127.0.0.1:8380";
  std::string xds = "127.0.0.1:50000";
  std::string data_dir;
  std::string store;
  std::string log_level = "info";
  std::string log_format = "json";
  int io_threads = 2;
  int worker_threads = 32;
  int xds_threads = 0;
  int max_connections = 10000;
  int xds_max_streams = 20000;
  std::vector<std::string> collectors;
  std::string collector_zone;
  bool collector_delete_missing = false;
  discovery::CollectorEnvironment collector_environment;
  std::string tls_cert, tls_key, client_ca;
  std::string xds_auth;
  std::string history_retention = "7d";
  std::string compaction_interval = "1m";
};

// CLI11 validators: an empty string accepts the value.
std::string CheckRetention(const std::string& text) {
  auto parsed = store::ParseRetention(text);
  return parsed.ok() ? "" : std::string(parsed.status().message());
}

std::string CheckInterval(const std::string& text) {
  absl::Duration d;
  if (absl::ParseDuration(text, &d) && d >= absl::Milliseconds(10) && d <= absl::Hours(24)) {
    return "";
  }
  return StrCat("--history-compaction-interval: \"", text,
                "\" is not a duration between 10ms and 24h (e.g. 1m, 30s, 500ms)");
}

std::string DefaultDataDir() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::string(xdg) + "/causeway";
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : ".") + "/.local/share/causeway";
}

std::string ExpandHome(const std::string& path) {
  if (path == "~" || path.starts_with("~/")) {
    const char* home = std::getenv("HOME");
    return std::string(home != nullptr ? home : ".") + path.substr(1);
  }
  return path;
}

int Serve(const ServeFlags& flags) {
  SetupLogging(flags.log_format == "text" ? LogFormat::kText : LogFormat::kJson, flags.log_level);
  HubOptions options;
  options.api_address = flags.api;
  options.xds_address = flags.xds;
  options.data_dir = ExpandHome(flags.data_dir.empty() ? DefaultDataDir() : flags.data_dir);
  options.store_spec = flags.store;
  options.io_threads = flags.io_threads;
  options.max_connections = flags.max_connections;
  options.xds_max_streams = flags.xds_max_streams;
  options.worker_threads = flags.worker_threads;
  options.xds_threads = flags.xds_threads;
  options.collectors = flags.collectors;
  options.collector_zone = flags.collector_zone;
  options.collector_delete_missing = flags.collector_delete_missing;
  options.collector_environment = flags.collector_environment;
  options.tls_cert = flags.tls_cert;
  options.tls_key = flags.tls_key;
  options.client_ca = flags.client_ca;
  options.xds_auth = flags.xds_auth;
  // Both were checked when the command line was parsed.
  options.history_retention =
      store::ParseRetention(flags.history_retention).value_or(options.history_retention);
  absl::Duration interval;
  if (absl::ParseDuration(flags.compaction_interval, &interval)) {
    options.compaction_interval = absl::ToChronoMilliseconds(interval);
  }

  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    spdlog::error("cannot create the data directory {}: {}", options.data_dir, ec.message());
    return 1;
  }
  std::filesystem::permissions(options.data_dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);

  // Signals are taken synchronously by this thread; blocking them before any
  // thread starts makes every thread inherit the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  spdlog::info("data directory {}; xDS address {} (served by the xDS module)", options.data_dir,
               options.xds_address);
  auto hub = std::make_unique<HubServer>(options);
  absl::Status started = hub->Start();
  if (!started.ok()) {
    spdlog::error("cannot start the hub: {}", started.ToString());
    return 1;
  }
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  hub->Shutdown();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& app) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* serve = app.add_subcommand("serve", "Run the hub: REST API, change log, watch, xDS");
  serve->footer(R"(Examples:
  causeway serve
      SQLite in ~/.local/share/causeway; the first start writes admin.token there.
  causeway serve --api 0.0.0.0:8380 --data-dir /var/lib/causeway --log-format text
  causeway serve --store postgresql://causeway@db.internal/causeway
      Several hubs may share one PostgreSQL database.
  causeway serve --collector-zone staging --collector file:/etc/causeway/clusters.yaml
      Runs collectors inside the hub: their clusters are written into zone staging
      (which must exist), as "collector" in the change log.)");
  serve->add_option("--api", flags->api, "REST API listen address host:port")
      ->capture_default_str();
  serve->add_option("--xds", flags->xds, "xDS (gRPC) listen address host:port")
      ->capture_default_str();
  serve->add_option("--data-dir", flags->data_dir,
                    "Data directory (SQLite database, admin.token) [default: "
                    "~/.local/share/causeway]");
  serve->add_option("--store", flags->store,
                    "Store: empty for SQLite in the data directory, sqlite:PATH, or "
                    "postgresql://user@host/db");
  serve->add_option("--log-level", flags->log_level, "trace, debug, info, warn, error, off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();
  serve->add_option("--log-format", flags->log_format, "json or text")
      ->check(CLI::IsMember({"json", "text"}))
      ->capture_default_str();
  serve->add_option("--io-threads", flags->io_threads, "Threads doing network I/O")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  serve
      ->add_option(
          "--max-connections", flags->max_connections,
          "Open REST connections at most; beyond it the oldest idle one (waiting 100 ms or "
          "more for a request) is closed, or, with none idle, a new one is answered 503 "
          "(keep it under the open-file limit)")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  serve
      ->add_option("--xds-max-streams", flags->xds_max_streams,
                   "xDS streams served at once; beyond it a new stream is refused with "
                   "RESOURCE_EXHAUSTED (its proxy retries, or moves to another hub)")
      ->check(CLI::Range(1, 10000000))
      ->capture_default_str();
  serve
      ->add_option("--worker-threads", flags->worker_threads,
                   "Threads running requests that write or query the store")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  serve
      ->add_option("--xds-threads", flags->xds_threads,
                   "Threads serving xDS streams, each running its share of the streams "
                   "(0: half the CPUs this process may run on, at least one)")
      ->check(CLI::Range(0, 64))
      ->capture_default_str();
  serve->add_option(
      "--collector", flags->collectors,
      StrCat("Run a collector in the hub (repeatable): ", discovery::kCollectorSyntax));
  serve->add_option("--collector-zone", flags->collector_zone,
                    "Zone the collectors' clusters are written into (required with --collector)");
  serve->add_flag("--collector-delete-missing", flags->collector_delete_missing,
                  "Delete the collector zone's clusters that no collector reports (once all "
                  "have reported)");
  discovery::AddCollectorEnvironmentFlags(*serve, flags->collector_environment);
  serve->add_option("--tls-cert", flags->tls_cert,
                    "PEM certificate chain: serve over TLS (read again when the file changes; "
                    "open streams keep theirs)");
  serve->add_option("--tls-key", flags->tls_key, "PEM private key of --tls-cert");
  serve->add_option("--client-ca", flags->client_ca,
                    "PEM CA bundle: xDS clients must present a certificate it signed (mTLS)");
  serve
      ->add_option("--xds-auth", flags->xds_auth,
                   "xDS streams need a bearer token of role proxy, agent or admin whose zone is "
                   "the node's (token), or nothing (none, refused unless --xds is a loopback "
                   "address) [default: token, none on loopback]")
      ->check(CLI::IsMember({"token", "none"}));
  serve
      ->add_option("--history-retention", flags->history_retention,
                   "How much of the change log to keep: an age (7d, 24h, 30m) or a count of "
                   "changes (100000); 0 keeps everything. Older entries are deleted (objects "
                   "never are); a changelog or watch request from before them gets 410 Gone")
      ->check(CheckRetention)
      ->capture_default_str();
  serve
      ->add_option("--history-compaction-interval", flags->compaction_interval,
                   "How often the change log is trimmed to --history-retention (10ms to 24h)")
      ->check(CheckInterval)
      ->capture_default_str();
  serve->callback([flags] {
    int code = Serve(*flags);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace causeway::serve
