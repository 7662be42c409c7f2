#include "store/postgres/postgres_store.h"

#include <limits>
#include <map>
#include <random>

#include "absl/strings/str_format.h"
#include "common/status.h"
#include "common/strings.h"
#include "store/postgres/pg_schema.h"
#include "store/store_codec.h"

namespace causeway::store {
namespace {

// Idle connections kept for reuse; more are opened under load and closed when
// returned to a full pool.
constexpr size_t kMaxIdle = 8;

std::string RandomInstanceId() {
  std::random_device random;
  uint64_t id = (static_cast<uint64_t>(random()) << 32) ^ random();
  return absl::StrFormat("%016x", id);
}

TokenRecord TokenFromRow(const PgResult& r, int row) {
  TokenRecord t;
  t.name = r.Text(row, 0);
  t.role = r.Text(row, 1);
  t.zone = r.Text(row, 2);
  t.secret_sha256_hex = r.Text(row, 3);
  t.created_at_ms = r.Int(row, 4);
  t.created_by = r.Text(row, 5);
  t.expires_at_ms = r.Int(row, 6);
  t.last_used_at_ms = r.Int(row, 7);
  return t;
}

constexpr const char* kTokenColumns =
    "name, role, zone, secret_sha256, created_at_ms, created_by, expires_at_ms, last_used_at_ms";

// The whole batch in one statement: the rows travel as JSON arrays and are
// unpacked server-side, so a commit costs the same four round trips (BEGIN,
// lock, this, COMMIT) whether it holds one change or a thousand. The CTEs see
// one snapshot; deletes and upserts touch disjoint keys (the batch is reduced
// to each key's final state first), so their order does not matter. Deleted
// keys travel as arrays, not JSON: the planner sizes unnest() of an array
// sensibly and probes the primary key, where a JSON record set (assumed 100
// rows) made it scan the whole objects table on every commit.
constexpr const char* kCommitBatch = R"sql(
WITH log AS (
  INSERT INTO changelog (revision, time_ms, actor, kind, zone, name, op, before, after)
  SELECT revision, time_ms, actor, kind, zone, name, op, before, after
  FROM jsonb_to_recordset($1::jsonb) AS c(revision bigint, time_ms bigint, actor text, kind text,
                                          zone text, name text, op text, before jsonb, after jsonb)
), removed AS (
  DELETE FROM objects o
  USING unnest($2::text[], $3::text[], $4::text[]) AS d(kind, zone, name)
  WHERE o.kind = d.kind AND o.zone = d.zone AND o.name = d.name
), upserted AS (
  INSERT INTO objects (kind, zone, name, version, created_at_ms, updated_at_ms, spec)
  SELECT kind, zone, name, version, created_at_ms, updated_at_ms, spec
  FROM jsonb_to_recordset($5::jsonb) AS u(kind text, zone text, name text, version bigint,
                                          created_at_ms bigint, updated_at_ms bigint, spec jsonb)
  ON CONFLICT (kind, zone, name) DO UPDATE SET
    version = EXCLUDED.version, created_at_ms = EXCLUDED.created_at_ms,
    updated_at_ms = EXCLUDED.updated_at_ms, spec = EXCLUDED.spec
), bumped AS (
  UPDATE meta SET revision = $6::bigint WHERE id = 1
)
SELECT pg_notify('causeway_changes', $7)
)sql";

// Arbitrary, fixed: the advisory lock a compaction pass holds, so of several
// hubs passing at once one deletes and the others skip their turn.
constexpr const char* kCompactionLock = "SELECT pg_try_advisory_xact_lock(7346282911)";

// One statement per pass: the end of the old prefix within (from, upto] (the
// entry before the first young one), the rows deleted, and the new compacted
// revision (GREATEST: it never moves back). $4 is 0 for no age limit.
constexpr const char* kCompactPass = R"sql(
WITH bound AS (
  SELECT COALESCE((SELECT MIN(revision) - 1 FROM changelog
                   WHERE revision > $1::bigint AND revision <= $2::bigint
                     AND $4::bigint > 0 AND time_ms >= $3::bigint), $2::bigint) AS upto
), removed AS (
  DELETE FROM changelog WHERE revision > $1::bigint AND revision <= (SELECT upto FROM bound)
  RETURNING 1
), marked AS (
  UPDATE meta SET compacted_through = GREATEST(compacted_through, (SELECT upto FROM bound))
  WHERE id = 1
)
SELECT (SELECT count(*) FROM removed), (SELECT upto FROM bound)
)sql";

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresStore>> PostgresStore::Open(const std::string& url) {
  CW_ASSIGN_OR_RETURN(PgTarget target, ParsePgTarget(url));
  CW_ASSIGN_OR_RETURN(auto conn, PgConn::Connect(target));
  CW_RETURN_IF_ERROR(MigratePostgres(*conn));
  return std::unique_ptr<PostgresStore>(new PostgresStore(std::move(target), std::move(conn)));
}

PostgresStore::PostgresStore(PgTarget target, std::unique_ptr<PgConn> first)
    : target_(std::move(target)), instance_id_(RandomInstanceId()) {
  idle_.push_back(std::move(first));
}

PostgresStore::~PostgresStore() {
  // Stop the listener first: its callback may reach into objects owned by the
  // caller that are about to go away with us.
  absl::MutexLock lock(&listener_mu_);
  listener_.reset();
}

PostgresStore::Lease::~Lease() {
  if (conn_ == nullptr || conn_->Broken() || !conn_->Idle()) return;  // dropped
  absl::MutexLock lock(&store_->pool_mu_);
  if (store_->idle_.size() < kMaxIdle) store_->idle_.push_back(std::move(conn_));
}

absl::Status PostgresStore::Lease::Reconnect() {
  conn_.reset();
  CW_ASSIGN_OR_RETURN(conn_, PgConn::Connect(store_->target_));
  return absl::OkStatus();
}

absl::StatusOr<PostgresStore::Lease> PostgresStore::Acquire() {
  {
    absl::MutexLock lock(&pool_mu_);
    if (!idle_.empty()) {
      std::unique_ptr<PgConn> conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn));
    }
  }
  CW_ASSIGN_OR_RETURN(auto conn, PgConn::Connect(target_));
  return Lease(this, std::move(conn));
}

absl::StatusOr<PgResult> PostgresStore::ExecFirst(Lease& conn, const std::string& sql,
                                                  const PgParams& params) {
  absl::StatusOr<PgResult> result = conn->Exec(sql, params);
  if (result.ok() || !conn->Broken()) return result;
  CW_RETURN_IF_ERROR(conn.Reconnect());
  return conn->Exec(sql, params);
}

absl::StatusOr<Snapshot> PostgresStore::Load() {
  CW_ASSIGN_OR_RETURN(Lease conn, Acquire());
  // REPEATABLE READ: the objects are exactly those at `revision`.
  CW_RETURN_IF_ERROR(ExecFirst(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").status());
  auto load = [&]() -> absl::StatusOr<Snapshot> {
    Snapshot snapshot;
    CW_ASSIGN_OR_RETURN(PgResult rev, conn->Exec("SELECT revision FROM meta WHERE id = 1"));
    if (rev.Rows() != 1) {
      return absl::DataLossError(StrCat("postgres: ", target_.display, ": meta row is missing"));
    }
    snapshot.revision = rev.Int(0, 0);
    CW_ASSIGN_OR_RETURN(PgResult rows,
                        conn->Exec("SELECT kind, zone, name, version, created_at_ms, "
                                   "updated_at_ms, spec::text FROM objects"));
    snapshot.objects.reserve(static_cast<size_t>(rows.Rows()));
    for (int i = 0; i < rows.Rows(); ++i) {
      model::Object& o = snapshot.objects.emplace_back();
      CW_ASSIGN_OR_RETURN(o.key.kind, internal::KindFromColumn(rows.Text(i, 0)));
      o.key.zone = rows.Text(i, 1);
      o.key.name = rows.Text(i, 2);
      o.version = rows.Int(i, 3);
      o.created_at_ms = rows.Int(i, 4);
      o.updated_at_ms = rows.Int(i, 5);
      CW_ASSIGN_OR_RETURN(o.spec, internal::SpecFromColumn(o.key, rows.Text(i, 6)));
    }
    CW_RETURN_IF_ERROR(conn->ExecSimple("COMMIT"));
    return snapshot;
  };
  absl::StatusOr<Snapshot> snapshot = load();
  if (!snapshot.ok() && !conn->Broken()) (void)conn->ExecSimple("ROLLBACK");
  return snapshot;
}

absl::StatusOr<int64_t> PostgresStore::Revision() {
  CW_ASSIGN_OR_RETURN(Lease conn, Acquire());
  CW_ASSIGN_OR_RETURN(PgResult rev, ExecFirst(conn, "SELECT revision FROM meta WHERE id = 1"));
  if (rev.Rows() != 1) {
    return absl::DataLossError(StrCat("postgres: ", target_.display, ": meta row is missing"));
  }
  return rev.Int(0, 0);
}

absl::StatusOr<std::vector<Change>> PostgresStore::ChangesSince(int64_t since, size_t limit,
                                                                const ChangeFilter& filter) {
  std::vector<Change> changes;
  if (limit == 0) return changes;
  std::string sql =
      "SELECT revision, time_ms, actor, kind, zone, name, op, before::text, after::text "
      "FROM changelog WHERE revision > $1";
  PgParams params = {std::to_string(since)};
  auto add = [&](const char* column, std::string value) {
    params.push_back(std::move(value));
    sql += StrCat(" AND ", column, " $", params.size());
  };
  if (filter.zone) add("zone =", *filter.zone);
  if (filter.kind) add("kind =", std::string(model::KindName(*filter.kind)));
  if (filter.name) add("name =", *filter.name);
  if (filter.since_time_ms) add("time_ms >=", std::to_string(*filter.since_time_ms));
  params.push_back(std::to_string(std::min<uint64_t>(limit, std::numeric_limits<int64_t>::max())));
  sql += StrCat(" ORDER BY revision LIMIT $", params.size());

  CW_ASSIGN_OR_RETURN(Lease conn, Acquire());
  CW_ASSIGN_OR_RETURN(PgResult rows, ExecFirst(conn, sql, params));
  changes.reserve(static_cast<size_t>(rows.Rows()));
  for (int i = 0; i < rows.Rows(); ++i) {
    Change& c = changes.emplace_back();
    c.revision = rows.Int(i, 0);
    c.time_ms = rows.Int(i, 1);
    c.actor = rows.Text(i, 2);
    CW_ASSIGN_OR_RETURN(c.key.kind, internal::KindFromColumn(rows.Text(i, 3)));
    c.key.zone = rows.Text(i, 4);
    c.key.name = rows.Text(i, 5);
    CW_ASSIGN_OR_RETURN(c.op, internal::OpFromColumn(rows.Text(i, 6)));
    if (!rows.IsNull(i, 7)) {
      CW_ASSIGN_OR_RETURN(c.before, internal::ImageFromJson(c.key, rows.Text(i, 7)));
    }
    if (!rows.IsNull(i, 8)) {
      CW_ASSIGN_OR_RETURN(c.after, internal::ImageFromJson(c.key, rows.Text(i, 8)));
    }
  }
  // Read after the changes: compaction only moves forward, so a value at or
  // below `since` now was so while they were read, and nothing is missing.
  CW_ASSIGN_OR_RETURN(PgResult meta, conn->Exec("SELECT compacted_through FROM meta WHERE id = 1"));
  if (meta.Rows() != 1) {
    return absl::DataLossError(StrCat("postgres: ", target_.display, ": meta row is missing"));
  }
  if (since < meta.Int(0, 0)) return CompactedError(since, meta.Int(0, 0));
  return changes;
}

absl::StatusOr<int64_t> PostgresStore::CompactedRevision() {
  CW_ASSIGN_OR_RETURN(Lease conn, Acquire());
  CW_ASSIGN_OR_RETURN(PgResult meta,
                      ExecFirst(conn, "SELECT compacted_through FROM meta WHERE id = 1"));
  if (meta.Rows() != 1) {
    return absl::DataLossError(StrCat("postgres: ", target_.display, ": meta row is missing"));
  }
  return meta.Int(0, 0);
}

absl::StatusOr<Compaction> PostgresStore::CompactChangelog(const Retention& retention,
                                                           int64_t now_ms, int64_t max_rows) {
  CW_ASSIGN_OR_RETURN(Lease conn, Acquire());
  CW_RETURN_IF_ERROR(ExecFirst(conn, "BEGIN").status());
  auto pass = [&]() -> absl::StatusOr<Compaction> {
    Compaction result;
    CW_ASSIGN_OR_RETURN(PgResult locked, conn->Exec(kCompactionLock));
    CW_ASSIGN_OR_RETURN(PgResult meta,
                        conn->Exec("SELECT revision, compacted_through FROM meta WHERE id = 1"));
    if (meta.Rows() != 1) {
      return absl::DataLossError(StrCat("postgres: ", target_.display, ": meta row is missing"));
    }
    result.compacted_through = meta.Int(0, 1);
    // Another hub holds the lock: it is compacting this very prefix now.
    if (locked.Text(0, 0) != "t") return result;
    const int64_t from = result.compacted_through;
    const int64_t upto = CompactionLimit(retention, meta.Int(0, 0), from, max_rows);
    if (upto <= from) return result;
    CW_ASSIGN_OR_RETURN(PgResult done,
                        conn->Exec(kCompactPass, {std::to_string(from), std::to_string(upto),
                                                  std::to_string(now_ms - retention.max_age_ms),
                                                  std::to_string(retention.max_age_ms)}));
    result.removed = done.Int(0, 0);
    result.compacted_through = std::max(from, done.Int(0, 1));
    return result;
  };
  absl::StatusOr<Compaction> result = pass();
  if (result.ok()) {
    CW_RETURN_IF_ERROR(conn->ExecSimple("COMMIT"));
  } else if (!conn->Broken()) {
    (void)conn->ExecSimple("ROLLBACK");
  }
  return result;
}

absl::Status PostgresStore::Commit(int64_t expected_revision, const std::vector<Change>& changes) {
  CW_RETURN_IF_ERROR(internal::ValidateBatch(expected_revision, changes));
  CW_ASSIGN_OR_RETURN(Lease conn, Acquire());
  CW_RETURN_IF_ERROR(ExecFirst(conn, "BEGIN").status());
  absl::Status status = CommitInTransaction(conn, expected_revision, changes);
  if (!status.ok() && !conn->Broken()) (void)conn->ExecSimple("ROLLBACK");
  return status;
}

absl::Status PostgresStore::CommitInTransaction(Lease& conn, int64_t expected_revision,
                                                const std::vector<Change>& changes) {
  // The row lock serializes writers across replicas until COMMIT.
  CW_ASSIGN_OR_RETURN(PgResult rev,
                      conn->Exec("SELECT revision FROM meta WHERE id = 1 FOR UPDATE"));
  if (rev.Rows() != 1) {
    return absl::DataLossError(StrCat("postgres: ", target_.display, ": meta row is missing"));
  }
  if (rev.Int(0, 0) != expected_revision) {
    return internal::StaleRevisionError(expected_revision, rev.Int(0, 0));
  }
  if (changes.empty()) return conn->ExecSimple("COMMIT");

  model::Json log = model::Json::array();
  std::map<model::ObjectKey, const Change*> final_state;
  for (const Change& c : changes) {
    model::Json row = {{"revision", c.revision}, {"time_ms", c.time_ms},
                       {"actor", c.actor},       {"kind", model::KindName(c.key.kind)},
                       {"zone", c.key.zone},     {"name", c.key.name},
                       {"op", OpName(c.op)}};
    if (c.before) row["before"] = internal::Image(*c.before);
    if (c.after) row["after"] = internal::Image(*c.after);
    log.push_back(std::move(row));
    final_state[c.key] = &c;
  }
  std::vector<std::string> removed_kinds, removed_zones, removed_names;
  model::Json upserted = model::Json::array();
  for (const auto& [key, c] : final_state) {
    if (!c->after) {
      removed_kinds.emplace_back(model::KindName(key.kind));
      removed_zones.push_back(key.zone);
      removed_names.push_back(key.name);
      continue;
    }
    upserted.push_back({{"kind", model::KindName(key.kind)},
                        {"zone", key.zone},
                        {"name", key.name},
                        {"version", c->after->version},
                        {"created_at_ms", c->after->created_at_ms},
                        {"updated_at_ms", c->after->updated_at_ms},
                        {"spec", c->after->spec}});
  }
  const int64_t last = changes.back().revision;
  CW_RETURN_IF_ERROR(
      conn->Exec(kCommitBatch, {log.dump(), PgTextArray(removed_kinds), PgTextArray(removed_zones),
                                PgTextArray(removed_names), upserted.dump(), std::to_string(last),
                                StrCat(instance_id_, ":", last)})
          .status());
  absl::Status committed = conn->ExecSimple("COMMIT");
  if (!committed.ok() && conn->Broken()) {
    // The server may or may not have committed before the connection went.
    return absl::UnavailableError(StrCat(committed.message(), "; the commit of revision ", last,
                                         " may or may not have happened (compare Revision())"));
  }
  return committed;
}

absl::Status PostgresStore::CreateToken(const TokenRecord& token) {
  CW_ASSIGN_OR_RETURN(Lease conn, Acquire());
  absl::Status status =
      ExecFirst(conn,
                StrCat("INSERT INTO tokens (", kTokenColumns,
                       ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"),
                {token.name, token.role, token.zone, token.secret_sha256_hex,
                 std::to_string(token.created_at_ms), token.created_by,
                 std::to_string(token.expires_at_ms), std::to_string(token.last_used_at_ms)})
          .status();
  if (absl::IsAlreadyExists(status)) {
    bool name_clash = status.message().find("tokens_pkey") != std::string_view::npos;
    return absl::AlreadyExistsError(name_clash ? StrCat("token \"", token.name, "\" already exists")
                                               : "a token with this secret already exists");
  }
  return status;
}

absl::StatusOr<std::vector<TokenRecord>> PostgresStore::ListTokens() {
  CW_ASSIGN_OR_RETURN(Lease conn, Acquire());
  CW_ASSIGN_OR_RETURN(PgResult rows, ExecFirst(conn, StrCat("SELECT ", kTokenColumns,
                                                            " FROM tokens ORDER BY name")));
  std::vector<TokenRecord> tokens;
  for (int i = 0; i < rows.Rows(); ++i) tokens.push_back(TokenFromRow(rows, i));
  return tokens;
}

absl::StatusOr<std::optional<TokenRecord>> PostgresStore::FindTokenBySecretHash(
    const std::string& sha256_hex) {
  CW_ASSIGN_OR_RETURN(Lease conn, Acquire());
  CW_ASSIGN_OR_RETURN(
      PgResult rows,
      ExecFirst(conn, StrCat("SELECT ", kTokenColumns, " FROM tokens WHERE secret_sha256 = $1"),
                {sha256_hex}));
  if (rows.Rows() == 0) return std::optional<TokenRecord>();
  return std::optional<TokenRecord>(TokenFromRow(rows, 0));
}

absl::Status PostgresStore::DeleteToken(const std::string& name) {
  CW_ASSIGN_OR_RETURN(Lease conn, Acquire());
  CW_ASSIGN_OR_RETURN(PgResult result,
                      ExecFirst(conn, "DELETE FROM tokens WHERE name = $1", {name}));
  if (result.Affected() == 0) return absl::NotFoundError(StrCat("token \"", name, "\" not found"));
  return absl::OkStatus();
}

absl::Status PostgresStore::TouchTokens(const std::vector<std::pair<std::string, int64_t>>& used) {
  if (used.empty()) return absl::OkStatus();
  model::Json rows = model::Json::array();
  for (const auto& [name, time_ms] : used) rows.push_back({{"name", name}, {"at", time_ms}});
  CW_ASSIGN_OR_RETURN(Lease conn, Acquire());
  // One statement: the batch travels as JSON; GREATEST keeps a later time
  // written by another hub sharing the database.
  return ExecFirst(conn,
                   "UPDATE tokens t SET last_used_at_ms = GREATEST(t.last_used_at_ms, u.at) "
                   "FROM jsonb_to_recordset($1::jsonb) AS u(name text, at bigint) "
                   "WHERE t.name = u.name",
                   {rows.dump()})
      .status();
}

void PostgresStore::SetExternalChangeCallback(std::function<void()> callback) {
  absl::MutexLock lock(&listener_mu_);
  listener_.reset();
  if (callback) {
    listener_ =
        std::make_unique<PgListener>(target_, kChannel, instance_id_ + ":", std::move(callback));
  }
}

absl::StatusOr<std::string> PostgresStore::KeyProofSecret(const std::string& candidate) {
  CW_ASSIGN_OR_RETURN(Lease conn, Acquire());
  // Two statements, not one: a hub racing here blocks on the meta row until
  // the other's update commits, then updates nothing; its SELECT, a statement
  // of its own, then sees the secret the other stored.
  CW_RETURN_IF_ERROR(ExecFirst(conn,
                               "UPDATE meta SET key_proof_secret = $1 "
                               "WHERE id = 1 AND key_proof_secret IS NULL",
                               {candidate})
                         .status());
  CW_ASSIGN_OR_RETURN(PgResult row,
                      ExecFirst(conn, "SELECT key_proof_secret FROM meta WHERE id = 1"));
  if (row.Rows() != 1 || row.IsNull(0, 0)) {
    return absl::DataLossError(StrCat("postgres: ", target_.display, ": meta row is missing"));
  }
  return std::string(row.Text(0, 0));
}

}  // namespace causeway::store
