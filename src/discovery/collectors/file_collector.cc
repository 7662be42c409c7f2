#include "discovery/collectors/file_collector.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/strings.h"
#include "discovery/collectors/cluster_file.h"
#include "spdlog/spdlog.h"

namespace causeway::discovery {

FileCollector::FileCollector(std::string path) : path_(std::move(path)) {
  const size_t slash = path_.rfind('/');
  if (slash == std::string::npos) {
    dir_ = ".";
    base_ = path_;
  } else {
    dir_ = slash == 0 ? "/" : path_.substr(0, slash);
    base_ = path_.substr(slash + 1);
  }
}

FileCollector::~FileCollector() { Stop(); }

absl::Status FileCollector::Start(Callback on_change) {
  if (base_.empty()) {
    return absl::InvalidArgumentError(ToAbsl(StrCat("file collector: no file name in ", path_)));
  }
  on_change_ = std::move(on_change);
  inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ < 0) {
    return absl::InternalError(ToAbsl(StrCat("inotify_init1: ", std::strerror(errno))));
  }
  // IN_ATTRIB as well: `touch` and chmod make an unreadable file readable.
  const uint32_t mask =
      IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;
  if (inotify_add_watch(inotify_fd_, dir_.c_str(), mask) < 0) {
    const int err = errno;
    close(inotify_fd_);
    inotify_fd_ = -1;
    return absl::NotFoundError(
        ToAbsl(StrCat("file collector: cannot watch directory ", dir_, ": ", std::strerror(err))));
  }
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  // The first read happens before Start returns, so a good file is reported
  // without waiting for the thread.
  Apply(ReadFile(), std::chrono::steady_clock::now());
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void FileCollector::Stop() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof(one));
    thread_.join();
  }
  if (inotify_fd_ >= 0) close(inotify_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
  inotify_fd_ = wake_fd_ = -1;
}

// Reads whatever inotify has queued. Returns whether any event concerned the
// file; updates `pending` (a re-read is due) and `writing` (the file was
// modified and not closed yet: reading it now could see a truncated file).
bool FileCollector::DrainEvents(bool& pending, bool& writing) {
  alignas(inotify_event) char buffer[16 * 1024];
  bool touched = false;
  while (true) {
    const ssize_t n = read(inotify_fd_, buffer, sizeof(buffer));
    if (n <= 0) break;
    for (char* p = buffer; p < buffer + n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(p);
      p += sizeof(inotify_event) + event->len;
      if (event->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
        spdlog::warn("discovery: {}: directory {} was removed or moved; keeping the last set",
                     Describe(), dir_);
        continue;
      }
      const std::string_view name = event->len > 0 ? std::string_view(event->name) : "";
      // "..data" is the symlink a Kubernetes ConfigMap volume swaps.
      if (name != base_ && name != "..data") continue;
      touched = true;
      if (event->mask & IN_MODIFY) {
        writing = true;
        pending = true;
      }
      if (event->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) writing = false;
      if (event->mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_ATTRIB)) pending = true;
    }
  }
  return touched;
}

void FileCollector::Run() {
  // Bursts (an editor's write + rename + chmod) settle for this long before a
  // read. Quiet is measured from the last event about the file itself: other
  // files of the directory (a log written every few ms) must not hold the
  // read back.
  constexpr auto kQuiet = std::chrono::milliseconds(20);
  bool pending = false;
  bool writing = false;
  std::chrono::steady_clock::time_point first_event, last_event;
  while (true) {
    int timeout_ms = -1;
    if (pending && !writing) {
      const auto left = last_event + kQuiet - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero()) {
        // Quiet: read, then make sure nobody wrote meanwhile (else wait for
        // the writer's close and read again).
        auto text = ReadFile();
        if (DrainEvents(pending, writing)) {
          last_event = std::chrono::steady_clock::now();
          continue;
        }
        pending = false;
        Apply(std::move(text), first_event);
        continue;
      }
      timeout_ms = static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(left).count());
    }
    pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    const int ready = poll(fds, 2, timeout_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      spdlog::error("discovery: {}: poll: {}", Describe(), std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;
    if (ready > 0) {
      const bool was_pending = pending;
      if (DrainEvents(pending, writing)) last_event = std::chrono::steady_clock::now();
      if (pending && !was_pending) first_event = last_event;
    }
  }
}

absl::StatusOr<std::string> FileCollector::ReadFile() const {
  std::ifstream in(path_, std::ios::binary);
  if (!in) return absl::NotFoundError(ToAbsl(StrCat("cannot open: ", std::strerror(errno))));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void FileCollector::Apply(absl::StatusOr<std::string> text,
                          std::chrono::steady_clock::time_point observed_at) {
  absl::StatusOr<ClusterSet> parsed =
      text.ok() ? ParseClusterFile(*text) : absl::StatusOr<ClusterSet>(text.status());
  if (!parsed.ok()) {
    const std::string error = std::string(FromAbsl(parsed.status().message()));
    if (error != last_error_) {
      spdlog::error("discovery: {}: {}; keeping the last good set ({} clusters)", Describe(), error,
                    last_ ? last_->size() : 0);
    }
    last_error_ = error;
    return;
  }
  last_error_.clear();
  if (last_ && *last_ == *parsed) return;
  last_ = *parsed;
  spdlog::info("discovery: {}: read {} clusters", Describe(), parsed->size());
  on_change_(Snapshot{*std::move(parsed), observed_at});
}

}  // namespace causeway::discovery
