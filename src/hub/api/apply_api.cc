// POST /v1/apply: many documents, all or nothing. Each is created, updated
// or left unchanged; the response reports which. ?dry_run=true validates the
// documents and predicts the outcome without writing (references are checked
// only by a real apply).
#include <set>

#include "common/status.h"
#include "hub/api/context.h"

namespace causeway::hub::api {

namespace {

using model::Kind;

absl::StatusOr<Json> Documents(const Json& body) {
  if (body.is_array()) return body;
  if (body.is_object()) {
    for (auto it = body.begin(); it != body.end(); ++it) {
      if (it.key() != "items") return FieldError(it.key(), "unknown field (expected \"items\")");
    }
    auto items = body.find("items");
    if (items != body.end() && items->is_array()) return *items;
  }
  return FieldError("items", "the body must be a list of documents or {\"items\": [...]}");
}

Json ResultJson(const model::ObjectKey& key, std::string_view outcome,
                const std::optional<model::Object>& object) {
  Json j = {{"kind", model::KindName(key.kind)}, {"name", key.name}, {"outcome", outcome}};
  if (key.kind != Kind::kZone) j["zone"] = key.zone;
  if (object) j["version"] = std::to_string(object->version);
  return j;
}

absl::StatusOr<Response> Apply(const ApiContext& ctx, Request& req, const Principal& p) {
  std::string dry_run_text = req.Query("dry_run");
  if (!dry_run_text.empty() && dry_run_text != "true" && dry_run_text != "false") {
    return FieldError("dry_run", "must be true or false");
  }
  bool dry_run = dry_run_text == "true";
  CW_ASSIGN_OR_RETURN(Json body, ParseJsonBody(req));
  CW_ASSIGN_OR_RETURN(Json docs, Documents(body));
  if (docs.empty()) return FieldError("items", "is empty");
  std::vector<hub::Mutation> mutations;
  std::set<model::ObjectKey> seen;
  for (size_t i = 0; i < docs.size(); ++i) {
    std::string prefix = StrCat("items[", i, "]");
    auto parsed = model::ParseAnyObject(docs[i]);
    if (!parsed.ok()) return WithFieldPrefix(parsed.status(), prefix);
    absl::Status allowed = auth::CheckWrite(p, parsed->key.kind, parsed->key.zone);
    if (!allowed.ok()) return absl::Status(allowed.code(), StrCat(prefix, ": ", allowed.message()));
    if (!seen.insert(parsed->key).second) {
      return FieldError(prefix, StrCat(model::KeyString(parsed->key), " appears twice"));
    }
    hub::Mutation m;
    m.type = hub::Mutation::Type::kUpsert;
    m.key = parsed->key;
    m.spec = std::move(parsed->spec);
    m.expected_version = parsed->version;
    mutations.push_back(std::move(m));
  }
  Json results = Json::array();
  if (dry_run) {
    for (const hub::Mutation& m : mutations) {
      std::optional<model::Object> current = ctx.catalog->Get(m.key);
      std::string_view outcome = !current                  ? "created"
                                 : current->spec == m.spec ? "unchanged"
                                                           : "updated";
      results.push_back(ResultJson(m.key, outcome, current));
    }
    return JsonResponse(200, Json{{"dry_run", true},
                                  {"revision", std::to_string(ctx.catalog->Revision())},
                                  {"results", std::move(results)}});
  }
  CW_ASSIGN_OR_RETURN(WriteResult result, ctx.catalog->Write(std::move(mutations), p.name));
  for (const hub::MutationResult& r : result.results) {
    results.push_back(ResultJson(r.key, hub::OutcomeName(r.outcome), r.object));
  }
  return JsonResponse(
      200, Json{{"revision", std::to_string(result.revision)}, {"results", std::move(results)}});
}

}  // namespace

void AddApplyRoutes(http::Router& router, const ApiContext& ctx) {
  router.Add({"POST", "/v1/apply", Authed(ctx, Apply), true});
}

}  // namespace causeway::hub::api
