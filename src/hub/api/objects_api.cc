// CRUD of zones and the objects inside them, lists with filters, and the
// instances sub-resource of clusters (written by discovery agents).
#include <optional>

#include "absl/strings/match.h"
#include "common/status.h"
#include "hub/api/context.h"
#include "hub/api/intercepts_api.h"

namespace causeway::hub::api {

namespace {

using model::Kind;
using model::ObjectKey;

// The collection segment of a zone's objects ("route-groups"); zones
// themselves are not nested.
absl::StatusOr<Kind> KindFromPath(std::string_view segment) {
  for (Kind kind : model::kAllKinds) {
    if (kind != Kind::kZone && model::KindPath(kind) == segment) return kind;
  }
  return absl::NotFoundError(
      StrCat("no such collection \"", segment,
             "\" (proxies, domains, route-groups, routes, clusters, intercepts)"));
}

absl::StatusOr<Kind> KindFromTopPath(std::string_view segment) {
  for (Kind kind : model::kAllKinds) {
    if (model::KindPath(kind) == segment) return kind;
  }
  return absl::NotFoundError(StrCat("no such path: /v1/", segment));
}

std::string ETag(int64_t version) { return StrCat("\"", version, "\""); }

Response ObjectResponse(int status, const model::Object& object) {
  Response res = JsonResponse(status, model::ToApiJson(object));
  res.headers.emplace_back("ETag", ETag(object.version));
  return res;
}

// Query parameters other than these filter on top-level spec fields by
// equality, e.g. /v1/zones/z/routes?route_group=api.
bool IsReservedParam(const std::string& name) { return name == "name_prefix" || name == "zone"; }

bool MatchesFilters(const model::Object& object, const Request& req) {
  for (const auto& [param, value] : req.query) {
    if (param == "name_prefix") {
      if (!object.key.name.starts_with(value)) return false;
    } else if (!IsReservedParam(param)) {
      auto it = object.spec.find(param);
      if (it == object.spec.end()) return false;
      if (it->is_string() ? it->get<std::string>() != value : it->dump() != value) return false;
    }
  }
  return true;
}

// Lists `kind` in `zone` ("" = every zone the caller sees) with the revision
// the list reflects, so a client can list then watch from there.
Response ListObjects(const ApiContext& ctx, const Request& req, const Principal& p, Kind kind,
                     const std::string& zone) {
  Json items = Json::array();
  int64_t revision = 0;
  ctx.catalog->Read([&](int64_t rev, const std::map<ObjectKey, model::Object>& objects) {
    revision = rev;
    auto it = objects.lower_bound(ObjectKey{kind, zone, ""});
    for (; it != objects.end() && it->first.kind == kind; ++it) {
      const model::Object& o = it->second;
      if (!zone.empty() && o.key.zone != zone) break;
      if (!p.SeesZone(o.key.zone) || !MatchesFilters(o, req)) continue;
      items.push_back(model::ToApiJson(o));
    }
  });
  return JsonResponse(200,
                      Json{{"items", std::move(items)}, {"revision", std::to_string(revision)}});
}

absl::StatusOr<Response> ListZones(const ApiContext& ctx, Request& req, const Principal& p) {
  return ListObjects(ctx, req, p, Kind::kZone, "");
}

absl::StatusOr<Response> ListAcrossZones(const ApiContext& ctx, Request& req, const Principal& p) {
  CW_ASSIGN_OR_RETURN(Kind kind, KindFromTopPath(req.Param("kind")));
  std::string zone = req.Query("zone");
  if (!zone.empty()) CW_RETURN_IF_ERROR(auth::CheckRead(p, zone));
  return ListObjects(ctx, req, p, kind, zone);
}

absl::StatusOr<Response> ListInZone(const ApiContext& ctx, Request& req, const Principal& p) {
  std::string zone = req.Param("zone");
  CW_RETURN_IF_ERROR(auth::CheckRead(p, zone));
  CW_ASSIGN_OR_RETURN(Kind kind, KindFromPath(req.Param("kind")));
  if (!ctx.catalog->Get(ObjectKey{Kind::kZone, zone, zone})) {
    return absl::NotFoundError(StrCat("zone \"", zone, "\" not found"));
  }
  return ListObjects(ctx, req, p, kind, zone);
}

absl::StatusOr<Response> GetObject(const ApiContext& ctx, const Principal& p,
                                   const ObjectKey& key) {
  CW_RETURN_IF_ERROR(auth::CheckRead(p, key.zone));
  std::optional<model::Object> object = ctx.catalog->Get(key);
  if (!object) return absl::NotFoundError(StrCat(model::KeyString(key), " not found"));
  if (key.kind == Kind::kIntercept) return ReadIntercept(ctx, p, *object);
  return ObjectResponse(200, *object);
}

absl::StatusOr<model::Object> WriteOne(const ApiContext& ctx, const Principal& p,
                                       catalog::Mutation mutation) {
  std::vector<catalog::Mutation> mutations;
  mutations.push_back(std::move(mutation));
  CW_ASSIGN_OR_RETURN(catalog::WriteResult result,
                      ctx.catalog->Write(std::move(mutations), p.name));
  if (result.results.empty() || !result.results[0].object) {
    return absl::InternalError("the write returned no object");
  }
  return *result.results[0].object;
}

absl::StatusOr<Response> Create(const ApiContext& ctx, Request& req, const Principal& p, Kind kind,
                                const std::string& zone) {
  if (kind == Kind::kIntercept) return WriteIntercept(ctx, req, p, zone, "", /*create=*/true);
  CW_ASSIGN_OR_RETURN(Json body, ParseJsonBody(req));
  CW_ASSIGN_OR_RETURN(model::ParsedObject parsed, model::ParseObject(kind, body, zone, ""));
  CW_RETURN_IF_ERROR(auth::CheckWrite(p, kind, parsed.key.zone));
  catalog::Mutation m;
  m.type = catalog::Mutation::Type::kCreate;
  m.key = parsed.key;
  m.spec = std::move(parsed.spec);
  CW_ASSIGN_OR_RETURN(model::Object object, WriteOne(ctx, p, std::move(m)));
  Response res = ObjectResponse(201, object);
  std::string location = object.key.kind == Kind::kZone
                             ? StrCat("/v1/zones/", object.key.name)
                             : StrCat("/v1/zones/", object.key.zone, "/",
                                      model::KindPath(object.key.kind), "/", object.key.name);
  res.headers.emplace_back("Location", location);
  return res;
}

absl::StatusOr<Response> Replace(const ApiContext& ctx, Request& req, const Principal& p, Kind kind,
                                 const std::string& zone, const std::string& name) {
  if (kind == Kind::kIntercept) return WriteIntercept(ctx, req, p, zone, name, /*create=*/false);
  CW_RETURN_IF_ERROR(auth::CheckRead(p, zone));
  CW_ASSIGN_OR_RETURN(Json body, ParseJsonBody(req));
  CW_ASSIGN_OR_RETURN(model::ParsedObject parsed, model::ParseObject(kind, body, zone, name));
  CW_RETURN_IF_ERROR(auth::CheckWrite(p, kind, parsed.key.zone));
  CW_ASSIGN_OR_RETURN(std::optional<int64_t> if_match, VersionPrecondition(req));
  if (parsed.version && if_match && *parsed.version != *if_match) {
    return FieldError("version", StrCat("is ", *parsed.version, " but If-Match says ", *if_match));
  }
  std::optional<int64_t> version = parsed.version ? parsed.version : if_match;
  if (!version) {
    return FieldError("version",
                      "is required: send the version the object was read with (in the body or "
                      "If-Match)");
  }
  catalog::Mutation m;
  m.type = catalog::Mutation::Type::kReplace;
  m.key = parsed.key;
  m.spec = std::move(parsed.spec);
  m.expected_version = version;
  CW_ASSIGN_OR_RETURN(model::Object object, WriteOne(ctx, p, std::move(m)));
  return ObjectResponse(200, object);
}

absl::StatusOr<Response> Delete(const ApiContext& ctx, Request& req, const Principal& p,
                                const ObjectKey& key) {
  CW_RETURN_IF_ERROR(auth::CheckRead(p, key.zone));
  CW_RETURN_IF_ERROR(auth::CheckWrite(p, key.kind, key.zone));
  CW_ASSIGN_OR_RETURN(std::optional<int64_t> version, VersionPrecondition(req));
  if (key.kind == Kind::kIntercept && !version) {
    CW_ASSIGN_OR_RETURN(version, CheckInterceptDelete(ctx, p, key));
  } else if (key.kind == Kind::kIntercept) {
    CW_RETURN_IF_ERROR(CheckInterceptDelete(ctx, p, key).status());
  }
  catalog::Mutation m;
  m.type = catalog::Mutation::Type::kDelete;
  m.key = key;
  m.expected_version = version;
  std::vector<catalog::Mutation> mutations;
  mutations.push_back(std::move(m));
  CW_ASSIGN_OR_RETURN(catalog::WriteResult result,
                      ctx.catalog->Write(std::move(mutations), p.name));
  Json body = {{"kind", model::KindName(key.kind)},
               {"name", key.name},
               {"deleted", true},
               {"revision", std::to_string(result.revision)}};
  if (key.kind != Kind::kZone) body["zone"] = key.zone;
  return JsonResponse(200, body);
}

// The object named by /v1/zones/{zone}/{kind}/{name}. Domain names are
// host:port, so a client may also send the ':' escaped.
absl::StatusOr<ObjectKey> KeyFromPath(const Request& req) {
  CW_ASSIGN_OR_RETURN(Kind kind, KindFromPath(req.Param("kind")));
  return ObjectKey{kind, req.Param("zone"), req.Param("name")};
}

ObjectKey ZoneKey(const Request& req) {
  std::string zone = req.Param("zone");
  return ObjectKey{Kind::kZone, zone, zone};
}

absl::StatusOr<Response> GetInstances(const ApiContext& ctx, Request& req, const Principal& p) {
  ObjectKey key{Kind::kCluster, req.Param("zone"), req.Param("name")};
  CW_RETURN_IF_ERROR(auth::CheckRead(p, key.zone));
  std::optional<model::Object> object = ctx.catalog->Get(key);
  if (!object) return absl::NotFoundError(StrCat(model::KeyString(key), " not found"));
  Response res =
      JsonResponse(200, Json{{"instances", object->spec.value("instances", Json::array())},
                             {"version", std::to_string(object->version)}});
  res.headers.emplace_back("ETag", ETag(object->version));
  return res;
}

// Replaces a cluster's instances, creating the cluster if needed. The body
// is a list of instances or {"instances": [...]}; no version is needed, since
// an agent owns the instance list of the clusters it syncs.
absl::StatusOr<Response> PutInstances(const ApiContext& ctx, Request& req, const Principal& p) {
  ObjectKey key{Kind::kCluster, req.Param("zone"), req.Param("name")};
  CW_RETURN_IF_ERROR(auth::CheckRead(p, key.zone));
  CW_RETURN_IF_ERROR(auth::CheckWrite(p, Kind::kCluster, key.zone));
  if (!model::IsValidName(key.name)) {
    return FieldError("name", StrCat("\"", key.name, "\" is not a valid name"));
  }
  CW_ASSIGN_OR_RETURN(Json body, ParseJsonBody(req));
  // The list is read in place, never copied.
  static const Json kNoInstances = Json::array();
  const Json* list = &body;
  if (body.is_object()) {
    for (auto it = body.begin(); it != body.end(); ++it) {
      if (it.key() != "instances" && it.key() != "version") {
        return FieldError(it.key(), "unknown field (expected \"instances\")");
      }
    }
    auto instances = body.find("instances");
    list = instances == body.end() ? &kNoInstances : &*instances;
  }
  CW_ASSIGN_OR_RETURN(std::vector<model::Instance> instances, model::InstancesFromJson(*list));
  catalog::Mutation m;
  m.type = catalog::Mutation::Type::kSetInstances;
  m.key = key;
  m.spec = Json{{"instances", model::InstancesToJson(instances)}};
  CW_ASSIGN_OR_RETURN(std::optional<int64_t> version, VersionPrecondition(req));
  m.expected_version = version;
  std::vector<catalog::Mutation> mutations;
  mutations.push_back(std::move(m));
  CW_ASSIGN_OR_RETURN(catalog::WriteResult result,
                      ctx.catalog->Write(std::move(mutations), p.name));
  if (result.results.empty() || !result.results[0].object) {
    return absl::InternalError("the write returned no object");
  }
  Response res = ObjectResponse(200, *result.results[0].object);
  res.headers.emplace_back("X-Causeway-Outcome",
                           std::string(catalog::OutcomeName(result.results[0].outcome)));
  return res;
}

}  // namespace

void AddObjectRoutes(http::Router& router, const ApiContext& ctx) {
  using http::Route;
  router.Add({"GET", "/v1/zones", Authed(ctx, ListZones)});
  router.Add({"POST", "/v1/zones",
              Authed(ctx, [](const ApiContext& c, Request& req,
                             const Principal& p) { return Create(c, req, p, Kind::kZone, ""); }),
              true});
  router.Add({"GET", "/v1/zones/{zone}",
              Authed(ctx, [](const ApiContext& c, Request& req, const Principal& p) {
                return GetObject(c, p, ZoneKey(req));
              })});
  router.Add({"PUT", "/v1/zones/{zone}",
              Authed(ctx,
                     [](const ApiContext& c, Request& req, const Principal& p) {
                       std::string zone = req.Param("zone");
                       return Replace(c, req, p, Kind::kZone, zone, zone);
                     }),
              true});
  router.Add({"DELETE", "/v1/zones/{zone}",
              Authed(ctx, [](const ApiContext& c, Request& req,
                             const Principal& p) { return Delete(c, req, p, ZoneKey(req)); }),
              true});
  router.Add({"GET", "/v1/zones/{zone}/{kind}", Authed(ctx, ListInZone)});
  router.Add({"POST", "/v1/zones/{zone}/{kind}",
              Authed(ctx,
                     [](const ApiContext& c, Request& req,
                        const Principal& p) -> absl::StatusOr<Response> {
                       std::string zone = req.Param("zone");
                       CW_RETURN_IF_ERROR(auth::CheckRead(p, zone));
                       CW_ASSIGN_OR_RETURN(Kind kind, KindFromPath(req.Param("kind")));
                       return Create(c, req, p, kind, zone);
                     }),
              true});
  router.Add({"GET", "/v1/zones/{zone}/{kind}/{name}",
              Authed(ctx,
                     [](const ApiContext& c, Request& req,
                        const Principal& p) -> absl::StatusOr<Response> {
                       CW_ASSIGN_OR_RETURN(ObjectKey key, KeyFromPath(req));
                       return GetObject(c, p, key);
                     })});
  router.Add({"PUT", "/v1/zones/{zone}/{kind}/{name}",
              Authed(ctx,
                     [](const ApiContext& c, Request& req,
                        const Principal& p) -> absl::StatusOr<Response> {
                       CW_ASSIGN_OR_RETURN(ObjectKey key, KeyFromPath(req));
                       return Replace(c, req, p, key.kind, key.zone, key.name);
                     }),
              true});
  router.Add({"DELETE", "/v1/zones/{zone}/{kind}/{name}",
              Authed(ctx,
                     [](const ApiContext& c, Request& req,
                        const Principal& p) -> absl::StatusOr<Response> {
                       CW_ASSIGN_OR_RETURN(ObjectKey key, KeyFromPath(req));
                       return Delete(c, req, p, key);
                     }),
              true});
  router.Add({"GET", "/v1/zones/{zone}/clusters/{name}/instances", Authed(ctx, GetInstances)});
  router.Add(
      {"PUT", "/v1/zones/{zone}/clusters/{name}/instances", Authed(ctx, PutInstances), true});
  router.Add({"GET", "/v1/{kind}", Authed(ctx, ListAcrossZones)});
}

}  // namespace causeway::hub::api
