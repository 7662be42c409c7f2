// The laptop's end of the tunnel: one Worker (the proxy's event loop) runs
// the dialing loop and, once connected, the proxy's own HTTP/2 server
// session over the tunnel, with a configuration built in memory
// (local_config.h). The dial, the session and the requests to the local
// service all run on that one loop, as the proxy's request path expects.
#include "proxy/tunnel/tunnel_client.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <future>

#include "common/strings.h"
#include "proxy/server/h2_session.h"
#include "proxy/server/worker.h"
#include "proxy/tunnel/local_config.h"
#include "proxy/tunnel/upgrade.h"

namespace causeway::proxy::tunnel {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto kTunnelNoThrow = asio::as_tuple(asio::use_awaitable);

// How one attempt ended.
struct AttemptEnd {
  bool refused = false;  // the holder answered with an error status
  int status = 0;
  std::string message;
  bool was_connected = false;
};

bool IsPermanent(int status) { return status == 401 || status == 403 || status == 404; }

class TunnelClientImpl final : public TunnelClient {
 public:
  TunnelClientImpl(TunnelClientOptions options, EventCallback on_event, ProxyConfigSnapshot config,
                   std::string host, std::string port)
      : options_(std::move(options)),
        on_event_(std::move(on_event)),
        config_(std::move(config)),
        host_(std::move(host)),
        port_(std::move(port)),
        ssl_(asio::ssl::context::tls_client) {}
  ~TunnelClientImpl() override { Stop(); }

  absl::Status Init();
  absl::Status Start() override;
  void Stop() override;
  bool connected() const override { return connected_.load(); }
  uint64_t requests_served() const override { return shared_.requests_total.load(); }

 private:
  asio::awaitable<void> Loop();
  asio::awaitable<AttemptEnd> Attempt();
  asio::awaitable<absl::Status> Dial(Downstream& down);
  asio::awaitable<AttemptEnd> Serve(Downstream& down, std::string rest);
  void Emit(TunnelEvent::Kind kind, int status, std::string message, bool permanent);
  // Closes the connection after `timeout` unless disarmed (the handshake's
  // deadline).
  void ArmDeadline(asio::steady_timer& timer, tcp::socket& socket);

  const TunnelClientOptions options_;
  const EventCallback on_event_;
  const ProxyConfigSnapshot config_;
  const std::string host_, port_;
  asio::ssl::context ssl_;
  ServerShared shared_;
  std::shared_ptr<ListenerState> listener_;
  std::atomic<bool> connected_{false};
  std::atomic<bool> started_{false};
  // Worker thread only.
  bool stopping_ = false;
  Downstream* current_ = nullptr;
  std::unique_ptr<asio::steady_timer> backoff_timer_;
  std::promise<void> loop_done_;    // set when Loop returns
  std::unique_ptr<Worker> worker_;  // last: it goes first, with the loop's frames
};

absl::Status TunnelClientImpl::Init() {
  boost::system::error_code ec;
  if (options_.ca_file.empty()) {
    ssl_.set_default_verify_paths(ec);
  } else {
    ssl_.load_verify_file(options_.ca_file, ec);
    if (ec) {
      return absl::InvalidArgumentError(
          StrCat("ca_file: cannot load \"", options_.ca_file, "\": ", ec.message()));
    }
  }
  ssl_.set_verify_mode(asio::ssl::verify_peer);
  listener_ = std::make_shared<ListenerState>();
  listener_->name = kLaptopListener;
  listener_->config = config_->listeners.front();
  listener_->connections = shared_.ListenerConnections(kLaptopListener);
  worker_ = std::make_unique<Worker>(0, &shared_);
  return absl::OkStatus();
}

absl::Status TunnelClientImpl::Start() {
  if (started_.exchange(true)) return absl::FailedPreconditionError("already started");
  worker_->Start();
  asio::post(worker_->io_context(), [this] {
    worker_->Apply(config_, {}, {});
    backoff_timer_ = std::make_unique<asio::steady_timer>(worker_->io_context());
    asio::co_spawn(worker_->io_context(), Loop(), asio::detached);
  });
  return absl::OkStatus();
}

void TunnelClientImpl::Stop() {
  if (!started_.load() || worker_ == nullptr) return;
  std::promise<void> closed;
  asio::post(worker_->io_context(), [this, &closed] {
    stopping_ = true;
    if (backoff_timer_) backoff_timer_->cancel();
    boost::system::error_code ec;
    if (current_ != nullptr) current_->socket.close(ec);
    worker_->h2_pool().Clear();
    closed.set_value();
  });
  closed.get_future().wait();
  // The session and its streams end on the loop before it stops, so none
  // is left for the io_context to tear down half-way.
  loop_done_.get_future().wait_for(std::chrono::seconds(10));
  worker_->Stop();
  // The timer belongs to the worker's io_context: it goes first (the
  // worker's threads have stopped, so nothing else touches it).
  backoff_timer_.reset();
  worker_.reset();
  connected_ = false;
}

void TunnelClientImpl::Emit(TunnelEvent::Kind kind, int status, std::string message,
                            bool permanent) {
  if (!on_event_) return;
  TunnelEvent e;
  e.kind = kind;
  e.status = status;
  e.message = std::move(message);
  e.permanent = permanent;
  on_event_(e);
}

asio::awaitable<void> TunnelClientImpl::Loop() {
  std::chrono::milliseconds backoff = options_.backoff_initial;
  while (!stopping_) {
    Emit(TunnelEvent::Kind::kConnecting, 0, StrCat("dialing ", options_.tunnel), false);
    AttemptEnd end = co_await Attempt();
    if (stopping_) break;
    if (end.refused) {
      const bool permanent = IsPermanent(end.status);
      Emit(TunnelEvent::Kind::kRefused, end.status, end.message, permanent);
      if (permanent) break;
    } else {
      Emit(TunnelEvent::Kind::kDisconnected, 0, end.message, false);
    }
    // A tunnel that was up starts the back-off again.
    if (end.was_connected) backoff = options_.backoff_initial;
    backoff_timer_->expires_after(backoff);
    co_await backoff_timer_->async_wait(kTunnelNoThrow);
    backoff = std::min(backoff * 2, options_.backoff_max);
  }
  loop_done_.set_value();
}

void TunnelClientImpl::ArmDeadline(asio::steady_timer& timer, tcp::socket& socket) {
  timer.expires_after(options_.handshake_timeout);
  timer.async_wait([&socket](boost::system::error_code ec) {
    if (ec) return;  // disarmed
    socket.close(ec);
  });
}

asio::awaitable<absl::Status> TunnelClientImpl::Dial(Downstream& down) {
  tcp::resolver resolver(worker_->io_context());
  auto [rec, endpoints] = co_await resolver.async_resolve(host_, port_, kTunnelNoThrow);
  if (rec) co_return absl::UnavailableError(StrCat("resolving ", host_, ": ", rec.message()));
  auto [cec, ep] = co_await asio::async_connect(down.socket, endpoints, kTunnelNoThrow);
  if (cec) {
    co_return absl::UnavailableError(
        StrCat("connecting to ", options_.tunnel, ": ", cec.message()));
  }
  down.socket.set_option(tcp::no_delay(true));
  down.tls = std::make_unique<TlsStream>(down.socket, ssl_);
  const std::string& name = options_.server_name.empty() ? host_ : options_.server_name;
  SSL_set_tlsext_host_name(down.tls->native_handle(), name.c_str());
  down.tls->set_verify_callback(asio::ssl::host_name_verification(name));
  auto [hec] = co_await down.tls->async_handshake(asio::ssl::stream_base::client, kTunnelNoThrow);
  if (hec) {
    co_return absl::UnavailableError(
        StrCat("TLS with ", options_.tunnel, " (", name, "): ", hec.message()));
  }
  const std::string request = FormatUpgradeRequest(
      {StrCat(host_, ":", port_), options_.token, options_.zone, options_.intercept});
  auto [wec, n] = co_await asio::async_write(*down.tls, asio::buffer(request), kTunnelNoThrow);
  if (wec) co_return absl::UnavailableError(StrCat("sending the upgrade: ", wec.message()));
  co_return absl::OkStatus();
}

asio::awaitable<AttemptEnd> TunnelClientImpl::Attempt() {
  Downstream down(tcp::socket(worker_->io_context()), worker_->time(), worker_->io_context());
  current_ = &down;
  asio::steady_timer deadline(worker_->io_context());
  ArmDeadline(deadline, down.socket);
  AttemptEnd end;
  absl::Status dialed = co_await Dial(down);
  absl::StatusOr<UpgradeAnswer> answer = absl::UnavailableError("not dialed");
  if (dialed.ok()) {
    answer = co_await ReadUpgradeAnswer(*down.tls);
  } else {
    answer = dialed;
  }
  deadline.cancel();
  if (!answer.ok()) {
    end.message = std::string(answer.status().message());
  } else if (answer->status != 101) {
    end.refused = true;
    end.status = answer->status;
    end.message = answer->message;
  } else if (!stopping_) {
    end = co_await Serve(down, std::move(answer->rest));
  }
  current_ = nullptr;
  co_return end;
}

asio::awaitable<AttemptEnd> TunnelClientImpl::Serve(Downstream& down, std::string rest) {
  down.in.Append(rest);
  down.requests_in_progress = &worker_->requests_in_progress_counter();
  connected_ = true;
  Emit(TunnelEvent::Kind::kConnected, 101, StrCat("connected to ", options_.tunnel), false);
  {
    Http2Session session(*worker_, listener_, down);
    co_await session.Run();
  }
  connected_ = false;
  AttemptEnd end;
  end.was_connected = true;
  end.message = StrCat("the tunnel to ", options_.tunnel, " closed");
  co_return end;
}

absl::Status CheckRequired(const TunnelClientOptions& o) {
  const std::pair<const char*, const std::string*> required[] = {{"tunnel", &o.tunnel},
                                                                 {"token", &o.token},
                                                                 {"zone", &o.zone},
                                                                 {"intercept", &o.intercept},
                                                                 {"to", &o.to}};
  for (const auto& [name, value] : required) {
    if (value->empty()) return absl::InvalidArgumentError(StrCat(name, ": is required"));
  }
  if (o.backoff_initial.count() <= 0 || o.backoff_max < o.backoff_initial) {
    return absl::InvalidArgumentError(StrCat("backoff_initial: ", o.backoff_initial.count(),
                                             " ms must be positive and at most backoff_max (",
                                             o.backoff_max.count(), " ms)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<TunnelClient>> TunnelClient::Create(TunnelClientOptions options,
                                                                   EventCallback on_event) {
  if (absl::Status s = CheckRequired(options); !s.ok()) return s;
  std::string host;
  uint16_t port = 0;
  if (absl::Status s = SplitHostPort("tunnel", options.tunnel, &host, &port); !s.ok()) return s;
  absl::StatusOr<ProxyConfigSnapshot> config =
      BuildLaptopConfig(options.to, options.to_protocol == ToProtocol::kHttp2);
  if (!config.ok()) return config.status();
  auto client = std::make_unique<TunnelClientImpl>(std::move(options), std::move(on_event),
                                                   *std::move(config), host, std::to_string(port));
  if (absl::Status s = client->Init(); !s.ok()) return s;
  return std::unique_ptr<TunnelClient>(std::move(client));
}

}  // namespace causeway::proxy::tunnel
