#include "proxy/app/static_config_watcher.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "common/strings.h"
#include "proxy/app/static_config.h"
#include "spdlog/spdlog.h"

namespace causeway::proxy {

namespace {

std::string StatLine(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return StrCat(path, " missing\n");
  return StrCat(path, " ", st.st_ino, " ", st.st_size, " ", st.st_mtim.tv_sec, ".",
                st.st_mtim.tv_nsec, "\n");
}

}  // namespace

std::string ConfigFingerprint(const std::string& path) {
  std::string out = StatLine(path);
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) return out;
  std::vector<std::string> entries;
  for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
    entries.push_back(entry.path().string());
  }
  std::sort(entries.begin(), entries.end());
  for (const std::string& entry : entries) out += StatLine(entry);
  return out;
}

StaticConfigWatcher::StaticConfigWatcher(std::string path, std::string proxy_name, Apply apply,
                                         std::chrono::milliseconds check_interval)
    : path_(std::move(path)),
      proxy_name_(std::move(proxy_name)),
      apply_(std::move(apply)),
      check_interval_(check_interval) {}

StaticConfigWatcher::~StaticConfigWatcher() { Stop(); }

absl::Status StaticConfigWatcher::LoadFirst() { return LoadAndApply(); }

absl::Status StaticConfigWatcher::LoadAndApply() {
  // Taken before reading: a write that lands while the file is read changes
  // the fingerprint again, so the next check loads the finished file.
  const std::string fingerprint = ConfigFingerprint(path_);
  absl::StatusOr<XdsResources> resources = LoadStaticConfig(path_, proxy_name_);
  absl::Status status = resources.status();
  if (resources.ok()) {
    status = apply_(*resources);
    if (!status.ok()) {
      status = absl::Status(status.code(), StrCat(path_, ": ", FromAbsl(status.message())));
    }
  }
  absl::MutexLock lock(&mu_);
  fingerprint_ = fingerprint;
  if (status.ok()) {
    ++loads_;
    last_error_.clear();
    loaded_at_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  } else {
    ++failures_;
    last_error_ = FromAbsl(status.message());
  }
  return status;
}

void StaticConfigWatcher::Start() {
  thread_ = std::thread([this] { Run(); });
}

void StaticConfigWatcher::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void StaticConfigWatcher::Reload() {
  {
    absl::MutexLock lock(&mu_);
    reload_requested_ = true;
  }
}

void StaticConfigWatcher::Run() {
  while (true) {
    bool forced = false;
    std::string known;
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(this, &StaticConfigWatcher::StoppingOrReloadRequested),
                           absl::FromChrono(check_interval_));
      if (stopping_) return;
      forced = reload_requested_;
      reload_requested_ = false;
      known = fingerprint_;
    }
    if (!forced && ConfigFingerprint(path_) == known) continue;
    spdlog::info("proxy: {}: {}; loading it", path_, forced ? "reload asked (SIGHUP)" : "changed");
    absl::Status status = LoadAndApply();
    if (!status.ok()) {
      spdlog::error("proxy: {}; the last good configuration keeps serving",
                    FromAbsl(status.message()));
    }
  }
}

nlohmann::json StaticConfigWatcher::Dump() const {
  absl::MutexLock lock(&mu_);
  nlohmann::json out = {{"mode", "static"},
                        {"file", path_},
                        {"loads", loads_},
                        {"failures", failures_},
                        {"loaded_at_ms", loaded_at_ms_}};
  if (!last_error_.empty()) out["last_error"] = last_error_;
  return out;
}

uint64_t StaticConfigWatcher::loads() const {
  absl::MutexLock lock(&mu_);
  return loads_;
}

uint64_t StaticConfigWatcher::failures() const {
  absl::MutexLock lock(&mu_);
  return failures_;
}

}  // namespace causeway::proxy
