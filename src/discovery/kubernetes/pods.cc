#include "discovery/kubernetes/pods.h"

namespace causeway::discovery {
namespace {

using model::Json;

// j[a][b]... as a string, or "" when absent or not a string.
std::string StringAt(const Json& j, std::initializer_list<const char*> path) {
  const Json* node = &j;
  for (const char* key : path) {
    if (!node->is_object() || !node->contains(key)) return "";
    node = &(*node)[key];
  }
  return node->is_string() ? node->get<std::string>() : "";
}

bool IsReady(const Json& pod) {
  if (StringAt(pod, {"status", "phase"}) != "Running") return false;
  if (!StringAt(pod, {"metadata", "deletionTimestamp"}).empty()) return false;  // terminating
  const Json& status = pod.value("status", Json::object());
  if (!status.contains("conditions") || !status["conditions"].is_array()) return false;
  for (const Json& condition : status["conditions"]) {
    if (StringAt(condition, {"type"}) == "Ready") return StringAt(condition, {"status"}) == "True";
  }
  return false;
}

std::optional<uint32_t> NamedPort(const Json& pod, const std::string& name) {
  const Json& spec = pod.value("spec", Json::object());
  for (const char* list : {"containers", "initContainers"}) {  // sidecars are init containers
    if (!spec.contains(list) || !spec[list].is_array()) continue;
    for (const Json& container : spec[list]) {
      if (!container.contains("ports") || !container["ports"].is_array()) continue;
      for (const Json& port : container["ports"]) {
        if (StringAt(port, {"name"}) == name && port.contains("containerPort") &&
            port["containerPort"].is_number_integer()) {
          const int64_t value = port["containerPort"].get<int64_t>();
          if (value > 0 && value <= 65535) return static_cast<uint32_t>(value);
        }
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<PodEntry> PodToEntry(const Json& pod, const PodOptions& options) {
  const Json& labels =
      pod.contains("metadata") ? pod["metadata"].value("labels", Json::object()) : Json::object();
  if (!labels.is_object() || !labels.contains(options.cluster_label) ||
      !labels[options.cluster_label].is_string()) {
    return std::nullopt;
  }
  PodEntry entry;
  entry.cluster = labels[options.cluster_label].get<std::string>();
  if (!model::IsValidName(entry.cluster)) return std::nullopt;
  if (!IsReady(pod)) return entry;
  const auto port = NamedPort(pod, options.port_name);
  if (!port) return entry;
  const bool host_network = pod.contains("spec") && pod["spec"].value("hostNetwork", false);
  const std::string host_ip = StringAt(pod, {"status", "hostIP"});
  const std::string address = host_network ? host_ip : StringAt(pod, {"status", "podIP"});
  if (address.empty()) return entry;
  model::Instance instance{address, *port, {}};
  for (const auto& [key, value] : labels.items()) {
    if (key != options.cluster_label && value.is_string()) {
      instance.metadata[key] = value.get<std::string>();
    }
  }
  const std::string node = StringAt(pod, {"spec", "nodeName"});
  if (!node.empty()) instance.metadata["node_name"] = node;
  if (!host_ip.empty()) instance.metadata["host_ip"] = host_ip;
  entry.instance = std::move(instance);
  return entry;
}

}  // namespace causeway::discovery
