#include "hub/auth/principal.h"

#include "common/status.h"
#include "common/strings.h"

namespace causeway::hub::auth {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAdmin:
      return "admin";
    case Role::kEditor:
      return "editor";
    case Role::kViewer:
      return "viewer";
    case Role::kAgent:
      return "agent";
    case Role::kProxy:
      return "proxy";
  }
  return "?";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role r : {Role::kAdmin, Role::kEditor, Role::kViewer, Role::kAgent, Role::kProxy}) {
    if (RoleName(r) == name) return r;
  }
  return std::nullopt;
}

absl::Status CheckRead(const Principal& p, std::string_view zone) {
  CW_RETURN_IF_ERROR(CheckRestAccess(p));
  if (!p.SeesZone(zone)) return absl::NotFoundError(StrCat("zone \"", zone, "\" not found"));
  return absl::OkStatus();
}

absl::Status CheckWrite(const Principal& p, model::Kind kind, std::string_view zone) {
  if (!p.SeesZone(zone)) {
    return absl::PermissionDeniedError(
        StrCat("token \"", p.name, "\" is limited to zone \"", p.zone, "\""));
  }
  switch (p.role) {
    case Role::kAdmin:
    case Role::kEditor:
      return absl::OkStatus();
    case Role::kViewer:
      return absl::PermissionDeniedError(StrCat("token \"", p.name, "\" is a viewer (read-only)"));
    case Role::kAgent:
      if (kind == model::Kind::kCluster) return absl::OkStatus();
      return absl::PermissionDeniedError(
          StrCat("token \"", p.name, "\" is an agent: it may only write clusters and instances"));
    case Role::kProxy:
      return CheckRestAccess(p);
  }
  return absl::PermissionDeniedError("unknown role");
}

absl::Status CheckTokenAdmin(const Principal& p, std::string_view zone) {
  if (p.role != Role::kAdmin) {
    return absl::PermissionDeniedError(
        StrCat("token \"", p.name, "\" is not an admin; tokens are managed by admins"));
  }
  if (!p.zone.empty() && p.zone != zone) {
    return absl::PermissionDeniedError(StrCat("token \"", p.name, "\" is limited to zone \"",
                                              p.zone, "\" and manages only tokens limited to it"));
  }
  return absl::OkStatus();
}

}  // namespace causeway::hub::auth

namespace causeway::hub::auth {

absl::Status CheckRestAccess(const Principal& p) {
  if (p.role == Role::kProxy) {
    return absl::PermissionDeniedError(
        StrCat("token \"", p.name, "\" is a proxy token: it opens xDS streams of zone \"", p.zone,
               "\" and reads nothing over REST"));
  }
  return absl::OkStatus();
}

bool RoleNeedsZone(Role role) { return role == Role::kProxy; }

}  // namespace causeway::hub::auth
