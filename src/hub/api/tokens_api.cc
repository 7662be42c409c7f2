// /v1/tokens: create (the secret is in the response, once), list (never
// secrets) and revoke. Admins only; a zone-limited admin manages the tokens
// of its zone.
#include "common/status.h"
#include "hub/api/context.h"
#include "hub/auth/secrets.h"

namespace causeway::hub::api {

namespace {

Json TokenJson(const store::TokenRecord& t) {
  Json j = {{"name", t.name},
            {"role", t.role},
            {"created_at", FormatRfc3339(std::chrono::system_clock::time_point(
                               std::chrono::milliseconds(t.created_at_ms)))},
            {"created_by", t.created_by}};
  j["zone"] = t.zone;
  return j;
}

absl::StatusOr<std::string> OptionalString(const Json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::string();
  if (!it->is_string()) return FieldError(key, "must be a string");
  return it->get<std::string>();
}

absl::StatusOr<Response> CreateToken(const ApiContext& ctx, Request& req, const Principal& p) {
  CW_ASSIGN_OR_RETURN(Json body, ParseJsonBody(req));
  if (!body.is_object()) return FieldError("", "the body must be a JSON object");
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (it.key() != "name" && it.key() != "role" && it.key() != "zone") {
      return FieldError(it.key(), "unknown field (name, role, zone)");
    }
  }
  store::TokenRecord record;
  CW_ASSIGN_OR_RETURN(record.name, OptionalString(body, "name"));
  CW_ASSIGN_OR_RETURN(record.role, OptionalString(body, "role"));
  CW_ASSIGN_OR_RETURN(record.zone, OptionalString(body, "zone"));
  if (record.name.empty()) return FieldError("name", "is required");
  if (!model::IsValidName(record.name)) {
    return FieldError("name", StrCat("\"", record.name, "\" is not a valid name"));
  }
  std::optional<auth::Role> role = auth::ParseRole(record.role);
  if (!role) {
    return FieldError(
        "role", StrCat("\"", record.role, "\" is not one of admin, editor, viewer, agent, proxy"));
  }
  if (!record.zone.empty() && !model::IsValidName(record.zone)) {
    return FieldError("zone", StrCat("\"", record.zone, "\" is not a valid zone name"));
  }
  if (record.zone.empty() && auth::RoleNeedsZone(*role)) {
    return FieldError("zone", StrCat("is required for role ", record.role,
                                     " (its token opens the xDS streams of one zone)"));
  }
  CW_RETURN_IF_ERROR(auth::CheckTokenAdmin(p, record.zone));
  CW_ASSIGN_OR_RETURN(std::string secret, auth::GenerateSecret());
  record.secret_sha256_hex = auth::Sha256Hex(secret);
  record.created_at_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(ctx.time->Now().time_since_epoch())
          .count();
  record.created_by = p.name;
  absl::Status created = ctx.store->CreateToken(record);
  if (absl::IsAlreadyExists(created)) {
    return absl::AlreadyExistsError(StrCat("token \"", record.name, "\" already exists"));
  }
  CW_RETURN_IF_ERROR(created);
  ctx.authenticator->Invalidate();  // a cached "unknown" must not outlive creation
  Json j = TokenJson(record);
  j["secret"] = secret;
  return JsonResponse(201, j);
}

absl::StatusOr<Response> ListTokens(const ApiContext& ctx, Request& req, const Principal& p) {
  CW_RETURN_IF_ERROR(auth::CheckTokenAdmin(p, p.zone));
  CW_ASSIGN_OR_RETURN(std::vector<store::TokenRecord> tokens, ctx.store->ListTokens());
  Json items = Json::array();
  for (const store::TokenRecord& t : tokens) {
    if (!p.zone.empty() && t.zone != p.zone) continue;
    items.push_back(TokenJson(t));
  }
  return JsonResponse(200, Json{{"items", std::move(items)}});
}

absl::StatusOr<Response> RevokeToken(const ApiContext& ctx, Request& req, const Principal& p) {
  std::string name = req.Param("name");
  CW_RETURN_IF_ERROR(auth::CheckTokenAdmin(p, p.zone));
  CW_ASSIGN_OR_RETURN(std::vector<store::TokenRecord> tokens, ctx.store->ListTokens());
  auto it = std::find_if(tokens.begin(), tokens.end(),
                         [&](const store::TokenRecord& t) { return t.name == name; });
  // Tokens outside a zone-limited admin's zone are invisible to it.
  if (it == tokens.end() || (!p.zone.empty() && it->zone != p.zone)) {
    return absl::NotFoundError(StrCat("token \"", name, "\" not found"));
  }
  CW_RETURN_IF_ERROR(ctx.store->DeleteToken(name));
  ctx.authenticator->Invalidate();
  return JsonResponse(200, Json{{"name", name}, {"revoked", true}});
}

}  // namespace

void AddTokenRoutes(http::Router& router, const ApiContext& ctx) {
  router.Add({"GET", "/v1/tokens", Authed(ctx, ListTokens), true});
  router.Add({"POST", "/v1/tokens", Authed(ctx, CreateToken), true});
  router.Add({"DELETE", "/v1/tokens/{name}", Authed(ctx, RevokeToken), true});
}

}  // namespace causeway::hub::api
