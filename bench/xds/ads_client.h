// One simulated causeway-proxy ADS stream for xds_loadgen, on gRPC's async
// API.
//
// Every client of the load generator shares one completion queue, polled by
// one thread (PollForever) that runs all their state machines: a stream has
// at most one read and one write outstanding, and each completion is handled
// where it is dequeued. Nothing is handed from thread to thread per message
// and nothing is locked, so the load generator spends little of the CPU it
// shares with the hub being measured.
#pragma once

#include <grpcpp/grpcpp.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "proxy/xds_client/ads_state.h"

namespace causeway::bench {

using Clock = std::chrono::steady_clock;

// What a completion-queue tag points to: PollForever calls Complete with the
// event's `ok`.
class CqTag {
 public:
  virtual void Complete(bool ok) = 0;

 protected:
  ~CqTag() = default;
};

// Dequeues events from `cq` and completes their tags until `cq` shuts down.
void PollForever(grpc::CompletionQueue* cq);

// Runs `fn(ok)` on the polling thread at `deadline` (at once if it has
// passed); the way other threads hand work to the polling thread.
void RunAt(grpc::CompletionQueue* cq, Clock::time_point deadline, std::function<void(bool)> fn);

// What the write of a request completes: firsts of one client, stamped when
// that write (the ACK) has gone out.
struct Milestones {
  unsigned types = 0;       // bit per XdsType ACKed for the first time
  bool configured = false;  // the first complete set was applied
  uint32_t marker = 0;      // the applied set holds this marker port
  bool empty() const { return types == 0 && !configured && marker == 0; }
};

// Where clients report; called on the polling thread only.
class ClientReports {
 public:
  // The port whose arrival is being waited for, 0 for none.
  virtual uint32_t marker() const = 0;
  virtual void Reached(const Milestones& milestones, Clock::time_point at) = 0;
  // The stream ended (the client does not reconnect).
  virtual void Failed(const grpc::Status& status) = 0;

 protected:
  ~ClientReports() = default;
};

// How a client dials: plaintext, or TLS trusting `ca_pem`; with `token`, an
// `authorization: Bearer` header on its stream (as causeway-proxy sends).
struct ClientSecurity {
  std::string ca_pem;  // "" = plaintext
  std::string token;   // "" = none
};

class AdsClient {
 public:
  // A channel of its own to `target` (its own TCP connection, as separate
  // proxies have), identified by `node`.
  AdsClient(const std::string& target, envoy::config::core::v3::Node node,
            grpc::CompletionQueue* cq, ClientReports* reports, const ClientSecurity& security = {});
  AdsClient(const AdsClient&) = delete;
  AdsClient& operator=(const AdsClient&) = delete;

  // Opens the stream; callable from any thread, once. Everything after runs
  // on the polling thread.
  void Start();

 private:
  using Request = envoy::service::discovery::v3::DiscoveryRequest;
  using Response = envoy::service::discovery::v3::DiscoveryResponse;

  // A tag that calls one of the client's handlers.
  class Handler final : public CqTag {
   public:
    Handler(AdsClient* client, void (AdsClient::*fn)(bool)) : client_(client), fn_(fn) {}
    void Complete(bool ok) override { (client_->*fn_)(ok); }

   private:
    AdsClient* client_;
    void (AdsClient::*fn_)(bool);
  };

  struct Outgoing {
    Request request;
    Milestones milestones;  // reported when this write completes
  };

  void OnStarted(bool ok);
  void OnRead(bool ok);
  void OnWritten(bool ok);
  void OnFinished(bool ok);

  // The milestones the response just handled reached.
  Milestones NewMilestones();
  void Send(std::vector<Request> requests, const Milestones& milestones);
  void WriteFront();
  // Asks for the status once nothing is outstanding but the end.
  void FinishWhenIdle();

  grpc::CompletionQueue* const cq_;
  ClientReports* const reports_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<envoy::service::discovery::v3::AggregatedDiscoveryService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<Request, Response>> stream_;
  Handler started_{this, &AdsClient::OnStarted};
  Handler read_{this, &AdsClient::OnRead};
  Handler written_{this, &AdsClient::OnWritten};
  Handler finished_{this, &AdsClient::OnFinished};

  proxy::AdsState state_;
  Response response_;           // filled by the outstanding read
  std::deque<Outgoing> queue_;  // front: the write in flight, if `writing_`
  bool writing_ = false;
  bool stream_ended_ = false;  // a read or the start failed
  grpc::Status status_;        // filled by Finish

  std::array<bool, proxy::kXdsTypeCount> type_seen_{};
  bool configured_ = false;
  uint32_t acked_marker_ = 0;
};

}  // namespace causeway::bench
