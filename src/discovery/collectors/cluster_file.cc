#include "discovery/collectors/cluster_file.h"

#include <yaml-cpp/yaml.h>

#include <string>

#include "common/status.h"
#include "common/strings.h"
#include "model/objects.h"
#include "nlohmann/json.hpp"

namespace causeway::discovery {
namespace {

absl::Status ErrorAt(const YAML::Node& node, std::string_view field, std::string_view message) {
  const YAML::Mark mark = node.Mark();
  std::string where;
  if (!mark.is_null()) where = StrCat("line ", mark.line + 1, ", column ", mark.column + 1, ": ");
  return absl::InvalidArgumentError(ToAbsl(StrCat(where, field, ": ", message)));
}

absl::Status CheckKeys(const YAML::Node& map, std::string_view field,
                       std::initializer_list<std::string_view> allowed) {
  for (const auto& entry : map) {
    const std::string key = entry.first.Scalar();
    bool known = false;
    for (std::string_view a : allowed) known = known || key == a;
    if (!known) return ErrorAt(entry.first, StrCat(field, ".", key), "unknown field");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ScalarString(const YAML::Node& node, std::string_view field) {
  if (!node.IsScalar()) return ErrorAt(node, field, "must be a string");
  return node.Scalar();
}

absl::Status ParseMetadata(const YAML::Node& node, std::string_view field,
                           std::map<std::string, std::string>& out) {
  if (node.IsNull()) return absl::OkStatus();
  if (node.IsMap()) {
    for (const auto& entry : node) {
      const std::string key = entry.first.Scalar();
      auto value = ScalarString(entry.second, StrCat(field, ".", key));
      if (!value.ok()) return value.status();
      out[key] = *value;
    }
    return absl::OkStatus();
  }
  if (node.IsSequence()) {  // Rotor's [{key: k, value: v}]
    for (size_t i = 0; i < node.size(); ++i) {
      const std::string item = StrCat(field, "[", i, "]");
      const YAML::Node& pair = node[i];
      if (!pair.IsMap()) return ErrorAt(pair, item, "must be {key, value}");
      CW_RETURN_IF_ERROR(CheckKeys(pair, item, {"key", "value"}));
      if (!pair["key"]) return ErrorAt(pair, StrCat(item, ".key"), "is required");
      auto key = ScalarString(pair["key"], StrCat(item, ".key"));
      if (!key.ok()) return key.status();
      std::string value;
      if (pair["value"]) {
        auto v = ScalarString(pair["value"], StrCat(item, ".value"));
        if (!v.ok()) return v.status();
        value = *v;
      }
      out[*key] = value;
    }
    return absl::OkStatus();
  }
  return ErrorAt(node, field, "must be a map of strings");
}

absl::StatusOr<model::Instance> ParseInstance(const YAML::Node& node, std::string_view field) {
  if (!node.IsMap()) return ErrorAt(node, field, "must be {host, port, metadata}");
  CW_RETURN_IF_ERROR(CheckKeys(node, field, {"host", "port", "metadata"}));
  model::Instance instance;
  if (!node["host"]) return ErrorAt(node, StrCat(field, ".host"), "is required");
  auto host = ScalarString(node["host"], StrCat(field, ".host"));
  if (!host.ok()) return host.status();
  if (host->empty()) return ErrorAt(node["host"], StrCat(field, ".host"), "must not be empty");
  instance.host = *host;
  if (!node["port"]) return ErrorAt(node, StrCat(field, ".port"), "is required");
  int64_t port = 0;
  if (!node["port"].IsScalar() || !YAML::convert<int64_t>::decode(node["port"], port)) {
    return ErrorAt(node["port"], StrCat(field, ".port"), "must be an integer");
  }
  if (port < 1 || port > 65535) {
    return ErrorAt(node["port"], StrCat(field, ".port"), "must be 1..65535");
  }
  instance.port = static_cast<uint32_t>(port);
  if (node["metadata"]) {
    CW_RETURN_IF_ERROR(
        ParseMetadata(node["metadata"], StrCat(field, ".metadata"), instance.metadata));
  }
  return instance;
}

}  // namespace

// Why a second reader: yaml-cpp reads JSON too, but about ten times slower
// than nlohmann::json; an agent under churn (file collectors rewritten
// every few milliseconds) spent a fifth of its CPU in it. This path takes only
// what it can read unambiguously and hands everything else to the YAML path.
std::optional<ClusterSet> ParseCanonicalJson(std::string_view text) {
  const nlohmann::json root = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_array()) return std::nullopt;
  ClusterSet clusters;
  for (const nlohmann::json& entry : root) {
    if (!entry.is_object()) return std::nullopt;
    const nlohmann::json* name = nullptr;
    const nlohmann::json* list = nullptr;
    for (const auto& [key, value] : entry.items()) {
      if (key == "cluster") {
        name = &value;
      } else if (key == "instances") {
        list = &value;
      } else {
        return std::nullopt;
      }
    }
    if (name == nullptr || !name->is_string()) return std::nullopt;
    const auto& cluster = name->get_ref<const std::string&>();
    if (!model::IsValidName(cluster)) return std::nullopt;
    Instances& instances = clusters[cluster];
    if (list == nullptr || list->is_null()) continue;
    if (!list->is_array()) return std::nullopt;
    for (const nlohmann::json& item : *list) {
      if (!item.is_object()) return std::nullopt;
      model::Instance instance;
      bool has_port = false;
      for (const auto& [key, value] : item.items()) {
        if (key == "host") {
          if (!value.is_string()) return std::nullopt;
          instance.host = value.get<std::string>();
        } else if (key == "port") {
          if (!value.is_number_integer()) return std::nullopt;
          const int64_t port = value.get<int64_t>();
          if (port < 1 || port > 65535) return std::nullopt;
          instance.port = static_cast<uint32_t>(port);
          has_port = true;
        } else if (key == "metadata") {
          if (value.is_null()) continue;
          if (!value.is_object()) return std::nullopt;
          for (const auto& [meta_key, meta_value] : value.items()) {
            if (!meta_value.is_string()) return std::nullopt;
            instance.metadata[meta_key] = meta_value.get<std::string>();
          }
        } else {
          return std::nullopt;
        }
      }
      if (instance.host.empty() || !has_port) return std::nullopt;
      instances.push_back(std::move(instance));
    }
  }
  Normalize(clusters);
  return clusters;
}

absl::StatusOr<ClusterSet> ParseClusterFile(std::string_view text) {
  if (std::optional<ClusterSet> fast = ParseCanonicalJson(text)) return *std::move(fast);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        ToAbsl(StrCat("line ", e.mark.line + 1, ", column ", e.mark.column + 1, ": ", e.msg)));
  }
  ClusterSet clusters;
  if (root.IsNull()) return clusters;
  if (!root.IsSequence()) return ErrorAt(root, "(top level)", "must be a list of clusters");
  try {
    for (size_t i = 0; i < root.size(); ++i) {
      const std::string field = StrCat("[", i, "]");
      const YAML::Node& entry = root[i];
      if (!entry.IsMap()) return ErrorAt(entry, field, "must be {cluster, instances}");
      CW_RETURN_IF_ERROR(CheckKeys(entry, field, {"cluster", "instances"}));
      if (!entry["cluster"]) return ErrorAt(entry, StrCat(field, ".cluster"), "is required");
      auto name = ScalarString(entry["cluster"], StrCat(field, ".cluster"));
      if (!name.ok()) return name.status();
      if (!model::IsValidName(*name)) {
        return ErrorAt(
            entry["cluster"], StrCat(field, ".cluster"),
            StrCat("\"", *name, "\" is not a valid name ([a-z0-9]([a-z0-9.-]*[a-z0-9])?)"));
      }
      Instances& instances = clusters[*name];
      const YAML::Node& list = entry["instances"];
      if (!list || list.IsNull()) continue;
      if (!list.IsSequence()) return ErrorAt(list, StrCat(field, ".instances"), "must be a list");
      for (size_t j = 0; j < list.size(); ++j) {
        auto instance = ParseInstance(list[j], StrCat(field, ".instances[", j, "]"));
        if (!instance.ok()) return instance.status();
        instances.push_back(*std::move(instance));
      }
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(ToAbsl(StrCat("line ", e.mark.line + 1, ": ", e.msg)));
  }
  Normalize(clusters);
  return clusters;
}

}  // namespace causeway::discovery
