// One SQLite connection with a cache of prepared statements, and errors that
// name the database file. Not thread-safe: SqliteStore hands each connection
// to one thread at a time.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace causeway::store {

class SqliteDb;

// A cached prepared statement in use. Binds are 1-based, columns 0-based (as in
// the C API). Resets the statement when it goes out of scope so the cache can
// hand it out again and no read transaction stays open by accident.
class SqliteQuery {
 public:
  SqliteQuery(SqliteDb* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  SqliteQuery(SqliteQuery&& other) noexcept : db_(other.db_), stmt_(other.stmt_) {
    other.stmt_ = nullptr;
  }
  SqliteQuery(const SqliteQuery&) = delete;
  SqliteQuery& operator=(const SqliteQuery&) = delete;
  SqliteQuery& operator=(SqliteQuery&&) = delete;
  ~SqliteQuery();

  SqliteQuery& Bind(int index, int64_t value);
  SqliteQuery& Bind(int index, std::string_view value);
  SqliteQuery& BindNull(int index);

  // Advances; true when a row is available, false when done.
  absl::StatusOr<bool> Step();
  // Steps until done (statements without results).
  absl::Status Run();

  int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::string_view Text(int column) const;
  bool IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

 private:
  SqliteDb* db_;
  sqlite3_stmt* stmt_;
};

class SqliteDb {
 public:
  // Opens (read_only: without creating; writes refused by query_only) and
  // applies the connection settings every connection needs.
  static absl::StatusOr<std::unique_ptr<SqliteDb>> Open(const std::string& path, bool read_only);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Runs one or more statements without parameters (schema, BEGIN/COMMIT).
  absl::Status Exec(const char* sql);
  // A prepared statement for `sql` from the cache (prepared on first use).
  absl::StatusOr<SqliteQuery> Prepare(const std::string& sql);
  // ROLLBACK if a transaction is open; used on error paths, never fails loudly.
  void RollbackIfOpen();

  // The error of the last call, as "sqlite: PATH: message" with a status code
  // that tells callers whether retrying can help.
  absl::Status LastError(int rc) const;
  // The constraint error kind of the last failed step (SQLITE_CONSTRAINT_*).
  int ExtendedErrorCode() const { return sqlite3_extended_errcode(db_); }

  const std::string& path() const { return path_; }

 private:
  SqliteDb(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}

  std::string path_;
  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*, std::less<>> statements_;
};

}  // namespace causeway::store
