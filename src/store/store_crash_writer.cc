// Crash-test child: commits to a store in a loop and reports every commit it
// has been told succeeded, until it is killed.
//
//   store_crash_writer SPEC DATA_DIR [compact]
//
// With "compact", every commit is followed by a compaction pass keeping the
// newest 50 changes (at most 7 rows a pass), so a kill also lands inside
// compactions.
//
// Each acknowledged commit is reported as "REVISION\n" on stdout with a
// direct write(2), so a line is out of this process before the next commit
// starts and survives SIGKILL. Batches hold 1-3 changes, each creating the
// Cluster z/c-REVISION.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "store/store.h"

namespace {

using causeway::store::Change;

int Run(const std::string& spec, const std::string& data_dir, bool compact) {
  auto store = causeway::store::OpenStore(spec, data_dir);
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", std::string(store.status().message()).c_str());
    return 1;
  }
  auto revision = (*store)->Revision();
  if (!revision.ok()) return 1;
  int64_t rev = *revision;
  for (int i = 0;; ++i) {
    std::vector<Change> batch;
    for (int j = 0; j <= i % 3; ++j) {
      Change c;
      c.revision = rev + j + 1;
      c.time_ms = 1'700'000'000'000 + c.revision;
      c.actor = "crash-writer";
      c.key = {causeway::model::Kind::kCluster, "z", "c-" + std::to_string(c.revision)};
      c.op = causeway::store::Op::kCreate;
      causeway::model::Object o;
      o.key = c.key;
      o.version = c.revision;
      o.spec = {{"instances", causeway::model::Json::array()}};
      c.after = o;
      batch.push_back(std::move(c));
    }
    absl::Status status = (*store)->Commit(rev, batch);
    if (!status.ok()) {
      std::fprintf(stderr, "commit: %s\n", std::string(status.message()).c_str());
      return 1;
    }
    rev = batch.back().revision;
    if (compact) {
      auto pass = (*store)->CompactChangelog({.max_count = 50}, 0, 7);
      if (!pass.ok()) {
        std::fprintf(stderr, "compact: %s\n", std::string(pass.status().message()).c_str());
        return 1;
      }
    }
    std::string line = std::to_string(rev) + "\n";
    if (::write(1, line.data(), line.size()) != static_cast<ssize_t>(line.size())) return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && !(argc == 4 && std::string(argv[3]) == "compact")) {
    std::fprintf(stderr, "usage: %s SPEC DATA_DIR [compact]\n", argv[0]);
    return 2;
  }
  return Run(argv[1], argv[2], argc == 4);
}
