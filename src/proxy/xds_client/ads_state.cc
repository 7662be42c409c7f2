#include "proxy/xds_client/ads_state.h"

#include <utility>

#include "common/logging.h"
#include "common/status.h"
#include "common/strings.h"
#include "spdlog/spdlog.h"

namespace causeway::proxy {
namespace {

bool IsWildcard(XdsType type) { return type == XdsType::kListener || type == XdsType::kCluster; }

int Index(XdsType type) { return static_cast<int>(type); }

// Decodes the resources of `response` into `out`, rejecting what Envoy
// rejects before looking at the contents: foreign types, unnamed and
// duplicated resources.
template <typename Message, typename NameFn>
absl::Status Decode(const AdsState::Response& response, NameFn name_of, ResourceMap<Message>& out) {
  for (int i = 0; i < response.resources_size(); ++i) {
    const google::protobuf::Any& any = response.resources(i);
    if (any.type_url() != response.type_url()) {
      return absl::InvalidArgumentError(StrCat("resources[", i, "]: type ", any.type_url(),
                                               " in a response of type ", response.type_url()));
    }
    auto message = std::make_shared<Message>();
    if (!any.UnpackTo(message.get())) {
      return absl::InvalidArgumentError(
          StrCat("resources[", i, "]: cannot be parsed as ", response.type_url()));
    }
    const std::string& name = name_of(*message);
    if (name.empty()) {
      return absl::InvalidArgumentError(StrCat("resources[", i, "]: empty name"));
    }
    if (out.contains(name)) {
      return absl::InvalidArgumentError(StrCat("resources[", i, "]: duplicate resource ", name));
    }
    out.emplace(name, std::shared_ptr<const Message>(std::move(message)));
  }
  return absl::OkStatus();
}

// LDS and CDS responses are complete: they replace. RDS and EDS responses
// may name only some resources: they update those.
template <typename Message>
void Store(XdsType type, ResourceMap<Message>&& decoded, ResourceMap<Message>& into) {
  if (IsWildcard(type)) {
    into = std::move(decoded);
    return;
  }
  for (auto& [name, message] : decoded) into.insert_or_assign(name, std::move(message));
}

// `a` without the names in `b`.
std::set<std::string> Minus(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::set<std::string> out;
  for (const auto& name : a) {
    if (!b.contains(name)) out.insert(name);
  }
  return out;
}

std::set<std::string> Intersect(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::set<std::string> out;
  for (const auto& name : a) {
    if (b.contains(name)) out.insert(name);
  }
  return out;
}

// How many resources of `held` are named in `names` (merge walk).
template <typename Map>
size_t CountNamed(const Map& held, const std::set<std::string>& names) {
  size_t count = 0;
  auto it = names.begin();
  for (const auto& [name, resource] : held) {
    while (it != names.end() && *it < name) ++it;
    if (it == names.end()) break;
    if (*it == name) ++count;
  }
  return count;
}

// The resources of `map` named in `names`.
template <typename Map>
Map OnlyNamed(const Map& map, const std::set<std::string>& names) {
  Map out;
  for (const auto& entry : map) {
    if (names.contains(entry.first)) out.emplace_hint(out.end(), entry);
  }
  return out;
}

}  // namespace

AdsState::AdsState(envoy::config::core::v3::Node node, ApplyFn apply, const TimeSource* time,
                   std::chrono::milliseconds warming_timeout)
    : node_(std::move(node)),
      apply_(std::move(apply)),
      time_(time),
      warming_timeout_(warming_timeout),
      acked_(std::make_shared<const XdsResources>()),
      applied_(acked_) {}

std::vector<AdsState::Request> AdsState::OnStreamStart() {
  node_sent_ = false;
  for (auto& state : types_) {
    state.nonce.clear();
    state.sent.reset();
    state.pending.reset();
  }
  // LDS and CDS always (wildcard); RDS and EDS only when something needs
  // them, since an empty first request of a type would mean "everything".
  std::vector<Request> out;
  WantedNames wanted = Wanted();
  for (XdsType type : kAllXdsTypes) {
    if (IsWildcard(type) || !wanted.Of(type).empty()) out.push_back(MakeRequest(type, "", wanted));
  }
  return out;
}

void AdsState::OnStreamEnd() {
  for (XdsType type : kAllXdsTypes) {
    auto& state = types_[Index(type)];
    if (!state.pending) continue;
    received_.CopyType(type, *applied_);
    state.pending.reset();
  }
  warming_deadline_.reset();
  // On the next stream the server resends what it has; re-requesting with the
  // versions that serve keeps a version-aware server from skipping them.
  RollBackWarming("stream ended");
}

std::vector<AdsState::Request> AdsState::OnResponse(const Response& response) {
  std::vector<Request> out;
  XdsType type;
  if (!TypeFromUrl(response.type_url(), &type)) {
    // Never subscribed to: nothing to ACK, and a NACK would be noise.
    spdlog::warn("xds: ignoring a response of unexpected type {}", JsonEscape(response.type_url()));
    return out;
  }
  auto& state = types_[Index(type)];
  state.nonce = response.nonce();
  spdlog::debug("xds: received {} version {} nonce {} ({} resources)", ShortName(type),
                JsonEscape(response.version_info()), JsonEscape(response.nonce()),
                response.resources_size());
  absl::Status status = Receive(type, response);
  if (!status.ok()) {
    // Defensive: responses are answered within the call that received them.
    if (state.pending) {
      received_.CopyType(type, *acked_);
      state.pending.reset();
    }
    ++counters_.rejected;
    counters_.last_error = StrCat(ShortName(type), ": ", status.message());
    spdlog::warn("xds: rejected {} version {}: {}", ShortName(type),
                 JsonEscape(response.version_info()), JsonEscape(FromAbsl(status.message())));
    WantedNames wanted = Wanted();
    out.push_back(MakeRequest(type, std::string(status.message()), wanted));
    UpdateSubscriptions(wanted, out);
    return out;
  }
  state.pending = Pending{response.version_info(), response.nonce(),
                          static_cast<size_t>(response.resources_size())};
  TryApply(/*force=*/false, out);
  return out;
}

std::vector<AdsState::Request> AdsState::OnTick() {
  std::vector<Request> out;
  if (warming_deadline_ && time_->Monotonic() >= *warming_deadline_) {
    TryApply(/*force=*/true, out);
  }
  return out;
}

absl::Status AdsState::Receive(XdsType type, const Response& response) {
  switch (type) {
    case XdsType::kListener: {
      ListenerMap decoded;
      CW_RETURN_IF_ERROR(Decode(
          response, [](const auto& m) -> const std::string& { return m.name(); }, decoded));
      Store(type, std::move(decoded), received_.listeners);
      break;
    }
    case XdsType::kRoute: {
      RouteMap decoded;
      CW_RETURN_IF_ERROR(Decode(
          response, [](const auto& m) -> const std::string& { return m.name(); }, decoded));
      Store(type, std::move(decoded), received_.routes);
      break;
    }
    case XdsType::kCluster: {
      ClusterMap decoded;
      CW_RETURN_IF_ERROR(Decode(
          response, [](const auto& m) -> const std::string& { return m.name(); }, decoded));
      Store(type, std::move(decoded), received_.clusters);
      break;
    }
    case XdsType::kEndpoint: {
      EndpointMap decoded;
      CW_RETURN_IF_ERROR(Decode(
          response, [](const auto& m) -> const std::string& { return m.cluster_name(); }, decoded));
      Store(type, std::move(decoded), received_.endpoints);
      break;
    }
  }
  return absl::OkStatus();
}

void AdsState::TryApply(bool force, std::vector<Request>& out) {
  // The references of the received set, computed once for this response and
  // reused below; resources not changed since the last response are not
  // looked at again (see ReferenceMemo).
  WantedNames wanted = Wanted();
  // Received routes and assignments nothing references are left out of the
  // set (PruneUnreferenced); usually there are none.
  const bool all_routes_wanted =
      CountNamed(received_.routes, *wanted.routes) == received_.routes.size();
  const bool all_endpoints_wanted =
      CountNamed(received_.endpoints, *wanted.endpoints) == received_.endpoints.size();
  // FindMissing of that set: its clusters are those of the wanted routes.
  const std::set<std::string>* route_clusters = &route_clusters_.Of(received_.routes);
  std::set<std::string> wanted_route_clusters;
  if (!all_routes_wanted) {
    for (const auto& [name, config] : received_.routes) {
      if (!wanted.routes->contains(name)) continue;
      const std::vector<std::string>* names = route_clusters_.NamesOf(name);
      wanted_route_clusters.insert(names->begin(), names->end());
    }
    route_clusters = &wanted_route_clusters;
  }
  MissingResources missing =
      FindMissing(received_, *wanted.routes, *wanted.endpoints, *route_clusters);
  // Abandoned names stop mattering once they arrive or nothing needs them.
  abandoned_.routes = Intersect(abandoned_.routes, missing.routes);
  abandoned_.endpoints = Intersect(abandoned_.endpoints, missing.endpoints);
  abandoned_.clusters = Intersect(abandoned_.clusters, missing.clusters);
  MissingResources blocking{Minus(missing.routes, abandoned_.routes),
                            Minus(missing.endpoints, abandoned_.endpoints),
                            Minus(missing.clusters, abandoned_.clusters)};
  if (!blocking.empty() && !force) {
    if (!warming_deadline_) {
      warming_deadline_ = time_->Monotonic() + warming_timeout_;
      spdlog::info("xds: warming, waiting for {}", JsonEscape(blocking.ToString()));
    }
    AckWarming(wanted, out);
    UpdateSubscriptions(wanted, out);
    return;
  }
  if (!blocking.empty()) {
    spdlog::warn("xds: warming timed out after {} ms, applying without {}",
                 warming_timeout_.count(), JsonEscape(blocking.ToString()));
    abandoned_.routes.merge(blocking.routes);
    abandoned_.endpoints.merge(blocking.endpoints);
    abandoned_.clusters.merge(blocking.clusters);
  }
  warming_deadline_.reset();

  XdsResources candidate;
  candidate.listeners = received_.listeners;
  candidate.clusters = received_.clusters;
  candidate.routes =
      all_routes_wanted ? received_.routes : OnlyNamed(received_.routes, *wanted.routes);
  candidate.endpoints = all_endpoints_wanted ? received_.endpoints
                                             : OnlyNamed(received_.endpoints, *wanted.endpoints);
  absl::Status status = apply_(candidate);
  std::string error;
  if (status.ok()) {
    applied_ = std::make_shared<const XdsResources>(std::move(candidate));
    ++counters_.applies;
  } else {
    error = std::string(status.message());
    if (error.empty()) error = std::string(absl::StatusCodeToString(status.code()));
    counters_.last_error = error;
  }
  for (XdsType type : kAllXdsTypes) {
    auto& state = types_[Index(type)];
    if (!state.pending) continue;
    if (status.ok()) {
      accepted_version_[Index(type)] = state.pending->version;
      ++counters_.accepted;
      if (spdlog::should_log(spdlog::level::info)) {
        spdlog::info("xds: accepted {} version {} ({} resources)", ShortName(type),
                     JsonEscape(state.pending->version), applied_->Count(type));
      }
    } else {
      // The NACKed response is forgotten: back to what was last ACKed of
      // this type, which is what the server now believes this client has.
      received_.CopyType(type, *acked_);
      ++counters_.rejected;
      spdlog::warn("xds: rejected {} version {} ({} resources): {}", ShortName(type),
                   JsonEscape(state.pending->version), state.pending->count, JsonEscape(error));
    }
  }
  if (status.ok()) {
    applied_version_ = accepted_version_;
    counters_.versions = applied_version_;
  } else if (!acked_warming_.empty()) {
    // Responses ACKed while warming stay received: the server counts them as
    // this client's and builds what it sends next on them (forgetting them
    // would leave the two sides disagreeing, e.g. on which clusters the
    // routes still name). Only the data plane keeps the last good set.
    spdlog::warn(
        "xds: keeping the warming responses the server saw ACKed; the data plane stays "
        "on the last good set");
  }
  acked_warming_.clear();
  if (status.ok()) {
    // Forget RDS/EDS resources nothing references any more: what is
    // received is now what applied, and what is ACKed.
    if (!all_routes_wanted) received_.routes = applied_->routes;
    if (!all_endpoints_wanted) received_.endpoints = applied_->endpoints;
    acked_ = applied_;
  } else {
    // The NACK put back what was ACKed: it may want other names.
    wanted = Wanted();
  }
  for (XdsType type : kAllXdsTypes) {
    auto& state = types_[Index(type)];
    if (!state.pending) continue;
    out.push_back(MakeRequest(type, error, wanted));
    state.pending.reset();
  }
  UpdateSubscriptions(wanted, out);
}

void AdsState::AckWarming(const WantedNames& wanted, std::vector<Request>& out) {
  std::shared_ptr<XdsResources> acked;  // copied from acked_ on the first change
  for (XdsType type : kAllXdsTypes) {
    auto& state = types_[Index(type)];
    if (!state.pending) continue;
    accepted_version_[Index(type)] = state.pending->version;
    ++counters_.accepted;
    spdlog::info("xds: accepted {} version {} ({} resources), warming", ShortName(type),
                 JsonEscape(state.pending->version), state.pending->count);
    out.push_back(MakeRequest(type, "", wanted));
    state.pending.reset();
    acked_warming_.insert(type);
    if (!acked) acked = std::make_shared<XdsResources>(*acked_);
    acked->CopyType(type, received_);
  }
  if (acked) acked_ = std::move(acked);
}

void AdsState::RollBackWarming(const std::string& why) {
  for (XdsType type : acked_warming_) {
    spdlog::warn("xds: dropping warming {} version {}: {}", ShortName(type),
                 JsonEscape(accepted_version_[Index(type)]), JsonEscape(why));
    received_.CopyType(type, *applied_);
    if (acked_ != applied_) {
      auto acked = std::make_shared<XdsResources>(*acked_);
      acked->CopyType(type, *applied_);
      acked_ = std::move(acked);
    }
    accepted_version_[Index(type)] = applied_version_[Index(type)];
    counters_.versions[Index(type)] = applied_version_[Index(type)];
  }
  acked_warming_.clear();
}

const std::set<std::string>& AdsState::WantedNames::Of(XdsType type) const {
  static const std::set<std::string> kNone;
  switch (type) {
    case XdsType::kRoute:
      return *routes;
    case XdsType::kEndpoint:
      return *endpoints;
    default:
      return kNone;
  }
}

AdsState::WantedNames AdsState::Wanted() {
  return {&listener_routes_.Of(received_.listeners), &cluster_endpoints_.Of(received_.clusters)};
}

AdsState::Request AdsState::MakeRequest(XdsType type, const std::string& error,
                                        const WantedNames& wanted) {
  auto& state = types_[Index(type)];
  Request request;
  if (!node_sent_) {
    *request.mutable_node() = node_;
    node_sent_ = true;
  }
  request.set_type_url(std::string(TypeUrl(type)));
  request.set_version_info(accepted_version_[Index(type)]);
  request.set_response_nonce(state.nonce);
  const std::set<std::string>& names = wanted.Of(type);
  request.mutable_resource_names()->Reserve(static_cast<int>(names.size()));
  for (const auto& name : names) request.add_resource_names(name);
  if (!state.sent || *state.sent != names) state.sent = names;
  if (!error.empty()) {
    request.mutable_error_detail()->set_code(static_cast<int>(absl::StatusCode::kInvalidArgument));
    request.mutable_error_detail()->set_message(error);
  }
  return request;
}

void AdsState::UpdateSubscriptions(const WantedNames& wanted, std::vector<Request>& out) {
  for (XdsType type : {XdsType::kEndpoint, XdsType::kRoute}) {
    bool answered = false;
    for (const auto& request : out) answered |= request.type_url() == TypeUrl(type);
    if (answered) continue;
    const auto& state = types_[Index(type)];
    const std::set<std::string>& names = wanted.Of(type);
    if (state.sent ? *state.sent == names : names.empty()) continue;
    out.push_back(MakeRequest(type, "", wanted));
  }
}

}  // namespace causeway::proxy
