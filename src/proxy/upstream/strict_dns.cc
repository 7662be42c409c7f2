#include "proxy/upstream/strict_dns.h"

#include <arpa/inet.h>

#include <algorithm>
#include <map>

#include "spdlog/spdlog.h"

namespace causeway::proxy {
namespace {

bool IsIpLiteral(const std::string& address) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, address.c_str(), buf) == 1 ||
         inet_pton(AF_INET6, address.c_str(), buf) == 1;
}

bool IsV6(const std::string& address) { return address.find(':') != std::string::npos; }

bool NamesHosts(const ClusterConfig& cluster) {
  if (cluster.discovery != ClusterConfig::Discovery::kStrictDns) return false;
  for (const Endpoint& e : cluster.endpoints) {
    if (!IsIpLiteral(e.address)) return true;
  }
  return false;
}

}  // namespace

std::vector<DnsName> StrictDnsNames(const ProxyConfig& config) {
  std::map<std::string, std::chrono::milliseconds> shortest;
  for (const auto& [name, cluster] : config.clusters) {
    if (!NamesHosts(*cluster)) continue;
    for (const Endpoint& e : cluster->endpoints) {
      if (IsIpLiteral(e.address)) continue;
      auto [it, inserted] = shortest.emplace(e.address, cluster->dns_refresh_rate);
      if (!inserted) it->second = std::min(it->second, cluster->dns_refresh_rate);
    }
  }
  std::vector<DnsName> out;
  out.reserve(shortest.size());
  for (const auto& [host, refresh] : shortest) out.push_back({host, refresh});
  return out;
}

std::vector<std::string> ForFamily(const std::vector<std::string>& all,
                                   ClusterConfig::DnsFamily family) {
  using Family = ClusterConfig::DnsFamily;
  std::vector<std::string> v4, v6;
  for (const std::string& a : all) (IsV6(a) ? v6 : v4).push_back(a);
  switch (family) {
    case Family::kV4Only:
      return v4;
    case Family::kV6Only:
      return v6;
    case Family::kV4Preferred:
      return v4.empty() ? v6 : v4;
    case Family::kAuto:
      return v6.empty() ? v4 : v6;
    case Family::kAll:
      break;
  }
  return all;
}

ProxyConfigSnapshot ExpandStrictDns(const ProxyConfig& config, const DnsAddresses& addresses) {
  auto out = std::make_shared<ProxyConfig>(config);
  for (auto& [name, cluster] : out->clusters) {
    if (!NamesHosts(*cluster)) continue;
    auto expanded = std::make_shared<ClusterConfig>(*cluster);  // a new id
    expanded->endpoints.clear();
    for (const Endpoint& e : cluster->endpoints) {
      if (IsIpLiteral(e.address)) {
        expanded->endpoints.push_back(e);
        continue;
      }
      auto it = addresses.find(e.address);
      if (it == addresses.end()) continue;  // not answered yet
      for (std::string& ip : ForFamily(*it->second, cluster->dns_family)) {
        Endpoint resolved = e;
        resolved.address = std::move(ip);
        expanded->endpoints.push_back(std::move(resolved));
      }
    }
    cluster = std::move(expanded);
  }
  return out;
}

StrictDnsResolver::StrictDnsResolver(std::string server, std::function<void()> on_change)
    : server_(std::move(server)), on_change_(std::move(on_change)) {}

StrictDnsResolver::~StrictDnsResolver() { Stop(); }

absl::Status StrictDnsResolver::Start() {
  auto lookup = DnsLookup::Create(server_);
  if (!lookup.ok()) return lookup.status();
  lookup_ = *std::move(lookup);
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void StrictDnsResolver::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  answered_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void StrictDnsResolver::Follow(const std::vector<DnsName>& names, std::chrono::milliseconds wait) {
  std::vector<std::string> fresh;
  {
    std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    absl::flat_hash_map<std::string, Entry> next;
    for (const DnsName& n : names) {
      auto it = names_.find(n.host);
      Entry entry;
      if (it != names_.end()) {
        entry = std::move(it->second);
        // A shorter rate applies from the last lookup on.
        if (n.refresh < entry.refresh) entry.due -= entry.refresh - n.refresh;
      } else {
        entry.due = now;
        fresh.push_back(n.host);
      }
      entry.refresh = n.refresh;
      next.emplace(n.host, std::move(entry));
    }
    names_ = std::move(next);
  }
  wake_.notify_all();
  if (fresh.empty()) return;
  std::unique_lock lock(mu_);
  answered_.wait_for(lock, wait, [&] {
    if (stopping_) return true;
    for (const std::string& host : fresh) {
      auto it = names_.find(host);
      if (it != names_.end() && !it->second.looked_up) return false;
    }
    return true;
  });
}

DnsAddresses StrictDnsResolver::Current() const {
  std::lock_guard lock(mu_);
  DnsAddresses out;
  for (const auto& [host, entry] : names_) {
    if (entry.addresses != nullptr) out.emplace(host, entry.addresses);
  }
  return out;
}

uint64_t StrictDnsResolver::lookups() const {
  std::lock_guard lock(mu_);
  return lookups_;
}

uint64_t StrictDnsResolver::failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

void StrictDnsResolver::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    // The name due first.
    const std::string* host = nullptr;
    std::chrono::steady_clock::time_point due;
    for (const auto& [name, entry] : names_) {
      if (host == nullptr || entry.due < due) {
        host = &name;
        due = entry.due;
      }
    }
    if (host == nullptr) {
      wake_.wait(lock);
      continue;
    }
    if (std::chrono::steady_clock::now() < due) {
      wake_.wait_until(lock, due);  // or Follow changed the names
      continue;
    }
    const std::string name = *host;
    lock.unlock();
    absl::StatusOr<std::vector<std::string>> result = lookup_->Addresses(name);
    lock.lock();
    ++lookups_;
    if (!result.ok()) ++failures_;
    auto it = names_.find(name);
    if (it == names_.end()) continue;  // no longer followed
    Entry& entry = it->second;
    const bool first = !entry.looked_up;
    entry.looked_up = true;
    entry.due = std::chrono::steady_clock::now() + entry.refresh;
    bool changed = false;
    if (result.ok()) entry.failing = false;
    if (!result.ok()) {
      // The last good addresses stay. Logged when lookups start failing,
      // not on every refresh while they go on failing.
      if (!entry.failing) {
        spdlog::warn("proxy: STRICT_DNS {}: {}{}", name, std::string(result.status().message()),
                     entry.addresses != nullptr ? " (keeping the last addresses)" : "");
      }
      entry.failing = true;
    } else if (entry.addresses == nullptr || *entry.addresses != *result) {
      spdlog::info("proxy: STRICT_DNS {}: {} address(es)", name, result->size());
      entry.addresses = std::make_shared<const std::vector<std::string>>(*std::move(result));
      changed = true;
    }
    if (first) answered_.notify_all();
    if (changed) {
      lock.unlock();
      on_change_();
      lock.lock();
    }
  }
}

}  // namespace causeway::proxy
