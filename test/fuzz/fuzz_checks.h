// Invariant checks shared by the fuzz targets. A failed check aborts, which
// libFuzzer reports as a crash and saves with the input that caused it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "model/bounded_json.h"

namespace causeway::fuzz {

[[noreturn]] inline void Fail(const char* what) {
  std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
  std::abort();
}

inline void Check(bool ok, const char* what) {
  if (!ok) Fail(what);
}

// Checks, without recursion, that every string, object and nesting level of
// `root` is within `limits`; with `keys_and_values`, every key's length and
// the number of values too (a YAML file's values are counted per file, with
// aliases, so its documents are not held to the per-body count).
inline void CheckJsonLimits(const model::Json& root, const model::JsonLimits& limits,
                            bool keys_and_values) {
  std::vector<std::pair<const model::Json*, size_t>> stack = {{&root, 0}};
  size_t values = 0;
  while (!stack.empty()) {
    auto [j, depth] = stack.back();
    stack.pop_back();
    ++values;
    if (j->is_string()) {
      Check(j->get_ref<const std::string&>().size() <= limits.max_string_bytes,
            "a string over the limit was accepted");
    }
    if (j->is_array() || j->is_object()) {
      Check(depth < limits.max_depth, "nesting over the limit was accepted");
      if (j->is_object()) Check(j->size() <= limits.max_object_keys, "too many keys accepted");
      for (auto it = j->begin(); it != j->end(); ++it) {
        if (keys_and_values && j->is_object()) {
          Check(it.key().size() <= limits.max_string_bytes, "a key over the limit was accepted");
        }
        stack.push_back({&*it, depth + 1});
      }
    }
  }
  if (keys_and_values)
    Check(values <= limits.max_values, "more values than the limit were accepted");
}

}  // namespace causeway::fuzz
