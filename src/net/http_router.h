// Maps (method, path) to a handler. Patterns are literal segments and
// `{param}` captures, e.g. "/v1/zones/{zone}/{kind}/{name}"; a capture takes
// one whole segment, percent-decoded (so domain names like "a.b:80" or
// "a.b%3A80" both work).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "net/http_message.h"

namespace causeway::http {

using Handler = std::function<Response(Request&)>;

struct Route {
  std::string method;
  std::string pattern;  // also the metrics label
  Handler handler;
  // Handlers that may wait (store writes and queries) run on the worker
  // pool; quick in-memory reads run on the I/O thread.
  bool blocking = false;
};

class Router {
 public:
  void Add(Route route);

  struct Match {
    enum class Result { kFound, kNotFound, kMethodNotAllowed, kBadPath };
    Result result = Result::kNotFound;
    const Route* route = nullptr;
    std::map<std::string, std::string> params;
    std::string allowed;  // "GET, PUT" for kMethodNotAllowed
  };
  Match Find(std::string_view method, std::string_view path) const;

  // (method, pattern) of every route in the order added: what a test holds
  // an API description to.
  std::vector<std::pair<std::string, std::string>> Patterns() const;

 private:
  struct Compiled {
    Route route;
    std::vector<std::string> segments;  // "{x}" for captures
  };
  std::vector<Compiled> routes_;
};

// "/a/b/" → {"a", "b"}; empty segments are dropped.
std::vector<std::string_view> SplitPath(std::string_view path);

}  // namespace causeway::http
