// libFuzzer target for the hub's bounded request-body parser
// (src/model/bounded_json.h: model::ParseBoundedJson).
//
// Beyond "does not crash, overflow the stack or leak under ASan/UBSan", it
// checks that the limits hold and that the parser agrees with nlohmann-json:
//   - a parsed document respects every limit it was given (depth, values,
//     keys per object, string and key bytes), walked without recursion;
//   - what it parses, nlohmann accepts, and the document equals nlohmann's;
//   - what it calls malformed or out of range, nlohmann rejects too;
//   - every error is InvalidArgument and starts with "body: ";
//   - a parsed document dumps (valid UTF-8) and parses back to itself.
//
// The first input byte selects the limits: 0 uses the hub's, others small
// ones derived from the next bytes, so short inputs reach every limit.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz_checks.h"
#include "model/bounded_json.h"

namespace model = causeway::model;
using causeway::fuzz::Check;
using causeway::fuzz::CheckJsonLimits;
using model::Json;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  model::JsonLimits limits;
  size_t skip = 1;
  if (data[0] != 0 && size >= 4) {
    limits.max_depth = 1 + data[1] % 8;
    limits.max_values = 1 + data[2] % 64;
    limits.max_object_keys = 1 + data[3] % 8;
    limits.max_string_bytes = data[0] % 16;
    skip = 4;
  }
  const std::string_view text(reinterpret_cast<const char*>(data) + skip, size - skip);

  absl::StatusOr<Json> parsed = model::ParseBoundedJson(text, "body", limits);
  if (!parsed.ok()) {
    Check(absl::IsInvalidArgument(parsed.status()), "an error that is not InvalidArgument");
    const std::string message(parsed.status().message());
    Check(message.substr(0, 6) == "body: ", "an error message without \"body: \"");
    if (message.find("malformed JSON") != std::string::npos ||
        message.find("out of range") != std::string::npos) {
      Check(!Json::accept(text), "refused as malformed what nlohmann accepts");
    }
    return 0;
  }
  Check(Json::accept(text), "parsed what nlohmann rejects");
  CheckJsonLimits(*parsed, limits, /*keys_and_values=*/true);
  // Within the limits nlohmann's DOM is shallow enough to build and compare.
  Json reference = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  Check(!reference.is_discarded(), "nlohmann accepted but did not parse");
  Check(*parsed == reference, "the document differs from nlohmann's");
  const std::string dumped = parsed->dump();  // throws on invalid UTF-8
  absl::StatusOr<Json> again =
      model::ParseBoundedJson(dumped, "body",
                              model::JsonLimits{limits.max_depth, limits.max_values,
                                                limits.max_object_keys, limits.max_string_bytes});
  Check(again.ok() && *again == *parsed, "a dumped document does not parse back to itself");
  return 0;
}
