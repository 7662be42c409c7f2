// The body of POST /v1/zones/{zone}/proxies/{proxy}/explain.
#include <functional>
#include <string>

#include "common/status.h"
#include "common/strings.h"
#include "serve/explain.h"
#include "serve/explain_curl.h"

namespace causeway::serve {
namespace {

using model::Json;

// RFC 9110 token characters (method and header names).
bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// Header values, hosts and cookies travel on one line of a request head.
bool IsLineSafe(std::string_view s) {
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

absl::StatusOr<std::string> StringField(const Json& body, const std::string& field) {
  const Json& v = body.at(field);
  if (!v.is_string()) return FieldError(field, "must be a string");
  return v.get<std::string>();
}

// {"name": "value", ...} into (name, value) pairs, checked by `check`.
absl::Status ReadPairs(
    const Json& body, const std::string& field,
    const std::function<absl::Status(const std::string& key, const std::string& value)>& add) {
  const Json& v = body.at(field);
  if (!v.is_object()) return FieldError(field, "must be an object of strings");
  for (const auto& [key, value] : v.items()) {
    if (!value.is_string()) return FieldError(StrCat(field, ".", key), "must be a string");
    CW_RETURN_IF_ERROR(add(key, value.get<std::string>()));
  }
  return absl::OkStatus();
}

absl::Status ReadHeaders(const Json& body, ExplainRequest* out) {
  return ReadPairs(body, "headers", [&](const std::string& name, const std::string& value) {
    const std::string field = StrCat("headers.", name);
    if (!IsToken(name)) return FieldError(field, "is not a valid header name");
    if (!IsLineSafe(value)) return FieldError(field, "must not contain a line break");
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "host") return FieldError(field, "give the Host in the \"host\" field");
    out->headers.emplace_back(name, value);
    return absl::OkStatus();
  });
}

absl::Status ReadCookies(const Json& body, ExplainRequest* out) {
  return ReadPairs(body, "cookies", [&](const std::string& name, const std::string& value) {
    const std::string field = StrCat("cookies.", name);
    if (!IsToken(name)) return FieldError(field, "is not a valid cookie name");
    if (!IsLineSafe(value) || value.find(';') != std::string::npos) {
      return FieldError(field, "must not contain ';' or a line break");
    }
    out->cookies[name] = value;
    return absl::OkStatus();
  });
}

absl::Status CheckRequest(const ExplainRequest& r) {
  if (r.host.empty()) return FieldError("host", "is required");
  if (!IsLineSafe(r.host) || r.host.find_first_of(" \t/") != std::string::npos) {
    return FieldError("host", StrCat("\"", r.host, "\" is not a host name with an optional port"));
  }
  if (r.path.empty() || r.path[0] != '/') {
    return FieldError("path", StrCat("\"", r.path, "\" must start with '/'"));
  }
  if (!IsLineSafe(r.path) || r.path.find_first_of(" \t") != std::string::npos) {
    return FieldError("path", "must not contain blanks or line breaks");
  }
  if (!IsToken(r.method)) return FieldError("method", StrCat("\"", r.method, "\" is not a method"));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ExplainRequest> ParseExplainRequest(const Json& body) {
  if (!body.is_object()) return FieldError("body", "must be a JSON object");
  ExplainRequest out;
  if (body.contains("curl")) {
    if (body.size() != 1) {
      return FieldError("curl", "give either \"curl\" or host, path, method, headers, cookies");
    }
    CW_ASSIGN_OR_RETURN(std::string command, StringField(body, "curl"));
    CW_ASSIGN_OR_RETURN(out, ParseCurlCommand(command));
    CW_RETURN_IF_ERROR(WithFieldPrefix(CheckRequest(out), "curl"));
    return out;
  }
  for (const auto& [key, value] : body.items()) {
    if (key != "host" && key != "path" && key != "method" && key != "headers" && key != "cookies") {
      return FieldError(key, "unknown field (host, path, method, headers, cookies or curl)");
    }
  }
  if (!body.contains("host")) return FieldError("host", "is required");
  if (!body.contains("path")) return FieldError("path", "is required");
  CW_ASSIGN_OR_RETURN(out.host, StringField(body, "host"));
  CW_ASSIGN_OR_RETURN(out.path, StringField(body, "path"));
  if (body.contains("method")) {
    CW_ASSIGN_OR_RETURN(out.method, StringField(body, "method"));
  }
  if (body.contains("headers")) CW_RETURN_IF_ERROR(ReadHeaders(body, &out));
  if (body.contains("cookies")) CW_RETURN_IF_ERROR(ReadCookies(body, &out));
  CW_RETURN_IF_ERROR(CheckRequest(out));
  return out;
}

}  // namespace causeway::serve
