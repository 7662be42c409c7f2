// The state-of-the-world ADS protocol as seen by a client, without I/O: it
// turns responses into ACKs, NACKs and subscription changes, and decides when
// a resource set is complete enough to hand to the data plane.
//
// Make-before-break: a response that leaves the set inconsistent (a listener
// naming a route configuration not yet received, an EDS cluster without its
// assignment, a route naming an unknown cluster) is held, un-ACKed, while the
// missing resources are requested; the set is applied once it is complete or
// when the warming timeout expires, whichever comes first. The ACK waits for
// the apply because only the whole set can be validated (the data plane
// builds one snapshot from it): when the apply fails, every response that
// went into the rejected set is NACKed with the error and rolled back, so the
// server's view of what this client accepted matches what it serves.
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
    std::array<std::string, kXdsTypeCount> versions;  // last accepted, per XdsType
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

 private:
  struct Pending {
    std::string version;
    std::string nonce;
    size_t count = 0;
  };
  struct TypeState {
    std::string nonce;                          // latest response nonce on this stream
    std::optional<std::set<std::string>> sent;  // names last requested on this stream
    std::optional<Pending> pending;             // response held while warming
  };

  // Decodes `response` into `received_`; InvalidArgument when it cannot be used.
  absl::Status Receive(XdsType type, const Response& response);
  // Applies the received set when complete (or `force`), then ACKs or NACKs
  // the pending responses and updates the subscriptions.
  void TryApply(bool force, std::vector<Request>& out);
  // Names the current received set needs for `type` (RDS/EDS); empty for the
  // wildcard types.
  std::set<std::string> Wanted(XdsType type) const;
  Request MakeRequest(XdsType type, const std::string& error);
  // Sends RDS/EDS subscription changes for types not already in `out`.
  void UpdateSubscriptions(std::vector<Request>& out);

  envoy::config::core::v3::Node node_;
  ApplyFn apply_;
  const TimeSource* time_;
  std::chrono::milliseconds warming_timeout_;

  bool node_sent_ = false;
  std::array<TypeState, kXdsTypeCount> types_;
  std::array<std::string, kXdsTypeCount> accepted_version_;
  // What the server sent, including responses still warming.
  XdsResources received_;
  std::shared_ptr<const XdsResources> applied_;
  std::optional<std::chrono::steady_clock::time_point> warming_deadline_;
  // Names given up on after a warming timeout: they no longer hold back
  // later sets until they arrive (Envoy's initial_fetch_timeout, once).
  MissingResources abandoned_;
  Counters counters_;
};

}  // namespace causeway::proxy
