#include "common/status.h"

#include "absl/strings/cord.h"

namespace causeway {

absl::Status FieldError(std::string_view field, std::string_view message) {
  absl::Status status = absl::InvalidArgumentError(field.empty() ? std::string(message)
                                                                 : StrCat(field, ": ", message));
  if (!field.empty()) status.SetPayload(ToAbsl(kFieldPayload), absl::Cord(ToAbsl(field)));
  return status;
}

std::string ErrorField(const absl::Status& status) {
  auto payload = status.GetPayload(ToAbsl(kFieldPayload));
  return payload ? std::string(*payload) : std::string();
}

absl::Status WithFieldPrefix(const absl::Status& status, std::string_view prefix) {
  if (status.ok() || prefix.empty()) return status;
  std::string field = ErrorField(status);
  std::string joined;
  if (field.empty()) {
    joined = std::string(prefix);
  } else if (field.front() == '[') {
    joined = StrCat(prefix, field);
  } else {
    joined = StrCat(prefix, ".", field);
  }
  // Rebuild the message so it names the full path.
  std::string message(status.message());
  if (!field.empty() && message.rfind(field + ": ", 0) == 0) {
    message = message.substr(field.size() + 2);
  }
  absl::Status out(status.code(), StrCat(joined, ": ", message));
  out.SetPayload(ToAbsl(kFieldPayload), absl::Cord(joined));
  return out;
}

}  // namespace causeway
