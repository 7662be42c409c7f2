#include "ads_client.h"

#include <grpc/support/time.h>
#include <grpcpp/alarm.h>

#include <algorithm>
#include <utility>

#include "common/time_source.h"

namespace causeway::bench {
namespace {

using proxy::XdsResources;

bool HasPort(const XdsResources& set, uint32_t port) {
  for (const auto& [name, cla] : set.endpoints) {
    for (const auto& locality : cla->endpoints()) {
      for (const auto& lb : locality.lb_endpoints()) {
        if (lb.endpoint().address().socket_address().port_value() == port) return true;
      }
    }
  }
  return false;
}

// A one-shot alarm whose event runs a function; it deletes itself after.
class Task final : public CqTag {
 public:
  explicit Task(std::function<void(bool)> fn) : fn_(std::move(fn)) {}
  void Set(grpc::CompletionQueue* cq, Clock::time_point deadline) {
    // gRPC takes gpr time: the same monotonic clock, but counted from its own
    // origin, so the distance to the deadline is what carries over.
    auto in = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - Clock::now());
    alarm_.Set(cq,
               gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                            gpr_time_from_nanos(std::max<int64_t>(in.count(), 0), GPR_TIMESPAN)),
               this);
  }
  void Complete(bool ok) override {
    fn_(ok);
    delete this;
  }

 private:
  grpc::Alarm alarm_;
  std::function<void(bool)> fn_;
};

}  // namespace

void PollForever(grpc::CompletionQueue* cq) {
  void* tag = nullptr;
  bool ok = false;
  while (cq->Next(&tag, &ok)) static_cast<CqTag*>(tag)->Complete(ok);
}

void RunAt(grpc::CompletionQueue* cq, Clock::time_point deadline, std::function<void(bool)> fn) {
  (new Task(std::move(fn)))->Set(cq, deadline);
}

AdsClient::AdsClient(const std::string& target, envoy::config::core::v3::Node node,
                     grpc::CompletionQueue* cq, ClientReports* reports,
                     const ClientSecurity& security)
    : cq_(cq),
      reports_(reports),
      // Nothing is applied to a data plane: every complete set is accepted.
      state_(
          std::move(node), [](const XdsResources&) { return absl::OkStatus(); },
          &RealTime::Instance(), std::chrono::seconds(30)) {
  grpc::ChannelArguments args;
  // Without this, channels to one target share one connection.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // Envoy does no gRPC BDP pings either; they would double the packets.
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (!security.ca_pem.empty()) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = security.ca_pem;
    credentials = grpc::SslCredentials(ssl);
  }
  if (!security.token.empty()) context_.AddMetadata("authorization", "Bearer " + security.token);
  channel_ = grpc::CreateCustomChannel(target, credentials, args);
  stub_ = envoy::service::discovery::v3::AggregatedDiscoveryService::NewStub(channel_);
}

void AdsClient::Start() {
  stream_ = stub_->PrepareAsyncStreamAggregatedResources(&context_, cq_);
  stream_->StartCall(&started_);
}

void AdsClient::OnStarted(bool ok) {
  if (!ok) {  // the call could not start; Finish says why
    stream_ended_ = true;
    FinishWhenIdle();
    return;
  }
  Send(state_.OnStreamStart(), {});
  stream_->Read(&response_, &read_);
}

void AdsClient::OnRead(bool ok) {
  if (!ok) {  // the server ended the stream or the connection broke
    stream_ended_ = true;
    FinishWhenIdle();
    return;
  }
  auto requests = state_.OnResponse(response_);
  Milestones reached = NewMilestones();
  if (requests.empty()) {
    // Nothing to send: the set is taken as it is.
    if (!reached.empty()) reports_->Reached(reached, Clock::now());
  } else {
    Send(std::move(requests), reached);
  }
  // response_ is free again: AdsState keeps what it needs.
  stream_->Read(&response_, &read_);
}

void AdsClient::OnWritten(bool ok) {
  writing_ = false;
  if (!ok || stream_ended_) {
    // The stream is gone: nothing more goes out (a failed write is followed
    // by a failed read, which ends it).
    queue_.clear();
    FinishWhenIdle();
    return;
  }
  const Milestones& done = queue_.front().milestones;
  if (!done.empty()) reports_->Reached(done, Clock::now());
  queue_.pop_front();
  WriteFront();
}

void AdsClient::OnFinished(bool /*ok: always true for Finish*/) { reports_->Failed(status_); }

Milestones AdsClient::NewMilestones() {
  Milestones reached;
  const auto& counters = state_.counters();
  for (int t = 0; t < proxy::kXdsTypeCount; ++t) {
    if (!type_seen_[t] && !counters.versions[t].empty()) {
      type_seen_[t] = true;
      reached.types |= 1u << t;
    }
  }
  if (!configured_ && counters.applies > 0) {
    configured_ = true;
    reached.configured = true;
  }
  uint32_t marker = reports_->marker();
  if (marker != 0 && acked_marker_ != marker && HasPort(*state_.applied(), marker)) {
    acked_marker_ = marker;
    reached.marker = marker;
  }
  return reached;
}

void AdsClient::Send(std::vector<Request> requests, const Milestones& milestones) {
  for (size_t i = 0; i < requests.size(); ++i) {
    // The milestones are reported when the last request of the batch, the
    // ACK, has been written.
    queue_.push_back(
        {std::move(requests[i]), i + 1 == requests.size() ? milestones : Milestones{}});
  }
  if (!writing_) WriteFront();
}

void AdsClient::WriteFront() {
  if (queue_.empty()) return;
  // gRPC allows one outstanding write per stream; the rest waits in queue_
  // (deque: the request in flight stays where it is while others are added).
  writing_ = true;
  stream_->Write(queue_.front().request, &written_);
}

void AdsClient::FinishWhenIdle() {
  // Finish once no write is outstanding. Reached once per stream: after the
  // start or a read has failed nothing else is issued but the pending write,
  // whose completion comes back here.
  if (stream_ended_ && !writing_) stream_->Finish(&status_, &finished_);
}

}  // namespace causeway::bench
