// Conversions between YAML (what people write and read) and JSON (what the
// hub speaks), built on yaml-cpp and nlohmann-json.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/bounded_json.h"
#include "nlohmann/json.hpp"
#include "yaml-cpp/yaml.h"

namespace causeway::model {

using Json = nlohmann::json;

// Limits for YAML files (`apply -f`, `causeway-proxy --config`): those of a
// request body, except that a file may hold more values than a 1 MiB body.
// An alias counts every time it is used, so a few lines of aliases that
// expand to billions of values ("billion laughs") stop at max_values, and an
// alias inside its own anchor stops at max_depth.
inline constexpr JsonLimits kYamlLimits = {.max_values = 1000000};

// The JSON value of a YAML node. Plain (unquoted) scalars are typed with the
// YAML 1.2 core schema (null, true/false, integers, floats, else string);
// quoted scalars are always strings, so `port: "8888"` stays a string and the
// hub reports the type error instead of the CLI guessing. Limits are checked
// as the tree is walked; errors name the line ("line 7: nested deeper than 64
// levels"). `values`, when given, counts across calls (the documents of one
// file share their aliases' budget).
absl::StatusOr<Json> YamlToJson(const YAML::Node& node, const JsonLimits& limits = kYamlLimits,
                                size_t* values = nullptr);

// Runs yaml-cpp's event parser over `text` before any node tree is built
// or walked, and stops it
//   - at the first collection deeper than `max_depth`: "line 3, column 65:
//     nested deeper than 64 levels";
//   - where it stops making progress: yaml-cpp 0.7 reports a stray flow
//     indicator (a lone ",") as an endless run of empty documents, and
//     YAML::LoadAll collects them until memory runs out: "line 1, column 1:
//     not valid YAML: no node can start here".
// Other syntax errors are left to the caller's YAML::Load (OK here).
absl::Status CheckYamlStructure(const std::string& text, size_t max_depth);

// The JSON value a plain scalar `text` denotes (core schema). Numbers JSON
// cannot hold stay text: "1e999" (beyond a double) is the string "1e999".
Json PlainScalarToJson(std::string_view text);

// Block-style YAML for `value`. Object keys come out as "kind", "name",
// "zone" first, then alphabetically, so documents read like the ones people
// write. Strings that would read back as another type are quoted.
std::string JsonToYaml(const Json& value);

// Several documents separated by "---".
std::string JsonToYamlDocuments(const std::vector<Json>& documents);

}  // namespace causeway::model
