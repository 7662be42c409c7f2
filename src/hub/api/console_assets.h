// The web console's files (built from ui/ by Vite), compiled into the binary
// by cmake/embed_assets.py so one executable serves them without a ui/ tree
// or a network at run time.
#pragma once

#include <span>
#include <string_view>

namespace causeway::hub::api {

struct ConsoleAsset {
  std::string_view path;          // "/index.html", "/assets/index-3f2a1b.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view body;
  std::string_view gzip;  // the body gzipped at build time; empty when not smaller
  std::string_view etag;  // "\"<sha256 prefix>\""
  bool immutable;         // the name carries a content hash: cache for ever
};

// Every file of the console's build, sorted by path.
std::span<const ConsoleAsset> ConsoleAssets();

}  // namespace causeway::hub::api
