#include "proxy/upstream/health_checker.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <random>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "proxy/config/tls_context.h"
#include "proxy/upstream/connection_pool.h"
#include "spdlog/spdlog.h"

namespace causeway::proxy {

namespace asio = boost::asio;
namespace beast_http = boost::beast::http;
using HcTcp = asio::ip::tcp;

bool ExpectedStatus(const HealthCheckConfig& config, uint32_t status) {
  for (const auto& [start, end] : config.expected_statuses) {
    if (status >= start && status < end) return true;
  }
  return false;
}

bool RecordCheck(const HealthCheckConfig& config, const CheckResult& result,
                 EndpointHealth& health) {
  const bool was_healthy = health.healthy;
  const bool first = !health.checked;
  health.checked = true;
  if (result.kind == CheckResult::Kind::kSuccess) {
    health.failures = 0;
    ++health.successes;
    // A host's first check needs one success (Envoy: "during startup, only
    // a single successful health check is required").
    if (first || health.successes >= config.healthy_threshold) health.healthy = true;
  } else {
    health.successes = 0;
    ++health.failures;
    health.last_failure = result.reason;
    // An unexpected status is the origin saying "not me": at once.
    if (result.kind == CheckResult::Kind::kUnexpectedStatus ||
        health.failures >= config.unhealthy_threshold) {
      health.healthy = false;
    }
  }
  return health.healthy != was_healthy;
}

// One endpoint to check, as the configuration says.
struct HealthChecker::Target {
  Key key;  // (cluster, "host:port")
  std::string address;
  uint16_t port = 0;
  std::string host_header;
  HealthCheckConfig config;
  // The cluster's TLS: checks speak it too, as the cluster's traffic does.
  std::shared_ptr<const UpstreamTls> tls;
  // Checked the same way: TLS settings compare by what they say (every
  // configuration update builds them anew).
  bool operator==(const Target& o) const {
    auto tls_key = [](const Target& t) { return t.tls ? t.tls->pool_prefix : std::string(); };
    return key == o.key && address == o.address && port == o.port && host_header == o.host_header &&
           config == o.config && tls_key(*this) == tls_key(o);
  }
};

// The checks of one endpoint; lives on the checker's thread. Handlers hold
// it by shared_ptr, so one that completes after the probe was dropped finds
// `stopped` and does nothing.
struct HealthChecker::Probe {
  explicit Probe(asio::io_context& io, Target t) : target(std::move(t)), socket(io), resolver(io) {}
  Target target;
  HcTcp::socket socket;
  std::unique_ptr<TlsStream> tls;  // over `socket`, for a TLS cluster
  HcTcp::resolver resolver;
  std::unique_ptr<Timer> next;      // the next check
  std::unique_ptr<Timer> deadline;  // the timeout of the check in progress
  beast_http::request<beast_http::empty_body> request;
  boost::beast::flat_buffer buffer;
  std::optional<beast_http::response_parser<beast_http::string_body>> parser;
  bool in_check = false;
  bool stopped = false;
};

class HealthChecker::Io {
 public:
  explicit Io(HealthChecker* checker)
      : checker_(checker), work_(asio::make_work_guard(io_)), rng_(std::random_device{}()) {
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Io() { Stop(); }

  // Checks exactly `targets` from now on (on the checker's thread).
  void Follow(std::vector<Target> targets) {
    asio::post(io_, [this, targets = std::move(targets)]() mutable { Reconcile(targets); });
  }

  void Stop() {
    if (!thread_.joinable()) return;
    asio::post(io_, [this] { Reconcile({}); });
    work_.reset();
    thread_.join();  // once the last aborted operation has completed
  }

 private:
  void Reconcile(const std::vector<Target>& targets);
  void StartCheck(const std::shared_ptr<Probe>& p);
  void Connect(const std::shared_ptr<Probe>& p);
  // After the connect: the TLS handshake for a TLS cluster, then the request.
  void Connected(const std::shared_ptr<Probe>& p);
  void SendRequest(const std::shared_ptr<Probe>& p);
  template <typename Stream>
  void Exchange(const std::shared_ptr<Probe>& p, Stream& stream);
  void Complete(const std::shared_ptr<Probe>& p, CheckResult result);
  static void Halt(Probe& p);

  HealthChecker* const checker_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::mt19937_64 rng_;
  std::map<Key, std::shared_ptr<Probe>> probes_;  // the checker's thread only
  std::thread thread_;
};

void HealthChecker::Io::Halt(Probe& p) {
  p.stopped = true;
  if (p.next) p.next->Cancel();
  if (p.deadline) p.deadline->Cancel();
  boost::system::error_code ignored;
  p.resolver.cancel();
  p.socket.close(ignored);
}

void HealthChecker::Io::Reconcile(const std::vector<Target>& targets) {
  std::map<Key, const Target*> wanted;
  for (const Target& t : targets) wanted.emplace(t.key, &t);
  for (auto it = probes_.begin(); it != probes_.end();) {
    auto w = wanted.find(it->first);
    if (w == wanted.end() || !(*w->second == it->second->target)) {
      Halt(*it->second);  // gone, or checked differently now (its health stays)
      it = probes_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [key, target] : wanted) {
    if (probes_.count(key) != 0) continue;
    auto probe = std::make_shared<Probe>(io_, *target);
    probe->next = checker_->time_->CreateTimer(io_);
    probe->deadline = checker_->time_->CreateTimer(io_);
    probes_.emplace(key, probe);
    StartCheck(probe);
  }
}

void HealthChecker::Io::StartCheck(const std::shared_ptr<Probe>& p) {
  if (p->stopped) return;
  p->in_check = true;
  // The last check's TLS session goes only now: the operations its close
  // aborted have completed by the next check, and they use it until then.
  p->tls.reset();
  {
    std::lock_guard lock(checker_->mu_);
    ++checker_->counters_[p->target.key.first].attempt;
  }
  p->deadline->Schedule(checker_->time_->Monotonic() + p->target.config.timeout, [this, p] {
    Complete(p, {CheckResult::Kind::kNoResponse, "timeout"});
  });
  boost::system::error_code ec;
  const asio::ip::address ip = asio::ip::make_address(p->target.address, ec);
  if (!ec) {
    p->socket.async_connect(
        HcTcp::endpoint(ip, p->target.port), [this, p](const boost::system::error_code& error) {
          if (p->stopped || !p->in_check) return;
          if (error) {
            Complete(p, {CheckResult::Kind::kNoResponse, "connect: " + error.message()});
            return;
          }
          Connected(p);
        });
    return;
  }
  Connect(p);  // a host name (LOGICAL_DNS): looked up first
}

void HealthChecker::Io::Connect(const std::shared_ptr<Probe>& p) {
  p->resolver.async_resolve(
      p->target.address, std::to_string(p->target.port),
      [this, p](const boost::system::error_code& error, HcTcp::resolver::results_type results) {
        if (p->stopped || !p->in_check) return;
        if (error) {
          Complete(p, {CheckResult::Kind::kNoResponse, "resolve: " + error.message()});
          return;
        }
        asio::async_connect(
            p->socket, results,
            [this, p](const boost::system::error_code& e, const HcTcp::endpoint&) {
              if (p->stopped || !p->in_check) return;
              if (e) {
                Complete(p, {CheckResult::Kind::kNoResponse, "connect: " + e.message()});
                return;
              }
              Connected(p);
            });
      });
}

void HealthChecker::Io::Connected(const std::shared_ptr<Probe>& p) {
  const std::shared_ptr<const UpstreamTls>& tls = p->target.tls;
  if (tls == nullptr) {
    SendRequest(p);
    return;
  }
  p->tls = std::make_unique<TlsStream>(p->socket, *tls->context);
  if (absl::Status s = PrepareUpstreamTls(p->tls->native_handle(), *tls, p->target.address);
      !s.ok()) {
    Complete(p, {CheckResult::Kind::kNoResponse, std::string(s.message())});
    return;
  }
  p->tls->async_handshake(asio::ssl::stream_base::client,
                          [this, p](const boost::system::error_code& error) {
                            if (p->stopped || !p->in_check) return;
                            if (error) {
                              Complete(p, {CheckResult::Kind::kNoResponse,
                                           TlsHandshakeFailure(p->tls->native_handle(), error)});
                              return;
                            }
                            SendRequest(p);
                          });
}

void HealthChecker::Io::SendRequest(const std::shared_ptr<Probe>& p) {
  p->request = {};
  p->request.method(beast_http::verb::get);
  p->request.target(p->target.config.path);
  p->request.version(11);
  p->request.set(beast_http::field::host, p->target.host_header);
  p->request.set(beast_http::field::user_agent, "causeway-proxy-health-check");
  p->request.set(beast_http::field::connection, "close");
  if (p->tls != nullptr) {
    Exchange(p, *p->tls);
  } else {
    Exchange(p, p->socket);
  }
}

// The request and its response on the connection (clear text or TLS).
template <typename Stream>
void HealthChecker::Io::Exchange(const std::shared_ptr<Probe>& p, Stream& stream) {
  beast_http::async_write(
      stream, p->request, [this, p, &stream](const boost::system::error_code& error, size_t) {
        if (p->stopped || !p->in_check) return;
        if (error) {
          Complete(p, {CheckResult::Kind::kNoResponse, "write: " + error.message()});
          return;
        }
        p->buffer.clear();
        p->parser.emplace();
        p->parser->body_limit(64 * 1024);  // a health page, not a download
        beast_http::async_read(
            stream, p->buffer, *p->parser, [this, p](const boost::system::error_code& e, size_t) {
              if (p->stopped || !p->in_check) return;
              if (e) {
                Complete(p, {CheckResult::Kind::kNoResponse, "response: " + e.message()});
                return;
              }
              const unsigned status = p->parser->get().result_int();
              if (ExpectedStatus(p->target.config, status)) {
                Complete(p, {CheckResult::Kind::kSuccess, ""});
              } else {
                Complete(p,
                         {CheckResult::Kind::kUnexpectedStatus, absl::StrCat("status ", status)});
              }
            });
      });
}

void HealthChecker::Io::Complete(const std::shared_ptr<Probe>& p, CheckResult result) {
  if (p->stopped || !p->in_check) return;
  p->in_check = false;
  p->deadline->Cancel();
  boost::system::error_code ignored;
  p->resolver.cancel();
  p->socket.close(ignored);
  p->parser.reset();
  // The next check is scheduled before the result is published, so whoever
  // sees the result (a test stepping simulated time) finds it scheduled.
  const HealthCheckConfig& config = p->target.config;
  std::chrono::milliseconds jitter{0};
  if (config.interval_jitter.count() > 0) {
    jitter = std::chrono::milliseconds(rng_() % (config.interval_jitter.count() + 1));
  }
  p->next->Schedule(checker_->time_->Monotonic() + config.interval + jitter,
                    [this, p] { StartCheck(p); });
  checker_->Finish(p->target.key, config, result);
}

HealthChecker::HealthChecker(TimeSource* time, std::function<void()> on_change)
    : time_(time), on_change_(std::move(on_change)) {}

HealthChecker::~HealthChecker() { Stop(); }

void HealthChecker::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  first_checks_.notify_all();
  if (io_ != nullptr) io_->Stop();
}

void HealthChecker::Finish(const Key& key, const HealthCheckConfig& config,
                           const CheckResult& result) {
  bool changed = false;
  {
    std::lock_guard lock(mu_);
    auto it = health_.find(key);
    if (it == health_.end()) return;  // no longer followed
    Counters& counters = counters_[key.first];
    ++(result.kind == CheckResult::Kind::kSuccess ? counters.success : counters.failure);
    const bool first = !it->second.checked;
    changed = RecordCheck(config, result, it->second);
    if (changed) {
      if (it->second.healthy) {
        ++counters.healthy;
      } else {
        --counters.healthy;
      }
      spdlog::info("proxy: cluster {} endpoint {} is {}{}", key.first, key.second,
                   it->second.healthy ? "healthy" : "unhealthy",
                   it->second.healthy ? "" : " (" + result.reason + ")");
    }
    if (first) first_checks_.notify_all();
  }
  if (changed) on_change_();
}

void HealthChecker::Follow(const ProxyConfig& config, std::chrono::milliseconds wait) {
  std::vector<Target> targets;
  for (const auto& [name, cluster] : config.clusters) {
    if (!cluster->health_check) continue;
    for (const Endpoint& e : cluster->endpoints) {
      const HealthCheckConfig& hc = *cluster->health_check;
      targets.push_back({{cluster->name, e.Key()},
                         e.address,
                         e.port,
                         hc.host.empty() ? cluster->name : hc.host,
                         hc,
                         cluster->tls});
    }
  }
  std::vector<Key> fresh;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    std::map<Key, EndpointHealth> next;
    std::map<std::string, Counters> counters;
    for (const Target& t : targets) {
      auto it = health_.find(t.key);
      if (it == health_.end()) fresh.push_back(t.key);
      EndpointHealth h = it == health_.end() ? EndpointHealth{} : it->second;
      if (next.emplace(t.key, h).second && h.healthy) ++counters[t.key.first].healthy;
    }
    // Attempts, successes and failures of clusters that stay go on counting.
    std::set<std::string> followed;
    for (const Target& t : targets) followed.insert(t.key.first);
    for (const std::string& cluster : followed) {
      auto it = counters_.find(cluster);
      if (it == counters_.end()) continue;
      Counters& c = counters[cluster];
      c.attempt = it->second.attempt;
      c.success = it->second.success;
      c.failure = it->second.failure;
    }
    health_ = std::move(next);
    counters_ = std::move(counters);
    if (io_ == nullptr && !targets.empty()) io_ = std::make_unique<Io>(this);
    // Posted under the lock: the checker's thread sees Follows in the order
    // health_ did.
    if (io_ != nullptr) io_->Follow(std::move(targets));
  }
  if (fresh.empty() || wait.count() <= 0) return;
  std::unique_lock lock(mu_);
  first_checks_.wait_for(lock, wait, [&] {
    if (stopping_) return true;
    for (const Key& key : fresh) {
      auto it = health_.find(key);
      if (it != health_.end() && !it->second.checked) return false;
    }
    return true;
  });
}

ProxyConfigSnapshot HealthChecker::Apply(const ProxyConfigSnapshot& config) const {
  bool any = false;
  for (const auto& [name, cluster] : config->clusters) any = any || cluster->health_check;
  if (!any) return config;
  auto out = std::make_shared<ProxyConfig>(*config);
  std::lock_guard lock(mu_);
  for (auto& [name, cluster] : out->clusters) {
    if (!cluster->health_check) continue;
    auto checked = std::make_shared<ClusterConfig>(*cluster);  // a new id
    for (Endpoint& e : checked->endpoints) {
      auto it = health_.find({checked->name, e.Key()});
      e.failed_active_hc = it == health_.end() || !it->second.healthy;
    }
    cluster = std::move(checked);
  }
  return out;
}

std::map<std::pair<std::string, std::string>, EndpointHealth> HealthChecker::Endpoints() const {
  std::lock_guard lock(mu_);
  return health_;
}

std::map<std::string, HealthChecker::Counters> HealthChecker::ClusterCounters() const {
  std::lock_guard lock(mu_);
  return counters_;
}

}  // namespace causeway::proxy
