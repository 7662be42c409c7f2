// JSON from untrusted text with limits checked while parsing: nesting depth,
// the number of values, keys per object and the length of each string. The
// text is lexed by nlohmann-json's SAX parser and the document is built here
// without recursion, so a hostile document is refused at the byte that breaks
// a limit, before it is built, copied or destroyed.
#pragma once

#include <cstddef>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace causeway::model {

using Json = nlohmann::json;

// The deepest legitimate object is a route or route group in an apply body
// ({"items": [{"rules": [{"targets": [{"metadata": {...}}]}]}]}, 8 levels) or
// an agent's relay report ({"proxies": [{"types": {"lds": {"last_nack":
// {...}}}}]}, 6 levels); 64 leaves room for any of them to grow.
struct JsonLimits {
  size_t max_depth = 64;            // arrays and objects inside one another
  size_t max_values = 200000;       // every value in the document, containers included
  size_t max_object_keys = 10000;   // members of one object
  size_t max_string_bytes = 65536;  // one string or key, in bytes of UTF-8
};

// Parses `text` as one JSON document under `limits`. Errors are
// InvalidArgument, start with `what` ("body") and say what broke and at which
// byte: "body: nested deeper than 64 levels at byte 65". Limit errors carry
// the path of the offending value as their field ("items[0].description");
// malformed JSON, invalid UTF-8 and numbers out of range (1e999) are errors
// too. Integers too large for 64 bits become doubles, as nlohmann's own parser
// does.
absl::StatusOr<Json> ParseBoundedJson(std::string_view text, std::string_view what,
                                      const JsonLimits& limits = {});

}  // namespace causeway::model
