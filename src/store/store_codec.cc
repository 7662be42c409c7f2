#include "store/store_codec.h"

#include "common/strings.h"

namespace causeway::store::internal {

absl::StatusOr<model::Kind> KindFromColumn(std::string_view text) {
  for (model::Kind kind : model::kAllKinds) {
    if (model::KindName(kind) == text) return kind;
  }
  return absl::DataLossError(StrCat("store: unknown object kind \"", text, "\" in the database"));
}

absl::StatusOr<Op> OpFromColumn(std::string_view text) {
  std::optional<Op> op = ParseOp(text);
  if (!op) return absl::DataLossError(StrCat("store: unknown op \"", text, "\" in the change log"));
  return *op;
}

model::Json Image(const model::Object& object) {
  return {{"version", object.version},
          {"created_at_ms", object.created_at_ms},
          {"updated_at_ms", object.updated_at_ms},
          {"spec", object.spec}};
}

std::string ImageToJson(const model::Object& object) { return Image(object).dump(); }

absl::StatusOr<model::Json> SpecFromColumn(const model::ObjectKey& key, std::string_view json) {
  model::Json j = model::Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::DataLossError(
        StrCat("store: ", model::KeyString(key), ": stored spec is not a JSON object"));
  }
  return j;
}

absl::StatusOr<model::Object> ImageFromJson(const model::ObjectKey& key, std::string_view json) {
  model::Json j = model::Json::parse(json, nullptr, /*allow_exceptions=*/false);
  auto bad = [&] {
    return absl::DataLossError(
        StrCat("store: ", model::KeyString(key), ": malformed object image in the change log"));
  };
  if (j.is_discarded() || !j.is_object()) return bad();
  auto version = j.find("version");
  auto created = j.find("created_at_ms");
  auto updated = j.find("updated_at_ms");
  auto spec = j.find("spec");
  if (version == j.end() || !version->is_number_integer() || created == j.end() ||
      !created->is_number_integer() || updated == j.end() || !updated->is_number_integer() ||
      spec == j.end() || !spec->is_object()) {
    return bad();
  }
  model::Object object;
  object.key = key;
  object.version = version->get<int64_t>();
  object.created_at_ms = created->get<int64_t>();
  object.updated_at_ms = updated->get<int64_t>();
  object.spec = std::move(*spec);
  return object;
}

absl::Status ValidateBatch(int64_t expected_revision, const std::vector<Change>& changes) {
  for (size_t i = 0; i < changes.size(); ++i) {
    const Change& c = changes[i];
    const int64_t want = expected_revision + static_cast<int64_t>(i) + 1;
    if (c.revision != want) {
      return absl::InvalidArgumentError(
          StrCat("store: change ", i, " (", model::KeyString(c.key), ") has revision ", c.revision,
                 ", expected ", want,
                 ": revisions in a commit must follow the expected revision "
                 "densely"));
    }
    const bool want_before = c.op != Op::kCreate;
    const bool want_after = c.op != Op::kDelete;
    if (c.before.has_value() != want_before || c.after.has_value() != want_after) {
      return absl::InvalidArgumentError(
          StrCat("store: change ", i, " (", model::KeyString(c.key), "): op ", OpName(c.op),
                 want_before ? " needs" : " must not have", " a before image and",
                 want_after ? " needs" : " must not have", " an after image"));
    }
    if (c.after && c.after->key != c.key) {
      return absl::InvalidArgumentError(StrCat("store: change ", i, ": after image is ",
                                               model::KeyString(c.after->key), ", not ",
                                               model::KeyString(c.key)));
    }
  }
  return absl::OkStatus();
}

absl::Status StaleRevisionError(int64_t expected, int64_t actual) {
  return absl::AbortedError(StrCat("store: revision is ", actual, ", not the expected ", expected,
                                   "; another writer committed first"));
}

}  // namespace causeway::store::internal
