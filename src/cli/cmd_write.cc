// apply, create and delete.
#include <algorithm>
#include <iostream>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "common/status.h"
#include "common/strings.h"
#include "model/documents.h"

namespace causeway::cli {
namespace {

// The hub names a failing object of a multi-object write by its index
// ("items[3].path: must start with /", or "[3].route_group" from the
// whole-request checks); this turns that back into the file, document and
// line the object came from.
absl::Status LocateHubError(const std::vector<model::Document>& docs, const absl::Status& status) {
  std::string field = ErrorField(status);
  std::string message(status.message());
  if (field.empty() && message.rfind("items[", 0) == 0)
    field = message.substr(0, message.find(':'));
  if (field.rfind("items", 0) == 0) {
    if (message.rfind(field, 0) == 0) message = message.substr(5);
    field = field.substr(5);
  }
  if (field.size() < 3 || field.front() != '[') return status;
  size_t close = field.find(']');
  size_t index = 0;
  if (close == std::string::npos || !absl::SimpleAtoi(field.substr(1, close - 1), &index) ||
      index >= docs.size()) {
    return status;
  }
  std::string rest = field.substr(close + 1);
  if (!rest.empty() && rest.front() == '.') rest.erase(0, 1);
  if (message.rfind(field + ": ", 0) == 0) message = message.substr(field.size() + 2);
  absl::Status inner(status.code(), rest.empty() ? message : StrCat(rest, ": ", message));
  if (!rest.empty()) inner.SetPayload(ToAbsl(kFieldPayload), absl::Cord(ToAbsl(rest)));
  return model::DocumentError(docs[index], inner);
}

struct ApplyFlags {
  std::vector<std::string> files;
  bool dry_run = false;
};

absl::Status ApplyDocuments(const Globals& globals, const ApplyFlags& flags, bool create_only) {
  // Everything is checked locally first, so a bad document is reported by
  // file and number before the hub is even contacted.
  CW_ASSIGN_OR_RETURN(std::vector<model::Document> docs, model::ReadDocuments(flags.files));
  model::SortForApply(docs);
  CW_ASSIGN_OR_RETURN(std::unique_ptr<HubClient> hub, ConnectHub(globals));
  std::vector<Json> documents;
  for (const model::Document& d : docs) documents.push_back(model::ApplyJson(d.parsed));
  // One request either way: create is all or nothing too (an object that
  // exists fails the whole request, and nothing is created).
  absl::StatusOr<Json> response =
      hub->Apply(documents, flags.dry_run, create_only ? "create" : "apply");
  if (!response.ok()) {
    absl::Status located = LocateHubError(docs, response.status());
    if (!create_only) return located;
    const bool exists = located.message().find("already exists") != absl::string_view::npos;
    return absl::Status(located.code(), StrCat(located.message(), "; nothing was created",
                                               exists ? " (use apply to update)" : ""));
  }
  std::cout << ApplyReport(*response);
  if (flags.dry_run) std::cout << "(dry run: nothing was written)\n";
  return absl::OkStatus();
}

struct DeleteFlags {
  std::string kind;
  std::string name;
  std::string zone;
  std::vector<std::string> files;
  bool ignore_not_found = false;
};

// delete -f: every object the documents name goes in one atomic request
// (the hub checks references against what the whole request leaves, so the
// order of the documents does not matter). With --ignore-not-found, objects
// that do not exist now are left out of it.
absl::Status DeleteDocuments(const Globals& globals, const DeleteFlags& flags) {
  CW_ASSIGN_OR_RETURN(std::vector<model::Document> docs, model::ReadDocuments(flags.files));
  CW_ASSIGN_OR_RETURN(std::unique_ptr<HubClient> hub, ConnectHub(globals));
  std::vector<model::Document> present;
  for (model::Document& d : docs) {
    if (flags.ignore_not_found) {
      absl::StatusOr<Json> current = hub->GetObject(d.parsed.key);
      if (absl::IsNotFound(current.status())) continue;
      if (!current.ok()) return current.status();
    }
    present.push_back(std::move(d));
  }
  if (present.empty()) return absl::OkStatus();
  std::vector<Json> documents;
  for (const model::Document& d : present) documents.push_back(model::ApplyJson(d.parsed));
  absl::StatusOr<Json> response = hub->Apply(documents, false, "delete");
  if (!response.ok()) {
    absl::Status located = LocateHubError(present, response.status());
    return absl::Status(located.code(), StrCat(located.message(), "; nothing was deleted"));
  }
  const Json& results = response->value("results", Json::array());
  for (const Json& r : results) std::cout << ObjectLabel(r) << " deleted\n";
  std::cout << results.size() << " deleted; revision " << response->value("revision", "?") << "\n";
  return absl::OkStatus();
}

absl::Status Delete(const Globals& globals, const DeleteFlags& flags) {
  if (!flags.files.empty()) {
    if (!flags.kind.empty()) return UsageError("give either KIND NAME or -f FILE, not both");
    return DeleteDocuments(globals, flags);
  }
  if (flags.kind.empty() || flags.name.empty()) {
    return UsageError(
        "what to delete? causeway delete KIND NAME [-z ZONE] or causeway delete -f FILE");
  }
  CW_ASSIGN_OR_RETURN(model::Kind kind, KindArg(flags.kind));
  CW_ASSIGN_OR_RETURN(std::unique_ptr<HubClient> hub, ConnectHub(globals));
  absl::StatusOr<model::ObjectKey> key =
      ResolveKey(*hub, kind, ZoneOr(flags.zone, *hub), flags.name);
  if (!key.ok()) {
    if (flags.ignore_not_found && absl::IsNotFound(key.status())) return absl::OkStatus();
    return key.status();
  }
  absl::StatusOr<Json> deleted = hub->Delete(HubClient::ObjectPath(*key));
  if (!deleted.ok()) {
    if (flags.ignore_not_found && absl::IsNotFound(deleted.status())) return absl::OkStatus();
    return deleted.status();
  }
  std::cout << model::KeyString(*key) << " deleted\n";
  return absl::OkStatus();
}

}  // namespace

void AddWriteCommands(CLI::App& app, Globals* globals) {
  static ApplyFlags apply_flags;
  CLI::App* apply = AddVerb(
      app, "apply", "Create or update the objects in files, all or nothing",
      "  causeway apply -f dev-local.yaml\n"
      "  causeway apply -f objects/            # every .yaml, .yml and .json file in it\n"
      "  causeway export-zone dev-local | causeway apply -f -\n"
      "  causeway apply -f dev-local.yaml --dry-run\n"
      "Documents are YAML or JSON with kind: (Zone, Proxy, Domain, RouteGroup, Route, Cluster),\n"
      "separated by ---. Each is checked locally first (errors name the file, the document\n"
      "number and the field); then all are sent as one atomic write. Each object is reported as\n"
      "created, updated or unchanged. A document carrying version: fails if the object changed.");
  apply->add_option("-f,--filename", apply_flags.files, "FILE, DIR or - (stdin); repeatable")
      ->required();
  apply->add_flag("--dry-run", apply_flags.dry_run,
                  "Check and report what would change; write nothing");
  AddConnectionFlags(apply, globals);
  apply->callback(
      [globals] { RunVerb([&] { return ApplyDocuments(*globals, apply_flags, false); }); });

  static ApplyFlags create_flags;
  CLI::App* create = AddVerb(app, "create", "Create the objects in files; fails if any exists",
                             "  causeway create -f new-route.yaml\n"
                             "  cat cluster.json | causeway create -f -");
  create->add_option("-f,--filename", create_flags.files, "FILE, DIR or - (stdin); repeatable")
      ->required();
  create->add_flag("--dry-run", create_flags.dry_run,
                   "Check and report what would change; write nothing");
  AddConnectionFlags(create, globals);
  create->callback(
      [globals] { RunVerb([&] { return ApplyDocuments(*globals, create_flags, true); }); });

  static DeleteFlags delete_flags;
  CLI::App* del =
      AddVerb(app, "delete", "Delete an object, or the objects in files",
              "  causeway delete route demo.turbinelabs.io-8888-api -z dev-local\n"
              "  causeway delete domain demo.turbinelabs.io:8888 -z dev-local\n"
              "  causeway delete -f dev-local.yaml     # every object in it, all or nothing\n"
              "The hub refuses to delete an object others still refer to, and names them;\n"
              "with -f, every object named is deleted in one atomic request or none is.");
  del->add_option("kind", delete_flags.kind, "Kind of object");
  del->add_option("name", delete_flags.name, "Object name");
  del->add_option("-z,--zone", delete_flags.zone, "Zone");
  del->add_option("-f,--filename", delete_flags.files,
                  "Delete the objects named in FILE, DIR or -");
  del->add_flag("--ignore-not-found", delete_flags.ignore_not_found,
                "Skip objects that do not exist");
  AddConnectionFlags(del, globals);
  del->callback([globals] { RunVerb([&] { return Delete(*globals, delete_flags); }); });
}

}  // namespace causeway::cli
