// AdsSession: the xDS protocol state of one ADS stream, without transport.
//
// The gRPC reactor feeds it requests and snapshots and writes out whatever
// responses it returns, in order. Keeping the protocol here (no gRPC, no
// threads, no locks; the caller serializes calls) makes every rule of
// docs/xds.md (its rule numbers) a property of this class:
//   - per type: subscription (wildcard and/or names), what the client has
//     accepted, the one response in flight (its nonce), NACKed versions;
//   - at most one un-ACKed response per type; whatever changes meanwhile is
//     folded into the next response, computed when the ACK arrives;
//   - pushes in the order CDS, EDS, LDS, RDS; clusters the client's routes may
//     still use are kept until the listeners and routes are in sync.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/time_source.h"
#include "envoy/service/discovery/v3/discovery.pb.h"
#include "nlohmann/json.hpp"
#include "xds/server_metrics.h"
#include "xds/snapshot.h"

namespace causeway::xds {

struct NodeInfo {
  std::string id;     // node.id: the instance
  std::string proxy;  // node.cluster: the Proxy object's name
  std::string zone;   // node.locality.zone
  // node.metadata "causeway.edge": true, an edge proxy, served listeners
  // with the routing-key guard (xds/translate_edge.h).
  bool edge = false;
};

class AdsSession {
 public:
  enum class Variant { kStateOfTheWorld, kDelta };

  // Names one stream may subscribe to per type (and list in Delta's
  // initial_resource_versions); a request beyond it ends the stream with
  // RESOURCE_EXHAUSTED. Resource and node names longer than 1 KiB end it
  // with INVALID_ARGUMENT.
  static constexpr size_t kMaxNamesPerType = 10000;

  // A response as it goes on the wire: the serialized message is `body`
  // followed by `nonce_field` (protobuf parses a concatenation as one
  // message). The body is written by reference, never copied per stream: a
  // state-of-the-world body is the same for every stream sent the same
  // resources of a snapshot, so it is serialized once per snapshot and
  // shared, and `nonce_field` holds the stream's nonce; a delta response is
  // serialized per stream, whole into `body`.
  struct WireMessage {
    std::shared_ptr<const std::string> body;
    std::string nonce_field;  // may be empty
  };
  struct Outbox {
    std::vector<WireMessage> messages;
    bool empty() const { return messages.empty(); }
  };

  AdsSession(Variant variant, std::string peer, const TimeSource* time, ServerMetrics* metrics);
  ~AdsSession();

  // The node of the stream's first request. InvalidArgument when the request
  // carries none (clients must send it first; later requests may omit it).
  static absl::StatusOr<NodeInfo> NodeOf(const envoy::config::core::v3::Node& node, bool present);

  // Called once, before the first request is handled, with the zone's current
  // snapshot.
  void Identify(NodeInfo node, std::shared_ptr<const ZoneSnapshot> snapshot);
  bool identified() const { return identified_; }
  const NodeInfo& node() const { return node_; }
  Variant variant() const { return variant_; }

  // Handle one request. A non-OK status ends the stream with that status
  // (v2 or missing type URLs).
  absl::Status HandleRequest(const envoy::service::discovery::v3::DiscoveryRequest& request,
                             Outbox* out);
  absl::Status HandleDeltaRequest(
      const envoy::service::discovery::v3::DeltaDiscoveryRequest& request, Outbox* out);

  // A newer snapshot of the zone; older or equal sequences are ignored.
  void OnSnapshot(std::shared_ptr<const ZoneSnapshot> snapshot, Outbox* out);

  // For /v1/zones/{z}/status.
  nlohmann::json Status() const;
  // The resources the client has ACKed, per type (for the config page).
  nlohmann::json AckedResources() const;

 private:
  struct TypeState {
    bool requested = false;  // any request of this type seen
    bool wildcard = false;
    bool named_ever = false;  // SotW rule 10: names once given end implicit wildcard
    std::set<std::string> names;
    std::set<std::string> force;  // send even if the client has this version
    bool force_response = false;  // answer even with nothing new (new subscription)

    std::string last_nonce;  // of the latest response of this type
    bool in_flight = false;
    ResourceMap in_flight_resources;
    std::vector<std::string> in_flight_removed;  // delta
    std::string in_flight_version;

    ResourceMap has;  // what the client accepted (or said it has, in delta)
    std::string sent_version, acked_version;
    std::string nacked_version;                   // SotW: full-state version rejected
    std::map<std::string, std::string> rejected;  // name -> version rejected ("" = removal)
    std::string last_nack_message, last_nack_version;
    std::optional<std::chrono::system_clock::time_point> last_ack_time, last_nack_time;
  };

  TypeState& state(ResourceType type) { return types_[static_cast<int>(type)]; }
  const TypeState& state(ResourceType type) const { return types_[static_cast<int>(type)]; }

  // What the subscription of `type` covers in the current snapshot and the
  // version of that state. One push and its ACK look at every type's state
  // several times, and every replica of a proxy subscribes alike: it is
  // computed once per snapshot and subscription (shared through
  // ZoneSnapshot::Derived) and remembered by the session until the snapshot
  // or any of its subscriptions changes.
  struct Covered {
    ResourceMap resources;
    std::string version;
  };
  struct CoveredSlot {
    std::shared_ptr<const Covered> value;
    uint64_t sequence = 0;  // of the snapshot it came from
    uint64_t epoch = 0;     // subscriptions_epoch_ it was taken at
    std::string key;        // the subscription at `epoch`, as a Derived key
  };
  const Covered& CoveredOf(ResourceType type) const;
  std::shared_ptr<const Covered> ComputeCovered(ResourceType type) const;
  // Everything CoveredOf's result depends on besides the snapshot.
  std::string CoverageKey(ResourceType type) const;
  // What `type` should hold now: what its subscription covers plus, for
  // clusters, the ones the client's routes may still name (make before
  // break). Sets `*version` to that state's version. The result is either
  // the remembered coverage or `scratch`.
  const ResourceMap& Desired(ResourceType type, ResourceMap& scratch, std::string* version) const;
  ResourcePtr Lookup(ResourceType type, const std::string& name) const;
  void AddWildcard(ResourceType type, ResourceMap* out) const;
  bool RoutesSettled() const;
  // Rule 14: listeners and routes wait while clusters or endpoints they may
  // name are un-ACKed.
  bool ClustersWarm() const;

  // Sends what each type needs, in push order.
  void Pump(Outbox* out);
  bool PumpSotw(ResourceType type, Outbox* out);
  bool PumpDelta(ResourceType type, Outbox* out);
  std::string NextNonce();
  // The serialized DiscoveryResponse of `send` at `version`, without its
  // nonce: built once per snapshot and shared by every stream sent the same.
  // `whole`: `send` is the entire state `version` stands for.
  std::shared_ptr<const std::string> SotwBody(ResourceType type, const std::string& version,
                                              const ResourceMap& send, bool whole) const;

  // Applies the ACK or NACK of the in-flight response of `type`.
  void Settle(ResourceType type, bool nack, const std::string& message);
  void MaybeObserveSync();

  const Variant variant_;
  const std::string peer_;
  const TimeSource* const time_;
  ServerMetrics* const metrics_;
  const std::chrono::system_clock::time_point connected_at_;

  bool identified_ = false;
  NodeInfo node_;
  std::shared_ptr<const ZoneSnapshot> snapshot_;
  std::array<TypeState, kResourceTypeCount> types_;
  uint64_t subscriptions_epoch_ = 0;  // moves whenever any subscription changes
  mutable std::array<CoveredSlot, kResourceTypeCount> covered_;
  uint64_t nonce_counter_ = 0;
  // Set when a snapshot caused pushes; cleared (and observed) once all are ACKed.
  std::optional<std::chrono::steady_clock::time_point> unsynced_change_;
};

}  // namespace causeway::xds
