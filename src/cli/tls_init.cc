#include "cli/tls_init.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "common/status.h"
#include "common/strings.h"

namespace causeway::cli {

namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Free>;
using Cert = std::unique_ptr<X509, Free>;

// OpenSSL's error queue as text, emptied.
std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

absl::Status Failed(std::string_view what) {
  return absl::InternalError(StrCat(what, ": ", OpenSslErrors()));
}

bool IsIp(const std::string& name) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

// DNS names as certificates carry them: labels of letters, digits and '-',
// optionally a leading "*." wildcard.
bool IsDnsName(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  std::string_view rest = name;
  if (rest.starts_with("*.")) rest.remove_prefix(2);
  size_t label = 0;
  for (char c : rest) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok || ++label > 63) return false;
  }
  return label > 0;
}

absl::StatusOr<Key> NewKey() {
  Key key(EVP_EC_gen("P-256"));
  if (!key) return Failed("generating an EC P-256 key");
  return key;
}

absl::Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, Free> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return Failed(StrCat("certificate extension ", OBJ_nid2sn(nid), " = ", value));
  }
  return absl::OkStatus();
}

// A certificate for `key` named `common_name`, signed by `issuer_key`
// (`issuer` null: self-signed), with `extensions` (nid, OpenSSL config value).
absl::StatusOr<Cert> MakeCert(EVP_PKEY* key, const std::string& common_name, X509* issuer,
                              EVP_PKEY* issuer_key, int days,
                              const std::vector<std::pair<int, std::string>>& extensions) {
  Cert cert(X509_new());
  if (!cert) return Failed("X509_new");
  X509_set_version(cert.get(), X509_VERSION_3);
  // A random positive 128-bit serial: unique without keeping a counter.
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return Failed("random serial");
  serial[0] &= 0x7f;
  serial[0] |= 0x01;
  std::unique_ptr<BIGNUM, Free> bn(BN_bin2bn(serial, sizeof serial, nullptr));
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get()))) {
    return Failed("serial number");
  }
  // Backdated a little for clocks that lag.
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86400);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("causeway"), -1, -1, 0);
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                 -1, 0) != 1) {
    return Failed(StrCat("common name ", common_name));
  }
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  if (X509_set_pubkey(cert.get(), key) != 1) return Failed("public key");
  X509* signer = issuer ? issuer : cert.get();
  for (const auto& [nid, value] : extensions) {
    CW_RETURN_IF_ERROR(AddExtension(cert.get(), signer, nid, value));
  }
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) return Failed("signing");
  return cert;
}

// Writes `data` to `path` with `mode`, replacing it (and its mode).
absl::Status WriteFile(const std::string& path, const std::string& data, mode_t mode) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return absl::PermissionDeniedError(StrCat("cannot write ", path, ": ", strerror(errno)));
  bool ok = fchmod(fd, mode) == 0;
  size_t done = 0;
  while (ok && done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n <= 0)
      ok = false;
    else
      done += static_cast<size_t>(n);
  }
  ok = close(fd) == 0 && ok;
  if (!ok) return absl::UnavailableError(StrCat("cannot write ", path, ": ", strerror(errno)));
  return absl::OkStatus();
}

template <typename WriteFn>
absl::StatusOr<std::string> Pem(WriteFn write) {
  std::unique_ptr<BIO, Free> bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) return Failed("PEM encoding");
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

absl::Status WritePair(const std::string& dir, const std::string& base, X509* cert, EVP_PKEY* key) {
  CW_ASSIGN_OR_RETURN(std::string cert_pem,
                      Pem([&](BIO* b) { return PEM_write_bio_X509(b, cert); }));
  CW_ASSIGN_OR_RETURN(std::string key_pem, Pem([&](BIO* b) {
                        return PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr,
                                                        nullptr);
                      }));
  // The key first: a certificate never sits next to a key it does not match
  // for longer than it takes to write it.
  CW_RETURN_IF_ERROR(WriteFile(StrCat(dir, "/", base, ".key"), key_pem, 0600));
  return WriteFile(StrCat(dir, "/", base, ".crt"), cert_pem, 0644);
}

}  // namespace

absl::StatusOr<std::vector<std::string>> WriteTlsFiles(const TlsInitOptions& options) {
  if (options.dir.empty()) return absl::InvalidArgumentError("a directory is required");
  if (options.names.empty()) {
    return absl::InvalidArgumentError(
        "--name is required: the host names and IP addresses clients use to reach the hub "
        "(e.g. --name hub.internal --name 127.0.0.1)");
  }
  if (options.days < 1 || options.days > 3650) {
    return absl::InvalidArgumentError(StrCat("--days ", options.days, " is not in 1..3650"));
  }
  std::string sans;
  for (const std::string& name : options.names) {
    std::string entry;
    if (IsIp(name)) {
      entry = StrCat("IP:", name);
    } else if (IsDnsName(name)) {
      entry = StrCat("DNS:", name);
    } else {
      return absl::InvalidArgumentError(
          StrCat("--name \"", name, "\" is neither an IP address nor a DNS name"));
    }
    sans += sans.empty() ? entry : StrCat(",", entry);
  }
  if (!IsDnsName(options.client_name)) {
    return absl::InvalidArgumentError(
        StrCat("--client-name \"", options.client_name, "\" is not a DNS-style name"));
  }
  std::vector<std::string> files;
  for (const char* base : {"ca", "hub", "client"}) {
    for (const char* ext : {".crt", ".key"}) files.push_back(StrCat(options.dir, "/", base, ext));
  }
  if (!options.force) {
    std::vector<std::string> existing;
    for (const std::string& f : files) {
      if (std::filesystem::exists(f)) existing.push_back(f);
    }
    if (!existing.empty()) {
      std::string list;
      for (const std::string& f : existing) list += list.empty() ? f : StrCat(", ", f);
      return absl::AlreadyExistsError(
          StrCat("refusing to overwrite ", list, " (pass --force to replace them)"));
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec)
    return absl::PermissionDeniedError(StrCat("cannot create ", options.dir, ": ", ec.message()));

  CW_ASSIGN_OR_RETURN(Key ca_key, NewKey());
  CW_ASSIGN_OR_RETURN(Cert ca,
                      MakeCert(ca_key.get(), "causeway local CA", nullptr, ca_key.get(), 3650,
                               {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                                {NID_key_usage, "critical,keyCertSign,cRLSign"},
                                {NID_subject_key_identifier, "hash"}}));
  CW_ASSIGN_OR_RETURN(Key hub_key, NewKey());
  CW_ASSIGN_OR_RETURN(
      Cert hub, MakeCert(hub_key.get(), options.names.front(), ca.get(), ca_key.get(), options.days,
                         {{NID_basic_constraints, "critical,CA:FALSE"},
                          {NID_key_usage, "critical,digitalSignature"},
                          {NID_ext_key_usage, "serverAuth"},
                          {NID_subject_key_identifier, "hash"},
                          {NID_authority_key_identifier, "keyid:always"},
                          {NID_subject_alt_name, sans}}));
  CW_ASSIGN_OR_RETURN(Key client_key, NewKey());
  CW_ASSIGN_OR_RETURN(
      Cert client,
      MakeCert(client_key.get(), options.client_name, ca.get(), ca_key.get(), options.days,
               {{NID_basic_constraints, "critical,CA:FALSE"},
                {NID_key_usage, "critical,digitalSignature"},
                {NID_ext_key_usage, "clientAuth"},
                {NID_subject_key_identifier, "hash"},
                {NID_authority_key_identifier, "keyid:always"},
                {NID_subject_alt_name, StrCat("DNS:", options.client_name)}}));
  CW_RETURN_IF_ERROR(WritePair(options.dir, "ca", ca.get(), ca_key.get()));
  CW_RETURN_IF_ERROR(WritePair(options.dir, "hub", hub.get(), hub_key.get()));
  CW_RETURN_IF_ERROR(WritePair(options.dir, "client", client.get(), client_key.get()));
  return files;
}

}  // namespace causeway::cli
