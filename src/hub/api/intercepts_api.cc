// Intercepts: who may write them, the lease, and one owner per key.
#include "hub/api/intercepts_api.h"

#include <chrono>
#include <mutex>
#include <optional>

#include "common/status.h"
#include "hub/auth/key_proof.h"

namespace causeway::hub::api {
namespace {

using model::Kind;
using model::ObjectKey;

int64_t InterceptNowMs(const ApiContext& ctx) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(ctx.time->Now().time_since_epoch())
      .count();
}

std::string Rfc3339(int64_t ms) {
  return FormatRfc3339(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

bool IsAdmin(const Principal& p) { return p.role == auth::Role::kAdmin; }

// The stored intercept, whether or not its lease has run out.
std::optional<model::Intercept> StoredIntercept(const std::optional<model::Object>& object) {
  if (!object) return std::nullopt;
  absl::StatusOr<model::Intercept> typed = model::InterceptFromObject(*object);
  if (!typed.ok()) return std::nullopt;
  return *std::move(typed);
}

// The stored intercept, if it exists and its lease has not run out.
std::optional<model::Intercept> LiveIntercept(const std::optional<model::Object>& object,
                                              int64_t now_ms) {
  std::optional<model::Intercept> typed = StoredIntercept(object);
  if (!typed || typed->expires_at_ms <= now_ms) return std::nullopt;
  return typed;
}

absl::Status HeldByOther(const ObjectKey& key, const model::Intercept& held,
                         std::string_view what) {
  return absl::PermissionDeniedError(StrCat(model::KeyString(key), " is held by token \"",
                                            held.owner, "\" until ", Rfc3339(held.expires_at_ms),
                                            ": only its owner or an admin may ", what, " it"));
}

// 409 when another owner's live intercept in `zone` holds `want.key`. The
// answer names the holder and when its lease runs out.
std::optional<Response> KeyConflict(const ApiContext& ctx, const ObjectKey& key,
                                    const model::Intercept& want, int64_t now_ms) {
  for (const model::Object& other : ctx.catalog->List(Kind::kIntercept, key.zone)) {
    if (other.key == key) continue;
    std::optional<model::Intercept> held = LiveIntercept(other, now_ms);
    if (!held || held->key != want.key || held->owner == want.owner) continue;
    std::string until = Rfc3339(held->expires_at_ms);
    Json error = {
        {"code", "key_held"},
        {"message", StrCat("key \"", want.key, "\" is held in zone ", key.zone, " by token \"",
                           held->owner, "\" (intercept ", other.key.name, ") until ", until)},
        {"field", "key"},
        {"owner", held->owner},
        {"intercept", other.key.name},
        {"expires_at", until}};
    return JsonResponse(409, Json{{"error", std::move(error)}});
  }
  return std::nullopt;
}

// Settles owner and tunnel of `want` against what is stored: the owner of a
// live intercept stays its owner (an admin's write does not take it over);
// the tunnel is the hub's to set, so only an admin's write changes it, and a
// write that leaves it out (a renewal, an admin changing the lease) keeps the
// stored one, even past the lease until the sweep.
absl::Status SettleHubFields(const Principal& p, const ObjectKey& key,
                             const std::optional<model::Object>& stored_object,
                             const std::optional<model::Intercept>& live, model::Intercept* want) {
  if (live && live->owner != p.name && !IsAdmin(p)) return HeldByOther(key, *live, "update");
  want->owner = live ? live->owner : p.name;
  std::optional<model::Intercept> stored_intercept = StoredIntercept(stored_object);
  std::optional<model::InterceptTunnel> stored =
      stored_intercept ? stored_intercept->tunnel : std::nullopt;
  if (!want->tunnel) {
    want->tunnel = stored;
    return absl::OkStatus();
  }
  if (IsAdmin(p) || want->tunnel == stored) return absl::OkStatus();
  return absl::PermissionDeniedError(StrCat("tunnel: is set by the hub; token \"", p.name, "\" (",
                                            auth::RoleName(p.role),
                                            ") may not change it, only an admin token may"));
}

absl::StatusOr<std::optional<int64_t>> RequestedVersion(const Request& req,
                                                        const model::ParsedObject& parsed) {
  CW_ASSIGN_OR_RETURN(std::optional<int64_t> if_match, VersionPrecondition(req));
  if (parsed.version && if_match && *parsed.version != *if_match) {
    return FieldError("version", StrCat("is ", *parsed.version, " but If-Match says ", *if_match));
  }
  return parsed.version ? parsed.version : if_match;
}

catalog::Mutation MakeMutation(const ObjectKey& key, const model::Intercept& want, bool create,
                               const std::optional<model::Object>& stored,
                               std::optional<int64_t> version) {
  catalog::Mutation m;
  m.key = key;
  m.spec = model::ToSpec(want);
  if (create || !stored) {
    m.type = catalog::Mutation::Type::kCreate;
  } else {
    // The stored version guards against a write (or the sweeper's delete)
    // that landed since it was read.
    m.type = catalog::Mutation::Type::kReplace;
    m.expected_version = version ? version : stored->version;
  }
  return m;
}

}  // namespace

// Intercept writes on this hub run one at a time, so that the check "no
// other owner holds this key" and the write that relies on it cannot
// interleave with another intercept write. Hubs sharing one store do not
// share this lock (docs/two-way-routing.md).
std::mutex& InterceptWriteMutex() {
  static std::mutex mu;
  return mu;
}

absl::StatusOr<Response> WriteIntercept(const ApiContext& ctx, Request& req, const Principal& p,
                                        const std::string& zone, const std::string& name,
                                        bool create) {
  CW_RETURN_IF_ERROR(auth::CheckRead(p, zone));
  CW_ASSIGN_OR_RETURN(Json body, ParseJsonBody(req));
  CW_ASSIGN_OR_RETURN(model::ParsedObject parsed,
                      model::ParseObject(Kind::kIntercept, body, zone, name));
  CW_RETURN_IF_ERROR(auth::CheckWrite(p, Kind::kIntercept, parsed.key.zone));
  CW_ASSIGN_OR_RETURN(std::optional<int64_t> version, RequestedVersion(req, parsed));
  CW_ASSIGN_OR_RETURN(model::Intercept want, model::ParseIntercept(parsed.spec, false));
  const ObjectKey& key = parsed.key;
  if (!ctx.catalog->Get(ObjectKey{Kind::kCluster, key.zone, want.cluster})) {
    return FieldError("cluster",
                      StrCat("Cluster \"", want.cluster, "\" does not exist in zone ", key.zone));
  }

  std::lock_guard lock(InterceptWriteMutex());
  const int64_t now_ms = InterceptNowMs(ctx);
  std::optional<model::Object> stored = ctx.catalog->Get(key);
  std::optional<model::Intercept> live = LiveIntercept(stored, now_ms);
  CW_RETURN_IF_ERROR(SettleHubFields(p, key, stored, live, &want));
  if (std::optional<Response> conflict = KeyConflict(ctx, key, want, now_ms)) return *conflict;
  want.expires_at_ms = now_ms + want.lease_ms;
  CW_ASSIGN_OR_RETURN(std::string proof, auth::StampKeyProof(*ctx.store, key.zone, &want));

  std::vector<catalog::Mutation> mutations;
  mutations.push_back(MakeMutation(key, want, create, stored, version));
  CW_ASSIGN_OR_RETURN(catalog::WriteResult result,
                      ctx.catalog->Write(std::move(mutations), p.name));
  if (result.results.empty() || !result.results[0].object) {
    return absl::InternalError("the write returned no object");
  }
  const model::Object& object = *result.results[0].object;
  const bool created = result.results[0].outcome == catalog::Outcome::kCreated;
  // The writer is the owner or an admin: they get the proof that edge
  // proxies accept with the key (docs/two-way-routing.md), as their reads do.
  Json answer = model::ToApiJson(object);
  answer["proof"] = proof;
  Response res = JsonResponse(created ? 201 : 200, answer);
  res.headers.emplace_back("ETag", StrCat("\"", object.version, "\""));
  if (created) {
    res.headers.emplace_back("Location", StrCat("/v1/zones/", key.zone, "/intercepts/", key.name));
  }
  return res;
}

absl::StatusOr<Response> ReadIntercept(const ApiContext& ctx, const Principal& p,
                                       const model::Object& object) {
  Json answer = model::ToApiJson(object);
  std::optional<model::Intercept> stored = StoredIntercept(object);
  if (stored && (IsAdmin(p) || stored->owner == p.name)) {
    CW_ASSIGN_OR_RETURN(std::string secret, auth::LoadKeyProofSecret(*ctx.store));
    answer["proof"] = auth::KeyProof(secret, object.key.zone, stored->key, stored->owner);
  }
  Response res = JsonResponse(200, answer);
  res.headers.emplace_back("ETag", StrCat("\"", object.version, "\""));
  return res;
}

absl::StatusOr<std::optional<int64_t>> CheckInterceptDelete(const ApiContext& ctx,
                                                            const Principal& p,
                                                            const ObjectKey& key) {
  std::optional<model::Object> stored = ctx.catalog->Get(key);
  if (!IsAdmin(p)) {
    std::optional<model::Intercept> live = LiveIntercept(stored, InterceptNowMs(ctx));
    if (live && live->owner != p.name) return HeldByOther(key, *live, "delete");
  }
  // The delete must remove what was checked: a renewal by its owner landing
  // in between makes it fail instead of removing a live intercept.
  if (!stored) return std::nullopt;
  return stored->version;
}

}  // namespace causeway::hub::api
