#include "store/postgres/pg_conn.h"

#include <cstdlib>

#include "absl/strings/numbers.h"
#include "common/status.h"
#include "common/strings.h"

namespace causeway::store {

absl::StatusOr<PgTarget> ParsePgTarget(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    std::string reason = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    while (!reason.empty() && reason.back() == '\n') reason.pop_back();
    return absl::InvalidArgumentError(StrCat("postgres: bad --store URL: ", reason));
  }
  std::string user, host, port, db;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    std::string_view key = o->keyword;
    if (key == "user") user = o->val;
    if (key == "host" || (key == "hostaddr" && host.empty())) host = o->val;
    if (key == "port") port = o->val;
    if (key == "dbname") db = o->val;
  }
  PQconninfoFree(options);
  PgTarget target;
  target.url = url;
  target.display = StrCat(user.empty() ? "" : user + "@", host.empty() ? "localhost" : host,
                          port.empty() ? "" : ":" + port, "/", db.empty() ? user : db);
  return target;
}

std::string PgTextArray(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

std::string_view PgResult::Text(int row, int column) const {
  return std::string_view(PQgetvalue(result_.get(), row, column),
                          static_cast<size_t>(PQgetlength(result_.get(), row, column)));
}

int64_t PgResult::Int(int row, int column) const {
  int64_t value = 0;
  // Columns read with Int() are bigint, so text that does not parse cannot
  // come from the server; 0 is as good as any answer then.
  if (!absl::SimpleAtoi(PQgetvalue(result_.get(), row, column), &value)) return 0;
  return value;
}

int64_t PgResult::Affected() const {
  int64_t value = 0;
  if (!absl::SimpleAtoi(PQcmdTuples(result_.get()), &value)) return 0;
  return value;
}

absl::StatusOr<PGconn*> PgConnectRaw(const PgTarget& target) {
  // Keywords are applied in order, so settings in the URL override these.
  const char* keywords[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {"5", "causeway", target.url.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) {
    return absl::ResourceExhaustedError(StrCat("postgres: ", target.display, ": out of memory"));
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string reason = PQerrorMessage(conn);
    while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) reason.pop_back();
    PQfinish(conn);
    return absl::UnavailableError(
        StrCat("postgres: ", target.display, ": cannot connect: ", reason));
  }
  return conn;
}

absl::StatusOr<std::unique_ptr<PgConn>> PgConn::Connect(const PgTarget& target) {
  CW_ASSIGN_OR_RETURN(PGconn * conn, PgConnectRaw(target));
  std::unique_ptr<PgConn> result(new PgConn(target, conn));
  // Fewer surprises in messages and comparisons whatever the server default.
  CW_RETURN_IF_ERROR(result->ExecSimple("SET client_min_messages = warning; SET TIME ZONE 'UTC'"));
  return result;
}

PgConn::~PgConn() { PQfinish(conn_); }

absl::Status PgConn::Error(const PGresult* result, std::string_view what) const {
  std::string reason = result != nullptr ? PQresultErrorMessage(result) : "";
  if (reason.empty()) reason = PQerrorMessage(conn_);
  while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) reason.pop_back();
  std::string message = StrCat("postgres: ", target_.display, ": ", what, ": ", reason);
  if (Broken()) {
    return absl::UnavailableError(StrCat(message, " (connection lost)"));
  }
  const char* sqlstate = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string_view state = sqlstate != nullptr ? sqlstate : "";
  if (state == "23505") return absl::AlreadyExistsError(message);  // unique_violation
  if (state == "40001" || state == "40P01") return absl::AbortedError(message);
  if (state.substr(0, 2) == "08" || state.substr(0, 2) == "57" || state == "53300") {
    return absl::UnavailableError(message);  // connection, shutdown, too many connections
  }
  if (state.substr(0, 2) == "53") return absl::ResourceExhaustedError(message);
  if (state.substr(0, 2) == "22" || state.substr(0, 2) == "23") {
    return absl::InvalidArgumentError(message);  // data exception, constraint violation
  }
  return absl::InternalError(message);
}

absl::StatusOr<PgResult> PgConn::Exec(const std::string& sql, const PgParams& params) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = StrCat("cw", prepared_.size());
    PgResult prepared(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr));
    // Keep the SQL text's first line in the error: it tells which statement.
    if (PQresultStatus(prepared.raw()) != PGRES_COMMAND_OK) {
      return Error(prepared.raw(), StrCat("preparing \"", sql.substr(0, sql.find(' ', 30)), "\""));
    }
    it = prepared_.emplace(sql, std::move(name)).first;
  }
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  PgResult result(PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(values.size()),
                                 values.data(), nullptr, nullptr, 0));
  ExecStatusType status = PQresultStatus(result.raw());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return Error(result.raw(), StrCat("\"", sql.substr(0, sql.find(' ', 30)), "\""));
  }
  return result;
}

absl::Status PgConn::ExecSimple(const char* sql) {
  PgResult result(PQexec(conn_, sql));
  ExecStatusType status = PQresultStatus(result.raw());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return Error(result.raw(), StrCat("\"", std::string_view(sql).substr(0, 40), "\""));
  }
  return absl::OkStatus();
}

}  // namespace causeway::store
