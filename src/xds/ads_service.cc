#include "xds/ads_service.h"

#include <deque>
#include <optional>
#include <type_traits>

#include "spdlog/spdlog.h"
#include "xds/ads_session.h"

namespace causeway::xds {
namespace {

using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

constexpr bool IsDelta(const DeltaDiscoveryRequest*) { return true; }
constexpr bool IsDelta(const DiscoveryRequest*) { return false; }

// One ADS stream. Owned by itself (self_) from creation until gRPC calls
// OnDone; the registry and snapshot fan-out hold further references, and
// `done_` keeps them from touching the stream once gRPC has let go of it.
template <typename Request, typename Response>
class AdsReactor final : public grpc::ServerBidiReactor<Request, Response>,
                         public AdsStream,
                         public std::enable_shared_from_this<AdsReactor<Request, Response>> {
 public:
  static constexpr bool kDelta = std::is_same_v<Request, DeltaDiscoveryRequest>;

  AdsReactor(AdsService* service, grpc::CallbackServerContext* context)
      : service_(service),
        session_(kDelta ? AdsSession::Variant::kDelta : AdsSession::Variant::kStateOfTheWorld,
                 context->peer(), service->time(), service->metrics()) {}

  void Begin(std::shared_ptr<AdsReactor> self) {
    self_ = std::move(self);
    this->StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    std::unique_lock lock(mu_);
    if (!ok) {
      FinishLocked(grpc::Status::OK);
      return;
    }
    if (!session_.identified()) {
      auto node = AdsSession::NodeOf(request_.node(), request_.has_node());
      if (!node.ok()) {
        FinishLocked(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                  std::string(node.status().message())));
        return;
      }
      // Register before reading the snapshot so that no rebuild in between
      // is missed; the session ignores snapshots older than the one it has.
      zone_ = node->zone;
      service_->Register(zone_, self_);
      session_.Identify(*std::move(node), service_->cache()->Get(zone_));
    }
    AdsSession::Outbox out;
    absl::Status status;
    if constexpr (kDelta) {
      status = session_.HandleDeltaRequest(request_, &out);
    } else {
      status = session_.HandleRequest(request_, &out);
    }
    if (!status.ok()) {
      spdlog::info("xds: ending stream of {} ({}): {}", session_.node().id, zone_,
                   std::string(status.message()));
      FinishLocked(grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                                std::string(status.message())));
      return;
    }
    EnqueueLocked(&out);
    this->StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    std::unique_lock lock(mu_);
    writing_ = false;
    queue_.pop_front();
    if (!ok) {
      // The stream is broken; the pending read fails too and finishes it
      // (unless it already did and is waiting for this write).
      queue_.clear();
      if (finish_) CallFinishLocked();
      return;
    }
    if (finish_) {
      CallFinishLocked();
      return;
    }
    WriteNextLocked();
  }

  void OnDone() override {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    service_->Unregister(zone_, this);
    self_.reset();  // may destroy this reactor: nothing may follow
  }

  // --- AdsStream ---
  void Deliver(const std::shared_ptr<const ZoneSnapshot>& snapshot) override {
    std::lock_guard lock(mu_);
    if (done_ || finish_) return;
    AdsSession::Outbox out;
    session_.OnSnapshot(snapshot, &out);
    EnqueueLocked(&out);
  }
  nlohmann::json Status() override {
    std::lock_guard lock(mu_);
    return session_.Status();
  }
  nlohmann::json AckedResources() override {
    std::lock_guard lock(mu_);
    return session_.AckedResources();
  }
  std::string proxy() override {
    std::lock_guard lock(mu_);
    return session_.node().proxy;
  }

 private:
  void EnqueueLocked(AdsSession::Outbox* out) {
    if (finish_) return;
    if constexpr (kDelta) {
      for (auto& r : out->delta) queue_.push_back(std::move(r));
    } else {
      for (auto& r : out->sotw) queue_.push_back(std::move(r));
    }
    WriteNextLocked();
  }

  void WriteNextLocked() {
    if (writing_ || queue_.empty() || done_) return;
    writing_ = true;
    // std::deque keeps the front element's address while more are appended.
    this->StartWrite(&queue_.front());
  }

  void FinishLocked(grpc::Status status) {
    if (finish_) return;
    finish_ = std::move(status);
    if (!writing_) CallFinishLocked();
  }

  void CallFinishLocked() {
    if (finished_) return;
    finished_ = true;
    queue_.clear();
    this->Finish(*finish_);
  }

  AdsService* const service_;
  std::mutex mu_;
  AdsSession session_;
  Request request_;
  std::deque<Response> queue_;
  bool writing_ = false;
  std::optional<grpc::Status> finish_;
  bool finished_ = false;
  bool done_ = false;
  std::string zone_;
  std::shared_ptr<AdsReactor> self_;
};

}  // namespace

AdsService::AdsService(SnapshotCache* cache, const TimeSource* time, ServerMetrics* metrics)
    : cache_(cache), time_(time), metrics_(metrics) {}

grpc::ServerBidiReactor<DiscoveryRequest, DiscoveryResponse>*
AdsService::StreamAggregatedResources(grpc::CallbackServerContext* context) {
  auto reactor = std::make_shared<AdsReactor<DiscoveryRequest, DiscoveryResponse>>(this, context);
  reactor->Begin(reactor);
  return reactor.get();
}

grpc::ServerBidiReactor<DeltaDiscoveryRequest, DeltaDiscoveryResponse>*
AdsService::DeltaAggregatedResources(grpc::CallbackServerContext* context) {
  auto reactor =
      std::make_shared<AdsReactor<DeltaDiscoveryRequest, DeltaDiscoveryResponse>>(this, context);
  reactor->Begin(reactor);
  return reactor.get();
}

void AdsService::Register(const std::string& zone, const std::shared_ptr<AdsStream>& stream) {
  std::lock_guard lock(mu_);
  streams_[zone][stream.get()] = stream;
}

void AdsService::Unregister(const std::string& zone, const AdsStream* stream) {
  std::lock_guard lock(mu_);
  auto it = streams_.find(zone);
  if (it == streams_.end()) return;
  it->second.erase(stream);
  if (it->second.empty()) streams_.erase(it);
}

std::vector<std::shared_ptr<AdsStream>> AdsService::StreamsOf(const std::string& zone) const {
  std::vector<std::shared_ptr<AdsStream>> out;
  std::lock_guard lock(mu_);
  auto it = streams_.find(zone);
  if (it == streams_.end()) return out;
  out.reserve(it->second.size());
  for (const auto& [ptr, stream] : it->second) out.push_back(stream);
  return out;
}

void AdsService::Publish(const std::shared_ptr<const ZoneSnapshot>& snapshot) {
  metrics_->Snapshot();
  // Delivered outside the registry lock: streams may register or leave
  // meanwhile, and a slow stream must not block new connections.
  for (const auto& stream : StreamsOf(snapshot->zone())) stream->Deliver(snapshot);
}

}  // namespace causeway::xds
