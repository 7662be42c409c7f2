#include "store/store.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/status.h"
#include "common/strings.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"

namespace causeway::store {

std::string_view OpName(Op op) {
  switch (op) {
    case Op::kCreate:
      return "create";
    case Op::kUpdate:
      return "update";
    case Op::kDelete:
      return "delete";
  }
  return "unknown";
}

std::optional<Op> ParseOp(std::string_view name) {
  for (Op op : {Op::kCreate, Op::kUpdate, Op::kDelete}) {
    if (OpName(op) == name) return op;
  }
  return std::nullopt;
}

absl::Status CompactedError(int64_t since, int64_t compacted) {
  return absl::OutOfRangeError(StrCat("the change log is compacted through revision ", compacted,
                                      "; changes after revision ", since,
                                      " are no longer all there"));
}

int64_t CompactionLimit(const Retention& retention, int64_t revision, int64_t compacted,
                        int64_t max_rows) {
  if (retention.max_age_ms <= 0 && retention.max_count <= 0) return compacted;
  int64_t limit = std::min(revision, compacted + std::max<int64_t>(max_rows, 0));
  if (retention.max_count > 0) limit = std::min(limit, revision - retention.max_count);
  return std::max(limit, compacted);
}

namespace {

// Creates `dir` and missing parents. The directory that holds the database and
// admin.token is private to the user (0700); parents get the usual 0755.
absl::Status MakePrivateDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::path path(dir);
  if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) {
      return absl::FailedPreconditionError(
          StrCat("store: cannot create ", path.parent_path().string(), ": ", ec.message()));
    }
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::FailedPreconditionError(
        StrCat("store: cannot create ", dir, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> OpenStore(const std::string& spec,
                                                 const std::string& data_dir) {
  if (StartsWith(spec, "postgresql://") || StartsWith(spec, "postgres://")) {
    CW_ASSIGN_OR_RETURN(auto pg, PostgresStore::Open(spec));
    return std::unique_ptr<Store>(std::move(pg));
  }
  std::string path;
  if (spec.empty() || spec == "sqlite" || spec == "sqlite:") {
    if (data_dir.empty()) {
      return absl::InvalidArgumentError("store: no --data-dir for the default SQLite store");
    }
    CW_RETURN_IF_ERROR(MakePrivateDir(data_dir));
    path = data_dir + "/causeway.db";
  } else if (StartsWith(spec, "sqlite:")) {
    path = spec.substr(std::string_view("sqlite:").size());
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) CW_RETURN_IF_ERROR(MakePrivateDir(parent.string()));
  } else {
    return absl::InvalidArgumentError(
        StrCat("store: unknown --store \"", spec,
               "\": use sqlite:PATH or postgresql://USER@HOST/DB (empty: SQLite in --data-dir)"));
  }
  CW_ASSIGN_OR_RETURN(auto sqlite, SqliteStore::Open(path));
  return std::unique_ptr<Store>(std::move(sqlite));
}

}  // namespace causeway::store
