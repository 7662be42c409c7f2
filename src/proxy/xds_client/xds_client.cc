#include "proxy/xds_client/xds_client.h"

#include <grpc/support/time.h>
#include <grpcpp/alarm.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <deque>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/logging.h"
#include "common/strings.h"
#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "proxy/xds_client/ads_state.h"
#include "spdlog/spdlog.h"

namespace causeway::proxy {
namespace {

using envoy::service::discovery::v3::AggregatedDiscoveryService;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;
using Clock = std::chrono::steady_clock;

// Keepalive pings find a control plane that vanished without closing the
// connection (a partition). gRPC servers by default refuse pings more often
// than every 5 minutes on idle streams, so stay at that.
constexpr int kKeepaliveMs = 300000;
constexpr int kKeepaliveTimeoutMs = 20000;

envoy::config::core::v3::Node MakeNode(const XdsClient::Options& options) {
  envoy::config::core::v3::Node node;
  node.set_id(options.node_id.empty() ? options.proxy_name : options.node_id);
  node.set_cluster(options.proxy_name);
  node.mutable_locality()->set_zone(options.zone);
  node.set_user_agent_name("causeway-proxy");
  if (options.edge)
    (*node.mutable_metadata()->mutable_fields())["causeway.edge"].set_bool_value(true);
  return node;
}

// A whole small file (a CA bundle, a token).
absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(StrCat(path, ": cannot be read"));
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return absl::DataLossError(StrCat(path, ": read failed"));
  return out.str();
}

std::string TrimToken(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  size_t start = 0;
  while (start < text.size() && std::isspace(static_cast<unsigned char>(text[start]))) ++start;
  return text.substr(start);
}

std::shared_ptr<grpc::ChannelCredentials> Credentials(const XdsClient::Options& options) {
  if (!options.tls) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  if (!options.ca_file.empty()) {
    // CheckOptions has read it; a file gone since leaves the system roots,
    // and the handshake says what failed.
    auto ca = ReadFile(options.ca_file);
    if (ca.ok()) ssl.pem_root_certs = *ca;
  }
  return grpc::SslCredentials(ssl);
}

bool IsAuthRefusal(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
         status.error_code() == grpc::StatusCode::PERMISSION_DENIED;
}

std::string StatusText(const grpc::Status& status) {
  return StrCat(absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())),
                status.error_message().empty() ? "" : ": ", status.error_message());
}

}  // namespace

// The event loop: one thread owns the completion queue, the stream and the
// protocol state, so none of them needs a lock. Stats and the applied set are
// published under `mu_` for other threads.
class XdsClient::Loop {
 public:
  Loop(const Options& options, ApplyFn apply)
      : options_(options),
        time_(options.time != nullptr ? options.time : &RealTime::Instance()),
        state_(MakeNode(options), std::move(apply), time_, options.warming_timeout),
        backoff_(options.backoff, std::random_device{}()),
        published_applied_(state_.applied()) {
    grpc::ChannelArguments args;
    // The channel's own reconnect backoff (1 s to 120 s by default) would
    // otherwise delay every attempt after the hub comes back.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
                static_cast<int>(options.backoff.initial.count()));
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
                static_cast<int>(options.backoff.initial.count()));
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, static_cast<int>(options.backoff.max.count()));
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, kKeepaliveMs);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, kKeepaliveTimeoutMs);
    args.SetMaxReceiveMessageSize(options.max_message_bytes);
    channel_ = grpc::CreateCustomChannel(options.server, Credentials(options), args);
    stub_ = AggregatedDiscoveryService::NewStub(channel_);
  }

  ~Loop() {
    // Run() drained the queue when it ran; otherwise nothing was ever queued.
  }

  void Run() {
    Connect();
    while (true) {
      {
        absl::MutexLock lock(&wake_mu_);
        if (stop_ && stream_ == nullptr) break;
      }
      void* tag = nullptr;
      bool ok = false;
      auto next = cq_.AsyncNext(&tag, &ok, std::chrono::system_clock::now() + NextWait());
      if (next == grpc::CompletionQueue::SHUTDOWN) break;
      if (next == grpc::CompletionQueue::GOT_EVENT) {
        if (tag == &wake_tag_) {
          OnWake();
        } else {
          OnOp(static_cast<Op*>(tag), ok);
        }
      }
      OnTimers();
      Publish();
    }
    cq_.Shutdown();
    void* tag = nullptr;
    bool ok = false;
    while (cq_.Next(&tag, &ok)) {
    }
  }

  // Any thread. The alarm wakes the loop at once; setting it under the lock
  // that guards the loop's exit keeps it from landing on a shut-down queue.
  void RequestStop() {
    absl::MutexLock lock(&wake_mu_);
    if (stop_) return;
    stop_ = true;
    wake_alarm_.Set(&cq_, gpr_now(GPR_CLOCK_MONOTONIC), &wake_tag_);
  }

  Stats stats() const {
    absl::MutexLock lock(&mu_);
    return stats_;
  }

  std::shared_ptr<const XdsResources> applied() const {
    absl::MutexLock lock(&mu_);
    return published_applied_;
  }

 private:
  enum class OpKind { kStart, kRead, kWrite, kFinish };
  struct Stream;
  struct Op {
    Stream* stream;
    OpKind kind;
  };
  struct Stream {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientAsyncReaderWriter<DiscoveryRequest, DiscoveryResponse>> rw;
    DiscoveryResponse response;
    std::deque<DiscoveryRequest> outbox;
    bool started = false;
    bool writing = false;
    bool finishing = false;
    bool finished = false;
    bool answered = false;  // the server sent at least one response
    bool cancelled = false;
    int outstanding = 0;  // operations whose tags have not come back
    grpc::Status status;
    Op start_op{this, OpKind::kStart};
    Op read_op{this, OpKind::kRead};
    Op write_op{this, OpKind::kWrite};
    Op finish_op{this, OpKind::kFinish};
  };

  void Connect() {
    reconnect_at_.reset();
    stream_ = std::make_unique<Stream>();
    if (std::string token = Token(); !token.empty()) {
      stream_->context.AddMetadata("authorization", "Bearer " + token);
    }
    stream_->rw = stub_->PrepareAsyncStreamAggregatedResources(&stream_->context, &cq_);
    stream_->rw->StartCall(&stream_->start_op);
    ++stream_->outstanding;
  }

  // The token for the next stream: the file's current contents when one is
  // named (the last good contents if it cannot be read now).
  std::string Token() {
    if (options_.token_file.empty()) return options_.token;
    auto read = ReadFile(options_.token_file);
    if (read.ok() && !TrimToken(*read).empty()) {
      file_token_ = TrimToken(*std::move(read));
    } else {
      spdlog::warn("xds: token file {} cannot be read now; using the token read before",
                   JsonEscape(options_.token_file));
    }
    return file_token_;
  }

  // With a token file, once a second: whether it holds another token than
  // the stream's. A rotated token is used at once: the stream is replaced
  // by one with the new token (which re-requests everything), rather than
  // kept on the old token until the hub ends it when that is revoked.
  void CheckTokenFile() {
    if (options_.token_file.empty() || stream_ == nullptr || stream_->cancelled) return;
    const auto now = time_->Monotonic();
    if (now < next_token_check_) return;
    next_token_check_ = now + std::chrono::seconds(1);
    auto read = ReadFile(options_.token_file);
    if (!read.ok()) return;
    const std::string token = TrimToken(*std::move(read));
    if (token.empty() || token == file_token_) return;
    spdlog::info("xds: the token in {} changed; reconnecting with it",
                 JsonEscape(options_.token_file));
    rotating_ = true;
    stream_->cancelled = true;
    stream_->context.TryCancel();
  }

  void OnWake() {
    if (stream_ != nullptr && !stream_->cancelled) {
      stream_->cancelled = true;
      stream_->context.TryCancel();
    }
  }

  void OnOp(Op* op, bool ok) {
    Stream* s = op->stream;
    --s->outstanding;
    switch (op->kind) {
      case OpKind::kStart:
        if (ok) {
          s->started = true;
          Send(s, state_.OnStreamStart());
          StartRead(s);
        } else {
          BeginFinish(s);
        }
        break;
      case OpKind::kRead:
        if (ok) {
          if (!s->answered) OnConnected(s);
          // Publish before the answer leaves, so whoever sees the ACK or NACK
          // also sees the stats and set that go with it.
          auto requests = state_.OnResponse(s->response);
          Publish();
          Send(s, std::move(requests));
          StartRead(s);
        } else {
          // The server ended the stream (or it broke): collect the status.
          BeginFinish(s);
        }
        break;
      case OpKind::kWrite:
        s->writing = false;
        if (ok) {
          s->outbox.pop_front();
          WriteNext(s);
        } else {
          // The call is dead; the pending read fails too and finishes it.
          s->outbox.clear();
        }
        break;
      case OpKind::kFinish:
        s->finished = true;
        break;
    }
    if (s->finished && s->outstanding == 0) EndStream();
  }

  void OnConnected(Stream* s) {
    s->answered = true;
    backoff_.Reset();
    spdlog::info("xds: connected to {}", JsonEscape(options_.server));
    absl::MutexLock lock(&mu_);
    stats_.connected = true;
    ++stats_.connects;
  }

  void StartRead(Stream* s) {
    if (s->finishing) return;
    s->rw->Read(&s->response, &s->read_op);
    ++s->outstanding;
  }

  void Send(Stream* s, std::vector<DiscoveryRequest> requests) {
    for (auto& request : requests) s->outbox.push_back(std::move(request));
    WriteNext(s);
  }

  // gRPC allows one outstanding write per stream: requests queue behind it.
  void WriteNext(Stream* s) {
    if (s->writing || s->outbox.empty() || s->finishing || !s->started) return;
    s->writing = true;
    s->rw->Write(s->outbox.front(), &s->write_op);
    ++s->outstanding;
  }

  void BeginFinish(Stream* s) {
    if (s->finishing) return;
    s->finishing = true;
    s->rw->Finish(&s->status, &s->finish_op);
    ++s->outstanding;
  }

  void EndStream() {
    const bool was_connected = stream_->answered;
    const bool rotated = std::exchange(rotating_, false) && !stop_;
    const bool refused = !stop_ && !rotated && IsAuthRefusal(stream_->status);
    const std::string why = StatusText(stream_->status);
    state_.OnStreamEnd();
    stream_.reset();
    {
      absl::MutexLock lock(&mu_);
      stats_.connected = false;
      if (was_connected) ++stats_.disconnects;
      if (refused) ++stats_.auth_refusals;
      if (!stop_ && !rotated) stats_.last_error = StrCat("stream: ", why);
    }
    if (stop_) {
      spdlog::info("xds: stream to {} closed", JsonEscape(options_.server));
      return;
    }
    if (rotated) {
      reconnect_at_ = time_->Monotonic();  // at once, with the new token
      return;
    }
    const auto delay = backoff_.Next();
    reconnect_at_ = time_->Monotonic() + delay;
    if (refused) {
      // A revoked or expired token, a token of another zone, or none: the
      // last configuration keeps serving until credentials are fixed.
      spdlog::warn(
          "xds: {} refused this proxy's credentials ({}), keeping the last configuration; "
          "retrying in {} ms",
          JsonEscape(options_.server), JsonEscape(why), delay.count());
    } else if (was_connected) {
      spdlog::warn(
          "xds: disconnected from {} ({}), keeping the last configuration; retrying in {} ms",
          JsonEscape(options_.server), JsonEscape(why), delay.count());
    } else {
      spdlog::info("xds: cannot reach {} ({}); retrying in {} ms", JsonEscape(options_.server),
                   JsonEscape(why), delay.count());
    }
  }

  void OnTimers() {
    if (stop_) {
      OnWake();  // a stream created before the stop was seen is cancelled too
      return;
    }
    if (stream_ == nullptr) {
      if (reconnect_at_ && time_->Monotonic() >= *reconnect_at_) Connect();
      return;
    }
    if (stream_->started && !stream_->finishing) {
      auto requests = state_.OnTick();
      Publish();
      Send(stream_.get(), std::move(requests));
    }
    CheckTokenFile();
  }

  // How long the loop may sleep: until the next timer by the injected clock,
  // but at most max_poll so a manual clock's jumps are noticed.
  std::chrono::milliseconds NextWait() const {
    std::optional<Clock::time_point> next = reconnect_at_;
    if (stream_ != nullptr && state_.warming_deadline()) {
      next = next ? std::min(*next, *state_.warming_deadline()) : *state_.warming_deadline();
    }
    auto wait = options_.max_poll;
    if (next) {
      auto until = std::chrono::ceil<std::chrono::milliseconds>(*next - time_->Monotonic());
      wait = std::clamp(until, std::chrono::milliseconds(0), wait);
    }
    return wait;
  }

  void Publish() {
    const auto& counters = state_.counters();
    absl::MutexLock lock(&mu_);
    stats_.updates_accepted = counters.accepted;
    stats_.updates_rejected = counters.rejected;
    stats_.applies = counters.applies;
    if (!counters.last_error.empty() && counters.last_error != last_counter_error_) {
      last_counter_error_ = counters.last_error;
      stats_.last_error = counters.last_error;
    }
    for (int i = 0; i < kXdsTypeCount; ++i) stats_.versions[i] = counters.versions[i];
    published_applied_ = state_.applied();
  }

  const Options options_;
  const TimeSource* time_;
  AdsState state_;
  Backoff backoff_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<AggregatedDiscoveryService::Stub> stub_;
  grpc::CompletionQueue cq_;
  std::unique_ptr<Stream> stream_;
  std::optional<Clock::time_point> reconnect_at_;
  std::string last_counter_error_;
  std::string file_token_;  // the token file's last good contents
  Clock::time_point next_token_check_{};
  bool rotating_ = false;  // the stream is being replaced for a new token

  absl::Mutex wake_mu_;
  std::atomic<bool> stop_{false};                     // set under wake_mu_; read anywhere
  grpc::Alarm wake_alarm_ ABSL_GUARDED_BY(wake_mu_);  // after cq_: destroyed first
  char wake_tag_ = 0;

  mutable absl::Mutex mu_;
  Stats stats_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const XdsResources> published_applied_ ABSL_GUARDED_BY(mu_);
};

absl::Status XdsClient::CheckOptions(const Options& options) {
  if (!options.ca_file.empty()) {
    auto ca = ReadFile(options.ca_file);
    if (!ca.ok()) return absl::InvalidArgumentError(StrCat("--xds-ca ", ca.status().message()));
    if (ca->find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
      return absl::InvalidArgumentError(
          StrCat("--xds-ca ", options.ca_file, ": holds no PEM certificate"));
    }
  }
  if (!options.token_file.empty()) {
    auto token = ReadFile(options.token_file);
    if (!token.ok()) {
      return absl::InvalidArgumentError(StrCat("--xds-token-file ", token.status().message()));
    }
    if (TrimToken(*token).empty()) {
      return absl::InvalidArgumentError(
          StrCat("--xds-token-file ", options.token_file, ": is empty"));
    }
  }
  if (!options.token.empty() && !options.token_file.empty()) {
    return absl::InvalidArgumentError(
        "give the xDS token either in CAUSEWAY_XDS_TOKEN or in --xds-token-file, not both");
  }
  return absl::OkStatus();
}

XdsClient::XdsClient(Options options, ApplyFn apply)
    : options_(std::move(options)), loop_(std::make_unique<Loop>(options_, std::move(apply))) {}

XdsClient::~XdsClient() { Stop(); }

void XdsClient::Start() {
  if (started_) return;
  started_ = true;
  spdlog::info("xds: connecting to {} as proxy {} in zone {}", JsonEscape(options_.server),
               JsonEscape(options_.proxy_name), JsonEscape(options_.zone));
  thread_ = std::thread([this] { loop_->Run(); });
}

void XdsClient::Stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  loop_->RequestStop();
  thread_.join();
}

XdsClient::Stats XdsClient::stats() const { return loop_->stats(); }

nlohmann::json XdsClient::ConfigDump() const {
  Stats stats = loop_->stats();
  std::shared_ptr<const XdsResources> applied = loop_->applied();
  nlohmann::json dump = ResourcesToJson(*applied);
  nlohmann::json versions = nlohmann::json::object();
  for (XdsType type : kAllXdsTypes) {
    versions[std::string(ShortName(type))] = stats.versions[static_cast<int>(type)];
  }
  dump["versions"] = std::move(versions);
  dump["server"] = options_.server;
  dump["connected"] = stats.connected;
  if (!stats.last_error.empty()) dump["last_error"] = stats.last_error;
  return dump;
}

}  // namespace causeway::proxy
