#include "proxy/router/router.h"

#include <charconv>

#include "absl/strings/ascii.h"

namespace causeway::proxy {
namespace {

absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

std::string_view StripQuery(std::string_view target) { return target.substr(0, target.find('?')); }

// The header's value for matching: pseudo headers from the request line, and
// repeated headers joined by ',' (as Envoy does).
bool HeaderValue(const RouteRequest& req, std::string_view name, std::string* storage,
                 std::string_view* out) {
  if (!name.empty() && name[0] == ':') {
    if (name == ":method") {
      *out = req.method;
    } else if (name == ":path") {
      *out = req.target;
    } else if (name == ":authority") {
      *out = req.authority;
    } else if (name == ":scheme") {
      *out = "http";
    } else {
      return false;
    }
    return true;
  }
  bool found = false;
  for (const http1::Header& h : *req.headers) {
    if (!http1::EqualsIgnoreCase(h.name, name)) continue;
    if (!found) {
      *out = h.value;
      found = true;
    } else {
      if (storage->empty()) storage->assign(out->data(), out->size());
      storage->push_back(',');
      storage->append(h.value.data(), h.value.size());
      *out = *storage;
    }
  }
  return found;
}

bool HeaderMatches(const HeaderMatch& m, const RouteRequest& req) {
  std::string storage;
  std::string_view value;
  bool present = HeaderValue(req, m.name, &storage, &value);
  bool result = false;
  switch (m.kind) {
    case HeaderMatch::Kind::kPresent:
      result = present == m.present;
      break;
    case HeaderMatch::Kind::kString:
      result = present && m.string.Matches(value);
      break;
    case HeaderMatch::Kind::kRange: {
      int64_t v = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      result = present && ec == std::errc() && p == value.data() + value.size() &&
               v >= m.range_start && v < m.range_end;
      break;
    }
  }
  return result != m.invert;
}

bool QueryMatches(const QueryMatch& m, std::string_view target) {
  size_t q = target.find('?');
  if (q == std::string_view::npos) return false;
  std::string_view query = target.substr(q + 1);
  query = query.substr(0, query.find('#'));
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    size_t eq = param.find('=');
    std::string_view name = param.substr(0, eq);
    if (name == m.name) {
      if (!m.string) return true;
      std::string_view value = eq == std::string_view::npos ? "" : param.substr(eq + 1);
      // Envoy matches the first occurrence only.
      return m.string->Matches(value);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return false;
}

const VirtualHost* Lookup(const RouteTable& table, std::string_view host) {
  auto it = table.exact.find(Sv(host));
  if (it != table.exact.end()) return &table.virtual_hosts[it->second];
  for (const auto& [suffix, idx] : table.suffixes) {
    // `*.x` requires at least one character before the suffix.
    if (host.size() > suffix.size() && host.substr(host.size() - suffix.size()) == suffix) {
      return &table.virtual_hosts[idx];
    }
  }
  for (const auto& [prefix, idx] : table.prefixes) {
    if (host.size() > prefix.size() && host.substr(0, prefix.size()) == prefix) {
      return &table.virtual_hosts[idx];
    }
  }
  return nullptr;
}

// Strips ":port" from a host, keeping IPv6 literals ("[::1]:80" -> "[::1]").
std::string_view StripPort(std::string_view host) {
  size_t colon = host.rfind(':');
  if (colon == std::string_view::npos) return host;
  size_t bracket = host.rfind(']');
  if (bracket != std::string_view::npos && bracket > colon) return host;
  return host.substr(0, colon);
}

}  // namespace

const VirtualHost* SelectVirtualHost(const RouteTable& table, std::string_view authority) {
  std::string lowered = absl::AsciiStrToLower(Sv(authority));
  if (const VirtualHost* vh = Lookup(table, lowered)) return vh;
  std::string_view bare = StripPort(lowered);
  if (bare.size() != lowered.size()) {
    if (const VirtualHost* vh = Lookup(table, bare)) return vh;
  }
  return table.any ? &table.virtual_hosts[*table.any] : nullptr;
}

bool PathMatches(const Route& route, std::string_view target) {
  std::string lowered;
  if (!route.case_sensitive) {
    lowered = absl::AsciiStrToLower(Sv(target));
    target = lowered;
  }
  switch (route.path_kind) {
    case Route::PathKind::kPrefix:
      return target.substr(0, route.path.size()) == route.path;
    case Route::PathKind::kPath:
      return StripQuery(target) == route.path;
    case Route::PathKind::kRegex: {
      std::string_view path = StripQuery(target);
      return re2::RE2::FullMatch(re2::StringPiece(path.data(), path.size()), *route.path_regex);
    }
  }
  return false;
}

bool IsInterceptRoute(const Route& route) {
  if (route.action != Route::Action::kCluster || route.clusters.empty()) return false;
  for (const ClusterTarget& c : route.clusters) {
    if (!c.name.starts_with(kInterceptClusterPrefix)) return false;
  }
  return true;
}

const Route* SelectRoute(const VirtualHost& vhost, const RouteRequest& request) {
  for (const Route& route : vhost.routes) {
    if (request.skip_intercept_routes && IsInterceptRoute(route)) continue;
    if (!PathMatches(route, request.target)) continue;
    bool ok = true;
    for (const HeaderMatch& h : route.headers) {
      if (!HeaderMatches(h, request)) {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    for (const QueryMatch& q : route.query) {
      if (!QueryMatches(q, request.target)) {
        ok = false;
        break;
      }
    }
    if (ok) return &route;
  }
  return nullptr;
}

const ClusterTarget* PickCluster(const Route& route, uint64_t random) {
  if (route.clusters.empty() || route.total_weight == 0) return nullptr;
  uint64_t point = random % route.total_weight;
  for (const ClusterTarget& c : route.clusters) {
    if (point < c.weight) return &c;
    point -= c.weight;
  }
  return &route.clusters.back();
}

std::string RewriteTarget(const Route& route, std::string_view target) {
  if (!route.prefix_rewrite || route.path_kind == Route::PathKind::kRegex) {
    return std::string(target);
  }
  size_t matched =
      route.path_kind == Route::PathKind::kPrefix ? route.path.size() : StripQuery(target).size();
  std::string out = *route.prefix_rewrite;
  out.append(target.substr(std::min(matched, target.size())));
  return out;
}

}  // namespace causeway::proxy
