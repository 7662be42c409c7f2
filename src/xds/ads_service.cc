#include "xds/ads_service.h"

#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>

#include <deque>
#include <optional>
#include <set>
#include <thread>
#include <type_traits>

#include "common/status.h"
#include "common/strings.h"
#include "spdlog/spdlog.h"
#include "xds/ads_session.h"

namespace causeway::xds {
namespace {

using envoy::service::discovery::v3::DeltaDiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryRequest;

// What a completion-queue tag points to.
class Tag {
 public:
  virtual void Proceed(bool ok) = 0;

 protected:
  ~Tag() = default;
};

// A tag that calls a member function of its owner.
template <typename Owner>
class MemberTag final : public Tag {
 public:
  MemberTag(Owner* owner, void (Owner::*handler)(bool)) : owner_(owner), handler_(handler) {}
  void Proceed(bool ok) override { (owner_->*handler_)(ok); }

 private:
  Owner* const owner_;
  void (Owner::*const handler_)(bool);
};

// Calls accepted ahead, per queue and ADS variant, so that a burst of
// connecting proxies is not held up waiting for the next request to be made.
constexpr int kListening = 8;

// The slices of a response as the session made it: its body is referenced,
// not copied (one body goes to every replica of a proxy).
grpc::ByteBuffer ToByteBuffer(AdsSession::WireMessage message) {
  auto* hold = new std::shared_ptr<const std::string>(std::move(message.body));
  grpc::Slice slices[2] = {
      grpc::Slice(
          const_cast<char*>((*hold)->data()), (*hold)->size(),
          [](void* p) { delete static_cast<std::shared_ptr<const std::string>*>(p); }, hold),
      grpc::Slice(message.nonce_field)};
  return grpc::ByteBuffer(slices, message.nonce_field.empty() ? 1 : 2);
}

}  // namespace

// A stream as its polling thread sees it.
class PolledStream : public AdsStream {
 public:
  // Poller thread only.
  virtual void Deliver(const std::shared_ptr<const ZoneSnapshot>& snapshot) = 0;
  virtual void EndNow(const grpc::Status& why) = 0;
};

// One completion queue and the thread that polls it.
class AdsPoller {
 public:
  AdsPoller(AdsService* service, std::unique_ptr<grpc::ServerCompletionQueue> cq)
      : service_(service), cq_(std::move(cq)) {}

  ~AdsPoller() { Shutdown(); }

  grpc::ServerCompletionQueue* cq() { return cq_.get(); }
  AdsService* service() { return service_; }

  void Start();

  // Ends the thread once every operation on the queue has completed. The
  // queue is shut down by its own thread, so that no call on that thread
  // can request work from a queue already shut down.
  void Shutdown() {
    {
      absl::MutexLock lock(&mu_);
      if (!thread_.joinable()) return;
      if (!shutdown_requested_) {
        shutdown_requested_ = true;
        shutdown_alarm_.Set(cq_.get(), gpr_now(GPR_CLOCK_MONOTONIC), &shutdown_tag_);
      }
    }
    thread_.join();
  }

  // Any thread: queue `snapshot` for this poller's streams of its zone.
  void Post(const std::shared_ptr<const ZoneSnapshot>& snapshot) {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    auto& slot = pending_[snapshot->zone()];
    if (!slot || slot->sequence() < snapshot->sequence()) slot = snapshot;
    ArmDelivery();
  }

  // Any thread: end `stream` (if it still exists) with `why` on this
  // poller's thread, in the next delivery round.
  void PostEnd(std::weak_ptr<PolledStream> stream, grpc::Status why) {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    pending_ends_.emplace_back(std::move(stream), std::move(why));
    ArmDelivery();
  }

  // Poller thread only: the only writer of stopping_, so it reads it unlocked.
  bool stopping() const ABSL_NO_THREAD_SAFETY_ANALYSIS { return stopping_; }
  void Add(const std::string& zone, PolledStream* stream) { by_zone_[zone].insert(stream); }
  void Remove(const std::string& zone, PolledStream* stream) {
    auto it = by_zone_.find(zone);
    if (it == by_zone_.end()) return;
    it->second.erase(stream);
    if (it->second.empty()) by_zone_.erase(it);
  }

 private:
  void ArmDelivery() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (deliver_armed_) return;
    deliver_armed_ = true;
    // A fired alarm is not set again: a fresh one per delivery round.
    deliver_alarm_ = std::make_unique<grpc::Alarm>();
    deliver_alarm_->Set(cq_.get(), gpr_now(GPR_CLOCK_MONOTONIC), &deliver_tag_);
  }

  void Run() {
    void* tag = nullptr;
    bool ok = false;
    while (cq_->Next(&tag, &ok)) static_cast<Tag*>(tag)->Proceed(ok);
  }

  void OnDeliver(bool) {
    std::map<std::string, std::shared_ptr<const ZoneSnapshot>> pending;
    std::vector<std::pair<std::weak_ptr<PolledStream>, grpc::Status>> ends;
    {
      absl::MutexLock lock(&mu_);
      deliver_armed_ = false;
      // Once the queue is shut down no operation may start on it (gRPC
      // aborts): a delivery alarm that fires after that delivers nothing.
      if (stopping_) return;
      pending.swap(pending_);
      ends.swap(pending_ends_);
    }
    for (auto& [weak, why] : ends) {
      if (auto stream = weak.lock()) stream->EndNow(why);
    }
    for (const auto& [zone, snapshot] : pending) {
      auto it = by_zone_.find(zone);
      if (it == by_zone_.end()) continue;
      // Deliver only starts writes; their completions come back through the
      // queue later, so the set cannot change under this loop.
      for (PolledStream* stream : it->second) stream->Deliver(snapshot);
    }
  }

  void OnShutdown(bool) {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    cq_->Shutdown();
  }

  AdsService* const service_;
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::thread thread_;

  absl::Mutex mu_;  // guards the fields below that other threads touch
  std::map<std::string, std::shared_ptr<const ZoneSnapshot>> pending_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<std::weak_ptr<PolledStream>, grpc::Status>> pending_ends_
      ABSL_GUARDED_BY(mu_);
  bool deliver_armed_ ABSL_GUARDED_BY(mu_) = false;
  std::unique_ptr<grpc::Alarm> deliver_alarm_ ABSL_GUARDED_BY(mu_);
  bool shutdown_requested_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Alarm shutdown_alarm_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;  // written by the poller thread

  std::map<std::string, std::set<PolledStream*>> by_zone_;  // poller thread only
  MemberTag<AdsPoller> deliver_tag_{this, &AdsPoller::OnDeliver};
  MemberTag<AdsPoller> shutdown_tag_{this, &AdsPoller::OnShutdown};
};

namespace {

// One ADS stream, run by the thread of the queue it was accepted on: every
// gRPC operation of it is started there and completes there. Other threads
// only read its session (status pages) under mu_.
//
// Owned by itself (self_) from the moment it waits for a call until gRPC is
// done with it: accepted or refused, finished, and told the call is over
// (AsyncNotifyWhenDone), with no read or write outstanding. The registries
// hold further references for status pages.
template <typename Request>
class AdsCall final : public PolledStream, public std::enable_shared_from_this<AdsCall<Request>> {
 public:
  static constexpr bool kDelta = std::is_same_v<Request, DeltaDiscoveryRequest>;

  // Waits for the next stream of this variant on `poller`'s queue.
  static void Listen(AdsPoller* poller) {
    auto call = std::make_shared<AdsCall>(poller);
    call->self_ = call;
    call->context_.AsyncNotifyWhenDone(&call->done_tag_);
    auto* service = poller->service()->grpc_service();
    auto* cq = poller->cq();
    if constexpr (kDelta) {
      service->RequestDeltaAggregatedResources(&call->context_, &call->stream_, cq, cq,
                                               &call->accept_tag_);
    } else {
      service->RequestStreamAggregatedResources(&call->context_, &call->stream_, cq, cq,
                                                &call->accept_tag_);
    }
  }

  explicit AdsCall(AdsPoller* poller) : poller_(poller), stream_(&context_) {}

  // --- AdsStream (any thread) ---
  nlohmann::json Status() override {
    absl::MutexLock lock(&mu_);
    if (!session_) return nlohmann::json::object();
    nlohmann::json status = session_->Status();
    if (identity_) status["token"] = identity_->token;
    return status;
  }
  nlohmann::json AckedResources() override {
    absl::MutexLock lock(&mu_);
    return session_ ? session_->AckedResources() : nlohmann::json::object();
  }
  std::string proxy() override {
    absl::MutexLock lock(&mu_);
    return session_ ? session_->node().proxy : std::string();
  }
  std::string token_secret() override {
    absl::MutexLock lock(&mu_);
    return secret_;
  }
  std::optional<StreamIdentity> identity() override {
    absl::MutexLock lock(&mu_);
    return identity_;
  }
  void End(const absl::Status& why) override {
    poller_->PostEnd(this->weak_from_this(), grpc::Status(static_cast<grpc::StatusCode>(why.code()),
                                                          std::string(why.message())));
  }

  // --- PolledStream (poller thread) ---
  void EndNow(const grpc::Status& why) override {
    if (ending_ || finished_) return;
    spdlog::info("xds: ending stream of {} ({}): {}", node_id_, zone_, why.error_message());
    ending_ = why;
    Next();
  }

  // --- PolledStream (poller thread) ---
  void Deliver(const std::shared_ptr<const ZoneSnapshot>& snapshot) override {
    if (ending_ || broken_) return;
    AdsSession::Outbox out;
    {
      absl::MutexLock lock(&mu_);
      session_->OnSnapshot(snapshot, &out);
    }
    Enqueue(&out);
    Next();
  }

 private:
  void OnAccepted(bool ok) {
    if (!ok) {
      // The server is shutting down; the call never started, so gRPC will
      // report nothing else of it.
      self_.reset();  // may destroy this call: nothing may follow
      return;
    }
    if (!poller_->stopping()) Listen(poller_);  // the next stream
    {
      absl::MutexLock lock(&mu_);
      session_.emplace(kDelta ? AdsSession::Variant::kDelta : AdsSession::Variant::kStateOfTheWorld,
                       context_.peer(), service()->time(), service()->metrics());
    }
    if (absl::Status authenticated = Authenticate(); !authenticated.ok()) {
      // Nothing is read or sent: the stream ends with the refusal.
      spdlog::info("xds: refusing a stream from {}: {}", context_.peer(),
                   std::string(authenticated.message()));
      ending_ = grpc::Status(static_cast<grpc::StatusCode>(authenticated.code()),
                             std::string(authenticated.message()));
      Next();
      return;
    }
    Read();
  }

  // With an authenticator: the bearer token of the call's metadata.
  absl::Status Authenticate() {
    StreamAuthenticator* authenticator = service()->authenticator();
    if (authenticator == nullptr) return absl::OkStatus();
    const auto& metadata = context_.client_metadata();
    auto header = metadata.find("authorization");
    std::string_view value;
    if (header != metadata.end())
      value = std::string_view(header->second.data(), header->second.size());
    auto secret = BearerSecret(value, header != metadata.end());
    if (!secret.ok()) return secret.status();
    auto identity = authenticator->Authenticate(*secret);
    if (!identity.ok()) return identity.status();
    absl::MutexLock lock(&mu_);
    secret_ = *std::move(secret);
    identity_ = *std::move(identity);
    return absl::OkStatus();
  }

  void OnRead(bool ok) {
    reading_ = false;
    if (!ok || ending_) {
      // The client closed its side or the call is over; or the stream is
      // being ended (EndNow): what the client sent meanwhile is dropped.
      if (!ending_) ending_ = grpc::Status::OK;
      Next();
      MaybeRelease();
      return;
    }
    AdsSession::Outbox out;
    absl::Status status = Parse();
    if (status.ok()) status = Handle(&out);
    if (!status.ok()) {
      spdlog::info("xds: ending stream of {} ({}): {}", node_id_, zone_,
                   std::string(status.message()));
      ending_ =
          grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
    } else {
      Enqueue(&out);
      Read();
    }
    Next();
  }

  // The request just read (read_buffer_), as a message (request_).
  absl::Status Parse() {
    grpc::Status parsed = grpc::SerializationTraits<Request>::Deserialize(&read_buffer_, &request_);
    if (parsed.ok()) return absl::OkStatus();
    return absl::InvalidArgumentError(StrCat("could not parse the ", Request::descriptor()->name(),
                                             ": ", parsed.error_message()));
  }

  // The request just parsed, through the session.
  absl::Status Handle(AdsSession::Outbox* out) {
    absl::MutexLock lock(&mu_);
    if (!session_->identified()) {
      auto node = AdsSession::NodeOf(request_.node(), request_.has_node());
      if (!node.ok()) return node.status();
      node_id_ = node->id;
      // Checked before the stream registers: a refused node is sent nothing.
      if (identity_) CW_RETURN_IF_ERROR(AuthorizeNode(*identity_, node->zone));
      // Registered before the snapshot is read, so that a rebuild in
      // between is delivered (the session ignores snapshots older than the
      // one it has).
      CW_RETURN_IF_ERROR(service()->Register(node->zone, this->shared_from_this()));
      zone_ = node->zone;
      node_id_ = node->id;
      registered_ = true;
      poller_->Add(zone_, this);
      session_->Identify(*std::move(node), service()->cache()->Get(zone_));
    }
    if constexpr (kDelta) {
      return session_->HandleDeltaRequest(request_, out);
    } else {
      return session_->HandleRequest(request_, out);
    }
  }

  void OnWrite(bool ok) {
    writing_ = false;
    queue_.pop_front();
    if (!ok) {
      // The stream is broken; the outstanding read fails too and ends it.
      broken_ = true;
      queue_.clear();
    }
    Next();
    MaybeRelease();
  }

  void OnFinish(bool) {
    finishing_ = false;
    finished_ = true;
    MaybeRelease();
  }

  void OnDone(bool) {
    done_ = true;
    MaybeRelease();
  }

  void Read() {
    reading_ = true;
    stream_.Read(&read_buffer_, &read_tag_);
  }

  void Enqueue(AdsSession::Outbox* out) {
    if (ending_ || broken_) return;
    for (auto& message : out->messages) queue_.push_back(ToByteBuffer(std::move(message)));
  }

  // The next operation: a write if none is in flight; Finish once the
  // stream is ending and no write is in flight.
  void Next() {
    if (writing_ || finishing_ || finished_) return;
    if (ending_) {
      finishing_ = true;
      queue_.clear();
      stream_.Finish(*ending_, &finish_tag_);
      return;
    }
    if (queue_.empty() || broken_) return;
    writing_ = true;
    // std::deque keeps the front element's address while more are appended.
    stream_.Write(queue_.front(), &write_tag_);
  }

  AdsService* service() const { return poller_->service(); }

  void MaybeRelease() {
    if (!done_ || !finished_ || reading_ || writing_) return;
    if (registered_) {
      service()->Unregister(zone_, this);
      poller_->Remove(zone_, this);
    }
    self_.reset();  // may destroy this call: nothing may follow
  }

  AdsPoller* const poller_;
  grpc::ServerContext context_;
  grpc::ServerAsyncReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer> stream_;

  absl::Mutex mu_;  // session_, secret_ and identity_ are read from other threads
  std::optional<AdsSession> session_ ABSL_GUARDED_BY(mu_);
  std::string secret_ ABSL_GUARDED_BY(mu_);
  std::optional<StreamIdentity> identity_ ABSL_GUARDED_BY(mu_);

  // Poller thread only.
  grpc::ByteBuffer read_buffer_;
  Request request_;
  std::deque<grpc::ByteBuffer> queue_;  // front: the write in flight
  bool reading_ = false;
  bool writing_ = false;
  bool broken_ = false;
  std::optional<grpc::Status> ending_;
  bool finishing_ = false;
  bool finished_ = false;
  bool done_ = false;
  bool registered_ = false;
  std::string zone_;
  std::string node_id_;
  std::shared_ptr<AdsCall> self_;

  MemberTag<AdsCall> accept_tag_{this, &AdsCall::OnAccepted};
  MemberTag<AdsCall> read_tag_{this, &AdsCall::OnRead};
  MemberTag<AdsCall> write_tag_{this, &AdsCall::OnWrite};
  MemberTag<AdsCall> finish_tag_{this, &AdsCall::OnFinish};
  MemberTag<AdsCall> done_tag_{this, &AdsCall::OnDone};
};

}  // namespace

void AdsPoller::Start() {
  for (int i = 0; i < kListening; ++i) {
    AdsCall<DiscoveryRequest>::Listen(this);
    AdsCall<DeltaDiscoveryRequest>::Listen(this);
  }
  thread_ = std::thread([this] { Run(); });
}

AdsService::AdsService(SnapshotCache* cache, const TimeSource* time, ServerMetrics* metrics,
                       int threads, StreamAuthenticator* authenticator, int max_streams)
    : cache_(cache),
      time_(time),
      metrics_(metrics),
      authenticator_(authenticator),
      max_streams_(max_streams) {
  pollers_.resize(std::max(1, threads));
}

AdsService::~AdsService() { Shutdown(); }

void AdsService::AddTo(grpc::ServerBuilder* builder) {
  builder->RegisterService(&grpc_service_);
  for (auto& poller : pollers_) {
    poller = std::make_unique<AdsPoller>(this, builder->AddCompletionQueue());
  }
}

void AdsService::Start() {
  for (auto& poller : pollers_) poller->Start();
}

void AdsService::Shutdown() {
  for (auto& poller : pollers_) {
    if (poller) poller->Shutdown();
  }
}

absl::Status AdsService::Register(const std::string& zone,
                                  const std::shared_ptr<AdsStream>& stream) {
  {
    absl::MutexLock lock(&mu_);
    if (registered_ >= max_streams_) {
      return absl::ResourceExhaustedError(
          StrCat("the server is at its limit of ", max_streams_, " xDS streams; try another"));
    }
    if (streams_[zone].emplace(stream.get(), stream).second) ++registered_;
  }
  metrics_->StreamChanged();
  return absl::OkStatus();
}

void AdsService::Unregister(const std::string& zone, const AdsStream* stream) {
  {
    absl::MutexLock lock(&mu_);
    auto it = streams_.find(zone);
    if (it == streams_.end()) return;
    registered_ -= static_cast<int>(it->second.erase(stream));
    if (it->second.empty()) streams_.erase(it);
  }
  metrics_->StreamChanged();
}

std::vector<std::shared_ptr<AdsStream>> AdsService::StreamsOf(const std::string& zone) const {
  std::vector<std::shared_ptr<AdsStream>> out;
  absl::MutexLock lock(&mu_);
  auto it = streams_.find(zone);
  if (it == streams_.end()) return out;
  out.reserve(it->second.size());
  for (const auto& [ptr, stream] : it->second) out.push_back(stream);
  return out;
}

void AdsService::RecheckTokens() {
  if (authenticator_ == nullptr) return;
  std::vector<std::shared_ptr<AdsStream>> all;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [zone, streams] : streams_) {
      for (const auto& [ptr, stream] : streams) all.push_back(stream);
    }
  }
  // Outside mu_: a stream takes its own lock first, then mu_ (Register).
  std::map<std::string, std::vector<std::shared_ptr<AdsStream>>> by_secret;
  for (auto& stream : all) by_secret[stream->token_secret()].push_back(std::move(stream));
  for (const auto& [secret, streams] : by_secret) {
    if (secret.empty()) continue;
    std::optional<StreamIdentity> identity = streams.front()->identity();
    if (!identity) continue;
    absl::Status valid = authenticator_->Recheck(secret, *identity);
    if (valid.ok() || absl::IsUnavailable(valid)) continue;
    const absl::Status why(valid.code(),
                           StrCat("the stream's token no longer authenticates: ", valid.message()));
    for (const auto& stream : streams) stream->End(why);
  }
}

void AdsService::Publish(const std::shared_ptr<const ZoneSnapshot>& snapshot) {
  metrics_->Snapshot();
  for (auto& poller : pollers_) {
    if (poller) poller->Post(snapshot);
  }
}

}  // namespace causeway::xds
