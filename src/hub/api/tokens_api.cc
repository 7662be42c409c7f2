// /v1/tokens: create (the secret is in the response, once), list (never
// secrets) and revoke. Admins only; a zone-limited admin manages the tokens
// of its zone. /v1/tokens/introspect: what a secret stands for (RFC 7662),
// for agents whose relay xDS server checks its proxies' tokens.
#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "common/status.h"
#include "hub/api/context.h"
#include "hub/auth/secrets.h"

namespace causeway::hub::api {

namespace {

std::string TimeText(int64_t ms) {
  return FormatRfc3339(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

int64_t NowMs(const ApiContext& ctx) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(ctx.time->Now().time_since_epoch())
      .count();
}

// expires_at and last_used_at are null for "never".
Json TokenJson(const store::TokenRecord& t, int64_t now_ms) {
  Json j = {{"name", t.name},
            {"role", t.role},
            {"created_at", TimeText(t.created_at_ms)},
            {"created_by", t.created_by}};
  j["zone"] = t.zone;
  j["expires_at"] = t.expires_at_ms == 0 ? Json() : Json(TimeText(t.expires_at_ms));
  j["expired"] = t.expires_at_ms != 0 && t.expires_at_ms <= now_ms;
  j["last_used_at"] = t.last_used_at_ms == 0 ? Json() : Json(TimeText(t.last_used_at_ms));
  return j;
}

// `ttl`: a duration such as "90s", "15m", "24h", "2h30m" or "7d", or a
// number of seconds. Absent or null: the token never expires.
constexpr int64_t kMaxTtlMs = int64_t{10} * 365 * 86400 * 1000;

absl::StatusOr<int64_t> TtlMs(const Json& body) {
  auto it = body.find("ttl");
  if (it == body.end() || it->is_null()) return 0;
  int64_t ms = 0;
  if (it->is_number_integer() || it->is_number_unsigned()) {
    if (it->get<double>() <= 0 || it->get<double>() > kMaxTtlMs / 1000) {
      return FieldError("ttl", "must be a positive number of seconds (at most ten years)");
    }
    ms = it->get<int64_t>() * 1000;
  } else if (it->is_string()) {
    std::string text = it->get<std::string>();
    absl::Duration d;
    int64_t days = 0;
    if (text.size() > 1 && text.back() == 'd' &&
        absl::SimpleAtoi(text.substr(0, text.size() - 1), &days) && days > 0 && days < 3660) {
      ms = days * 86400 * 1000;
    } else if (absl::ParseDuration(text, &d) && d > absl::ZeroDuration() &&
               d <= absl::Milliseconds(kMaxTtlMs)) {
      ms = absl::ToInt64Milliseconds(d);
    } else {
      return FieldError("ttl", StrCat("\"", text,
                                      "\" is not a positive duration of at most ten years "
                                      "(examples: 90s, 15m, 24h, 7d)"));
    }
    if (ms <= 0) return FieldError("ttl", StrCat("\"", text, "\" is shorter than a millisecond"));
  } else {
    return FieldError("ttl", "must be a duration string (\"24h\") or a number of seconds");
  }
  return ms;
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
    if (it.key() != "name" && it.key() != "role" && it.key() != "zone" && it.key() != "ttl") {
      return FieldError(it.key(), "unknown field (name, role, zone, ttl)");
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
  CW_ASSIGN_OR_RETURN(int64_t ttl_ms, TtlMs(body));
  CW_RETURN_IF_ERROR(auth::CheckTokenAdmin(p, record.zone));
  CW_ASSIGN_OR_RETURN(std::string secret, auth::GenerateSecret());
  record.secret_sha256_hex = auth::Sha256Hex(secret);
  record.created_at_ms = NowMs(ctx);
  if (ttl_ms > 0) record.expires_at_ms = record.created_at_ms + ttl_ms;
  record.created_by = p.name;
  absl::Status created = ctx.store->CreateToken(record);
  if (absl::IsAlreadyExists(created)) {
    return absl::AlreadyExistsError(StrCat("token \"", record.name, "\" already exists"));
  }
  CW_RETURN_IF_ERROR(created);
  ctx.authenticator->Invalidate();  // a cached "unknown" must not outlive creation
  Json j = TokenJson(record, record.created_at_ms);
  j["secret"] = secret;
  return JsonResponse(201, j);
}

absl::StatusOr<Response> ListTokens(const ApiContext& ctx, Request& req, const Principal& p) {
  CW_RETURN_IF_ERROR(auth::CheckTokenAdmin(p, p.zone));
  CW_ASSIGN_OR_RETURN(std::vector<store::TokenRecord> tokens, ctx.store->ListTokens());
  Json items = Json::array();
  const int64_t now_ms = NowMs(ctx);
  for (const store::TokenRecord& t : tokens) {
    if (!p.zone.empty() && t.zone != p.zone) continue;
    items.push_back(TokenJson(t, now_ms));
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

// What the caller may learn about a token: an admin about the tokens it
// manages (all, or its zone's); an agent only about proxy and agent tokens
// limited to its own zone, so it learns nothing of other zones and never of
// admins or unlimited tokens (an agent token without a zone learns nothing:
// it has no zone of its own to relay). Anyone else is refused outright.
absl::StatusOr<bool> MayIntrospect(const Principal& caller, const Principal& token) {
  if (caller.role == auth::Role::kAdmin) return caller.SeesZone(token.zone);
  if (caller.role != auth::Role::kAgent) {
    return absl::PermissionDeniedError(StrCat("token \"", caller.name, "\" is a ",
                                              auth::RoleName(caller.role),
                                              "; introspection is for agent and admin tokens"));
  }
  const bool streams = token.role == auth::Role::kProxy || token.role == auth::Role::kAgent;
  return streams && !caller.zone.empty() && token.zone == caller.zone;
}

// POST /v1/tokens/introspect {"token": SECRET}: {"active": false} for an
// unknown, revoked or expired secret and for one the caller may not learn
// about; else who holds it. A store that cannot be asked is a 503, never
// an inactive answer (the relay must tell "no" from "cannot say").
absl::StatusOr<Response> IntrospectToken(const ApiContext& ctx, Request& req, const Principal& p) {
  if (p.role != auth::Role::kAdmin && p.role != auth::Role::kAgent) {
    return MayIntrospect(p, p).status();
  }
  CW_ASSIGN_OR_RETURN(Json body, ParseJsonBody(req));
  if (!body.is_object()) return FieldError("", "the body must be a JSON object");
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (it.key() != "token") return FieldError(it.key(), "unknown field (token)");
  }
  auto field = body.find("token");
  if (field == body.end() || !field->is_string() || field->get<std::string>().empty()) {
    return FieldError("token", "is required: the secret to look up, as a string");
  }
  auto token = ctx.authenticator->Authenticate("Bearer " + field->get<std::string>());
  if (absl::IsUnauthenticated(token.status())) return JsonResponse(200, Json{{"active", false}});
  if (!token.ok()) return token.status();
  CW_ASSIGN_OR_RETURN(bool may, MayIntrospect(p, *token));
  if (!may) return JsonResponse(200, Json{{"active", false}});
  Json j = {{"active", true},
            {"name", token->name},
            {"role", std::string(auth::RoleName(token->role))},
            {"zone", token->zone}};
  j["expires_at"] = token->expires_at_ms == 0 ? Json() : Json(TimeText(token->expires_at_ms));
  // RFC 7662's `exp` (Unix seconds), for clients that would rather not parse dates.
  j["exp"] = token->expires_at_ms == 0 ? Json() : Json(token->expires_at_ms / 1000);
  return JsonResponse(200, j);
}

}  // namespace

void AddTokenRoutes(http::Router& router, const ApiContext& ctx) {
  router.Add({"GET", "/v1/tokens", Authed(ctx, ListTokens), true});
  router.Add({"POST", "/v1/tokens", Authed(ctx, CreateToken), true});
  router.Add({"DELETE", "/v1/tokens/{name}", Authed(ctx, RevokeToken), true});
  router.Add({"POST", "/v1/tokens/introspect", Authed(ctx, IntrospectToken), true});
}

}  // namespace causeway::hub::api
