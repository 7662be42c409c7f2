// Who is calling, and what their token allows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "model/objects.h"

namespace causeway::hub::auth {

// kProxy: a data-plane proxy's credential. It opens xDS streams of its zone
// and reads nothing over REST (a REST request with it authenticates, then is
// refused).
enum class Role { kAdmin, kEditor, kViewer, kAgent, kProxy };
std::string_view RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);

struct Principal {
  std::string name;  // the token's name; recorded as the actor of writes
  Role role = Role::kViewer;
  std::string zone;           // "" = every zone
  int64_t expires_at_ms = 0;  // Unix ms; 0 = never
  // Which stored token this is (its secret's SHA-256, never the secret), so a
  // long stream can re-check it with Authenticator::StillValid.
  std::string token_id;

  // Whether this token may see `zone` at all.
  bool SeesZone(std::string_view z) const { return zone.empty() || zone == z; }
};

// Authorization rules. A zone-limited token cannot see other zones: reads of
// them are NOT_FOUND (as if they did not exist); writes are PERMISSION_DENIED.
absl::Status CheckRead(const Principal& p, std::string_view zone);
absl::Status CheckWrite(const Principal& p, model::Kind kind, std::string_view zone);
// Token management: admins only; a zone-limited admin manages only tokens of
// its zone (`zone` is the token's zone, "" for an unlimited token).
absl::Status CheckTokenAdmin(const Principal& p, std::string_view zone);
// REST access at all: PERMISSION_DENIED for proxy tokens.
absl::Status CheckRestAccess(const Principal& p);
// Roles whose tokens must be limited to one zone when created (proxy).
bool RoleNeedsZone(Role role);

}  // namespace causeway::hub::auth
