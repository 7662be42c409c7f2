// `kubernetes:namespace=NS[,NS…];selector=SEL;cluster-label=L;port-name=P`:
// clusters from pods (see pods.h for which pods count and how).
//
// Per namespace, one thread lists the pods (in pages of `page_size`, linked
// by continue tokens; a token that expires mid-list starts the list over, and
// only a complete list is ever reported), then watches from the list's
// resourceVersion (with bookmarks, which keep that version fresh on quiet
// namespaces). A watch that ends (the server's timeout, a dropped
// connection) resumes from the last version seen, after a backoff when it
// failed; `410 Gone` (the version fell out of the server's history) drops
// the namespace's pods and lists again. The set is reported once every
// namespace has been listed, then on every change.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "discovery/collector.h"
#include "discovery/kubernetes/kube_config.h"
#include "discovery/kubernetes/kube_http.h"
#include "discovery/kubernetes/pods.h"

namespace causeway::discovery {

struct KubernetesSpec {
  std::vector<std::string> namespaces{"default"};
  std::string selector;  // label selector, as kubectl takes it
  PodOptions pod;
};

// Parses the part after "kubernetes:"; every key is optional.
absl::StatusOr<KubernetesSpec> ParseKubernetesSpec(std::string_view text);

class KubernetesCollector final : public Collector {
 public:
  struct Options {
    KubeConfig config;
    std::chrono::milliseconds min_backoff{500};
    std::chrono::milliseconds max_backoff{std::chrono::seconds(30)};
    std::chrono::seconds watch_timeout{300};  // asked of the server (timeoutSeconds)
    std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};
    int page_size = 500;  // `limit` of each list request, as kubectl and client-go use
  };
  KubernetesCollector(KubernetesSpec spec, Options options, std::string description);
  ~KubernetesCollector() override;

  std::string Describe() const override { return description_; }
  absl::Status Start(Callback on_change) override;
  void Stop() override;

 private:
  struct Namespace {
    std::string name;
    std::map<std::string, PodEntry> pods;  // by pod name
    bool listed = false;
    std::unique_ptr<KubeHttp> http;
    std::thread thread;
  };

  // A list whose continue token expires this many times in a row fails (and
  // is retried after a backoff) instead of starting over forever.
  static constexpr int kMaxListRestarts = 3;

  void Run(Namespace& ns);
  // Lists the namespace's pods (all pages); returns the list's resourceVersion.
  absl::StatusOr<std::string> List(Namespace& ns);
  // Reports the union of every namespace's pods if it changed. Holds mu_.
  void PublishLocked(std::chrono::steady_clock::time_point observed_at)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sleeps for `delay` unless stopped; false when stopped.
  bool Wait(std::chrono::milliseconds delay) ABSL_LOCKS_EXCLUDED(mu_);
  std::string PodsPath(const Namespace& ns) const;

  const KubernetesSpec spec_;
  const Options options_;
  const std::string description_;
  std::string selector_;  // spec selector plus the cluster label's existence
  Callback on_change_;

  // Also guards each namespace's pods and listed flag.
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::unique_ptr<Namespace>> namespaces_;
  std::optional<ClusterSet> last_ ABSL_GUARDED_BY(mu_);
};

}  // namespace causeway::discovery
