// One libpq connection with a cache of prepared statements, and errors that
// name the server (never the password). Not thread-safe: PostgresStore lends
// each connection to one thread at a time.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace causeway::store {

// Where a store connects: the libpq URL and a name for messages.
struct PgTarget {
  std::string url;
  std::string display;  // "user@host:port/db"
};

// Parses a postgresql:// URL (errors name what is wrong, without echoing a
// password).
absl::StatusOr<PgTarget> ParsePgTarget(const std::string& url);

// A query result (owned, cleared on destruction). Rows and columns 0-based.
class PgResult {
 public:
  explicit PgResult(PGresult* result) : result_(result) {}
  int Rows() const { return PQntuples(result_.get()); }
  bool IsNull(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  std::string_view Text(int row, int column) const;
  int64_t Int(int row, int column) const;
  // Rows affected by INSERT/UPDATE/DELETE.
  int64_t Affected() const;
  const PGresult* raw() const { return result_.get(); }

 private:
  struct Clear {
    void operator()(PGresult* r) const { PQclear(r); }
  };
  std::unique_ptr<PGresult, Clear> result_;
};

// Query parameters in text format; nullopt is SQL NULL.
using PgParams = std::vector<std::optional<std::string>>;

// A text[] parameter in PostgreSQL's array literal syntax: {"a","b\"c"}.
std::string PgTextArray(const std::vector<std::string>& values);

class PgConn {
 public:
  static absl::StatusOr<std::unique_ptr<PgConn>> Connect(const PgTarget& target);
  ~PgConn();
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  // Runs `sql` as a prepared statement (prepared once per connection).
  absl::StatusOr<PgResult> Exec(const std::string& sql, const PgParams& params = {});
  // Runs parameterless SQL, possibly several statements (BEGIN, schema).
  absl::Status ExecSimple(const char* sql);

  // The connection is gone (server restart, network); it cannot be reused.
  bool Broken() const { return PQstatus(conn_) == CONNECTION_BAD; }
  // Idle outside a transaction (safe to return to the pool).
  bool Idle() const { return PQtransactionStatus(conn_) == PQTRANS_IDLE; }
  const PgTarget& target() const { return target_; }

 private:
  PgConn(PgTarget target, PGconn* conn) : target_(std::move(target)), conn_(conn) {}
  // An error status for a failed result (nullptr: a failure of the connection).
  absl::Status Error(const PGresult* result, std::string_view what) const;

  PgTarget target_;
  PGconn* conn_;
  std::map<std::string, std::string, std::less<>> prepared_;  // SQL text → statement name
};

// Opens a connection to `target` (connect timeout 5 s unless the URL says).
// UNAVAILABLE names the server and libpq's reason.
absl::StatusOr<PGconn*> PgConnectRaw(const PgTarget& target);

}  // namespace causeway::store
