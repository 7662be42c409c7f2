#include "proxy/tunnel/holder.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <future>
#include <map>
#include <optional>

#include "common/strings.h"
#include "model/objects.h"
#include "proxy/config/tls_context.h"
#include "proxy/server/sleep_until.h"
#include "proxy/server/worker.h"
#include "proxy/tunnel/forward_config.h"
#include "proxy/tunnel/local_config.h"
#include "proxy/tunnel/upgrade.h"
#include "proxy/upstream/http2_upstream_stream.h"
#include "spdlog/spdlog.h"

namespace causeway::proxy::tunnel {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto kHolderNoThrow = asio::as_tuple(asio::use_awaitable);

// A TCP socket bound to ADDR:PORT (an IP literal), listening or not; the
// descriptor, or an error naming `what`.
absl::StatusOr<int> BindSocket(const std::string& what, const std::string& value, bool listen) {
  std::string host;
  uint16_t port = 0;
  if (absl::Status s = SplitHostPort(what, value, &host, &port, true); !s.ok()) return s;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return absl::InvalidArgumentError(
        StrCat(what, ": \"", value, "\" needs an IPv4 address as its host"));
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      (listen && ::listen(fd, 128) != 0)) {
    const int err = errno;
    ::close(fd);
    return absl::UnavailableError(StrCat(what, ": cannot bind ", value, ": ", strerror(err)));
  }
  return fd;
}

uint16_t BoundPort(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

std::string_view RefusalCode(int status) {
  switch (status) {
    case 400:
      return "invalid_argument";
    case 401:
      return "unauthenticated";
    case 403:
      return "permission_denied";
    case 404:
      return "not_found";
    default:
      return "hub_unavailable";
  }
}

class HolderImpl final : public TunnelHolder {
 public:
  explicit HolderImpl(TunnelHolderOptions options) : options_(std::move(options)) {}
  ~HolderImpl() override {
    Stop();
    for (int fd : {dead_fd_}) {
      if (fd >= 0) ::close(fd);
    }
  }
  absl::Status Init();
  void Stop() override;
  uint16_t tunnel_port() const override { return tunnel_port_; }
  uint16_t forward_port() const override { return forward_port_; }

 private:
  struct Tunnel {
    std::string zone;
    uint64_t id = 0;
    Endpoint endpoint;
    std::shared_ptr<Http2Connection> conn;
  };

  asio::awaitable<void> AcceptLoop();
  asio::awaitable<void> HandleLaptop(tcp::socket socket);
  // Checks the laptop's request and asks the hub: 200, or the status and
  // message to refuse it with.
  asio::awaitable<HubAnswer> Admit(const absl::StatusOr<UpgradeRequest>& request);
  asio::awaitable<HubAnswer> AskHub(const UpgradeRequest& request);
  void Register(const UpgradeRequest& request, std::unique_ptr<UpstreamConnection> transport);
  asio::awaitable<void> Watch(std::string name, uint64_t id, std::shared_ptr<Http2Connection> conn);
  void Unregister(const std::string& name, uint64_t id);
  void ApplyForwardConfig();
  Endpoint EndpointFor(uint64_t id) const;

  const TunnelHolderOptions options_;
  std::shared_ptr<ServerCertificates> certs_;
  ServerShared shared_;
  ListenerConfig forward_listener_;
  int dead_fd_ = -1;  // bound, never listening: the tunnels' endpoints refuse connects
  uint16_t dead_port_ = 0;
  uint16_t tunnel_port_ = 0;
  uint16_t forward_port_ = 0;
  std::unique_ptr<HubReporter> reporter_;
  bool started_ = false;
  // Worker thread only.
  std::map<std::string, Tunnel> tunnels_;
  uint64_t next_id_ = 1;
  bool stopping_ = false;
  std::unique_ptr<tcp::acceptor> acceptor_;
  std::unique_ptr<Worker> worker_;  // last: it goes first, with the loop's frames
};

absl::Status HolderImpl::Init() {
  absl::StatusOr<std::shared_ptr<ServerCertificates>> certs = ServerCertificates::Load(
      "--tunnel-cert/--tunnel-key", {.cert = options_.cert, .key = options_.key});
  if (!certs.ok()) return certs.status();
  certs_ = *std::move(certs);
  absl::StatusOr<int> tunnel_fd = BindSocket("--tunnel-listen", options_.listen, true);
  if (!tunnel_fd.ok()) return tunnel_fd.status();
  absl::StatusOr<int> forward_fd =
      BindSocket("--tunnel-forward-listen", options_.forward_listen, true);
  if (!forward_fd.ok()) {
    ::close(*tunnel_fd);
    return forward_fd.status();
  }
  absl::StatusOr<int> dead_fd = BindSocket("tunnel endpoints", "127.0.0.1:0", false);
  if (!dead_fd.ok()) return dead_fd.status();
  dead_fd_ = *dead_fd;
  dead_port_ = BoundPort(dead_fd_);
  tunnel_port_ = BoundPort(*tunnel_fd);
  forward_port_ = BoundPort(*forward_fd);
  HubReporterOptions hub = options_.hub;
  hub.advertise = options_.advertise;
  if (hub.advertise.empty()) {
    hub.advertise = StrCat(options_.forward_listen.substr(0, options_.forward_listen.rfind(':')),
                           ":", forward_port_);
  }
  reporter_ = std::make_unique<HubReporter>(std::move(hub));
  shared_.access_log = options_.access_log;
  worker_ = std::make_unique<Worker>(0, &shared_);
  acceptor_ = std::make_unique<tcp::acceptor>(worker_->io_context(), tcp::v4(), *tunnel_fd);
  forward_listener_.name = kForwardListener;
  forward_listener_.address = "0.0.0.0";
  forward_listener_.port = forward_port_;
  worker_->Start();
  started_ = true;
  asio::post(worker_->io_context(), [this, fd = *forward_fd] {
    ProxyConfigSnapshot config = BuildForwardConfig(forward_listener_, {});
    worker_->Apply(config, {Worker::ListenerAdd{config->listeners.front(), fd}}, {});
    asio::co_spawn(worker_->io_context(), AcceptLoop(), asio::detached);
  });
  return absl::OkStatus();
}

void HolderImpl::Stop() {
  if (!started_) return;
  started_ = false;
  std::promise<void> closed;
  asio::post(worker_->io_context(), [this, &closed] {
    stopping_ = true;
    boost::system::error_code ec;
    acceptor_->close(ec);
    for (auto& [name, t] : tunnels_) {
      t.conn->Close();
      reporter_->Withdraw(t.zone, name);
    }
    tunnels_.clear();
    worker_->h2_pool().Clear();
    closed.set_value();
  });
  closed.get_future().wait();
  worker_->Stop();
  acceptor_.reset();
  worker_.reset();
  reporter_.reset();  // sends the withdrawals queued
}

asio::awaitable<void> HolderImpl::AcceptLoop() {
  while (!stopping_) {
    auto [ec, socket] = co_await acceptor_->async_accept(kHolderNoThrow);
    if (stopping_ || ec == asio::error::operation_aborted) co_return;
    if (ec) continue;
    asio::co_spawn(worker_->io_context(), HandleLaptop(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> HolderImpl::HandleLaptop(tcp::socket socket) {
  auto transport = std::make_unique<UpstreamConnection>(socket.get_executor());
  transport->socket = std::move(socket);
  transport->socket.set_option(tcp::no_delay(true));
  std::shared_ptr<asio::ssl::context> context = certs_->Current();
  transport->tls = std::make_unique<TlsStream>(transport->socket, *context);
  // The whole opening exchange, the hub's answer included, has a deadline.
  asio::steady_timer deadline(worker_->io_context());
  deadline.expires_after(options_.handshake_timeout);
  deadline.async_wait([s = &transport->socket](boost::system::error_code ec) {
    if (!ec) s->close(ec);
  });
  auto [hec] =
      co_await transport->tls->async_handshake(asio::ssl::stream_base::server, kHolderNoThrow);
  std::string head, rest;
  if (hec || !(co_await ReadHead(*transport->tls, &head, &rest)).ok()) co_return;
  absl::StatusOr<UpgradeRequest> request = ParseUpgradeRequest(head);
  HubAnswer answer = co_await Admit(request);
  if (stopping_) co_return;
  const std::string reply =
      answer.status == 200
          ? FormatSwitchingProtocols()
          : FormatRefusal(answer.status, RefusalCode(answer.status), answer.message);
  auto [wec, n] = co_await asio::async_write(*transport->tls, asio::buffer(reply), kHolderNoThrow);
  deadline.cancel();
  if (wec || answer.status != 200 || stopping_) {
    if (answer.status != 200) (void)co_await transport->tls->async_shutdown(kHolderNoThrow);
    // The hub recorded a tunnel the laptop never got: take it back, unless
    // another tunnel of the intercept is live here.
    if (answer.status == 200 && !tunnels_.contains(request->intercept)) {
      reporter_->Withdraw(request->zone, request->intercept);
    }
    co_return;
  }
  Register(*request, std::move(transport));
}

asio::awaitable<HubAnswer> HolderImpl::Admit(const absl::StatusOr<UpgradeRequest>& request) {
  if (!request.ok()) {
    const int status = absl::IsUnauthenticated(request.status()) ? 401 : 400;
    co_return HubAnswer{status, std::string(request.status().message())};
  }
  for (const auto& [what, value] :
       {std::pair{kZoneHeader, &request->zone}, std::pair{kInterceptHeader, &request->intercept}}) {
    if (!model::IsValidName(*value)) {
      co_return HubAnswer{400, StrCat(what, ": \"", *value, "\" is not a valid name")};
    }
  }
  HubAnswer answer = co_await AskHub(*request);
  if (answer.status == 200 || answer.status == 401 || answer.status == 403 ||
      answer.status == 404) {
    co_return answer;
  }
  // Anything else is the hub's trouble, not the laptop's: 502.
  co_return HubAnswer{502, answer.status == 0
                               ? answer.message
                               : StrCat("the hub answered ", answer.status, ": ", answer.message)};
}

asio::awaitable<HubAnswer> HolderImpl::AskHub(const UpgradeRequest& request) {
  struct Pending {
    explicit Pending(asio::io_context& io) : signal(io) {}
    asio::steady_timer signal;
    std::optional<HubAnswer> answer;
  };
  auto pending = std::make_shared<Pending>(worker_->io_context());
  pending->signal.expires_at(asio::steady_timer::time_point::max());
  asio::io_context& io = worker_->io_context();
  reporter_->Report(request.zone, request.intercept, request.token,
                    [pending, &io](HubAnswer answer) {
                      asio::post(io, [pending, answer = std::move(answer)] {
                        pending->answer = answer;
                        pending->signal.cancel();
                      });
                    });
  while (!pending->answer) co_await pending->signal.async_wait(kHolderNoThrow);
  co_return *pending->answer;
}

Endpoint HolderImpl::EndpointFor(uint64_t id) const {
  // Each tunnel is pooled under an address of its own in 127/8; the port is
  // bound and never listens, so a request that finds the tunnel gone is
  // refused at once instead of reaching anything else.
  Endpoint e;
  e.address = StrCat("127.", 1 + (id / 254 / 256) % 254, ".", (id / 254) % 256, ".", 1 + id % 254);
  e.port = dead_port_;
  return e;
}

void HolderImpl::Register(const UpgradeRequest& request,
                          std::unique_ptr<UpstreamConnection> transport) {
  const uint64_t id = next_id_++;
  Tunnel tunnel{request.zone, id, EndpointFor(id), nullptr};
  transport->key = PoolKey(tunnel.endpoint, nullptr);
  transport->peer = "tunnel:" + request.intercept;
  std::unique_ptr<Http2UpstreamStream> slot = worker_->h2_pool().Adopt(std::move(transport), 0);
  tunnel.conn = slot->connection().shared_from_this();
  tunnel.conn->set_fallback_signal(true);
  tunnel.conn->set_head_timeout(options_.response_timeout);
  slot.reset();
  auto old = tunnels_.find(request.intercept);
  if (old != tunnels_.end()) {
    // A newer tunnel replaces the older one: GOAWAY, and its streams finish.
    (void)old->second.conn->codec().SubmitGoaway(http2::kNoError);
    old->second.conn->Flush();
    old->second.conn->Retire();
  }
  tunnels_[request.intercept] = tunnel;
  ApplyForwardConfig();
  spdlog::info("tunnel: intercept {} (zone {}) connected", request.intercept, request.zone);
  asio::co_spawn(worker_->io_context(), Watch(request.intercept, id, tunnel.conn), asio::detached);
}

asio::awaitable<void> HolderImpl::Watch(std::string name, uint64_t id,
                                        std::shared_ptr<Http2Connection> conn) {
  // The worker's clock, like the request path's other timers.
  TimeSource& time = worker_->time();
  std::unique_ptr<Timer> timer = time.CreateTimer(worker_->io_context());
  uint64_t acks = 0;
  int missed = 0;
  while (!stopping_ && !conn->failed() && !conn->Finished()) {
    (void)conn->codec().SubmitPing();
    conn->Flush();
    co_await SleepUntil(*timer, time.Monotonic() + options_.ping_interval);
    if (stopping_ || conn->failed()) break;
    if (conn->codec().ping_acks() != acks) {
      acks = conn->codec().ping_acks();
      missed = 0;
    } else if (++missed >= 3) {
      spdlog::warn("tunnel: intercept {}: no PING answered for 3 intervals; closing", name);
      conn->Close();
      break;
    }
  }
  if (!stopping_) Unregister(name, id);
}

void HolderImpl::Unregister(const std::string& name, uint64_t id) {
  auto it = tunnels_.find(name);
  // A tunnel that was replaced leaves the newer one alone.
  if (it == tunnels_.end() || it->second.id != id) return;
  reporter_->Withdraw(it->second.zone, name);
  tunnels_.erase(it);
  ApplyForwardConfig();
  spdlog::info("tunnel: intercept {} disconnected", name);
}

void HolderImpl::ApplyForwardConfig() {
  std::map<std::string, Endpoint> endpoints;
  for (const auto& [name, t] : tunnels_) endpoints[name] = t.endpoint;
  worker_->Apply(BuildForwardConfig(forward_listener_, endpoints), {}, {});
}

}  // namespace

absl::StatusOr<std::unique_ptr<TunnelHolder>> TunnelHolder::Start(TunnelHolderOptions options) {
  if (options.ping_interval.count() <= 0) {
    return absl::InvalidArgumentError(
        StrCat("--tunnel-ping-ms: must be positive, not ", options.ping_interval.count()));
  }
  auto holder = std::make_unique<HolderImpl>(std::move(options));
  if (absl::Status s = holder->Init(); !s.ok()) return s;
  return std::unique_ptr<TunnelHolder>(std::move(holder));
}

}  // namespace causeway::proxy::tunnel
