#include "hub/api/errors.h"

#include "absl/strings/numbers.h"
#include "catalog/catalog.h"
#include "common/status.h"
#include "common/strings.h"
#include "model/bounded_json.h"

namespace causeway::hub::api {

namespace {

std::optional<Json> JsonPayload(const absl::Status& status, std::string_view key) {
  auto payload = status.GetPayload(ToAbsl(key));
  if (!payload) return std::nullopt;
  Json j = Json::parse(std::string(*payload), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

struct Mapping {
  int http;
  std::string_view code;
};

Mapping MapCode(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
      return {400, "invalid_argument"};
    case absl::StatusCode::kOutOfRange:
      return {400, "out_of_range"};
    case absl::StatusCode::kUnauthenticated:
      return {401, "unauthenticated"};
    case absl::StatusCode::kPermissionDenied:
      return {403, "permission_denied"};
    case absl::StatusCode::kNotFound:
      return {404, "not_found"};
    case absl::StatusCode::kAlreadyExists:
      return {409, "already_exists"};
    case absl::StatusCode::kFailedPrecondition:
      return {409, "conflict"};
    case absl::StatusCode::kAborted:
      return {409, "conflict"};
    case absl::StatusCode::kResourceExhausted:
      return {429, "resource_exhausted"};
    case absl::StatusCode::kUnavailable:
      return {503, "unavailable"};
    case absl::StatusCode::kDeadlineExceeded:
      return {504, "deadline_exceeded"};
    case absl::StatusCode::kUnimplemented:
      return {501, "unimplemented"};
    default:
      return {500, "internal"};
  }
}

}  // namespace

Response JsonResponse(int status, const Json& body) {
  // Replace, not throw: messages may quote path segments that are not UTF-8.
  return Response::Json(status, body.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n");
}

Response ErrorResponse(int status, std::string_view code, std::string_view message,
                       std::string_view field) {
  Json error = {{"code", code}, {"message", message}};
  if (!field.empty()) error["field"] = field;
  return JsonResponse(status, Json{{"error", error}});
}

Response CompactedResponse(std::string_view field, int64_t since, int64_t compacted) {
  Json error = {
      {"code", "gone"},
      {"message", StrCat("revision ", since,
                         " is older than the change log's history, which starts after "
                         "revision ",
                         compacted,
                         " (older entries were removed by --history-retention); list again and "
                         "follow from the list's revision")},
      {"field", field},
      {"oldest_revision", std::to_string(compacted + 1)},
  };
  return JsonResponse(410, Json{{"error", error}});
}

Response ErrorResponse(const absl::Status& status) {
  Mapping m = MapCode(status.code());
  std::string code(m.code);
  Json body;
  if (auto current = JsonPayload(status, catalog::kCurrentPayload)) {
    body["current"] = *current;
    if (status.code() == absl::StatusCode::kFailedPrecondition) code = "version_conflict";
  }
  if (auto referrers = JsonPayload(status, catalog::kReferrersPayload)) {
    body["referrers"] = *referrers;
    code = "referenced";
  }
  Json error = {{"code", code}, {"message", std::string(status.message())}};
  std::string field = ErrorField(status);
  if (!field.empty()) error["field"] = field;
  body["error"] = error;
  Response res = JsonResponse(m.http, body);
  if (m.http == 401) res.headers.emplace_back("WWW-Authenticate", "Bearer");
  return res;
}

absl::StatusOr<Json> ParseJsonBody(const Request& req) {
  if (req.body.empty()) return FieldError("", "a JSON request body is required");
  // Limits are checked while parsing: a hostile body (100,000 nested arrays)
  // is refused at the byte that breaks one, before a document exists whose
  // copy or destruction would recurse that deep.
  return model::ParseBoundedJson(req.body, "body");
}

absl::StatusOr<std::optional<int64_t>> VersionPrecondition(const Request& req) {
  std::string text = req.Header("if-match");
  std::string_view field = "If-Match";
  if (text.empty()) {
    text = req.Query("version");
    field = "version";
  }
  if (text.empty()) return std::optional<int64_t>();
  std::string_view v = text;
  if (v.starts_with("W/")) v.remove_prefix(2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  int64_t version = 0;
  if (!absl::SimpleAtoi(ToAbsl(v), &version)) {
    return FieldError(field, StrCat("\"", text, "\" is not a version"));
  }
  return std::optional<int64_t>(version);
}

}  // namespace causeway::hub::api
