// RelayAuthenticator: the relay xDS server's StreamAuthenticator
// (`causeway agent --xds ADDR --xds-auth token`). Tokens live in the hub's
// store, so the relay asks the hub (POST /v1/tokens/introspect, with the
// agent's own token) what a proxy's secret stands for, and keeps the answer:
//
//   - a positive answer for `positive_ttl` (at most 30 s): new streams and
//     the xDS server's periodic rechecks of live streams answer from it, and
//     ask the hub again once it is older. A token revoked on the hub thus
//     ends a relayed stream within `positive_ttl` plus one recheck period
//     (plus the hub's own token table age, two seconds);
//   - a negative answer (unknown, revoked, expired, or not of the agent's
//     zone: the hub tells an agent nothing else) for `negative_ttl`, so a
//     client retrying a bad token costs the hub one request per period;
//   - an expiry the hub named is checked on every call, hub or not.
//
// When the hub cannot be asked (down, 5xx, refusing the agent's token), a
// token whose answer is still within its life is honoured; any other is
// refused with UNAVAILABLE (the relay never fails open), and Recheck says
// UNAVAILABLE, which keeps live streams up (xds/stream_auth.h).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/time_source.h"
#include "discovery/agent/proxy_reporter.h"
#include "xds/stream_auth.h"

namespace causeway::discovery {

// What the hub said of one secret: nullopt when it is not active (for this
// agent). `expires_at_ms` is Unix ms, 0 for never.
struct IntrospectedToken {
  xds::StreamIdentity identity;
  int64_t expires_at_ms = 0;
};
using IntrospectAnswer = std::optional<IntrospectedToken>;

// Asks the hub through `sender` (ProxyReporter::HttpSender: the agent's
// current hub, its token, failover). UNAVAILABLE when no answer could be had,
// naming why.
absl::StatusOr<IntrospectAnswer> IntrospectOnHub(const ProxyReporter::Sender& sender,
                                                 const std::string& secret);

class RelayAuthenticator final : public xds::StreamAuthenticator {
 public:
  using Introspect = std::function<absl::StatusOr<IntrospectAnswer>(const std::string& secret)>;
  struct Options {
    std::chrono::milliseconds positive_ttl{30000};
    std::chrono::milliseconds negative_ttl{3000};
    // Answers kept at most; beyond it the expired ones, then all negative
    // ones are dropped (a client spraying secrets cannot grow the cache).
    size_t max_entries = 10000;
  };
  static constexpr std::chrono::milliseconds kMaxPositiveTtl{30000};

  // `introspect` is called one at a time (it may hold one connection).
  RelayAuthenticator(Introspect introspect, const TimeSource* time, Options options);

  absl::StatusOr<xds::StreamIdentity> Authenticate(const std::string& secret) override;
  absl::Status Recheck(const std::string& secret, const xds::StreamIdentity& identity) override;

 private:
  struct Entry {
    IntrospectAnswer answer;
    std::chrono::steady_clock::time_point fetched;
  };
  // The answer for `secret`, from the cache while it is fresh, else asked.
  absl::StatusOr<IntrospectAnswer> Lookup(const std::string& secret);
  bool Fresh(const Entry& entry) const;
  void Store(const std::string& secret, IntrospectAnswer answer);
  absl::StatusOr<xds::StreamIdentity> Verdict(const IntrospectAnswer& answer) const;

  const Introspect introspect_;
  const TimeSource* const time_;
  const Options options_;
  mutable absl::Mutex mu_;
  std::map<std::string, Entry> cache_ ABSL_GUARDED_BY(mu_);  // by secret; in memory only
  absl::Mutex ask_mu_ ABSL_ACQUIRED_BEFORE(mu_);             // one hub request at a time
  std::optional<std::chrono::steady_clock::time_point> last_failure_ ABSL_GUARDED_BY(ask_mu_);
  std::string last_failure_message_ ABSL_GUARDED_BY(ask_mu_);
};

}  // namespace causeway::discovery
