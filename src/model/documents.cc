#include "model/documents.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>

#include "absl/strings/numbers.h"
#include "common/status.h"
#include "common/strings.h"

namespace causeway::model {
namespace {

// Splits "rules[0].targets[1].cluster" into "rules", 0, "targets", 1, "cluster".
struct PathStep {
  std::string key;  // empty for an index step
  size_t index = 0;
};

std::vector<PathStep> SplitFieldPath(const std::string& field) {
  std::vector<PathStep> steps;
  std::string current;
  for (size_t i = 0; i < field.size(); ++i) {
    char c = field[i];
    if (c == '.' || c == '[') {
      if (!current.empty()) steps.push_back({current, 0});
      current.clear();
      if (c == '[') {
        size_t close = field.find(']', i);
        if (close == std::string::npos) break;
        size_t index = 0;
        if (absl::SimpleAtoi(field.substr(i + 1, close - i - 1), &index)) {
          steps.push_back({"", index});
        }
        i = close;
      }
      continue;
    }
    current.push_back(c);
  }
  if (!current.empty()) steps.push_back({current, 0});
  return steps;
}

absl::Status ReadPath(const std::string& path, std::string* text) {
  if (path == "-") {
    text->assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    return absl::OkStatus();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(StrCat(path, ": cannot read the file"));
  std::stringstream ss;
  ss << in.rdbuf();
  *text = ss.str();
  return absl::OkStatus();
}

// The string at `key`, or "" when it is missing or not a string (where
// Json::value would throw: `name: 5`, or `name:` with no value).
std::string StringField(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool IsDocumentFile(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

}  // namespace

std::string Document::Where() const {
  std::string where = StrCat(file, ": document ", number);
  if (item >= 0) where += StrCat(", item ", item + 1);
  return where;
}

int Document::LineOf(const std::string& field) const {
  YAML::Node current = node;
  int line = node.Mark().line;
  for (const PathStep& step : SplitFieldPath(field)) {
    // Copy-construct (never assign) nodes: assigning a missing key's node
    // throws, and assigning to a bound node rewrites the document.
    const YAML::Node& const_current = current;
    if (step.key.empty()) {
      if (!current.IsSequence() || step.index >= current.size()) break;
    } else if (!current.IsMap()) {
      break;
    }
    YAML::Node next = step.key.empty() ? const_current[step.index] : const_current[step.key];
    if (!next.IsDefined()) break;
    // reset() rebinds; operator= would overwrite the node in the document.
    current.reset(next);
    if (current.Mark().line >= 0) line = current.Mark().line;
  }
  return line < 0 ? 0 : line + 1;
}

absl::Status DocumentError(const Document& doc, const absl::Status& status) {
  std::string field = ErrorField(status);
  std::string what;
  if (!doc.parsed.key.name.empty()) what = StrCat(" (", model::KeyString(doc.parsed.key), ")");
  std::string message(status.message());
  int line = doc.LineOf(field);
  std::string place =
      line > 0 ? StrCat(doc.file, ":", line, ": document ", doc.number) : doc.Where();
  if (line > 0 && doc.item >= 0) place += StrCat(", item ", doc.item + 1);
  if (!field.empty() && message.rfind(field + ":", 0) != 0) message = StrCat(field, ": ", message);
  absl::Status out(status.code(), StrCat(place, what, ": ", message));
  if (!field.empty()) out.SetPayload(ToAbsl(kFieldPayload), absl::Cord(ToAbsl(field)));
  return out;
}

absl::StatusOr<std::vector<Document>> ParseDocuments(const std::string& file,
                                                     const std::string& text) {
  // yaml-cpp's parser recurses once per level, and LoadAll loops forever on
  // a stray ',' (yaml-cpp 0.7): the event pass stops both, naming the line,
  // before a tree is built.
  if (absl::Status checked = CheckYamlStructure(text, kYamlLimits.max_depth); !checked.ok()) {
    return absl::InvalidArgumentError(StrCat(file, ": ", checked.message()));
  }
  std::vector<YAML::Node> nodes;
  try {
    nodes = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(StrCat(file, ":", e.mark.line + 1, ":", e.mark.column + 1,
                                             ": not valid YAML or JSON: ", e.msg));
  }
  std::vector<Document> docs;
  size_t values = 0;  // the file's documents share one budget (aliases span items)
  for (size_t n = 0; n < nodes.size(); ++n) {
    const YAML::Node& node = nodes[n];
    if (node.IsNull()) continue;
    std::vector<std::pair<int, YAML::Node>> items;
    if (node.IsSequence()) {
      for (size_t i = 0; i < node.size(); ++i) items.push_back({static_cast<int>(i), node[i]});
    } else {
      items.push_back({-1, node});
    }
    for (auto& [item, item_node] : items) {
      Document doc;
      doc.file = file;
      doc.number = static_cast<int>(n) + 1;
      doc.item = item;
      doc.node = item_node;
      absl::StatusOr<Json> json = YamlToJson(item_node, kYamlLimits, &values);
      if (!json.ok())
        return absl::InvalidArgumentError(StrCat(doc.Where(), ": ", json.status().message()));
      doc.json = *std::move(json);
      if (!doc.json.is_object()) {
        return DocumentError(doc, absl::InvalidArgumentError(
                                      "must be an object with kind, name and the object's fields"));
      }
      absl::StatusOr<model::ParsedObject> parsed = model::ParseAnyObject(doc.json);
      if (!parsed.ok()) {
        // Name what we can of the object even though it did not parse.
        doc.parsed.key.name = StringField(doc.json, "name");
        if (auto kind = model::ParseKind(StringField(doc.json, "kind"));
            kind && !doc.parsed.key.name.empty()) {
          doc.parsed.key.kind = *kind;
          doc.parsed.key.zone =
              *kind == model::Kind::kZone ? doc.parsed.key.name : StringField(doc.json, "zone");
        } else {
          doc.parsed.key.name.clear();
        }
        return DocumentError(doc, parsed.status());
      }
      doc.parsed = *std::move(parsed);
      docs.push_back(std::move(doc));
    }
  }
  return docs;
}

absl::StatusOr<std::vector<Document>> ReadDocuments(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const std::string& path : paths) {
    std::error_code ec;
    if (path != "-" && std::filesystem::is_directory(path, ec)) {
      std::vector<std::string> inside;
      for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
        if (entry.is_regular_file() && IsDocumentFile(entry.path()))
          inside.push_back(entry.path().string());
      }
      if (ec) return absl::NotFoundError(StrCat(path, ": ", ec.message()));
      std::sort(inside.begin(), inside.end());
      if (inside.empty())
        return absl::NotFoundError(StrCat(path, ": no .yaml, .yml or .json files"));
      files.insert(files.end(), inside.begin(), inside.end());
    } else {
      files.push_back(path);
    }
  }
  std::vector<Document> all;
  std::map<model::ObjectKey, std::string> seen;
  for (const std::string& file : files) {
    std::string text;
    CW_RETURN_IF_ERROR(ReadPath(file, &text));
    CW_ASSIGN_OR_RETURN(std::vector<Document> docs,
                        ParseDocuments(file == "-" ? "<stdin>" : file, text));
    for (Document& doc : docs) {
      auto [it, inserted] = seen.emplace(doc.parsed.key, doc.Where());
      if (!inserted) {
        return absl::InvalidArgumentError(StrCat(doc.Where(), ": ",
                                                 model::KeyString(doc.parsed.key),
                                                 " is also defined in ", it->second));
      }
      all.push_back(std::move(doc));
    }
  }
  if (all.empty()) return absl::InvalidArgumentError("no objects in the input");
  return all;
}

int KindRank(model::Kind kind) {
  switch (kind) {
    case model::Kind::kZone:
      return 0;
    case model::Kind::kCluster:
      return 1;
    case model::Kind::kDomain:
      return 2;
    case model::Kind::kRouteGroup:
      return 3;
    case model::Kind::kProxy:
      return 4;
    case model::Kind::kRoute:
      return 5;
    case model::Kind::kIntercept:
      return 6;
  }
  return 7;
}

void SortForApply(std::vector<Document>& docs) {
  std::stable_sort(docs.begin(), docs.end(), [](const Document& a, const Document& b) {
    return KindRank(a.parsed.key.kind) < KindRank(b.parsed.key.kind);
  });
}

Json ApplyJson(const model::ParsedObject& parsed) {
  Json j = parsed.spec;
  j["kind"] = model::KindName(parsed.key.kind);
  j["name"] = parsed.key.name;
  if (parsed.key.kind != model::Kind::kZone) j["zone"] = parsed.key.zone;
  if (parsed.version) j["version"] = std::to_string(*parsed.version);
  return j;
}

namespace {

Json DropEmpty(const Json& value) {
  if (value.is_object()) {
    Json out = Json::object();
    for (auto it = value.begin(); it != value.end(); ++it) {
      Json v = DropEmpty(it.value());
      // An empty `tls` is not an empty value: it turns TLS on with the
      // defaults (the system's CA bundle, no SNI).
      if (it.key() == "tls" && v.is_object()) {
        out[it.key()] = std::move(v);
        continue;
      }
      if (v.is_null() || ((v.is_array() || v.is_object()) && v.empty()) ||
          (v.is_string() && v.get<std::string>().empty())) {
        continue;
      }
      out[it.key()] = std::move(v);
    }
    return out;
  }
  if (value.is_array()) {
    Json out = Json::array();
    for (const Json& v : value) out.push_back(DropEmpty(v));
    return out;
  }
  return value;
}

}  // namespace

Json PortableJson(const Json& api_object) {
  Json j = api_object;
  if (j.is_object()) {
    j.erase("version");
    j.erase("created_at");
    j.erase("updated_at");
  }
  return DropEmpty(j);
}

}  // namespace causeway::model
