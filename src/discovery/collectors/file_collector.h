// `file:PATH`: clusters from a YAML/JSON cluster file (cluster_file.h),
// re-read whenever it changes.
//
// The directory is watched with inotify rather than the file itself, because
// editors and config tools replace files by writing a temporary and renaming
// it over the original (and Kubernetes ConfigMap volumes swap a `..data`
// symlink): a watch on the old inode would see none of that. The file is
// re-read after IN_CLOSE_WRITE, IN_MOVED_TO or IN_ATTRIB once events have
// been quiet for 20 ms, never while a writer has modified it without closing
// it (IN_MODIFY), and a read that raced with a new write is discarded, so a
// file written in place is not read truncated or half-written. A file that does not parse is logged
// with the line and field, and the last good set stays in force.
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "discovery/collector.h"

namespace causeway::discovery {

class FileCollector final : public Collector {
 public:
  explicit FileCollector(std::string path);
  ~FileCollector() override;

  std::string Describe() const override { return "file:" + path_; }
  absl::Status Start(Callback on_change) override;
  void Stop() override;

 private:
  void Run();
  bool DrainEvents(bool& pending, bool& writing);
  absl::StatusOr<std::string> ReadFile() const;
  // Parses `text`; reports the set when it differs from the last one.
  void Apply(absl::StatusOr<std::string> text, std::chrono::steady_clock::time_point observed_at);

  const std::string path_;
  std::string dir_;
  std::string base_;
  Callback on_change_;
  int inotify_fd_ = -1;
  int wake_fd_ = -1;  // eventfd that Stop() signals
  std::thread thread_;
  std::optional<ClusterSet> last_;  // last good set reported
  std::string last_error_;          // not logged twice in a row
};

}  // namespace causeway::discovery
