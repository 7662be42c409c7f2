// edit KIND NAME: $EDITOR on an object, written back only over the version
// that was opened.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/cord.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "common/status.h"
#include "common/strings.h"
#include "model/documents.h"

namespace causeway::cli {
namespace {

struct EditFlags {
  std::string kind;
  std::string name;
  std::string zone;
};

std::string EditorCommand() {
  for (const char* var : {"CAUSEWAY_EDITOR", "VISUAL", "EDITOR"}) {
    const char* value = std::getenv(var);
    if (value != nullptr && *value != '\0') return value;
  }
  return "vi";
}

// Runs the editor through the shell so EDITOR may carry arguments
// ("code --wait"); the file goes in as "$1", never spliced into the command.
absl::Status RunEditor(const std::string& path) {
  std::string command = StrCat(EditorCommand(), " \"$1\"");
  std::cout.flush();
  pid_t pid = ::fork();
  if (pid < 0) return absl::InternalError("cannot start the editor (fork failed)");
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", command.c_str(), "sh", path.c_str(),
            static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::AbortedError(
        StrCat("the editor (", EditorCommand(), ") failed; nothing was changed"));
  }
  return absl::OkStatus();
}

absl::Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return absl::InternalError(StrCat(path, ": cannot write"));
  return absl::OkStatus();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Commented(const std::string& text) {
  std::string out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out += StrCat("# ", line, "\n");
  return out;
}

// The text the user edits: a short header, then the object without server
// metadata (the version we read is kept on our side).
std::string EditText(const Json& object, const std::string& note) {
  std::string text =
      StrCat("# Editing ", ObjectLabel(object), " (version ", object.value("version", ""), ").\n",
             "# Save and quit to write it back; an empty file or no change cancels.\n",
             "# If someone else changes it meanwhile, nothing is overwritten.\n");
  if (!note.empty()) text += StrCat("#\n", Commented(note));
  return text + model::JsonToYaml(model::PortableJson(object));
}

absl::Status Edit(const Globals& globals, const EditFlags& flags) {
  CW_ASSIGN_OR_RETURN(model::Kind kind, KindArg(flags.kind));
  CW_ASSIGN_OR_RETURN(std::unique_ptr<HubClient> hub, ConnectHub(globals));
  CW_ASSIGN_OR_RETURN(model::ObjectKey key,
                      ResolveKey(*hub, kind, ZoneOr(flags.zone, *hub), flags.name));
  CW_ASSIGN_OR_RETURN(Json original, hub->GetObject(key));

  std::string tmpl = "/tmp/causeway-edit-XXXXXX.yaml";
  if (const char* tmp = std::getenv("TMPDIR"); tmp != nullptr && *tmp != '\0') {
    tmpl = StrCat(tmp, "/causeway-edit-XXXXXX.yaml");
  }
  int fd = ::mkstemps(tmpl.data(), 5);
  if (fd < 0) return absl::InternalError("cannot create a temporary file");
  ::close(fd);
  const std::string path = tmpl;

  std::string note;
  for (;;) {
    const std::string before_text = EditText(original, note);
    CW_RETURN_IF_ERROR(WriteFile(path, before_text));
    CW_RETURN_IF_ERROR(RunEditor(path));
    const std::string after_text = ReadFile(path);

    std::vector<model::Document> docs;
    absl::StatusOr<std::vector<model::Document>> parsed_docs =
        model::ParseDocuments(path, after_text);
    if (!parsed_docs.ok()) {
      return absl::Status(
          parsed_docs.status().code(),
          StrCat(parsed_docs.status().message(), " (your edit is kept in ", path, ")"));
    }
    docs = *std::move(parsed_docs);
    if (docs.empty()) {
      ::unlink(path.c_str());
      std::cout << "Edit cancelled: the file is empty; nothing was changed\n";
      return absl::OkStatus();
    }
    if (docs.size() > 1)
      return UsageError(StrCat(path, ": edit one object only (your edit is kept there)"));
    const model::Document& doc = docs[0];
    if (doc.parsed.key != key) {
      return absl::InvalidArgumentError(
          StrCat(path, ": the kind, zone and name cannot change (", model::KeyString(key),
                 " became ", model::KeyString(doc.parsed.key), "); your edit is kept there"));
    }
    absl::StatusOr<model::ParsedObject> as_was =
        model::ParseAnyObject(model::PortableJson(original));
    if (as_was.ok() && as_was->spec == doc.parsed.spec) {
      ::unlink(path.c_str());
      std::cout << "Edit cancelled: no changes\n";
      return absl::OkStatus();
    }

    Json body = model::ApplyJson(doc.parsed);
    body["version"] = original.value("version", Json());
    absl::StatusOr<Json> written = hub->Put(HubClient::ObjectPath(key), body);
    if (written.ok()) {
      ::unlink(path.c_str());
      std::cout << model::KeyString(key) << " edited (version "
                << written->value("version", Json()).dump() << ")\n";
      return absl::OkStatus();
    }
    if (!absl::IsFailedPrecondition(written.status()) && !absl::IsAborted(written.status())) {
      absl::Status located = model::DocumentError(doc, written.status());
      return absl::Status(located.code(),
                          StrCat(located.message(), " (your edit is kept in ", path, ")"));
    }

    // Someone else wrote the object after we read it. Show what they
    // changed; never write over it.
    Json current;
    if (auto payload = written.status().GetPayload(ToAbsl(kCurrentObjectPayload))) {
      current = Json::parse(std::string(*payload), nullptr, false);
    }
    if (!current.is_object()) {
      CW_ASSIGN_OR_RETURN(current, hub->GetObject(key));
    }
    std::string theirs = FieldDiff(original, current);
    std::string yours = FieldDiff(model::PortableJson(original), doc.json);
    std::cerr << model::KeyString(key)
              << " was changed by someone else while you edited it (version "
              << original.value("version", "") << " → " << current.value("version", "") << "):\n"
              << (theirs.empty() ? "  (no field changes; only its version moved)\n" : theirs)
              << "Your edit was not written; it is kept in " << path << "\n";
    if (::isatty(STDIN_FILENO) == 0) {
      return absl::FailedPreconditionError(
          StrCat(model::KeyString(key),
                 " changed while you edited it; nothing was overwritten (run edit again)"));
    }
    std::cerr << "Edit the current version again? [y/N] " << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "y" && answer != "Y" && answer != "yes") {
      return absl::FailedPreconditionError(
          StrCat(model::KeyString(key), " changed while you edited it; nothing was overwritten"));
    }
    note = StrCat("It changed while you edited it. Their changes (already below):\n", theirs,
                  "Your changes, to make again:\n", yours);
    original = current;
  }
}

}  // namespace

void AddEditCommand(CLI::App& app, Globals* globals) {
  static EditFlags flags;
  CLI::App* cmd = AddVerb(
      app, "edit", "Edit an object in $EDITOR and write it back",
      "  causeway edit route demo.turbinelabs.io-8888-api -z dev-local\n"
      "  EDITOR=nano causeway edit cluster envoy-simple\n"
      "The editor is $CAUSEWAY_EDITOR, $VISUAL, $EDITOR or vi. The write carries the\n"
      "version that was opened: if someone changed the object meanwhile, nothing is\n"
      "overwritten; their changes are shown, your edit is kept in a file, and on a\n"
      "terminal you are offered to edit the current version again (exit code 6 otherwise).");
  cmd->add_option("kind", flags.kind, "Kind of object")->required();
  cmd->add_option("name", flags.name, "Object name")->required();
  cmd->add_option("-z,--zone", flags.zone, "Zone");
  AddConnectionFlags(cmd, globals);
  cmd->callback([globals] { RunVerb([&] { return Edit(*globals, flags); }); });
}

}  // namespace causeway::cli
