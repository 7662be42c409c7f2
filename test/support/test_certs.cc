#include "support/test_certs.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace causeway::testing {
namespace {

bool Run(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }

}  // namespace

TestCa::TestCa(std::string dir, std::string name) : dir_(std::move(dir)), name_(std::move(name)) {
  ca_.cert = dir_ + "/" + name_ + "-ca.crt";
  ca_.key = dir_ + "/" + name_ + "-ca.key";
  ok_ =
      Run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2"
          " -subj " +
          Quote("/CN=" + name_ + " test CA") + " -keyout " + Quote(ca_.key) + " -out " +
          Quote(ca_.cert) +
          " -addext basicConstraints=critical,CA:TRUE"
          " -addext keyUsage=critical,keyCertSign,cRLSign");
}

CertFiles TestCa::Issue(const std::string& file, const std::string& common_name) const {
  const std::string base = dir_ + "/" + file;
  const std::string ext = base + ".ext";
  std::ofstream(ext) << "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                     << "extendedKeyUsage=serverAuth,clientAuth\n"
                     << "basicConstraints=CA:FALSE\n";
  // Written beside the final files and renamed over them, so a reader never
  // sees half a file.
  const std::string tmp_key = base + ".key.tmp", tmp_cert = base + ".crt.tmp";
  bool ok = Run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj " +
                Quote("/CN=" + common_name) + " -keyout " + Quote(tmp_key) + " -out " +
                Quote(base + ".csr")) &&
            Run("openssl x509 -req -days 2 -in " + Quote(base + ".csr") + " -CA " +
                Quote(ca_.cert) + " -CAkey " + Quote(ca_.key) + " -CAcreateserial -extfile " +
                Quote(ext) + " -out " + Quote(tmp_cert));
  if (!ok) return {};
  std::filesystem::rename(tmp_key, base + ".key");
  std::filesystem::rename(tmp_cert, base + ".crt");
  return {base + ".crt", base + ".key"};
}

}  // namespace causeway::testing
