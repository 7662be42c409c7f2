// Reading object documents from files (apply, create, delete -f), checking
// them locally, and putting them in the order their references resolve.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/objects.h"
#include "model/yaml_json.h"
#include "yaml-cpp/yaml.h"

namespace causeway::model {

// One object document and where it came from, so that every error — ours or
// the hub's — can name the file, the document number and the line.
struct Document {
  std::string file;  // as given by the user; "-" is "<stdin>"
  int number = 0;    // 1-based position among the file's "---" documents
  int item = -1;     // index when the document is a list of objects, else -1
  YAML::Node node;   // for finding the line of a field
  Json json;         // as written
  model::ParsedObject parsed;

  // "seed.yaml: document 3" or "seed.yaml: document 2, item 4".
  std::string Where() const;
  // The 1-based line of `field` ("rules[0].targets[1].cluster") in the
  // document, or of the document itself when the field is not found.
  int LineOf(const std::string& field) const;
};

// The error for `status` (a model/hub error naming a field) in `doc`:
// "seed.yaml:14: document 3 (Route dev-local/api): path: must start with /".
absl::Status DocumentError(const Document& doc, const absl::Status& status);

// Parses the multi-document YAML/JSON `text` from `file` and validates each
// document with model::ParseAnyObject. Empty documents are skipped but still
// counted, so numbers match what the user sees between "---" lines. A
// document that is a list holds several objects.
absl::StatusOr<std::vector<Document>> ParseDocuments(const std::string& file,
                                                     const std::string& text);

// Reads FILE, every *.yaml/*.yml/*.json directly inside DIR (sorted by name),
// or stdin for "-", and parses them as above. An object named twice is an
// error naming both places.
absl::StatusOr<std::vector<Document>> ReadDocuments(const std::vector<std::string>& paths);

// Dependency rank of a kind: objects of lower rank are referred to by those
// of higher rank (Zone < Cluster < Domain < RouteGroup < Proxy < Route).
int KindRank(model::Kind kind);

// Sorts keys (or anything with a `.key`) so that references resolve in
// order; deletions use the reverse. Stable within a kind.
void SortForApply(std::vector<Document>& docs);

// The document `apply` sends for `doc`: the user's fields as parsed
// (canonical spec, kind, name, zone), without server metadata.
Json ApplyJson(const model::ParsedObject& parsed);

// An object from the hub without server metadata (version, created_at,
// updated_at) and with empty values dropped, as export-zone and edit show it.
Json PortableJson(const Json& api_object);

}  // namespace causeway::model
