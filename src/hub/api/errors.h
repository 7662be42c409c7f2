// JSON responses and the error format of the REST API:
// {"error": {"code", "message", "field"}} plus, for conflicts, "current" (the
// object as it is now) or "referrers" (who still uses it).
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/objects.h"
#include "net/http_message.h"

namespace causeway::hub::api {

using http::Request;
using http::Response;
using model::Json;

Response JsonResponse(int status, const Json& body);
Response ErrorResponse(int status, std::string_view code, std::string_view message,
                       std::string_view field = "");
// 410 Gone for a `since` (named by `field`) below the change log's
// compacted revision: the error names the oldest revision still served
// ("oldest_revision", compacted + 1) and the revision to list again from.
Response CompactedResponse(std::string_view field, int64_t since, int64_t compacted);
// Maps a Status (with the catalog's payloads) to the HTTP error.
Response ErrorResponse(const absl::Status& status);

// The request body as JSON, parsed under model::JsonLimits (depth 64, 200,000
// values, 10,000 keys per object, 64 KiB per string): 400 when empty,
// malformed (invalid UTF-8, a number beyond a double) or over a limit, with
// the byte and, for a limit, the field where it broke.
absl::StatusOr<Json> ParseJsonBody(const Request& req);

// A version precondition from `If-Match` (quotes and W/ stripped) or the
// `version` query parameter; nullopt when neither is given.
absl::StatusOr<std::optional<int64_t>> VersionPrecondition(const Request& req);

}  // namespace causeway::hub::api
