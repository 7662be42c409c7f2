// Token secrets: random generation and the SHA-256 form that is stored.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace causeway::hub::auth {

// A new secret: "cw_" + 43 characters of base64url (256 random bits).
absl::StatusOr<std::string> GenerateSecret();

// Lowercase hex SHA-256 of `text`.
std::string Sha256Hex(std::string_view text);

}  // namespace causeway::hub::auth
