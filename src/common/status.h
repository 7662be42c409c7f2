// Error handling helpers over absl::Status / absl::StatusOr.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/strings.h"

// Returns from the calling function when `expr` yields a non-OK status.
#define CW_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::absl::Status cw_status_ = (expr);      \
    if (!cw_status_.ok()) return cw_status_; \
  } while (false)

#define CW_CONCAT_INNER(a, b) a##b
#define CW_CONCAT(a, b) CW_CONCAT_INNER(a, b)

// `CW_ASSIGN_OR_RETURN(auto x, MaybeX());` declares/assigns on success or
// returns the error.
#define CW_ASSIGN_OR_RETURN(lhs, expr) \
  CW_ASSIGN_OR_RETURN_IMPL(CW_CONCAT(cw_statusor_, __LINE__), lhs, expr)
// `tmp` is a name and `lhs` may be a declaration: neither can be parenthesized.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define CW_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return std::move(tmp).status(); \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)

namespace causeway {

// The payload key under which the offending field path travels with a Status,
// so the REST layer can report `{"error": {"field": ...}}`.
inline constexpr std::string_view kFieldPayload = "causeway.dev/field";

// An InvalidArgument error naming the field (e.g. "routes[2].path").
absl::Status FieldError(std::string_view field, std::string_view message);

// The field attached by FieldError (possibly prefixed by WithFieldPrefix), or "".
std::string ErrorField(const absl::Status& status);

// Prepends `prefix` to the field of `status` ("rules[0]" + "targets" ->
// "rules[0].targets"); statuses without a field get `prefix` as their field.
absl::Status WithFieldPrefix(const absl::Status& status, std::string_view prefix);

}  // namespace causeway
