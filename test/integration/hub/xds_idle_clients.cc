#include "xds_idle_clients.h"

#include <nghttp2/nghttp2.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "overload_hub.h"

namespace causeway::testing {

using envoy::service::discovery::v3::AggregatedDiscoveryService;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;

namespace {

// nghttp2's callback for each frame received: notes the server's SETTINGS
// (not the acknowledgement of ours), after which the preface is done.
int NoteServerSettings(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
  if (frame->hd.type == NGHTTP2_SETTINGS && (frame->hd.flags & NGHTTP2_FLAG_ACK) == 0) {
    *static_cast<bool*>(user_data) = true;
  }
  return 0;
}

// Writes whatever nghttp2 has queued to `fd`; false if the socket fails.
bool FlushH2(nghttp2_session* session, int fd) {
  for (;;) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session, &data);
    if (n < 0) return false;
    if (n == 0) return true;
    for (ssize_t sent = 0; sent < n;) {
      ssize_t w = ::send(fd, data + sent, static_cast<size_t>(n - sent), MSG_NOSIGNAL);
      if (w <= 0) return false;
      sent += w;
    }
  }
}

}  // namespace

IdleH2Connection::IdleH2Connection(int port) {
  auto socket = std::make_unique<IdleSocket>(port);
  if (!socket->ok()) {
    error_ = "cannot connect";
    return;
  }
  // The descriptor is kept; the IdleSocket that opened it gives it up.
  fd_ = ::dup(socket->fd());
  socket.reset();
  timeval timeout{10, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  error_ = Handshake();
}

IdleH2Connection::~IdleH2Connection() {
  if (fd_ >= 0) ::close(fd_);
}

std::string IdleH2Connection::Handshake() {
  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, NoteServerSettings);
  bool server_settings = false;
  nghttp2_session* session = nullptr;
  nghttp2_session_client_new(&session, callbacks, &server_settings);
  nghttp2_session_callbacks_del(callbacks);
  std::string error;
  nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, nullptr, 0);
  if (!FlushH2(session, fd_)) error = "cannot send the preface";
  uint8_t buf[4096];
  while (error.empty() && !server_settings) {
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) {
      error = "no SETTINGS from the server";
    } else if (nghttp2_session_mem_recv(session, buf, static_cast<size_t>(n)) < 0) {
      error = "bad HTTP/2 from the server";
    }
  }
  // The SETTINGS acknowledgement nghttp2 queued for the server's.
  if (error.empty() && !FlushH2(session, fd_)) error = "cannot acknowledge SETTINGS";
  nghttp2_session_del(session);
  return error;
}

// One stream; the three operations it ever starts are told apart by tag.
struct IdleAdsStreams::Stream {
  enum Kind { kStarted, kWritten, kFinished };
  struct Tag {
    Stream* stream;
    Kind kind;
  };
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<DiscoveryRequest, DiscoveryResponse>> call;
  DiscoveryRequest request;
  grpc::Status status;
  Tag started{this, kStarted}, written{this, kWritten}, finished{this, kFinished};
};

IdleAdsStreams::IdleAdsStreams(int xds_port, int channels) {
  for (int i = 0; i < channels; ++i) {
    channels_.push_back(NewChannel(xds_port));
    stubs_.push_back(AggregatedDiscoveryService::NewStub(channels_.back()));
  }
}

IdleAdsStreams::~IdleAdsStreams() {
  for (auto& stream : streams_) {
    stream->context.TryCancel();
    stream->call->Finish(&stream->status, &stream->finished);
  }
  Drive(static_cast<int>(streams_.size()),
        std::chrono::system_clock::now() + std::chrono::seconds(60));
  cq_.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq_.Next(&tag, &ok)) {
  }
}

std::shared_ptr<grpc::Channel> IdleAdsStreams::NewChannel(int xds_port) {
  grpc::ChannelArguments args;
  // A connection of its own, not one shared with other channels to the port.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(xds_port),
                                   grpc::InsecureChannelCredentials(), args);
}

DiscoveryRequest IdleAdsStreams::FirstRequest(const std::string& id, const std::string& zone) {
  DiscoveryRequest request;
  request.set_type_url("type.googleapis.com/envoy.config.listener.v3.Listener");
  request.mutable_node()->set_id(id);
  request.mutable_node()->set_cluster("idle-sidecar");
  request.mutable_node()->mutable_locality()->set_zone(zone);
  return request;
}

bool IdleAdsStreams::Open(int count, const std::string& zone, std::chrono::seconds deadline) {
  const auto until = std::chrono::system_clock::now() + deadline;
  // In batches, so that the hub is not handed every stream in one burst.
  constexpr int kBatch = 500;
  for (int done = 0; done < count;) {
    const int batch = std::min(kBatch, count - done);
    for (int i = 0; i < batch; ++i) {
      auto stream = std::make_unique<Stream>();
      const int n = open();
      stream->request = FirstRequest("idle-" + std::to_string(n), zone);
      stream->call =
          stubs_[n % stubs_.size()]->PrepareAsyncStreamAggregatedResources(&stream->context, &cq_);
      stream->call->StartCall(&stream->started);
      streams_.push_back(std::move(stream));
    }
    if (!Drive(batch, until)) return false;
    done += batch;
  }
  return true;
}

// Handles completions until `pending` writes (or finishes) are done.
bool IdleAdsStreams::Drive(int pending, std::chrono::system_clock::time_point deadline) {
  while (pending > 0) {
    void* raw = nullptr;
    bool ok = false;
    if (cq_.AsyncNext(&raw, &ok, deadline) != grpc::CompletionQueue::GOT_EVENT) {
      error_ = "timed out with " + std::to_string(pending) + " streams still opening";
      return false;
    }
    auto* tag = static_cast<Stream::Tag*>(raw);
    if (tag->kind == Stream::kStarted) {
      if (!ok) {
        error_ = "a stream could not start";
        return false;
      }
      tag->stream->call->Write(tag->stream->request, &tag->stream->written);
      continue;
    }
    if (tag->kind == Stream::kWritten && !ok) {
      error_ = "a stream's request could not be written";
      return false;
    }
    --pending;
  }
  return true;
}

}  // namespace causeway::testing
