// The state-of-the-world ADS protocol as seen by a client, without I/O: it
// turns responses into ACKs, NACKs and subscription changes, and decides when
// a resource set is complete enough to hand to the data plane.
//
// Make-before-break: a response that leaves the set inconsistent (a listener
// naming a route configuration not yet received, an EDS cluster without its
// assignment, a route naming an unknown cluster) is ACKed and kept warming
// while the missing resources are requested; the set is applied once it is
// complete or when the warming timeout expires, whichever comes first. The
// response that completes the set is ACKed or NACKed by the apply's outcome.
//
// Why warming responses are ACKed at once (as Envoy does) rather than held
// until the whole set validates: a server sends nothing more of a type while
// its last response of that type is un-ACKed, and servers hold routes back
// until clusters and endpoints are ACKed (make-before-break on their side),
// so holding an ACK can deadlock until the warming timeout. When the set a
// warming response joined is rejected, that response can no longer be
// NACKed: it stays received, as the server believes (its later responses
// build on it), the NACK of the response that completed the set carries the
// error, and the data plane keeps the last good set.
//
// Not thread-safe: the xDS client drives it from its one event loop thread.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/time_source.h"
#include "envoy/service/discovery/v3/discovery.pb.h"
#include "proxy/xds_client/resources.h"

namespace causeway::proxy {

class AdsState {
 public:
  using ApplyFn = std::function<absl::Status(const XdsResources&)>;
  using Request = envoy::service::discovery::v3::DiscoveryRequest;
  using Response = envoy::service::discovery::v3::DiscoveryResponse;

  struct Counters {
    uint64_t accepted = 0;  // responses ACKed
    uint64_t rejected = 0;  // responses NACKed
    uint64_t applies = 0;   // resource sets handed to apply successfully
    std::string last_error;
    // Per XdsType, the version of the set the data plane runs (responses
    // ACKed while warming show once their set applies).
    std::array<std::string, kXdsTypeCount> versions;
  };

  AdsState(envoy::config::core::v3::Node node, ApplyFn apply, const TimeSource* time,
           std::chrono::milliseconds warming_timeout);

  // A new stream: forgets the previous stream's nonces and subscriptions and
  // returns the requests that re-request everything (the node on the first).
  std::vector<Request> OnStreamStart();
  // The stream ended: responses still warming are dropped (their nonces mean
  // nothing on the next stream, and the server resends them there).
  void OnStreamEnd();
  // Returns the requests to send in answer to `response`.
  std::vector<Request> OnResponse(const Response& response);
  // Applies a warming set whose deadline has passed; returns the ACKs/NACKs.
  std::vector<Request> OnTick();

  // When OnTick has work to do, if ever.
  std::optional<std::chrono::steady_clock::time_point> warming_deadline() const {
    return warming_deadline_;
  }
  // The set last applied successfully (never null).
  std::shared_ptr<const XdsResources> applied() const { return applied_; }
  const Counters& counters() const { return counters_; }
  // Listeners whose HTTP connection managers have been unpacked so far: one
  // per listener received, not per response (for tests).
  uint64_t listener_unpacks() const { return listener_routes_.computed(); }

 private:
  struct Pending {
    std::string version;
    std::string nonce;
    size_t count = 0;
  };
  struct TypeState {
    std::string nonce;                          // latest response nonce on this stream
    std::optional<std::set<std::string>> sent;  // names last requested on this stream
    std::optional<Pending> pending;             // response not yet answered
  };

  // The RDS and EDS names the received listeners and clusters reference:
  // what to subscribe to. Both point into the memos below and stay valid;
  // they describe `received_` as of the Wanted() call that returned them.
  struct WantedNames {
    const std::set<std::string>* routes;
    const std::set<std::string>* endpoints;
    // Empty for the wildcard types.
    const std::set<std::string>& Of(XdsType type) const;
  };

  // Decodes `response` into `received_`; InvalidArgument when it cannot be used.
  absl::Status Receive(XdsType type, const Response& response);
  // Applies the received set when complete (or `force`), then ACKs or NACKs
  // the pending responses and updates the subscriptions.
  void TryApply(bool force, std::vector<Request>& out);
  // ACKs the responses that joined a still-incomplete set.
  void AckWarming(const WantedNames& wanted, std::vector<Request>& out);
  // Forgets warming responses (the stream ended: the next stream starts from
  // what serves).
  void RollBackWarming(const std::string& why);
  // The names the received set wants now (see WantedNames).
  WantedNames Wanted();
  Request MakeRequest(XdsType type, const std::string& error, const WantedNames& wanted);
  // Sends RDS/EDS subscription changes for types not already in `out`.
  void UpdateSubscriptions(const WantedNames& wanted, std::vector<Request>& out);

  envoy::config::core::v3::Node node_;
  ApplyFn apply_;
  const TimeSource* time_;
  std::chrono::milliseconds warming_timeout_;

  bool node_sent_ = false;
  std::array<TypeState, kXdsTypeCount> types_;
  std::array<std::string, kXdsTypeCount> accepted_version_;
  // What the server sent, including responses still warming.
  XdsResources received_;
  // Per type, the content of the last ACKed response: what a NACK returns to.
  // Shared with `applied_` after a successful apply (they are equal then);
  // copied when a warming ACK changes it.
  std::shared_ptr<const XdsResources> acked_;
  // The names the received resources reference, kept between responses so
  // a response costs what it changed: a listener's HTTP connection managers
  // are unpacked once per listener received, not on every response.
  ReferenceMemo<envoy::config::listener::v3::Listener> listener_routes_;
  ReferenceMemo<envoy::config::cluster::v3::Cluster> cluster_endpoints_;
  ReferenceMemo<envoy::config::route::v3::RouteConfiguration> route_clusters_;
  std::shared_ptr<const XdsResources> applied_;
  std::optional<std::chrono::steady_clock::time_point> warming_deadline_;
  // Types ACKed while their response was still warming (see above).
  std::set<XdsType> acked_warming_;
  // Per type, the version of the set last applied (what rollbacks return to).
  std::array<std::string, kXdsTypeCount> applied_version_;
  // Names given up on after a warming timeout: they no longer hold back
  // later sets until they arrive (Envoy's initial_fetch_timeout, once).
  MissingResources abandoned_;
  Counters counters_;
};

}  // namespace causeway::proxy
