#include "proxy/server/proxy_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/cpu_count.h"
#include "proxy/server/worker.h"

namespace causeway::proxy {
namespace {

// One listening socket with SO_REUSEPORT, so every worker can own a socket
// on the same address and the kernel spreads connections between them.
absl::StatusOr<int> BindListener(const std::string& address, uint16_t port, uint16_t* bound_port) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family = AF_INET;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    family = AF_INET6;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("'", address, "' is not an IP address"));
  }
  int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd, 4096) != 0) {
    int err = errno;
    ::close(fd);
    return absl::UnavailableError(
        absl::StrCat("bind ", address, ":", port, ": ", std::strerror(err)));
  }
  len = sizeof(ss);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  *bound_port = ntohs(family == AF_INET ? v4->sin_port : v6->sin6_port);
  return fd;
}

// `base` with the current addresses of its STRICT_DNS host names.
ProxyConfigSnapshot Expanded(const ProxyConfigSnapshot& base, const StrictDnsResolver* dns) {
  return dns != nullptr ? ExpandStrictDns(*base, dns->Current()) : base;
}

}  // namespace

void ProxyServer::set_edge(bool edge) { shared_->edge = edge; }

ProxyServer::ProxyServer(ProxyServerOptions options)
    : options_(options), shared_(std::make_unique<ServerShared>()) {
  shared_->access_log = options_.access_log;
  shared_->key_stamper = options_.key_stamper;
  if (options_.time != nullptr) shared_->time = options_.time;
  shared_->max_connections = options_.max_connections;
  shared_->max_connections_per_listener = options_.max_connections_per_listener;
  health_ = std::make_unique<HealthChecker>(shared_->time, [this] { OnEndpointsChange(false); });
  int n = options_.workers > 0 ? options_.workers : UsableCpuCount();
  for (int i = 0; i < n; ++i)
    workers_.push_back(
        std::make_unique<Worker>(i, shared_.get(), options_.pool, options_.worker_slice));
}

ProxyServer::~ProxyServer() { Stop(); }

absl::Status ProxyServer::Start() {
  if (started_) return absl::FailedPreconditionError("already started");
  if (!options_.dns_server.empty()) {
    std::string ip;
    int port = 0;
    if (absl::Status s = ParseDnsServer(options_.dns_server, &ip, &port); !s.ok()) return s;
  }
  started_ = true;
  for (auto& w : workers_) w->Start();
  return absl::OkStatus();
}

absl::Status ProxyServer::UpdateConfig(ProxyConfigSnapshot base) {
  if (base == nullptr) return absl::InvalidArgumentError("null configuration");
  // STRICT_DNS host names: followed from now on, new ones answered (or
  // given up on for now) before the snapshot is served. Not under
  // publish_mu_: the resolver thread takes it to hand out its answers.
  const std::vector<DnsName> names = StrictDnsNames(*base);
  if (!names.empty() && dns_ == nullptr) {
    auto dns = std::make_unique<StrictDnsResolver>(options_.dns_server,
                                                   [this] { OnEndpointsChange(true); });
    if (absl::Status s = dns->Start(); !s.ok()) return s;
    std::lock_guard lock(publish_mu_);
    dns_ = std::move(dns);
  }
  if (dns_ != nullptr) dns_->Follow(names, options_.dns_first_answer_wait);
  auto expand = [&] { return names.empty() ? base : ExpandStrictDns(*base, dns_->Current()); };
  // New endpoints' first health checks, before they are served (bounded).
  health_->Follow(*expand(), options_.health_first_check_wait);

  std::lock_guard publish(publish_mu_);
  ProxyConfigSnapshot expanded = expand();
  // Again under the lock: a DNS update in between followed the old base.
  health_->Follow(*expanded, std::chrono::milliseconds(0));
  ProxyConfigSnapshot config = health_->Apply(expanded);
  std::vector<std::string> removes;
  for (const auto& [name, b] : bound_) {
    const ListenerConfig* l = config->FindListener(name);
    if (l == nullptr || l->address != b.address || l->port != b.requested_port) {
      removes.push_back(name);
    }
  }
  // Bind everything new first so a failure changes nothing.
  std::vector<std::vector<Worker::ListenerAdd>> adds(workers_.size());
  std::vector<std::pair<std::string, Bound>> new_bound;
  auto release = [&] {
    for (auto& per_worker : adds) {
      for (auto& a : per_worker) ::close(a.fd);
    }
  };
  for (const ListenerConfig& l : config->listeners) {
    auto it = bound_.find(l.name);
    bool replaced = std::find(removes.begin(), removes.end(), l.name) != removes.end();
    if (it != bound_.end() && !replaced) continue;
    Bound b{l.address, l.port, 0};
    for (size_t w = 0; w < workers_.size(); ++w) {
      uint16_t actual = 0;
      absl::StatusOr<int> fd = BindListener(l.address, w == 0 ? l.port : b.port, &actual);
      if (!fd.ok()) {
        release();
        // The previous configuration serves on: its endpoints are checked.
        if (base_ != nullptr) health_->Follow(*Expanded(base_, dns_.get()), {});
        return absl::Status(fd.status().code(),
                            absl::StrCat("listener '", l.name, "': ", fd.status().message()));
      }
      if (w == 0) b.port = actual;
      adds[w].push_back({l, *fd});
    }
    new_bound.emplace_back(l.name, b);
  }
  for (const std::string& name : removes) bound_.erase(name);
  for (auto& [name, b] : new_bound) bound_[name] = b;
  for (size_t w = 0; w < workers_.size(); ++w) {
    Worker* worker = workers_[w].get();
    boost::asio::post(worker->io_context(),
                      [worker, config, a = std::move(adds[w]), removes]() mutable {
                        worker->Apply(config, std::move(a), std::move(removes));
                      });
  }
  shared_->endpoint_stats.RetainConfigured(*config);
  base_ = std::move(base);
  return absl::OkStatus();
}

void ProxyServer::OnEndpointsChange(bool follow_health) {
  std::lock_guard publish(publish_mu_);
  if (base_ == nullptr) return;
  ProxyConfigSnapshot expanded = Expanded(base_, dns_.get());
  if (follow_health) health_->Follow(*expanded, std::chrono::milliseconds(0));
  ProxyConfigSnapshot config = health_->Apply(expanded);
  for (auto& w : workers_) {
    Worker* worker = w.get();
    boost::asio::post(worker->io_context(), [worker, config] { worker->Apply(config, {}, {}); });
  }
  shared_->endpoint_stats.RetainConfigured(*config);
}

ProxyServer::DnsCounters ProxyServer::DnsStats() const {
  std::lock_guard lock(publish_mu_);
  if (dns_ == nullptr) return {};
  return {dns_->lookups(), dns_->failures()};
}

std::optional<uint16_t> ProxyServer::ListenerPort(std::string_view name) const {
  auto it = bound_.find(absl::string_view(name.data(), name.size()));
  if (it == bound_.end()) return std::nullopt;
  return it->second.port;
}

bool ProxyServer::Drain(std::chrono::milliseconds timeout) {
  for (auto& w : workers_) {
    Worker* worker = w.get();
    boost::asio::post(worker->io_context(), [worker] { worker->BeginDrain(); });
  }
  std::unique_lock<std::mutex> lock(shared_->mu);
  return shared_->cv.wait_for(lock, timeout,
                              [&] { return shared_->active_connections.load() == 0; });
}

void ProxyServer::Stop() {
  // First the threads that hand snapshots to the workers.
  health_->Stop();
  if (dns_ != nullptr) dns_->Stop();
  for (auto& w : workers_) w->Stop();
}

int64_t ProxyServer::ActiveConnections() const { return shared_->active_connections.load(); }
uint64_t ProxyServer::RequestsTotal() const { return shared_->requests_total.load(); }

OverloadState& ProxyServer::overload() { return shared_->overload; }

std::map<std::string, uint64_t> ProxyServer::Counters() const {
  std::map<std::string, uint64_t> out;
  shared_->counters.ForEach([&](std::string_view name, const std::atomic<uint64_t>& value) {
    out.emplace(name, value.load(std::memory_order_relaxed));
  });
  return out;
}

int64_t ProxyServer::RequestsInProgress() const {
  int64_t n = 0;
  for (const auto& w : workers_) n += w->requests_in_progress();
  return n;
}

std::map<std::pair<std::string, std::string>, EndpointStatsRegistry::Values>
ProxyServer::EndpointStats() const {
  return shared_->endpoint_stats.Snapshot();
}

std::map<std::string, std::shared_ptr<ClusterStats>> ProxyServer::ClusterStatsByName() const {
  return shared_->endpoint_stats.Clusters();
}

}  // namespace causeway::proxy
