#include "discovery/collectors/dns_collector.h"

#include <algorithm>
#include <charconv>

#include "common/strings.h"
#include "discovery/collectors/dns_resolver.h"
#include "model/objects.h"
#include "spdlog/spdlog.h"

namespace causeway::discovery {

absl::StatusOr<DnsTarget> ParseDnsTarget(std::string_view text) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos) {
    return absl::InvalidArgumentError(ToAbsl(
        StrCat("dns collector: expected CLUSTER=HOST:PORT or CLUSTER=_svc._tcp.DOMAIN, got \"",
               text, "\"")));
  }
  DnsTarget target;
  target.cluster = std::string(text.substr(0, eq));
  std::string_view rest = text.substr(eq + 1);
  if (!model::IsValidName(target.cluster)) {
    return absl::InvalidArgumentError(
        ToAbsl(StrCat("dns collector: \"", target.cluster, "\" is not a valid cluster name")));
  }
  if (rest.starts_with("_")) {
    if (rest.find('.') == std::string_view::npos) {
      return absl::InvalidArgumentError(
          ToAbsl(StrCat("dns collector: \"", rest, "\" is not an SRV name (_svc._tcp.DOMAIN)")));
    }
    target.name = std::string(rest);
    return target;
  }
  const size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return absl::InvalidArgumentError(
        ToAbsl(StrCat("dns collector: expected HOST:PORT, got \"", rest, "\"")));
  }
  std::string_view port_text = rest.substr(colon + 1);
  uint32_t port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port < 1 || port > 65535) {
    return absl::InvalidArgumentError(
        ToAbsl(StrCat("dns collector: port must be 1..65535, got \"", port_text, "\"")));
  }
  target.name = std::string(rest.substr(0, colon));
  target.port = port;
  return target;
}

DnsCollector::DnsCollector(DnsTarget target, Options options)
    : target_(std::move(target)), options_(std::move(options)) {}

DnsCollector::~DnsCollector() { Stop(); }

std::string DnsCollector::Describe() const {
  return target_.srv() ? StrCat("dns:", target_.cluster, "=", target_.name)
                       : StrCat("dns:", target_.cluster, "=", target_.name, ":", target_.port);
}

absl::Status DnsCollector::Start(Callback on_change) {
  auto resolver = DnsResolver::Create(options_.server);
  if (!resolver.ok()) return resolver.status();
  resolver_ = *std::move(resolver);
  on_change_ = std::move(on_change);
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void DnsCollector::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<DnsCollector::Result> DnsCollector::Resolve() {
  Result result{{}, options_.max_interval};
  uint32_t min_ttl = UINT32_MAX;
  auto add = [&](const std::vector<DnsAddress>& addresses, uint32_t port) {
    for (const DnsAddress& a : addresses) {
      result.instances.push_back(model::Instance{a.ip, port, {}});
      min_ttl = std::min(min_ttl, a.ttl);
    }
  };
  if (target_.srv()) {
    auto records = resolver_->Srv(target_.name);
    if (!records.ok()) return records.status();
    for (const DnsSrv& srv : *records) {
      min_ttl = std::min(min_ttl, srv.ttl);
      if (srv.port == 0 || srv.target.empty() || srv.target == ".") continue;  // "not offered"
      auto addresses = resolver_->Addresses(srv.target);
      if (!addresses.ok()) return addresses.status();
      add(*addresses, srv.port);
    }
  } else {
    auto addresses = resolver_->Addresses(target_.name);
    if (!addresses.ok()) return addresses.status();
    add(*addresses, target_.port);
  }
  Normalize(result.instances);
  if (min_ttl == UINT32_MAX) {
    result.ttl = options_.negative_interval;
  } else {
    result.ttl =
        std::clamp(std::chrono::seconds(min_ttl), options_.min_interval, options_.max_interval);
  }
  return result;
}

void DnsCollector::Run() {
  std::chrono::seconds backoff(1);
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    auto result = Resolve();
    const auto observed_at = std::chrono::steady_clock::now();
    std::chrono::seconds wait;
    if (result.ok()) {
      backoff = std::chrono::seconds(1);
      wait = result->ttl;
      if (!last_ || *last_ != result->instances) {
        spdlog::info("discovery: {}: {} instances (next lookup in {} s)", Describe(),
                     result->instances.size(), wait.count());
        last_ = result->instances;
        on_change_(Snapshot{ClusterSet{{target_.cluster, result->instances}}, observed_at});
      }
    } else {
      wait = backoff;
      spdlog::warn("discovery: {}: {}; keeping the last set, retrying in {} s", Describe(),
                   FromAbsl(result.status().message()), wait.count());
      backoff = std::min(backoff * 2, options_.max_backoff);
    }
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::FromChrono(wait));
  }
}

}  // namespace causeway::discovery
