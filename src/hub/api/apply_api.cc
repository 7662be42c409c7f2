// POST /v1/apply: many documents, all or nothing. Each is created, updated
// or left unchanged; the response reports which. ?dry_run=true validates the
// documents and predicts the outcome without writing (references are checked
// only by a real apply). ?op=create makes every document a create (one that
// exists fails the whole request) and ?op=delete deletes every object the
// documents name (each must exist; a `version` is a precondition): what
// `causeway create -f` and `delete -f` send, so they are atomic like apply.
#include <set>

#include "common/status.h"
#include "hub/api/context.h"

namespace causeway::hub::api {

namespace {

using model::Kind;

// The list of documents inside `body`, by reference: request documents are
// never copied.
absl::StatusOr<const Json*> Documents(const Json& body) {
  if (body.is_array()) return &body;
  if (body.is_object()) {
    for (auto it = body.begin(); it != body.end(); ++it) {
      if (it.key() != "items") return FieldError(it.key(), "unknown field (expected \"items\")");
    }
    auto items = body.find("items");
    if (items != body.end() && items->is_array()) return &*items;
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

absl::StatusOr<bool> BoolQuery(Request& req, const std::string& name) {
  const std::string text = req.Query(name);
  if (!text.empty() && text != "true" && text != "false") {
    return FieldError(name, "must be true or false");
  }
  return text == "true";
}

absl::StatusOr<catalog::Mutation::Type> OpQuery(Request& req) {
  const std::string op = req.Query("op");
  if (op.empty() || op == "apply") return catalog::Mutation::Type::kUpsert;
  if (op == "create") return catalog::Mutation::Type::kCreate;
  if (op == "delete") return catalog::Mutation::Type::kDelete;
  return FieldError("op", StrCat("must be apply, create or delete, not \"", op, "\""));
}

// What a dry run predicts for one mutation.
std::string_view PredictedOutcome(const catalog::Mutation& m,
                                  const std::optional<model::Object>& current) {
  if (m.type == catalog::Mutation::Type::kDelete) return current ? "deleted" : "not_found";
  if (!current) return "created";
  if (m.type == catalog::Mutation::Type::kCreate) return "already_exists";
  return current->spec == m.spec ? "unchanged" : "updated";
}

absl::StatusOr<Response> Apply(const ApiContext& ctx, Request& req, const Principal& p) {
  CW_ASSIGN_OR_RETURN(bool dry_run, BoolQuery(req, "dry_run"));
  CW_ASSIGN_OR_RETURN(catalog::Mutation::Type type, OpQuery(req));
  CW_ASSIGN_OR_RETURN(Json body, ParseJsonBody(req));
  CW_ASSIGN_OR_RETURN(const Json* documents, Documents(body));
  const Json& docs = *documents;
  if (docs.empty()) return FieldError("items", "is empty");
  std::vector<catalog::Mutation> mutations;
  std::set<model::ObjectKey> seen;
  for (size_t i = 0; i < docs.size(); ++i) {
    std::string prefix = StrCat("items[", i, "]");
    auto parsed = model::ParseAnyObject(docs[i]);
    if (!parsed.ok()) return WithFieldPrefix(parsed.status(), prefix);
    // An intercept is a lease held by its owner, written one at a time with
    // its ownership checks; a file of objects does not carry one.
    if (parsed->key.kind == Kind::kIntercept) {
      return FieldError(StrCat(prefix, ".kind"),
                        "Intercept is not applied from documents: write it with PUT "
                        "/v1/zones/{zone}/intercepts/{name}");
    }
    absl::Status allowed = auth::CheckWrite(p, parsed->key.kind, parsed->key.zone);
    if (!allowed.ok()) return absl::Status(allowed.code(), StrCat(prefix, ": ", allowed.message()));
    if (!seen.insert(parsed->key).second) {
      return FieldError(prefix, StrCat(model::KeyString(parsed->key), " appears twice"));
    }
    catalog::Mutation m;
    m.type = type;
    m.key = parsed->key;
    m.expected_version = parsed->version;
    if (type != catalog::Mutation::Type::kDelete) m.spec = std::move(parsed->spec);
    mutations.push_back(std::move(m));
  }
  Json results = Json::array();
  if (dry_run) {
    for (const catalog::Mutation& m : mutations) {
      std::optional<model::Object> current = ctx.catalog->Get(m.key);
      results.push_back(ResultJson(m.key, PredictedOutcome(m, current), current));
    }
    return JsonResponse(200, Json{{"dry_run", true},
                                  {"revision", std::to_string(ctx.catalog->Revision())},
                                  {"results", std::move(results)}});
  }
  CW_ASSIGN_OR_RETURN(catalog::WriteResult result,
                      ctx.catalog->Write(std::move(mutations), p.name));
  for (const catalog::MutationResult& r : result.results) {
    results.push_back(ResultJson(r.key, catalog::OutcomeName(r.outcome), r.object));
  }
  return JsonResponse(
      200, Json{{"revision", std::to_string(result.revision)}, {"results", std::move(results)}});
}

}  // namespace

void AddApplyRoutes(http::Router& router, const ApiContext& ctx) {
  router.Add({"POST", "/v1/apply", Authed(ctx, Apply), true});
}

}  // namespace causeway::hub::api
