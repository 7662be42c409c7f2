#include "hub/api/console_api.h"

#include <algorithm>
#include <string>
#include <vector>

#include "hub/api/errors.h"

namespace causeway::hub::api {

namespace {

// Depth of the deepest console URL is four (/zones/z/route-groups/g);
// twice that leaves room for new pages without matching anything absurd.
constexpr int kMaxConsoleDepth = 8;

const ConsoleAsset* Find(std::span<const ConsoleAsset> assets, std::string_view path) {
  auto it = std::lower_bound(assets.begin(), assets.end(), path,
                             [](const ConsoleAsset& a, std::string_view p) { return a.path < p; });
  if (it == assets.end() || it->path != path) return nullptr;
  return &*it;
}

// The comma-separated items of a header value, spaces trimmed.
std::vector<std::string_view> HeaderItems(std::string_view value) {
  std::vector<std::string_view> items;
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) items.push_back(item);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return items;
}

// Whether a weight ("0", "0.0", "0.500") is zero: the coding is refused.
bool ZeroWeight(std::string_view q) {
  return q.find_first_not_of("0.") == std::string_view::npos && !q.empty();
}

bool AcceptsGzip(const http::Request& req) {
  std::string header = req.Header("accept-encoding");
  for (std::string_view item : HeaderItems(header)) {
    if (!item.starts_with("gzip") || (item.size() > 4 && item[4] != ';' && item[4] != ' ')) {
      continue;
    }
    size_t q = item.find("q=");
    return q == std::string_view::npos || !ZeroWeight(item.substr(q + 2));
  }
  return false;
}

// An If-None-Match list ("a", W/"b", *) naming this entity tag.
bool NotModified(const http::Request& req, std::string_view etag) {
  std::string header = req.Header("if-none-match");
  for (std::string_view tag : HeaderItems(header)) {
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag || tag == "*") return true;
  }
  return false;
}

void AddSecurityHeaders(http::Response& res) {
  // Scripts, styles, images and API calls come from this origin only; the
  // console is never framed (clickjacking) and never sniffed as another type.
  res.headers.emplace_back("Content-Security-Policy",
                           "default-src 'self'; frame-ancestors 'none'; base-uri 'none'");
  res.headers.emplace_back("X-Content-Type-Options", "nosniff");
  res.headers.emplace_back("X-Frame-Options", "DENY");
  res.headers.emplace_back("Referrer-Policy", "no-referrer");
}

}  // namespace

http::Response ServeConsole(std::span<const ConsoleAsset> assets, const http::Request& req) {
  std::string_view path = req.path;
  if (path == "/v1" || path.starts_with("/v1/")) {
    return ErrorResponse(404, "not_found", "no such path: " + req.path);
  }
  const ConsoleAsset* asset = Find(assets, path);
  if (asset == nullptr) {
    // A missing hashed file must not turn into HTML a browser runs as a
    // script; any other path is a console page, rendered by index.html.
    if (path.starts_with("/assets/")) {
      return ErrorResponse(404, "not_found", "no such file: " + req.path);
    }
    asset = Find(assets, "/index.html");
    if (asset == nullptr) return ErrorResponse(404, "not_found", "the console is not built");
  }
  http::Response res;
  AddSecurityHeaders(res);
  res.headers.emplace_back("ETag", std::string(asset->etag));
  res.headers.emplace_back("Cache-Control",
                           asset->immutable ? "public, max-age=31536000, immutable" : "no-cache");
  res.headers.emplace_back("Vary", "Accept-Encoding");
  res.content_type = std::string(asset->content_type);
  if (NotModified(req, asset->etag)) {
    res.status = 304;
    return res;
  }
  res.status = 200;
  if (!asset->gzip.empty() && AcceptsGzip(req)) {
    res.headers.emplace_back("Content-Encoding", "gzip");
    res.body = std::string(asset->gzip);
  } else {
    res.body = std::string(asset->body);
  }
  return res;
}

void AddConsoleRoutes(http::Router& router) {
  auto handler = [](http::Request& req) { return ServeConsole(ConsoleAssets(), req); };
  std::string pattern;
  for (const char* method : {"GET", "HEAD"}) router.Add({method, "/", handler});
  for (int depth = 1; depth <= kMaxConsoleDepth; ++depth) {
    pattern += "/{page" + std::to_string(depth) + "}";
    for (const char* method : {"GET", "HEAD"}) router.Add({method, pattern, handler});
  }
}

}  // namespace causeway::hub::api
