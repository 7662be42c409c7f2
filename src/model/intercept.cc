#include "model/intercept.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <set>

#include "absl/time/time.h"
#include "common/status.h"
#include "common/time_source.h"
#include "model/objects.h"

namespace causeway::model {
namespace {

using Json = nlohmann::json;

const std::set<std::string, std::less<>> kInterceptMetadata = {
    "kind", "name", "zone", "version", "created_at", "updated_at"};

// Null and absent are the same: nothing given.
const Json* FindField(const Json& j, std::string_view key) {
  auto it = j.find(std::string(key));
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

absl::Status ReadString(const Json& j, std::string_view key, std::string_view path,
                        std::string* out) {
  const Json* v = FindField(j, key);
  if (v == nullptr) return absl::OkStatus();
  if (!v->is_string()) return FieldError(path, StrCat("must be a string, not ", v->dump()));
  *out = v->get<std::string>();
  return absl::OkStatus();
}

// host:port, host a DNS name or an IPv4 address (what an EDS endpoint holds).
bool IsValidTunnelAddress(std::string_view address) { return IsValidDomainName(address); }

absl::Status ReadTime(const Json& j, std::string_view key, std::string_view path, int64_t* out_ms) {
  std::string text;
  CW_RETURN_IF_ERROR(ReadString(j, key, path, &text));
  if (text.empty()) return absl::OkStatus();
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
    return FieldError(path, StrCat("\"", text, "\" is not an RFC 3339 time: ", error));
  }
  *out_ms = absl::ToUnixMillis(t);
  return absl::OkStatus();
}

absl::Status ReadTunnelStatus(const Json& v, InterceptTunnel* t) {
  CW_RETURN_IF_ERROR(ReadString(v, "state", "tunnel.state", &t->state));
  if (!t->state.empty() && t->state != "connected" && t->state != "reconnecting") {
    return FieldError("tunnel.state",
                      StrCat("\"", t->state, "\" is not a tunnel state (connected, reconnecting)"));
  }
  return ReadTime(v, "connected_at", "tunnel.connected_at", &t->connected_at_ms);
}

absl::Status ReadTunnel(const Json& j, std::optional<InterceptTunnel>* out) {
  const Json* v = FindField(j, "tunnel");
  if (v == nullptr) return absl::OkStatus();
  if (!v->is_object()) return FieldError("tunnel", "must be an object {proxy, address}");
  InterceptTunnel t;
  for (auto it = v->begin(); it != v->end(); ++it) {
    if (it.key() != "proxy" && it.key() != "address" && it.key() != "state" &&
        it.key() != "connected_at") {
      return FieldError(StrCat("tunnel.", it.key()), "unknown field");
    }
  }
  CW_RETURN_IF_ERROR(ReadString(*v, "proxy", "tunnel.proxy", &t.proxy));
  CW_RETURN_IF_ERROR(ReadString(*v, "address", "tunnel.address", &t.address));
  if (!IsValidName(t.proxy)) {
    return FieldError("tunnel.proxy", StrCat("\"", t.proxy, "\" is not a proxy name"));
  }
  if (!IsValidTunnelAddress(t.address)) {
    return FieldError("tunnel.address", StrCat("\"", t.address, "\" is not host:port"));
  }
  CW_RETURN_IF_ERROR(ReadTunnelStatus(*v, &t));
  *out = std::move(t);
  return absl::OkStatus();
}

absl::Status ReadLease(const Json& j, uint32_t* out) {
  *out = kDefaultLeaseMs;
  const Json* v = FindField(j, "lease_ms");
  if (v == nullptr) return absl::OkStatus();
  const std::string range =
      StrCat("must be an integer between ", kMinLeaseMs, " and ", kMaxLeaseMs);
  if (!v->is_number_integer()) return FieldError("lease_ms", StrCat(range, ", not ", v->dump()));
  const bool in_range = v->is_number_unsigned()
                            ? v->get<uint64_t>() >= kMinLeaseMs && v->get<uint64_t>() <= kMaxLeaseMs
                            : v->get<int64_t>() >= kMinLeaseMs && v->get<int64_t>() <= kMaxLeaseMs;
  if (!in_range) return FieldError("lease_ms", StrCat(range, ", not ", v->dump()));
  *out = static_cast<uint32_t>(v->get<int64_t>());
  return absl::OkStatus();
}

absl::Status ReadExpiry(const Json& j, int64_t* out_ms) {
  return ReadTime(j, "expires_at", "expires_at", out_ms);
}

absl::Status CheckKnownFields(const Json& j, bool allow_metadata) {
  // `proof` is in the hub's answers to the owner and admins only, computed
  // on every read: an intercept read back and written again (causeway edit)
  // may carry it, and it is ignored like the other fields the hub sets.
  static const std::set<std::string, std::less<>> kFields = {
      "cluster", "key", "lease_ms", "owner", "expires_at", "tunnel", "proof_sha256", "proof"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (kFields.count(it.key())) continue;
    if (allow_metadata && kInterceptMetadata.count(it.key())) continue;
    return FieldError(it.key(), "unknown field");
  }
  return absl::OkStatus();
}

}  // namespace

bool IsValidRoutingKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxRoutingKeyLength) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

bool IsValidProofSha256(std::string_view text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

absl::StatusOr<Intercept> ParseIntercept(const Json& j, bool allow_metadata) {
  if (!j.is_object()) return FieldError("", "an Intercept must be an object");
  CW_RETURN_IF_ERROR(CheckKnownFields(j, allow_metadata));
  Intercept v;
  CW_RETURN_IF_ERROR(ReadString(j, "cluster", "cluster", &v.cluster));
  if (v.cluster.empty()) return FieldError("cluster", "is required");
  if (!IsValidName(v.cluster)) {
    return FieldError("cluster", StrCat("\"", v.cluster, "\" is not a valid cluster name"));
  }
  CW_RETURN_IF_ERROR(ReadString(j, "key", "key", &v.key));
  if (v.key.empty()) return FieldError("key", "is required");
  if (!IsValidRoutingKey(v.key)) {
    return FieldError(
        "key", StrCat("\"", v.key, "\" is not a routing key (1 to 32 of A-Z a-z 0-9 . _ -)"));
  }
  CW_RETURN_IF_ERROR(ReadLease(j, &v.lease_ms));
  CW_RETURN_IF_ERROR(ReadString(j, "owner", "owner", &v.owner));
  CW_RETURN_IF_ERROR(ReadExpiry(j, &v.expires_at_ms));
  CW_RETURN_IF_ERROR(ReadTunnel(j, &v.tunnel));
  CW_RETURN_IF_ERROR(ReadString(j, "proof_sha256", "proof_sha256", &v.proof_sha256));
  if (!v.proof_sha256.empty() && !IsValidProofSha256(v.proof_sha256)) {
    return FieldError("proof_sha256", StrCat("\"", v.proof_sha256,
                                             "\" is not a SHA-256 (64 lowercase hex digits)"));
  }
  return v;
}

absl::StatusOr<Intercept> InterceptFromObject(const Object& o) {
  CW_ASSIGN_OR_RETURN(Intercept v, ParseIntercept(o.spec, false));
  v.name = o.key.name;
  return v;
}

namespace {

Json TunnelSpec(const InterceptTunnel& t) {
  Json j = {{"proxy", t.proxy}, {"address", t.address}};
  if (!t.state.empty()) j["state"] = t.state;
  if (t.connected_at_ms != 0) {
    j["connected_at"] = FormatRfc3339(
        std::chrono::system_clock::time_point(std::chrono::milliseconds(t.connected_at_ms)));
  }
  return j;
}

}  // namespace

Json ToSpec(const Intercept& v) {
  Json j = {{"cluster", v.cluster}, {"key", v.key}, {"lease_ms", v.lease_ms}, {"owner", v.owner}};
  j["expires_at"] = v.expires_at_ms == 0 ? Json(nullptr)
                                         : Json(FormatRfc3339(std::chrono::system_clock::time_point(
                                               std::chrono::milliseconds(v.expires_at_ms))));
  if (v.tunnel) j["tunnel"] = TunnelSpec(*v.tunnel);
  if (!v.proof_sha256.empty()) j["proof_sha256"] = v.proof_sha256;
  return j;
}

}  // namespace causeway::model
