// Certificates for tests that speak TLS: a CA and certificates it signs,
// written with the `openssl` command line (Debian's openssl package) into a
// directory, as PEM files.
#pragma once

#include <string>

namespace causeway::testing {

struct CertFiles {
  std::string cert;  // PEM certificate
  std::string key;   // PEM private key (unencrypted)
};

class TestCa {
 public:
  // Writes DIR/NAME-ca.crt and DIR/NAME-ca.key (an EC P-256 CA).
  TestCa(std::string dir, std::string name);

  const std::string& cert() const { return ca_.cert; }
  bool ok() const { return ok_; }

  // A certificate for `common_name` with subject alternative names
  // localhost and 127.0.0.1, usable by servers and clients, written to
  // DIR/FILE.crt and DIR/FILE.key (replacing them: the files change in
  // place, as a certificate rotation does). Empty paths on failure.
  CertFiles Issue(const std::string& file, const std::string& common_name) const;

 private:
  std::string dir_;
  std::string name_;
  CertFiles ca_;
  bool ok_ = false;
};

}  // namespace causeway::testing
