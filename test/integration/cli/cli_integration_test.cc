// The issue's acceptance tests, driving the real `causeway` binary against a
// real hub, plus the connection, help and exit-code contract.
#include <sys/stat.h>

#include <fstream>
#include <regex>
#include <thread>

#include "cli_fixture.h"
#include "gtest/gtest.h"

namespace causeway::testing {
namespace {

// The seed's setup, written by hand as a user would: zone dev-local, proxy
// dev-proxy, domain demo.turbinelabs.io:8888, route group default, route
// /api → cluster envoy-simple. Route name as init-zone derives it.
constexpr char kSeedYaml[] = R"(# The local-to-staging example's objects.
kind: Zone
name: dev-local
---
kind: Proxy
name: dev-proxy
zone: dev-local
domains: [demo.turbinelabs.io:8888]
---
kind: Domain
zone: dev-local
host: demo.turbinelabs.io
port: 8888
---
kind: RouteGroup
name: default
zone: dev-local
default:
  - cluster: envoy-simple
---
kind: Route
name: demo.turbinelabs.io-8888-api
zone: dev-local
domain: demo.turbinelabs.io:8888
path: /api
route_group: default
---
kind: Cluster
name: envoy-simple
zone: dev-local
)";

const std::vector<std::string> kInitZoneSeed = {
    "init-zone",     "dev-local",
    "--proxy",       "dev-proxy=demo.turbinelabs.io:8888",
    "--route",       "demo.turbinelabs.io:8888/api=envoy-simple",
    "--route-group", "default"};

// "2 created, 0 updated, 4 unchanged; revision 9" → its numbers.
struct Summary {
  int created = -1, updated = -1, unchanged = -1;
  std::string revision;
};
Summary ParseSummary(const std::string& out) {
  std::smatch m;
  Summary s;
  static const std::regex re(R"((\d+) created, (\d+) updated, (\d+) unchanged.*; revision (\d+))");
  if (std::regex_search(out, m, re)) {
    s.created = std::stoi(m[1]);
    s.updated = std::stoi(m[2]);
    s.unchanged = std::stoi(m[3]);
    s.revision = m[4];
  }
  return s;
}

std::string Revision(const CliHub& hub) {
  // `history --limit 1 -o json` shows the latest change and its revision.
  Json last = Json::parse(hub.MustRun({"history", "--limit", "1", "-o", "json"}), nullptr, false);
  if (!last.is_array() || last.empty()) return "0";
  return last.back().value("revision", "");
}

TEST(CliTest, SeedSetupByInitZoneAndByApplyIsIdentical) {
  CliHub by_flags;
  CliHub by_file;
  std::string out = by_flags.MustRun(kInitZoneSeed);
  Summary first = ParseSummary(out);
  EXPECT_EQ(first.created, 6) << out;

  std::string file = by_file.WriteFile("seed.yaml", kSeedYaml);
  out = by_file.MustRun({"apply", "-f", file});
  EXPECT_EQ(ParseSummary(out).created, 6) << out;
  EXPECT_NE(out.find("Route dev-local/demo.turbinelabs.io-8888-api created"), std::string::npos)
      << out;

  auto a = by_flags.ZoneObjects("dev-local");
  auto b = by_file.ZoneObjects("dev-local");
  EXPECT_EQ(a.size(), 6u);
  EXPECT_EQ(a, b);
  EXPECT_EQ(by_flags.MustRun({"export-zone", "dev-local"}),
            by_file.MustRun({"export-zone", "dev-local"}));

  // init-zone is idempotent: again, nothing changes.
  std::string before = Revision(by_flags);
  Summary again = ParseSummary(by_flags.MustRun(kInitZoneSeed));
  EXPECT_EQ(again.unchanged, 6);
  EXPECT_EQ(again.created + again.updated, 0);
  EXPECT_EQ(Revision(by_flags), before);

  // And it will not silently overwrite a different object of the same name.
  CliResult clash =
      by_flags.Run({"init-zone", "dev-local", "--route", "demo.turbinelabs.io:8888/api=other",
                    "--route-group", "default"});
  EXPECT_EQ(clash.exit_code, 6) << clash.err;
  EXPECT_NE(clash.err.find("--replace"), std::string::npos) << clash.err;
  EXPECT_EQ(Revision(by_flags), before);
}

// A zone using most of the model, to check export/apply keeps everything.
constexpr char kRichZone[] = R"(kind: Zone
name: rich
description: every field
---
kind: Cluster
name: blue
zone: rich
instances:
  - {host: 10.0.0.2, port: 8080, metadata: {version: "2", canary: "true"}}
  - {host: 10.0.0.1, port: 8080}
---
kind: Cluster
name: green
zone: rich
---
kind: Domain
name: api.example.com:80
zone: rich
aliases: ["*.api.example.com", "api.*"]
---
kind: RouteGroup
name: api
zone: rich
default:
  - {cluster: blue, weight: 3}
  - {cluster: green, weight: 1, metadata: {version: "2"}}
rules:
  - methods: [GET]
    matches: [{kind: header, key: X-Canary, behavior: present}]
    targets: [{cluster: green}]
retry_policy: {num_retries: 2, per_try_timeout_ms: 250}
---
kind: Route
name: api
zone: rich
domain: api.example.com:80
path: /v1
route_group: api
timeout_ms: 1500
rules:
  - matches: [{kind: query, key: debug, value: "1"}]
    targets: [{cluster: blue}]
---
kind: Proxy
name: edge
zone: rich
domains: [api.example.com:80]
)";

TEST(CliTest, ExportThenApplyIsTheIdentityAndReapplyWritesNothing) {
  CliHub source;
  source.MustRun({"apply", "-f", source.WriteFile("rich.yaml", kRichZone)});
  std::string exported = source.MustRun({"export-zone", "rich"});
  EXPECT_EQ(exported.find("\nversion:"), std::string::npos) << "no server metadata:\n" << exported;
  EXPECT_EQ(exported.find("created_at"), std::string::npos) << exported;

  CliHub target;
  std::string file = target.WriteFile("rich-export.yaml", exported);
  Summary first = ParseSummary(target.MustRun({"apply", "-f", file}));
  EXPECT_EQ(first.created, 7);
  EXPECT_EQ(target.ZoneObjects("rich"), source.ZoneObjects("rich"));
  EXPECT_EQ(target.MustRun({"export-zone", "rich"}), exported);

  Summary second = ParseSummary(target.MustRun({"apply", "-f", file}));
  EXPECT_EQ(second.unchanged, 7);
  EXPECT_EQ(second.created + second.updated, 0);
  EXPECT_EQ(second.revision, first.revision) << "a no-op apply must not move the revision";
  EXPECT_EQ(Revision(target), first.revision);

  // Through a pipe too.
  CliResult piped = target.Run({"apply", "-f", "-"}, {}, exported);
  EXPECT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(ParseSummary(piped.out).unchanged, 7);
}

TEST(CliTest, InvalidThirdDocumentChangesNothingAndIsNamed) {
  CliHub hub;
  std::string file = hub.WriteFile("bad.yaml", R"(kind: Zone
name: dev-local
---
kind: Cluster
name: envoy-simple
zone: dev-local
---
kind: Route
name: api
zone: dev-local
domain: demo.turbinelabs.io:8888
path: api
route_group: default
)");
  CliResult r = hub.Run({"apply", "-f", file});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("document 3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("path"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bad.yaml"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line:\n" << r.err;
  EXPECT_EQ(hub.Run({"get", "zone", "dev-local"}).exit_code, 5);
  EXPECT_EQ(Revision(hub), "0");

  // An error only the hub can see (a reference to nothing) is traced back
  // to its document as well, and also changes nothing.
  std::string dangling = hub.WriteFile("dangling.yaml", R"(kind: Zone
name: dev-local
---
kind: Domain
name: demo.turbinelabs.io:8888
zone: dev-local
---
kind: Route
name: api
zone: dev-local
domain: demo.turbinelabs.io:8888
path: /api
route_group: nowhere
)");
  r = hub.Run({"apply", "-f", dangling});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("document 3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("route_group"), std::string::npos) << r.err;
  EXPECT_EQ(hub.Run({"get", "zone", "dev-local"}).exit_code, 5);
}

TEST(CliTest, ConflictingEditNeverOverwrites) {
  CliHub hub;
  hub.MustRun(kInitZoneSeed);
  const std::string route = "demo.turbinelabs.io-8888-api";
  // Someone else's change, made while our editor is open.
  std::string theirs = hub.WriteFile("theirs.yaml", R"(kind: Route
name: demo.turbinelabs.io-8888-api
zone: dev-local
domain: demo.turbinelabs.io:8888
path: /api
route_group: default
timeout_ms: 5000
)");
  std::string editor =
      hub.WriteFile("editor.sh",
                    "#!/bin/sh\n"
                    "\"$CW_CAUSEWAY\" apply -f \"$CW_THEIRS\" >/dev/null || exit 9\n"
                    "sed -i 's|^path: /api|path: /mine|' \"$1\"\n");
  ::chmod(editor.c_str(), 0755);
  std::map<std::string, std::string> env = {
      {"EDITOR", editor}, {"CW_CAUSEWAY", BuiltBinary("causeway")}, {"CW_THEIRS", theirs}};
  CliResult r = hub.Run({"edit", "route", route, "-z", "dev-local"}, env);
  EXPECT_EQ(r.exit_code, 6) << r.out << r.err;
  EXPECT_NE(r.err.find("changed by someone else"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("kept in " + hub.home() + "/causeway-edit-"), std::string::npos)
      << "the edit is kept under $TMPDIR:\n"
      << r.err;
  EXPECT_NE(r.err.find("timeout_ms: 0 → 5000"), std::string::npos) << "shows what they changed:\n"
                                                                   << r.err;
  Json now = Json::parse(hub.MustRun({"get", "route", route, "-z", "dev-local", "-o", "json"}));
  EXPECT_EQ(now["path"], "/api") << "our edit must not have been written";
  EXPECT_EQ(now["timeout_ms"], 5000) << "their change must survive";

  // Without interference, the same edit goes through.
  std::string plain =
      hub.WriteFile("plain.sh", "#!/bin/sh\nsed -i 's|^path: /api|path: /mine|' \"$1\"\n");
  ::chmod(plain.c_str(), 0755);
  hub.MustRun({"edit", "route", route, "-z", "dev-local"}, {{"EDITOR", plain}});
  now = Json::parse(hub.MustRun({"get", "route", route, "-z", "dev-local", "-o", "json"}));
  EXPECT_EQ(now["path"], "/mine");
  EXPECT_EQ(now["timeout_ms"], 5000);

  // An editor that changes nothing writes nothing.
  std::string revision = Revision(hub);
  std::string noop = hub.WriteFile("noop.sh", "#!/bin/sh\nexit 0\n");
  ::chmod(noop.c_str(), 0755);
  EXPECT_NE(hub.MustRun({"edit", "route", route}, {{"EDITOR", noop}}).find("no changes"),
            std::string::npos);
  EXPECT_EQ(Revision(hub), revision);
}

TEST(CliTest, GetDescribeDeleteAndHistory) {
  CliHub hub;
  hub.MustRun(kInitZoneSeed);
  std::string table = hub.MustRun({"get", "routes", "-z", "dev-local"});
  EXPECT_NE(table.find("NAME"), std::string::npos) << table;
  EXPECT_NE(table.find("/api"), std::string::npos) << table;
  std::string yaml = hub.MustRun({"get", "domain", "demo.turbinelabs.io:8888", "-o", "yaml"});
  EXPECT_NE(yaml.find("host: demo.turbinelabs.io"), std::string::npos) << yaml;

  std::string described = hub.MustRun({"describe", "cluster", "envoy-simple"});
  EXPECT_NE(described.find("Referred to by:\n  RouteGroup default   (default[0].cluster)"),
            std::string::npos)
      << described;

  CliResult refused = hub.Run({"delete", "cluster", "envoy-simple", "-z", "dev-local"});
  EXPECT_EQ(refused.exit_code, 6) << refused.err;
  EXPECT_NE(refused.err.find("RouteGroup"), std::string::npos) << refused.err;

  std::string history = hub.MustRun({"history", "-z", "dev-local", "route"});
  EXPECT_NE(history.find("demo.turbinelabs.io-8888-api"), std::string::npos) << history;
  Json recent =
      Json::parse(hub.MustRun({"history", "--since", "1h", "-o", "json"}), nullptr, false);
  ASSERT_TRUE(recent.is_array());
  EXPECT_EQ(recent.size(), 6u);
  EXPECT_EQ(recent[0].value("op", ""), "create");

  std::string status = hub.MustRun({"status", "-z", "dev-local"});
  EXPECT_NE(status.find("no proxies"), std::string::npos) << status;

  std::string everything = hub.WriteFile("all.yaml", hub.MustRun({"export-zone", "dev-local"}));
  std::string deleted = hub.MustRun({"delete", "-f", everything});
  EXPECT_NE(deleted.find("Zone dev-local deleted"), std::string::npos) << deleted;
  EXPECT_EQ(hub.Run({"get", "zone", "dev-local"}).exit_code, 5);
}

TEST(CliTest, ConnectionContextsTokensAndExitCodes) {
  CliHub hub;
  // An explicit token beats the local admin.token.
  CliResult bad = hub.Run({"get", "zones", "--token", "wrong"});
  EXPECT_EQ(bad.exit_code, 4) << bad.err;

  std::string secret = hub.MustRun({"token", "create", "ci", "--role", "viewer"});
  while (!secret.empty() && secret.back() == '\n') secret.pop_back();
  ASSERT_FALSE(secret.empty());
  EXPECT_NE(hub.MustRun({"token", "list"}).find("ci"), std::string::npos);

  EXPECT_EQ(hub.Run({"get", "proxy", "nope", "-z", "nowhere"}).exit_code, 5);

  // login saves a private context that later commands use with no flags.
  hub.MustRun({"login", hub.url(), "--token", secret, "--name", "local-ci"});
  struct stat st {};
  ASSERT_EQ(::stat(hub.File(".config/causeway/config.yaml").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  EXPECT_NE(hub.MustRun({"context", "list"}).find("local-ci"), std::string::npos);
  std::map<std::string, std::string> no_env = {{"CAUSEWAY_HUB", ""}};
  EXPECT_NE(hub.MustRun({"context", "current"}, no_env).find("context local-ci"),
            std::string::npos);
  // A viewer may read but not write.
  hub.MustRun({"get", "zones"}, no_env);
  CliResult denied = hub.Run({"init-zone", "dev-local"}, no_env);
  EXPECT_EQ(denied.exit_code, 4) << denied.err;

  // The context (a viewer) now speaks for this hub; revoking takes the admin.
  std::ifstream token_file(hub.File(".local/share/causeway/admin.token"));
  std::string admin;
  token_file >> admin;
  hub.MustRun({"token", "revoke", "ci", "--token", admin});
  EXPECT_EQ(hub.Run({"get", "zones"}, no_env).exit_code, 4);

  EXPECT_EQ(hub.Run({"get", "gizmos"}).exit_code, 2);
  EXPECT_EQ(hub.Run({"get", "zones"}, {{"CAUSEWAY_HUB", "http://127.0.0.1:1"}}).exit_code, 7);
}

TEST(CliTest, ConnectionFlagsBeforeTheVerbAndUnknownVerbs) {
  CliHub hub;
  std::ifstream token_file(hub.File(".local/share/causeway/admin.token"));
  std::string admin;
  token_file >> admin;
  const std::map<std::string, std::string> no_env = {{"CAUSEWAY_HUB", ""}};
  hub.MustRun({"--hub", hub.url(), "--token", admin, "init-zone", "dev-local"}, no_env);
  std::string zones = hub.MustRun({"--hub", hub.url(), "--token", admin, "get", "zones"}, no_env);
  EXPECT_NE(zones.find("dev-local"), std::string::npos) << zones;
  // After the verb as before; one after the verb wins over one before.
  hub.MustRun({"get", "zones", "--hub", hub.url(), "--token", admin}, no_env);
  CliResult wrong = hub.Run({"--token", "wrong", "get", "zones", "--token", admin});
  EXPECT_EQ(wrong.exit_code, 0) << wrong.err;
  CliResult denied = hub.Run({"--token", admin, "get", "zones", "--token", "wrong"});
  EXPECT_EQ(denied.exit_code, 4) << denied.err;

  for (const std::vector<std::string>& args : {std::vector<std::string>{"nosuchverb"},
                                               {"nosuchverb", "--help"},
                                               {"--hub", hub.url(), "nosuchverb", "-h"}}) {
    CliResult r = hub.Run(args);
    EXPECT_EQ(r.exit_code, 2) << args[0] << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("unknown command \"nosuchverb\""), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
  }
  EXPECT_EQ(hub.Run({"--help"}).exit_code, 0);
}

TEST(CliTest, CreateAndDeleteFromFilesAreAllOrNothing) {
  CliHub hub;
  hub.MustRun(kInitZoneSeed);
  // Two creates of the same new objects race, ten times: exactly one wins
  // each time (checking first and then applying would let both "succeed",
  // the second silently overwriting the first).
  for (int round = 0; round < 10; ++round) {
    const std::string name = "race-" + std::to_string(round);
    std::string file = hub.WriteFile(name + ".yaml", "kind: Cluster\nname: " + name +
                                                         "\nzone: dev-local\n---\n"
                                                         "kind: Cluster\nname: " +
                                                         name + "-b\nzone: dev-local\n");
    CliResult results[2];
    std::thread other([&] { results[1] = hub.Run({"create", "-f", file}); });
    results[0] = hub.Run({"create", "-f", file});
    other.join();
    const int wins = (results[0].exit_code == 0) + (results[1].exit_code == 0);
    EXPECT_EQ(wins, 1) << results[0].err << results[1].err;
    for (const CliResult& r : results) {
      if (r.exit_code != 0) {
        EXPECT_EQ(r.exit_code, 6) << r.err;
        EXPECT_NE(r.err.find("nothing was created"), std::string::npos) << r.err;
      }
    }
  }
  // One existing object fails the whole create: the new one is not created.
  std::string mixed = hub.WriteFile("mixed.yaml",
                                    "kind: Cluster\nname: fresh\nzone: dev-local\n---\n"
                                    "kind: Cluster\nname: envoy-simple\nzone: dev-local\n");
  CliResult exists = hub.Run({"create", "-f", mixed});
  EXPECT_EQ(exists.exit_code, 6) << exists.err;
  EXPECT_NE(exists.err.find("envoy-simple"), std::string::npos) << exists.err;
  EXPECT_EQ(hub.Run({"get", "cluster", "fresh", "-z", "dev-local"}).exit_code, 5);

  // delete -f of a route group and a cluster another group still uses:
  // refused as a whole, so the route group is still there.
  hub.MustRun({"apply", "-f",
               hub.WriteFile("more.yaml",
                             "kind: Cluster\nname: shared\nzone: dev-local\n---\n"
                             "kind: RouteGroup\nname: first\nzone: dev-local\n"
                             "default: [{cluster: shared}]\n---\n"
                             "kind: RouteGroup\nname: second\nzone: dev-local\n"
                             "default: [{cluster: shared}]\n")});
  std::string doomed = hub.WriteFile(
      "doomed.yaml",
      "kind: RouteGroup\nname: first\nzone: dev-local\ndefault: [{cluster: shared}]\n---\n"
      "kind: Cluster\nname: shared\nzone: dev-local\n");
  CliResult refused = hub.Run({"delete", "-f", doomed});
  EXPECT_EQ(refused.exit_code, 6) << refused.err;
  EXPECT_NE(refused.err.find("second"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("nothing was deleted"), std::string::npos) << refused.err;
  hub.MustRun({"get", "route-group", "first", "-z", "dev-local"});
  hub.MustRun({"get", "cluster", "shared", "-z", "dev-local"});
  // With the other referrer in the file too, all three go in one write, in
  // whatever order the file lists them.
  std::string all = hub.WriteFile(
      "all3.yaml",
      "kind: Cluster\nname: shared\nzone: dev-local\n---\n"
      "kind: RouteGroup\nname: first\nzone: dev-local\ndefault: [{cluster: shared}]\n---\n"
      "kind: RouteGroup\nname: second\nzone: dev-local\ndefault: [{cluster: shared}]\n");
  std::string deleted = hub.MustRun({"delete", "-f", all});
  EXPECT_NE(deleted.find("Cluster dev-local/shared deleted\n"), std::string::npos) << deleted;
  EXPECT_NE(deleted.find("3 deleted; revision"), std::string::npos) << deleted;
  EXPECT_EQ(hub.Run({"get", "cluster", "shared", "-z", "dev-local"}).exit_code, 5);
  // --ignore-not-found: the file's objects are gone already; nothing to do.
  EXPECT_EQ(hub.Run({"delete", "-f", all, "--ignore-not-found"}).exit_code, 0);
  EXPECT_EQ(hub.Run({"delete", "-f", all}).exit_code, 5);
}

TEST(CliTest, HelpHasExamplesAndExitCodesAndCompletionWorks) {
  CliHub hub;
  for (const char* verb :
       {"login", "context", "init-zone", "get", "describe", "apply", "create", "edit", "delete",
        "export-zone", "history", "token", "status", "completion"}) {
    CliResult r = hub.Run({verb, "--help"});
    EXPECT_EQ(r.exit_code, 0) << verb;
    EXPECT_NE(r.out.find("Examples:"), std::string::npos) << verb << ":\n" << r.out;
    EXPECT_NE(r.out.find("Exit codes"), std::string::npos) << verb;
  }
  std::string bash = hub.MustRun({"completion", "bash"});
  EXPECT_NE(bash.find("complete -F _causeway_complete causeway"), std::string::npos) << bash;
  EXPECT_NE(bash.find("init-zone"), std::string::npos);
  std::string script = hub.WriteFile("complete.sh", bash + R"(
COMP_WORDS=(causeway get ro); COMP_CWORD=2; _causeway_complete; echo "${COMPREPLY[@]}"
)");
  Subprocess::Options options;
  options.argv = {"/bin/bash", script};
  options.log_path = hub.File("complete.log");
  Subprocess sh(options);
  EXPECT_EQ(sh.Wait(), 0);
  EXPECT_NE(sh.Log().find("route-groups routes"), std::string::npos) << sh.Log();
  EXPECT_NE(hub.MustRun({"completion", "zsh"}).find("#compdef causeway"), std::string::npos);
}

}  // namespace
}  // namespace causeway::testing
