#include "hub/auth/bootstrap.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/status.h"
#include "hub/auth/secrets.h"
#include "spdlog/spdlog.h"

namespace causeway::hub::auth {

namespace {

absl::Status WritePrivateFile(const std::string& path, const std::string& content) {
  // Written to a temporary name and renamed, so a crash never leaves a
  // truncated token file; 0600 from creation, never readable by others.
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return absl::UnavailableError(StrCat("cannot create ", tmp, ": ", std::strerror(errno)));
  bool ok = ::fchmod(fd, 0600) == 0 &&
            ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
            ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    if (ok) saved = errno;
    ::unlink(tmp.c_str());
    return absl::UnavailableError(StrCat("cannot write ", path, ": ", std::strerror(saved)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status EnsureAdminToken(store::Store* store, const std::string& data_dir,
                              const TimeSource* time) {
  CW_ASSIGN_OR_RETURN(std::vector<store::TokenRecord> tokens, store->ListTokens());
  if (!tokens.empty()) return absl::OkStatus();
  CW_ASSIGN_OR_RETURN(std::string secret, GenerateSecret());
  std::string path = data_dir + "/admin.token";
  // The file first: if storing the token then fails, the next start simply
  // makes a new secret; the reverse order could lose the only admin secret.
  CW_RETURN_IF_ERROR(WritePrivateFile(path, secret + "\n"));
  store::TokenRecord record;
  record.name = "admin";
  record.role = "admin";
  record.secret_sha256_hex = Sha256Hex(secret);
  record.created_at_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(time->Now().time_since_epoch()).count();
  record.created_by = "causeway serve";
  CW_RETURN_IF_ERROR(store->CreateToken(record));
  spdlog::info("created the admin token; its secret is in {}", path);
  return absl::OkStatus();
}

}  // namespace causeway::hub::auth
