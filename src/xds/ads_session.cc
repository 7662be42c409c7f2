#include "xds/ads_session.h"

#include <cstdio>

#include "common/status.h"
#include "common/strings.h"
#include "xds/translate_edge.h"

namespace causeway::xds {
namespace {

using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

// version_info of a type: a stable hash of every (name, version) the
// subscription covers, so equal states give equal versions across streams
// and hub restarts.
std::string StateVersion(const ResourceMap& resources) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    h ^= 0xff;
    h *= 1099511628211ULL;
  };
  for (const auto& [name, resource] : resources) {
    mix(name);
    mix(resource->version);
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

absl::Status CheckTypeUrl(std::string_view type_url, ResourceType* type, bool* served) {
  switch (ClassifyTypeUrl(type_url, type)) {
    case TypeUrlKind::kServed:
      *served = true;
      return absl::OkStatus();
    case TypeUrlKind::kV2:
      return absl::InvalidArgumentError(
          StrCat("xDS v2 type URL \"", type_url, "\" is not supported: use the v3 API"));
    case TypeUrlKind::kUnknown:
      if (type_url.empty()) {
        return absl::InvalidArgumentError("ADS requests must carry a type_url");
      }
      // Types we do not serve (secrets, runtime, ...) get no answer, like a
      // resource that does not exist.
      *served = false;
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

// A stream's names are bounded before they are trusted: a real proxy names
// at most a zone's clusters, listeners or routes (thousands), and a name is
// a resource name (a few hundred bytes). Beyond these a request is refused,
// ending the stream, rather than growing the hub's memory for it.
constexpr size_t kMaxNameBytes = 1024;

absl::Status CheckName(std::string_view name) {
  if (name.size() > kMaxNameBytes) {
    return absl::InvalidArgumentError(StrCat("a resource name of ", name.size(),
                                             " bytes is longer than the limit of ", kMaxNameBytes));
  }
  return absl::OkStatus();
}

absl::Status CheckCount(size_t count, std::string_view what) {
  if (count > AdsSession::kMaxNamesPerType) {
    return absl::ResourceExhaustedError(StrCat(what, ": ", count, " names, more than the limit of ",
                                               AdsSession::kMaxNamesPerType, " per type"));
  }
  return absl::OkStatus();
}

std::string Rfc3339(const std::optional<std::chrono::system_clock::time_point>& t) {
  return t ? FormatRfc3339(*t) : std::string();
}

}  // namespace

AdsSession::AdsSession(Variant variant, std::string peer, const TimeSource* time,
                       ServerMetrics* metrics)
    : variant_(variant),
      peer_(std::move(peer)),
      time_(time),
      metrics_(metrics),
      connected_at_(time->Now()) {
  metrics_->StreamOpened(variant_ == Variant::kDelta);
}

AdsSession::~AdsSession() { metrics_->StreamClosed(variant_ == Variant::kDelta); }

absl::StatusOr<NodeInfo> AdsSession::NodeOf(const envoy::config::core::v3::Node& node,
                                            bool present) {
  if (!present) {
    return absl::InvalidArgumentError("the first request of a stream must carry the node");
  }
  for (std::string_view field : {node.id(), node.cluster(), node.locality().zone()}) {
    if (field.size() > kMaxNameBytes) {
      return absl::InvalidArgumentError(StrCat(
          "a node field of ", field.size(), " bytes is longer than the limit of ", kMaxNameBytes));
    }
  }
  NodeInfo info{node.id(), node.cluster(), node.locality().zone()};
  auto edge = node.metadata().fields().find(std::string(kEdgeNodeMetadataField));
  info.edge = edge != node.metadata().fields().end() && edge->second.bool_value();
  return info;
}

void AdsSession::Identify(NodeInfo node, std::shared_ptr<const ZoneSnapshot> snapshot) {
  identified_ = true;
  node_ = std::move(node);
  snapshot_ = std::move(snapshot);
}

std::string AdsSession::NextNonce() { return std::to_string(++nonce_counter_); }

// --- what a subscription covers ---------------------------------------------

ResourcePtr AdsSession::Lookup(ResourceType type, const std::string& name) const {
  if (!snapshot_) return nullptr;
  const ZoneSnapshot::ProxyEntry* proxy = snapshot_->FindProxy(node_.proxy);
  switch (type) {
    case ResourceType::kListener: {
      if (proxy != nullptr) {
        const ResourceMap& listeners = node_.edge ? proxy->edge_listeners : proxy->listeners;
        auto it = listeners.find(name);
        if (it != listeners.end()) return it->second;
      }
      // Proxyless gRPC names the dial target "host:port".
      return snapshot_->FindApiListener(name);
    }
    case ResourceType::kRoute: {
      if (proxy == nullptr) return nullptr;
      auto it = proxy->routes.find(name);
      return it == proxy->routes.end() ? nullptr : it->second;
    }
    case ResourceType::kCluster:
      return snapshot_->FindCluster(name);
    case ResourceType::kEndpoint:
      return snapshot_->FindEndpoints(name);
  }
  return nullptr;
}

void AdsSession::AddWildcard(ResourceType type, ResourceMap* out) const {
  if (!snapshot_) return;
  const ZoneSnapshot::ProxyEntry* proxy = snapshot_->FindProxy(node_.proxy);
  switch (type) {
    case ResourceType::kListener:
      if (proxy != nullptr) {
        const ResourceMap& listeners = node_.edge ? proxy->edge_listeners : proxy->listeners;
        out->insert(listeners.begin(), listeners.end());
      }
      return;
    case ResourceType::kRoute:
      if (proxy != nullptr) out->insert(proxy->routes.begin(), proxy->routes.end());
      return;
    case ResourceType::kCluster:
    case ResourceType::kEndpoint: {
      std::set<std::string> clusters;
      if (proxy != nullptr) clusters.insert(proxy->clusters.begin(), proxy->clusters.end());
      // Clusters behind the api_listeners this stream asked for by name.
      for (const std::string& name : state(ResourceType::kListener).names) {
        if (proxy != nullptr && proxy->listeners.count(name) != 0) continue;
        const auto& of_domain = snapshot_->ClustersOfDomain(name);
        clusters.insert(of_domain.begin(), of_domain.end());
      }
      for (const std::string& name : clusters) {
        ResourcePtr r = Lookup(type, name);
        if (r) out->emplace(name, r);
      }
      return;
    }
  }
}

const AdsSession::Covered& AdsSession::CoveredOf(ResourceType type) const {
  CoveredSlot& slot = covered_[static_cast<int>(type)];
  const uint64_t sequence = snapshot_ ? snapshot_->sequence() : 0;
  if (slot.value && slot.sequence == sequence && slot.epoch == subscriptions_epoch_) {
    return *slot.value;
  }
  if (!snapshot_) {
    slot.value = ComputeCovered(type);
    slot.key.clear();
  } else {
    // The key depends on the subscriptions only: kept across snapshots.
    if (slot.key.empty() || slot.epoch != subscriptions_epoch_) slot.key = CoverageKey(type);
    slot.value = std::static_pointer_cast<const Covered>(
        snapshot_->Derived(slot.key, [&] { return ComputeCovered(type); }));
  }
  slot.sequence = sequence;
  slot.epoch = subscriptions_epoch_;
  return *slot.value;
}

std::shared_ptr<const AdsSession::Covered> AdsSession::ComputeCovered(ResourceType type) const {
  auto covered = std::make_shared<Covered>();
  const TypeState& s = state(type);
  if (s.requested) {
    if (s.wildcard) AddWildcard(type, &covered->resources);
    for (const std::string& name : s.names) {
      ResourcePtr r = Lookup(type, name);
      if (r) covered->resources.emplace(name, r);
    }
  }
  covered->version = StateVersion(covered->resources);
  return covered;
}

std::string AdsSession::CoverageKey(ResourceType type) const {
  // Unit and record separators cannot occur in names from the catalog or a
  // type's index, so distinct subscriptions give distinct keys.
  const TypeState& s = state(type);
  std::string key = StrCat("covered\x1e", static_cast<int>(type), "\x1e", node_.proxy, "\x1e",
                           s.requested ? "r" : "-", s.wildcard ? "w" : "-");
  for (const std::string& name : s.names) {
    key += '\x1f';
    key += name;
  }
  // Wildcard clusters and endpoints follow the api_listeners named in LDS.
  if (s.wildcard && (type == ResourceType::kCluster || type == ResourceType::kEndpoint)) {
    key += "\x1e";
    for (const std::string& name : state(ResourceType::kListener).names) {
      key += '\x1f';
      key += name;
    }
  }
  return key;
}

const ResourceMap& AdsSession::Desired(ResourceType type, ResourceMap& scratch,
                                       std::string* version) const {
  const Covered& covered = CoveredOf(type);
  // Make before break: a cluster the client has keeps being served while its
  // listeners or routes (which may still name it) are not yet up to date.
  if (type == ResourceType::kCluster && !RoutesSettled()) {
    const TypeState& s = state(type);
    bool extended = false;
    for (const auto& [name, resource] : s.has) {
      if (covered.resources.count(name) != 0) continue;
      if (!s.wildcard && s.names.count(name) == 0) continue;
      if (!extended) {
        scratch = covered.resources;
        extended = true;
      }
      scratch.emplace(name, resource);
    }
    if (extended) {
      if (version != nullptr) *version = StateVersion(scratch);
      return scratch;
    }
  }
  if (version != nullptr) *version = covered.version;
  return covered.resources;
}

bool AdsSession::RoutesSettled() const {
  for (ResourceType type : {ResourceType::kListener, ResourceType::kRoute}) {
    const TypeState& s = state(type);
    if (!s.requested) continue;
    if (s.in_flight) return false;
    for (const auto& [name, resource] : CoveredOf(type).resources) {
      auto it = s.has.find(name);
      // A difference the client rejected counts too: it still runs the
      // routes it had, and those may name clusters the new ones do not.
      if (it == s.has.end() || it->second->version != resource->version) return false;
    }
  }
  return true;
}

bool AdsSession::ClustersWarm() const {
  // Only responses in flight hold listeners and routes back: they always end
  // (ACK or NACK), so a client that waits for routes before subscribing to
  // new endpoints cannot deadlock with the server.
  return !state(ResourceType::kCluster).in_flight && !state(ResourceType::kEndpoint).in_flight;
}

// --- requests ---------------------------------------------------------------

absl::Status AdsSession::HandleRequest(const DiscoveryRequest& request, Outbox* out) {
  ResourceType type;
  bool served = false;
  if (absl::Status status = CheckTypeUrl(FromAbsl(request.type_url()), &type, &served);
      !status.ok()) {
    return status;
  }
  if (!served) return absl::OkStatus();
  TypeState& s = state(type);

  if (!request.response_nonce().empty()) {
    // Rule 6: only an answer to the latest response counts; anything older
    // was overtaken by a response the client has not seen yet.
    if (request.response_nonce() != s.last_nonce) return absl::OkStatus();
    if (s.in_flight) {
      Settle(type, request.has_error_detail(),
             std::string(FromAbsl(request.error_detail().message())));
    }
  }

  CW_RETURN_IF_ERROR(CheckCount(request.resource_names_size(), request.type_url()));
  for (const auto& name : request.resource_names()) CW_RETURN_IF_ERROR(CheckName(name));

  // Rules 7 and 10: this request's names replace the subscription.
  bool wildcard = false;
  std::set<std::string> names;
  for (const auto& name : request.resource_names()) {
    if (name == "*") {
      wildcard = true;
    } else {
      names.insert(name);
    }
  }
  if (request.resource_names().empty()) wildcard = !s.named_ever;
  if (!names.empty()) s.named_ever = true;

  const bool first = !s.requested;
  s.requested = true;
  if (first || wildcard != s.wildcard || names != s.names) {
    ++subscriptions_epoch_;
    for (const std::string& name : names) {
      if (s.names.count(name) == 0) s.force.insert(name);
    }
    for (const std::string& name : s.names) {
      if (names.count(name) == 0) {
        s.force.erase(name);
        if (!wildcard) s.has.erase(name);
      }
    }
    if (wildcard && !s.wildcard) {
      ResourceMap all;
      AddWildcard(type, &all);
      for (const auto& [name, r] : all) s.force.insert(name);
    }
    s.wildcard = wildcard;
    s.names = std::move(names);
    s.force_response = true;
  }
  Pump(out);
  MaybeObserveSync();
  return absl::OkStatus();
}

absl::Status AdsSession::HandleDeltaRequest(const DeltaDiscoveryRequest& request, Outbox* out) {
  ResourceType type;
  bool served = false;
  if (absl::Status status = CheckTypeUrl(FromAbsl(request.type_url()), &type, &served);
      !status.ok()) {
    return status;
  }
  if (!served) return absl::OkStatus();
  TypeState& s = state(type);

  if (!request.response_nonce().empty() && request.response_nonce() == s.last_nonce &&
      s.in_flight) {
    Settle(type, request.has_error_detail(),
           std::string(FromAbsl(request.error_detail().message())));
  }

  for (const auto& name : request.resource_names_subscribe()) CW_RETURN_IF_ERROR(CheckName(name));
  CW_RETURN_IF_ERROR(
      CheckCount(request.initial_resource_versions_size(), "initial_resource_versions"));
  for (const auto& [name, version] : request.initial_resource_versions()) {
    CW_RETURN_IF_ERROR(CheckName(name));
    CW_RETURN_IF_ERROR(CheckName(version));
  }
  // The subscription as it will be after this request, counted before any
  // of it is kept.
  size_t subscribed = s.names.size() + static_cast<size_t>(request.resource_names_subscribe_size());
  CW_RETURN_IF_ERROR(CheckCount(subscribed, request.type_url()));

  // Rule 16: subscription changes count even on a request with a stale nonce.
  const bool first = !s.requested;
  if (first || !request.resource_names_subscribe().empty() ||
      !request.resource_names_unsubscribe().empty()) {
    ++subscriptions_epoch_;
  }
  if (first) {
    s.requested = true;
    s.force_response = true;
    // Legacy wildcard: a first request naming nothing means everything.
    if (request.resource_names_subscribe().empty()) s.wildcard = true;
    for (const auto& [name, version] : request.initial_resource_versions()) {
      auto known = std::make_shared<Resource>();
      known->name = name;
      known->version = version;
      s.has[name] = std::move(known);
    }
  }
  for (const auto& name : request.resource_names_subscribe()) {
    if (name == "*") {
      s.wildcard = true;
      continue;
    }
    s.names.insert(name);
    s.force.insert(name);  // a re-subscribed name is sent again
  }
  for (const auto& name : request.resource_names_unsubscribe()) {
    if (name == "*") {
      s.wildcard = false;
      continue;
    }
    s.names.erase(name);
    s.force.erase(name);
    if (!s.wildcard) s.has.erase(name);
  }
  if (first) {
    // Reconnect: what the client already has at the current version is not
    // sent again.
    for (const auto& [name, version] : request.initial_resource_versions()) s.force.erase(name);
  }
  if (s.wildcard && request.resource_names_subscribe().size() == 1 &&
      request.resource_names_subscribe(0) == "*") {
    s.force_response = true;
  }
  Pump(out);
  MaybeObserveSync();
  return absl::OkStatus();
}

void AdsSession::OnSnapshot(std::shared_ptr<const ZoneSnapshot> snapshot, Outbox* out) {
  if (!identified_ || !snapshot || (snapshot_ && snapshot->sequence() <= snapshot_->sequence())) {
    return;
  }
  snapshot_ = std::move(snapshot);
  size_t before = out->messages.size();
  Pump(out);
  if (out->messages.size() > before && !unsynced_change_) {
    unsynced_change_ = snapshot_->change_time();
  }
}

// --- responses --------------------------------------------------------------

void AdsSession::Pump(Outbox* out) {
  for (ResourceType type : kPushOrder) {
    TypeState& s = state(type);
    if (!s.requested || s.in_flight) continue;  // rule 17: one un-ACKed push per type
    // Rule 14: listeners and routes wait until the clusters and endpoints
    // they may name have been answered, so a route never names a cluster the
    // client has not been sent.
    if ((type == ResourceType::kListener || type == ResourceType::kRoute) && !ClustersWarm()) {
      continue;
    }
    bool sent = variant_ == Variant::kDelta ? PumpDelta(type, out) : PumpSotw(type, out);
    if (sent) metrics_->Push(type);
  }
}

bool AdsSession::PumpSotw(ResourceType type, Outbox* out) {
  TypeState& s = state(type);
  ResourceMap scratch;
  std::string version;
  const ResourceMap& desired = Desired(type, scratch, &version);
  const bool complete = type == ResourceType::kListener || type == ResourceType::kCluster;

  ResourceMap send;
  if (complete) {
    // Rule 9: LDS/CDS responses carry the whole set. Rule 5: a state the
    // client rejected is not sent again until it changes.
    const bool changed = version != s.acked_version && version != s.nacked_version;
    if (!changed && !s.force_response) return false;
    send = desired;
  } else {
    for (const auto& [name, resource] : desired) {
      const bool forced = s.force.count(name) != 0;
      auto has = s.has.find(name);
      const bool stale = has == s.has.end() || has->second->version != resource->version;
      auto rejected = s.rejected.find(name);
      const bool was_rejected =
          rejected != s.rejected.end() && rejected->second == resource->version;
      if (forced || (stale && !was_rejected)) send.emplace(name, resource);
    }
    // The last response was rejected and the state moved on without any
    // resource the client lacks (e.g. the name it choked on was dropped from
    // the subscription): answer with the current state anyway, so the client
    // ACKs it and the NACK stops standing as the latest word in status.
    const bool nack_superseded = !desired.empty() && !s.last_nack_version.empty() &&
                                 s.sent_version == s.last_nack_version &&
                                 version != s.last_nack_version;
    if (send.empty() && nack_superseded) send = desired;
    if (send.empty()) {
      s.force.clear();  // named resources that do not exist are sent when created
      s.force_response = false;
      return false;
    }
  }

  DiscoveryResponse nonce_only;
  nonce_only.set_nonce(NextNonce());
  // `send` is taken from `desired`: as many resources means all of them.
  const bool whole = send.size() == desired.size();
  out->messages.push_back({SotwBody(type, version, send, whole), nonce_only.SerializeAsString()});

  s.last_nonce = std::move(*nonce_only.mutable_nonce());
  s.in_flight = true;
  s.in_flight_resources = std::move(send);
  s.in_flight_removed.clear();
  s.in_flight_version = version;
  s.sent_version = version;
  s.force.clear();
  s.force_response = false;
  return true;
}

std::shared_ptr<const std::string> AdsSession::SotwBody(ResourceType type,
                                                        const std::string& version,
                                                        const ResourceMap& send, bool whole) const {
  auto build = [&] {
    DiscoveryResponse response;
    response.set_type_url(std::string(TypeUrl(type)));
    response.set_version_info(version);
    for (const auto& [name, resource] : send) *response.add_resources() = resource->any;
    return std::make_shared<const std::string>(response.SerializeAsString());
  };
  if (!snapshot_) return build();
  // A resource's version is a hash of its content, so the names and versions
  // sent (with the state's version) say everything the body holds. Resources
  // a client kept from an older snapshot (make before break) key alike. The
  // state's version is the hash of every name and version of the state, so
  // a whole state is keyed by it alone (5,000 clusters make no long key).
  std::string key =
      StrCat("sotw-body\x1e", static_cast<int>(type), "\x1e", version, whole ? "\x1ewhole" : "");
  if (!whole) {
    for (const auto& [name, resource] : send) {
      key += '\x1f';
      key += name;
      key += '\x1e';
      key += resource->version;
    }
  }
  return std::static_pointer_cast<const std::string>(snapshot_->Derived(key, build));
}

bool AdsSession::PumpDelta(ResourceType type, Outbox* out) {
  TypeState& s = state(type);
  ResourceMap scratch;
  std::string version;
  const ResourceMap& desired = Desired(type, scratch, &version);

  ResourceMap send;
  for (const auto& [name, resource] : desired) {
    const bool forced = s.force.count(name) != 0;
    auto has = s.has.find(name);
    const bool stale = has == s.has.end() || has->second->version != resource->version;
    auto rejected = s.rejected.find(name);
    const bool was_rejected = rejected != s.rejected.end() && rejected->second == resource->version;
    // Entries known only from initial_resource_versions carry no content.
    if (resource->any.type_url().empty()) continue;
    if (forced || (stale && !was_rejected)) send.emplace(name, resource);
  }
  std::vector<std::string> removed;
  for (const auto& [name, resource] : s.has) {
    if (desired.count(name) != 0) continue;
    if (!s.wildcard && s.names.count(name) == 0) continue;
    auto rejected = s.rejected.find(name);
    if (rejected != s.rejected.end() && rejected->second.empty()) continue;
    removed.push_back(name);
  }
  // A newly subscribed name that does not exist is reported as removed, the
  // delta protocol's way of saying "does not exist".
  for (const std::string& name : s.force) {
    if (desired.count(name) == 0 && s.has.count(name) == 0) removed.push_back(name);
  }
  if (send.empty() && removed.empty() && !s.force_response) {
    s.force.clear();
    return false;
  }

  DeltaDiscoveryResponse response;
  response.set_type_url(std::string(TypeUrl(type)));
  response.set_system_version_info(version);
  response.set_nonce(NextNonce());
  for (const auto& [name, resource] : send) {
    auto* r = response.add_resources();
    r->set_name(name);
    r->set_version(resource->version);
    *r->mutable_resource() = resource->any;
  }
  for (const std::string& name : removed) response.add_removed_resources(name);

  s.last_nonce = response.nonce();
  s.in_flight = true;
  s.in_flight_resources = std::move(send);
  s.in_flight_removed = std::move(removed);
  s.in_flight_version = version;
  s.sent_version = version;
  s.force.clear();
  s.force_response = false;
  out->messages.push_back({std::make_shared<const std::string>(response.SerializeAsString()), {}});
  return true;
}

void AdsSession::Settle(ResourceType type, bool nack, const std::string& message) {
  TypeState& s = state(type);
  s.in_flight = false;
  if (nack) {
    metrics_->Nack(type);
    s.last_nack_message = message;
    s.last_nack_version = s.in_flight_version;
    s.last_nack_time = time_->Now();
    s.nacked_version = s.in_flight_version;
    for (const auto& [name, resource] : s.in_flight_resources) s.rejected[name] = resource->version;
    for (const std::string& name : s.in_flight_removed) s.rejected[name] = "";
  } else {
    metrics_->Ack(type);
    // What the client rejected of the other types may have failed on the
    // combination with what it held of this one (causeway-proxy validates
    // its whole set: a listener it cannot bind fails the CDS push that
    // arrives next). The client holds something new now, so those states
    // are offered once more; a rejection that does not depend on this type
    // comes back as a NACK, at most once per change of another type.
    for (TypeState& other : types_) {
      if (&other == &s) continue;
      other.nacked_version.clear();
      other.rejected.clear();
    }
    s.last_ack_time = time_->Now();
    s.acked_version = s.in_flight_version;
    const bool complete = variant_ == Variant::kStateOfTheWorld &&
                          (type == ResourceType::kListener || type == ResourceType::kCluster);
    if (complete) s.has.clear();
    for (auto& [name, resource] : s.in_flight_resources) s.has[name] = resource;
    for (const std::string& name : s.in_flight_removed) s.has.erase(name);
  }
  s.in_flight_resources.clear();
  s.in_flight_removed.clear();
}

void AdsSession::MaybeObserveSync() {
  if (!unsynced_change_) return;
  for (const TypeState& s : types_) {
    if (s.in_flight) return;
  }
  std::chrono::duration<double> elapsed = time_->Monotonic() - *unsynced_change_;
  metrics_->ObserveChangeToAck(elapsed.count());
  unsynced_change_.reset();
}

// --- status -----------------------------------------------------------------

nlohmann::json AdsSession::Status() const {
  nlohmann::json types = nlohmann::json::object();
  for (ResourceType type : kPushOrder) {
    const TypeState& s = state(type);
    if (!s.requested) continue;
    nlohmann::json t = {
        {"type_url", TypeUrl(type)},
        {"version_sent", s.sent_version},
        {"version_acked", s.acked_version},
        {"pending", s.in_flight},
        {"wildcard", s.wildcard},
        {"resource_names", s.names},
        {"last_ack_time", Rfc3339(s.last_ack_time)},
        {"last_nack", nullptr},
    };
    if (s.last_nack_time) {
      t["last_nack"] = {{"message", s.last_nack_message},
                        {"version", s.last_nack_version},
                        {"time", Rfc3339(s.last_nack_time)}};
    }
    types[std::string(TypeShortName(type))] = std::move(t);
  }
  const bool registered = snapshot_ && snapshot_->FindProxy(node_.proxy) != nullptr;
  return {
      {"node_id", node_.id},
      {"proxy", node_.proxy},
      {"zone", node_.zone},
      {"peer", peer_},
      {"variant", variant_ == Variant::kDelta ? "delta" : "sotw"},
      {"registered", registered},
      {"connected_at", FormatRfc3339(connected_at_)},
      {"snapshot_revision", snapshot_ ? snapshot_->revision() : 0},
      {"types", std::move(types)},
  };
}

nlohmann::json AdsSession::AckedResources() const {
  nlohmann::json out = nlohmann::json::object();
  for (ResourceType type : kPushOrder) {
    const TypeState& s = state(type);
    nlohmann::json list = nlohmann::json::array();
    for (const auto& [name, resource] : s.has) {
      if (resource->any.type_url().empty()) {
        list.push_back({{"name", name}, {"version", resource->version}});
      } else {
        list.push_back(ResourceToJson(*resource));
      }
    }
    out[std::string(TypeShortName(type))] = std::move(list);
  }
  return out;
}

}  // namespace causeway::xds
