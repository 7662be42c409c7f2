// libFuzzer target for reading object documents (src/model/documents.h:
// model::ParseDocuments), what `causeway apply -f` and `causeway-proxy
// --config` run on a file.
//
// Beyond "does not crash, overflow the stack, hang or leak under ASan/UBSan"
// (yaml-cpp itself is not instrumented; its crashes still count), it checks:
//   - every error is InvalidArgument and names the file;
//   - every document read respects the YAML limits (depth, keys, strings),
//     walked without recursion, and is valid UTF-8: its JSON and the apply
//     document built from it dump without throwing, as the CLI sends them;
//   - Document::LineOf answers for the document's own fields.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "model/documents.h"

namespace model = causeway::model;
using model::Json;

namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "yaml_documents_fuzz invariant violated: %s\n", what);
  std::abort();
}

void Check(bool ok, const char* what) {
  if (!ok) Fail(what);
}

void CheckLimits(const Json& root, const model::JsonLimits& limits) {
  std::vector<std::pair<const Json*, size_t>> stack = {{&root, 0}};
  while (!stack.empty()) {
    auto [j, depth] = stack.back();
    stack.pop_back();
    if (j->is_string()) {
      Check(j->get_ref<const std::string&>().size() <= limits.max_string_bytes,
            "a string over the limit was accepted");
    }
    if (j->is_array() || j->is_object()) {
      Check(depth < limits.max_depth, "nesting over the limit was accepted");
      if (j->is_object()) Check(j->size() <= limits.max_object_keys, "too many keys accepted");
      for (auto it = j->begin(); it != j->end(); ++it) stack.push_back({&*it, depth + 1});
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::vector<model::Document>> docs = model::ParseDocuments("fuzz.yaml", text);
  if (!docs.ok()) {
    Check(absl::IsInvalidArgument(docs.status()), "an error that is not InvalidArgument");
    Check(docs.status().message().find("fuzz.yaml") != std::string::npos,
          "an error that does not name the file");
    return 0;
  }
  for (const model::Document& doc : *docs) {
    CheckLimits(doc.json, model::kYamlLimits);
    try {
      (void)doc.json.dump();
      (void)model::ApplyJson(doc.parsed).dump();
    } catch (const Json::exception& e) {
      std::fprintf(stderr, "%s\n", e.what());
      Fail("a document read from YAML does not dump as JSON");
    }
    for (auto it = doc.json.begin(); it != doc.json.end(); ++it) {
      Check(doc.LineOf(it.key()) >= 0, "LineOf gave a negative line");
    }
  }
  return 0;
}
