#include "proxy/config/proxy_config.h"

#include <atomic>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace causeway::proxy {
namespace {
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }
}  // namespace

bool StringMatch::Matches(std::string_view s) const {
  std::string lowered;
  if (ignore_case && kind != Kind::kRegex) {
    lowered = absl::AsciiStrToLower(Sv(s));
    s = lowered;
  }
  switch (kind) {
    case Kind::kExact:
      return s == value;
    case Kind::kPrefix:
      return s.substr(0, value.size()) == value;
    case Kind::kSuffix:
      return s.size() >= value.size() && s.substr(s.size() - value.size()) == value;
    case Kind::kContains:
      return s.find(value) != std::string_view::npos;
    case Kind::kRegex:
      return regex != nullptr && re2::RE2::FullMatch(re2::StringPiece(s.data(), s.size()), *regex);
  }
  return false;
}

uint64_t UniqueId::Next() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

std::string Endpoint::Key() const {
  if (address.find(':') != std::string::npos) return absl::StrCat("[", address, "]:", port);
  return absl::StrCat(address, ":", port);
}

const ListenerConfig* ProxyConfig::FindListener(std::string_view name) const {
  for (const ListenerConfig& l : listeners) {
    if (l.name == name) return &l;
  }
  return nullptr;
}

const RouteTable* ProxyConfig::RoutesFor(const ListenerConfig& listener) const {
  if (listener.inline_routes) return listener.inline_routes.get();
  auto it = routes.find(Sv(listener.route_config_name));
  return it == routes.end() ? nullptr : it->second.get();
}

const ClusterConfig* ProxyConfig::FindCluster(std::string_view name) const {
  auto it = clusters.find(Sv(name));
  return it == clusters.end() ? nullptr : it->second.get();
}

}  // namespace causeway::proxy
