#include "discovery/kubernetes/kubernetes_collector.h"

#include <random>

#include "common/strings.h"
#include "model/objects.h"
#include "spdlog/spdlog.h"

namespace causeway::discovery {

using model::Json;
using Clock = std::chrono::steady_clock;

absl::StatusOr<KubernetesSpec> ParseKubernetesSpec(std::string_view text) {
  KubernetesSpec spec;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(';', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view part = text.substr(start, end - start);
    start = end + 1;
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      return absl::InvalidArgumentError(
          ToAbsl(StrCat("kubernetes collector: expected key=value, got \"", part, "\"")));
    }
    const std::string_view key = part.substr(0, eq);
    const std::string value(part.substr(eq + 1));
    if (key == "namespace") {
      spec.namespaces.clear();
      size_t s = 0;
      while (s <= value.size()) {
        size_t e = value.find(',', s);
        if (e == std::string::npos) e = value.size();
        if (e > s) spec.namespaces.push_back(value.substr(s, e - s));
        s = e + 1;
      }
      if (spec.namespaces.empty()) {
        return absl::InvalidArgumentError("kubernetes collector: empty namespace list");
      }
    } else if (key == "selector") {
      spec.selector = value;
    } else if (key == "cluster-label") {
      spec.pod.cluster_label = value;
    } else if (key == "port-name") {
      spec.pod.port_name = value;
    } else {
      return absl::InvalidArgumentError(
          ToAbsl(StrCat("kubernetes collector: unknown key \"", key,
                        "\" (namespace, selector, cluster-label, port-name)")));
    }
  }
  if (spec.pod.cluster_label.empty() || spec.pod.port_name.empty()) {
    return absl::InvalidArgumentError("kubernetes collector: empty cluster-label or port-name");
  }
  return spec;
}

KubernetesCollector::KubernetesCollector(KubernetesSpec spec, Options options,
                                         std::string description)
    : spec_(std::move(spec)), options_(std::move(options)), description_(std::move(description)) {
  // Only pods that carry the cluster label are ours: let the server filter.
  selector_ = spec_.selector.empty() ? spec_.pod.cluster_label
                                     : StrCat(spec_.selector, ",", spec_.pod.cluster_label);
}

KubernetesCollector::~KubernetesCollector() { Stop(); }

absl::Status KubernetesCollector::Start(Callback on_change) {
  on_change_ = std::move(on_change);
  for (const std::string& name : spec_.namespaces) {
    auto ns = std::make_unique<Namespace>();
    ns->name = name;
    ns->http = std::make_unique<KubeHttp>(options_.config);
    namespaces_.push_back(std::move(ns));
  }
  for (auto& ns : namespaces_) {
    Namespace* raw = ns.get();
    ns->thread = std::thread([this, raw] { Run(*raw); });
  }
  return absl::OkStatus();
}

void KubernetesCollector::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (auto& ns : namespaces_) {
    ns->http->Cancel();
    if (ns->thread.joinable()) ns->thread.join();
  }
}

bool KubernetesCollector::Wait(std::chrono::milliseconds delay) {
  absl::MutexLock lock(&mu_);
  return !mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::FromChrono(delay));
}

std::string KubernetesCollector::PodsPath(const Namespace& ns) const {
  return StrCat("/api/v1/namespaces/", UrlEncode(ns.name),
                "/pods?labelSelector=", UrlEncode(selector_));
}

void KubernetesCollector::PublishLocked(Clock::time_point observed_at) {
  ClusterSet clusters;
  for (const auto& ns : namespaces_) {
    if (!ns->listed) return;  // not complete yet
    for (const auto& [pod, entry] : ns->pods) {
      Instances& instances = clusters[entry.cluster];
      if (entry.instance) instances.push_back(*entry.instance);
    }
  }
  Normalize(clusters);
  if (last_ && *last_ == clusters) return;
  last_ = clusters;
  size_t instances = 0;
  for (const auto& [name, list] : clusters) instances += list.size();
  spdlog::info("discovery: {}: {} clusters, {} ready instances", description_, clusters.size(),
               instances);
  on_change_(Snapshot{std::move(clusters), observed_at});
}

absl::StatusOr<std::string> KubernetesCollector::List(Namespace& ns) {
  // The pages of one list are gathered here and published only when the last
  // one has arrived: a list cut short (an error, an expired continue token)
  // must never reach the hub as a namespace with fewer pods, or none.
  std::map<std::string, PodEntry> pods;
  std::string continue_token;
  std::string resource_version;
  int restarts = 0;
  while (true) {
    std::string target = StrCat(PodsPath(ns), "&limit=", options_.page_size);
    if (!continue_token.empty()) target += StrCat("&continue=", UrlEncode(continue_token));
    auto response = ns.http->Get(target, options_.request_timeout);
    if (!response.ok()) return response.status();
    if (response->status == 410 && !continue_token.empty()) {
      // The continue token outlived the server's history (a slow list of a
      // large namespace): the pages so far belong to a snapshot that is gone,
      // so start over from the first page rather than publish them.
      if (++restarts > kMaxListRestarts) {
        return absl::UnavailableError(
            ToAbsl(StrCat("list pods in ", ns.name, ": continue token expired ", restarts,
                          " times in a row (410 Gone)")));
      }
      spdlog::info("discovery: {}: continue token of {} expired (410 Gone); listing from the start",
                   description_, ns.name);
      pods.clear();
      continue_token.clear();
      continue;
    }
    if (response->status != 200) {
      return absl::UnavailableError(ToAbsl(
          StrCat("list pods in ", ns.name, ": HTTP ", response->status, ": ", response->body)));
    }
    const Json list = Json::parse(response->body, nullptr, false);
    if (!list.is_object() || !list.contains("items") || !list["items"].is_array()) {
      return absl::UnavailableError(ToAbsl(StrCat("list pods in ", ns.name, ": not a PodList")));
    }
    for (const Json& pod : list["items"]) {
      const std::string name = pod.contains("metadata") ? pod["metadata"].value("name", "") : "";
      if (auto entry = PodToEntry(pod, spec_.pod)) pods[name] = *std::move(entry);
    }
    const Json& meta = list.value("metadata", Json::object());
    continue_token = meta.value("continue", "");
    resource_version = meta.value("resourceVersion", "");
    if (continue_token.empty()) break;
  }
  absl::MutexLock lock(&mu_);
  ns.pods = std::move(pods);
  ns.listed = true;
  PublishLocked(Clock::now());
  return resource_version;
}

void KubernetesCollector::Run(Namespace& ns) {
  std::mt19937 rng(std::random_device{}());
  auto backoff = options_.min_backoff;
  // Waits the current backoff (with up to 20% jitter, so agents that lost
  // the same API server do not come back in step) and doubles it.
  auto wait_backoff = [&] {
    const auto jitter = std::uniform_int_distribution<int64_t>(0, backoff.count() / 5)(rng);
    const bool go_on = Wait(backoff + std::chrono::milliseconds(jitter));
    backoff = std::min(backoff * 2, options_.max_backoff);
    return go_on;
  };
  std::string resource_version;
  bool need_list = true;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    if (need_list) {
      auto listed = List(ns);
      if (!listed.ok()) {
        if (absl::IsCancelled(listed.status())) return;
        spdlog::warn("discovery: {}: {}; retrying in {} ms", description_,
                     FromAbsl(listed.status().message()), backoff.count());
        if (!wait_backoff()) return;
        continue;
      }
      resource_version = *listed;
      need_list = false;
    }
    const std::string target =
        StrCat(PodsPath(ns),
               "&watch=1&allowWatchBookmarks=true&resourceVersion=", UrlEncode(resource_version),
               "&timeoutSeconds=", options_.watch_timeout.count());
    bool gone = false;
    bool errored = false;
    int lines = 0;
    std::string error_body;
    const auto started = Clock::now();
    auto ended = ns.http->Stream(
        target, options_.watch_timeout + std::chrono::seconds(30),
        [&](std::string_view line) {
          ++lines;
          const Json event = Json::parse(line, nullptr, false);
          if (!event.is_object()) return true;
          const std::string type = event.value("type", "");
          const Json& object = event.contains("object") ? event["object"] : Json::object();
          if (type == "ERROR") {
            const int code = object.value("code", 0);
            if (code == 410) {
              gone = true;
            } else {
              errored = true;
              spdlog::warn("discovery: {}: watch error in {}: {}", description_, ns.name,
                           object.dump());
            }
            return false;
          }
          const Json& meta = object.value("metadata", Json::object());
          const std::string rv = meta.value("resourceVersion", "");
          if (!rv.empty()) resource_version = rv;
          if (type == "BOOKMARK") return true;
          const std::string name = meta.value("name", "");
          const auto observed_at = Clock::now();
          absl::MutexLock lock(&mu_);
          if (type == "DELETED") {
            ns.pods.erase(name);
          } else if (type == "ADDED" || type == "MODIFIED") {
            if (auto entry = PodToEntry(object, spec_.pod)) {
              ns.pods[name] = *std::move(entry);
            } else {
              ns.pods.erase(name);  // its cluster label was removed
            }
          }
          PublishLocked(observed_at);
          return true;
        },
        &error_body);
    if (!ended.ok()) {
      if (absl::IsCancelled(ended.status())) return;
      spdlog::warn("discovery: {}: watch of {} broke: {}; resuming from {} in {} ms", description_,
                   ns.name, FromAbsl(ended.status().message()), resource_version, backoff.count());
      if (!wait_backoff()) return;
      continue;
    }
    if (*ended == 410 || gone) {
      spdlog::info("discovery: {}: resourceVersion {} of {} is too old (410 Gone); listing again",
                   description_, resource_version, ns.name);
      need_list = true;
      continue;
    }
    if (*ended != 200) {
      spdlog::warn("discovery: {}: watch of {}: HTTP {}: {}; retrying in {} ms", description_,
                   ns.name, *ended, error_body, backoff.count());
      if (!wait_backoff()) return;
      continue;
    }
    if (errored) {
      if (!wait_backoff()) return;
    } else if (lines > 0 || Clock::now() - started > std::chrono::seconds(5)) {
      backoff = options_.min_backoff;  // a healthy watch that ended: resume at once
    } else if (!wait_backoff()) {
      return;  // ended at once with nothing: do not spin
    }
  }
}

}  // namespace causeway::discovery
