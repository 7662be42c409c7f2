#include "net/http_router.h"

#include <set>

namespace causeway::http {

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view segment = path.substr(0, slash);
    if (!segment.empty()) out.push_back(segment);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

void Router::Add(Route route) {
  Compiled compiled;
  for (std::string_view s : SplitPath(route.pattern)) compiled.segments.emplace_back(s);
  compiled.route = std::move(route);
  routes_.push_back(std::move(compiled));
}

std::vector<std::pair<std::string, std::string>> Router::Patterns() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Compiled& c : routes_) out.emplace_back(c.route.method, c.route.pattern);
  return out;
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  Match match;
  std::vector<std::string_view> segments = SplitPath(path);
  std::set<std::string> allowed;
  int allowed_literals = -1;
  // Literal segments win over captures: among the routes matching the path,
  // the one with the most literal segments is preferred ("/v1/apply" is the
  // apply route even for a GET, which then gets 405, not "/v1/{kind}").
  int best_literals = -1;
  for (const Compiled& c : routes_) {
    if (c.segments.size() != segments.size()) continue;
    std::map<std::string, std::string> params;
    bool ok = true;
    int literals = 0;
    for (size_t i = 0; i < segments.size() && ok; ++i) {
      const std::string& want = c.segments[i];
      if (want.size() >= 2 && want.front() == '{' && want.back() == '}') {
        std::string decoded;
        if (!PercentDecode(segments[i], &decoded)) {
          match.result = Match::Result::kBadPath;
          return match;
        }
        params[want.substr(1, want.size() - 2)] = std::move(decoded);
      } else if (want == segments[i]) {
        ++literals;
      } else {
        ok = false;
      }
    }
    if (!ok) continue;
    if (c.route.method != method) {
      if (literals > allowed_literals) {
        allowed.clear();
        allowed_literals = literals;
      }
      if (literals == allowed_literals) allowed.insert(c.route.method);
      continue;
    }
    if (literals > best_literals) {
      best_literals = literals;
      match.result = Match::Result::kFound;
      match.route = &c.route;
      match.params = std::move(params);
    }
  }
  if (match.result == Match::Result::kFound && best_literals >= allowed_literals) return match;
  if (!allowed.empty()) {
    match.route = nullptr;
    match.params.clear();
    match.result = Match::Result::kMethodNotAllowed;
    for (const std::string& m : allowed) {
      if (!match.allowed.empty()) match.allowed += ", ";
      match.allowed += m;
    }
  }
  return match;
}

}  // namespace causeway::http
