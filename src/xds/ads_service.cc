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
//
// gRPC operations (StartRead, StartWrite, Finish) are started only after mu_
// is released: an operation that completes at once may run its reaction on
// the calling thread, which would otherwise deadlock on mu_.
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
    Actions actions;
    {
      std::lock_guard lock(mu_);
      HandleReadLocked(ok, &actions);
    }
    Run(actions);
  }

  void OnWriteDone(bool ok) override {
    Actions actions;
    {
      std::lock_guard lock(mu_);
      writing_ = false;
      queue_.pop_front();
      if (!ok) {
        // The stream is broken; the pending read fails too and finishes it
        // (unless it already did and is waiting for this write).
        queue_.clear();
      }
      NextLocked(&actions);
    }
    Run(actions);
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
    Actions actions;
    {
      std::lock_guard lock(mu_);
      if (done_ || finish_) return;
      AdsSession::Outbox out;
      session_.OnSnapshot(snapshot, &out);
      EnqueueLocked(&out);
      NextLocked(&actions);
    }
    Run(actions);
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
  // gRPC operations decided under mu_, started after it is released.
  struct Actions {
    bool read = false;
    const Response* write = nullptr;
    std::optional<grpc::Status> finish;
  };

  void Run(const Actions& actions) {
    if (actions.write != nullptr) this->StartWrite(actions.write);
    if (actions.finish) this->Finish(*actions.finish);
    if (actions.read) this->StartRead(&request_);
  }

  void HandleReadLocked(bool ok, Actions* actions) {
    if (!ok) {
      finish_ = grpc::Status::OK;
      NextLocked(actions);
      return;
    }
    absl::Status status;
    if (!session_.identified()) {
      auto node = AdsSession::NodeOf(request_.node(), request_.has_node());
      if (node.ok()) {
        // Register before reading the snapshot so that no rebuild in between
        // is missed; the session ignores snapshots older than the one it has.
        zone_ = node->zone;
        service_->Register(zone_, self_);
        session_.Identify(*std::move(node), service_->cache()->Get(zone_));
      } else {
        status = node.status();
      }
    }
    AdsSession::Outbox out;
    if (status.ok()) {
      if constexpr (kDelta) {
        status = session_.HandleDeltaRequest(request_, &out);
      } else {
        status = session_.HandleRequest(request_, &out);
      }
    }
    if (!status.ok()) {
      spdlog::info("xds: ending stream of {} ({}): {}", session_.node().id, zone_,
                   std::string(status.message()));
      finish_ =
          grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
      NextLocked(actions);
      return;
    }
    EnqueueLocked(&out);
    NextLocked(actions);
    actions->read = true;
  }

  void EnqueueLocked(AdsSession::Outbox* out) {
    if (finish_) return;
    if constexpr (kDelta) {
      for (auto& r : out->delta) queue_.push_back(std::move(r));
    } else {
      for (auto& r : out->sotw) queue_.push_back(std::move(r));
    }
  }

  // The next operation: a write if none is in flight, else nothing; Finish
  // once the stream is ending and no write is in flight.
  void NextLocked(Actions* actions) {
    if (writing_ || done_ || finished_) return;
    if (finish_) {
      finished_ = true;
      queue_.clear();
      actions->finish = *finish_;
      return;
    }
    if (queue_.empty()) return;
    writing_ = true;
    // std::deque keeps the front element's address while more are appended.
    actions->write = &queue_.front();
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

grpc::ServerBidiReactor<DiscoveryRequest, DiscoveryResponse>* AdsService::StreamAggregatedResources(
    grpc::CallbackServerContext* context) {
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
