// Conversions between YAML (what people write and read) and JSON (what the
// hub speaks), built on yaml-cpp and nlohmann-json.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "yaml-cpp/yaml.h"

namespace causeway::model {

using Json = nlohmann::json;

// The JSON value of a YAML node. Plain (unquoted) scalars are typed with the
// YAML 1.2 core schema (null, true/false, integers, floats, else string);
// quoted scalars are always strings, so `port: "8888"` stays a string and the
// hub reports the type error instead of the CLI guessing.
absl::StatusOr<Json> YamlToJson(const YAML::Node& node);

// The JSON value a plain scalar `text` denotes (core schema).
Json PlainScalarToJson(std::string_view text);

// Block-style YAML for `value`. Object keys come out as "kind", "name",
// "zone" first, then alphabetically, so documents read like the ones people
// write. Strings that would read back as another type are quoted.
std::string JsonToYaml(const Json& value);

// Several documents separated by "---".
std::string JsonToYamlDocuments(const std::vector<Json>& documents);

}  // namespace causeway::model
