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

#include "fuzz_checks.h"
#include "model/documents.h"

namespace model = causeway::model;
using causeway::fuzz::Check;
using causeway::fuzz::CheckJsonLimits;
using causeway::fuzz::Fail;
using model::Json;

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
    CheckJsonLimits(doc.json, model::kYamlLimits, /*keys_and_values=*/false);
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
