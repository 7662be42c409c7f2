// Row encoding shared by the backends: how kinds, ops and objects look in the
// database. Both backends store the same text so a dump of one reads like the
// other and the change log's before/after can be inspected with plain SQL.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "model/objects.h"
#include "store/store.h"

namespace causeway::store::internal {

// The schema version both backends are at after migrations. Bump it together
// with a new migration step in each backend.
inline constexpr int kSchemaVersion = 4;

// "RouteGroup" etc.; a value the code does not know is DATA_LOSS (the
// database was written by a newer or broken version).
absl::StatusOr<model::Kind> KindFromColumn(std::string_view text);
absl::StatusOr<Op> OpFromColumn(std::string_view text);

// A change-log before/after image: {"version", "created_at_ms",
// "updated_at_ms", "spec"}. The key lives in the row's own columns.
model::Json Image(const model::Object& object);
std::string ImageToJson(const model::Object& object);
absl::StatusOr<model::Object> ImageFromJson(const model::ObjectKey& key, std::string_view json);

// The spec column.
absl::StatusOr<model::Json> SpecFromColumn(const model::ObjectKey& key, std::string_view json);

// Checks what the backends rely on before writing anything: revisions
// expected+1, expected+2, ... in order, and a before/after image that fits
// the op. INVALID_ARGUMENT names the offending change.
absl::Status ValidateBatch(int64_t expected_revision, const std::vector<Change>& changes);

// The ABORTED status of a commit whose expected revision is stale.
absl::Status StaleRevisionError(int64_t expected, int64_t actual);

}  // namespace causeway::store::internal
