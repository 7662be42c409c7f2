#include "store/sqlite/sqlite_db.h"

#include "common/strings.h"

namespace causeway::store {

SqliteQuery::~SqliteQuery() {
  if (stmt_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

SqliteQuery& SqliteQuery::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

SqliteQuery& SqliteQuery::Bind(int index, std::string_view value) {
  sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}

SqliteQuery& SqliteQuery::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

absl::StatusOr<bool> SqliteQuery::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->LastError(rc);
}

absl::Status SqliteQuery::Run() {
  while (true) {
    absl::StatusOr<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
  }
}

std::string_view SqliteQuery::Text(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (text == nullptr) return {};
  return std::string_view(text, static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

absl::StatusOr<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path, bool read_only) {
  sqlite3* raw = nullptr;
  // NOMUTEX: SqliteStore never shares a connection between threads at once, so
  // SQLite's own per-connection mutex would only cost time.
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (read_only ? 0 : SQLITE_OPEN_CREATE);
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  std::unique_ptr<SqliteDb> db(new SqliteDb(path, raw));
  if (rc != SQLITE_OK) {
    if (raw == nullptr)
      return absl::ResourceExhaustedError(StrCat("sqlite: ", path, ": out of memory"));
    return db->LastError(rc);
  }
  sqlite3_extended_result_codes(raw, 1);
  // Waiting out a lock held by another process (a second hub on the same file,
  // a backup) beats failing the request.
  sqlite3_busy_timeout(raw, 5000);
  // WAL: readers never block the writer nor each other. synchronous=FULL: a
  // commit is on disk before Commit() returns, so nothing acknowledged is lost
  // even on power failure (NORMAL would only survive a process crash).
  absl::Status status = db->Exec(read_only ? "PRAGMA synchronous=FULL; PRAGMA query_only=1;"
                                           : "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
  if (!status.ok()) return status;
  return db;
}

SqliteDb::~SqliteDb() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

absl::Status SqliteDb::Exec(const char* sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
  sqlite3_free(message);
  if (rc != SQLITE_OK) return LastError(rc);
  return absl::OkStatus();
}

absl::StatusOr<SqliteQuery> SqliteDb::Prepare(const std::string& sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return LastError(rc);
    it = statements_.emplace(sql, stmt).first;
  }
  return SqliteQuery(this, it->second);
}

void SqliteDb::RollbackIfOpen() {
  if (sqlite3_get_autocommit(db_) == 0) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

absl::Status SqliteDb::LastError(int rc) const {
  std::string message =
      StrCat("sqlite: ", path_, ": ", db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(message);
    case SQLITE_CONSTRAINT:
      return absl::AlreadyExistsError(message);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(message);
    case SQLITE_FULL:
    case SQLITE_NOMEM:
      return absl::ResourceExhaustedError(message);
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
      return absl::FailedPreconditionError(message);
    default:
      return absl::InternalError(message);
  }
}

}  // namespace causeway::store
