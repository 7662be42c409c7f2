#include "model/tls_settings.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "common/status.h"
#include "model/objects.h"

namespace causeway::model {
namespace {

using Json = nlohmann::json;

// Linux's PATH_MAX: a longer path cannot be opened on the proxy anyway.
constexpr size_t kMaxPathBytes = 4096;

// Reads one TLS object strictly: each field read once, anything left over is
// named as unknown by Finish().
class TlsReader {
 public:
  TlsReader(const Json& j, std::string_view path) : j_(j), path_(path) {}

  absl::Status CheckObject() const {
    if (!j_.is_object()) return FieldError(path_, StrCat("must be an object, not ", j_.dump()));
    return absl::OkStatus();
  }

  std::string Path(std::string_view key) const { return StrCat(path_, ".", key); }

  // An optional string; absent or null leaves `out` empty.
  absl::Status String(std::string_view key, std::string* out) {
    seen_.insert(std::string(key));
    auto it = j_.find(std::string(key));
    if (it == j_.end() || it->is_null()) return absl::OkStatus();
    if (!it->is_string()) {
      return FieldError(Path(key), StrCat("must be a string, not ", it->dump()));
    }
    *out = it->get<std::string>();
    if (out->empty()) return FieldError(Path(key), "must not be empty");
    return absl::OkStatus();
  }

  // An optional absolute file path on the proxy's machine.
  absl::Status File(std::string_view key, std::string* out) {
    CW_RETURN_IF_ERROR(String(key, out));
    if (out->empty()) return absl::OkStatus();
    const bool printable = std::none_of(out->begin(), out->end(), [](char c) {
      return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    });
    if (out->front() != '/' || !printable || out->size() > kMaxPathBytes) {
      return FieldError(Path(key), StrCat("must be an absolute path, not \"", *out, "\""));
    }
    return absl::OkStatus();
  }

  absl::Status Finish() const {
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      if (!seen_.count(it.key())) return FieldError(Path(it.key()), "unknown field");
    }
    return absl::OkStatus();
  }

 private:
  const Json& j_;
  std::string path_;
  std::set<std::string, std::less<>> seen_;
};

// A certificate is useless without its key and the reverse; name the one
// that is missing.
absl::Status CheckPair(const TlsReader& r, const std::string& cert, const std::string& key) {
  if (!cert.empty() && key.empty()) {
    return FieldError(r.Path("key_file"), StrCat("is required with cert_file \"", cert, "\""));
  }
  if (cert.empty() && !key.empty()) {
    return FieldError(r.Path("cert_file"), StrCat("is required with key_file \"", key, "\""));
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view ProtocolName(ClusterProtocol protocol) {
  switch (protocol) {
    case ClusterProtocol::kHttp1:
      return "http1";
    case ClusterProtocol::kHttp2:
      return "http2";
    case ClusterProtocol::kAuto:
      return "auto";
  }
  return "http1";
}

absl::Status ParseClusterProtocol(const Json& j, std::string_view path, ClusterProtocol* out) {
  for (ClusterProtocol p :
       {ClusterProtocol::kHttp1, ClusterProtocol::kHttp2, ClusterProtocol::kAuto}) {
    if (j.is_string() && j.get<std::string>() == ProtocolName(p)) {
      *out = p;
      return absl::OkStatus();
    }
  }
  return FieldError(path, StrCat("must be http1, http2 or auto, not ", j.dump()));
}

absl::Status ParseUpstreamTls(const Json& j, std::string_view path, UpstreamTls* out) {
  TlsReader r(j, path);
  CW_RETURN_IF_ERROR(r.CheckObject());
  CW_RETURN_IF_ERROR(r.String("sni", &out->sni));
  // The SNI is a DNS name the peer's certificate must also carry; DNS names
  // compare case-insensitively, so the canonical form is lowercase.
  out->sni = absl::AsciiStrToLower(out->sni);
  if (!out->sni.empty() && !IsValidHost(out->sni)) {
    return FieldError(r.Path("sni"), StrCat("must be a DNS name, not \"", out->sni, "\""));
  }
  CW_RETURN_IF_ERROR(r.File("ca_file", &out->ca_file));
  CW_RETURN_IF_ERROR(r.File("cert_file", &out->cert_file));
  CW_RETURN_IF_ERROR(r.File("key_file", &out->key_file));
  CW_RETURN_IF_ERROR(CheckPair(r, out->cert_file, out->key_file));
  return r.Finish();
}

absl::Status ParseDownstreamTls(const Json& j, std::string_view path, DownstreamTls* out) {
  TlsReader r(j, path);
  CW_RETURN_IF_ERROR(r.CheckObject());
  CW_RETURN_IF_ERROR(r.File("cert_file", &out->cert_file));
  CW_RETURN_IF_ERROR(r.File("key_file", &out->key_file));
  // A domain's TLS is its certificate: without one there is nothing to serve.
  if (out->cert_file.empty()) return FieldError(r.Path("cert_file"), "is required");
  if (out->key_file.empty()) return FieldError(r.Path("key_file"), "is required");
  CW_RETURN_IF_ERROR(r.File("client_ca_file", &out->client_ca_file));
  return r.Finish();
}

Json ToJson(const UpstreamTls& v) {
  Json out = Json::object();
  if (!v.sni.empty()) out["sni"] = v.sni;
  if (!v.ca_file.empty()) out["ca_file"] = v.ca_file;
  if (!v.cert_file.empty()) out["cert_file"] = v.cert_file;
  if (!v.key_file.empty()) out["key_file"] = v.key_file;
  return out;
}

Json ToJson(const DownstreamTls& v) {
  Json out = {{"cert_file", v.cert_file}, {"key_file", v.key_file}};
  if (!v.client_ca_file.empty()) out["client_ca_file"] = v.client_ca_file;
  return out;
}

}  // namespace causeway::model
