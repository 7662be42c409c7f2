// Store: durable persistence of objects, the change log and tokens.
//
// Backends are deliberately dumb: all semantics (validation, references,
// optimistic concurrency) live in the Catalog (catalog/catalog.h), which keeps
// the current state in memory and hands the backend fully formed changes.
// Commit() is the only write of objects and is atomic: either every change in
// the batch is durable (objects, change-log rows and the revision), or none.
//
// History: the change log may be compacted (CompactChangelog): its oldest
// entries are deleted, never the objects. ChangesSince from a revision below
// the compacted one fails with OUT_OF_RANGE instead of returning a log with a
// hole in it; the caller lists again (Load) and follows from there.
//
// Multi-writer safety (several hubs on one PostgreSQL): Commit() takes the
// revision the caller last saw; if the stored revision moved, it fails with
// ABORTED and writes nothing, and the caller catches up with ChangesSince().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/objects.h"

namespace causeway::store {

enum class Op { kCreate, kUpdate, kDelete };
std::string_view OpName(Op op);  // "create" | "update" | "delete"
std::optional<Op> ParseOp(std::string_view name);

// One entry of the change log. Revisions are global, strictly increasing and
// dense (each change gets its own revision, starting at 1).
struct Change {
  int64_t revision = 0;
  int64_t time_ms = 0;  // wall clock, ms since epoch
  std::string actor;    // token name that made the change
  model::ObjectKey key;
  Op op = Op::kCreate;
  std::optional<model::Object> before;  // absent for create
  std::optional<model::Object> after;   // absent for delete
};

struct Snapshot {
  int64_t revision = 0;
  std::vector<model::Object> objects;
};

struct ChangeFilter {
  std::optional<std::string> zone;
  std::optional<model::Kind> kind;
  std::optional<std::string> name;
  std::optional<int64_t> since_time_ms;  // time_ms >= this
};

// How much of the change log to keep; a zero field sets no limit. With both
// set, an entry goes when either says so.
struct Retention {
  int64_t max_age_ms = 0;  // entries older than this (by time_ms) go
  int64_t max_count = 0;   // only the newest this many entries stay
};

// What one compaction pass did.
struct Compaction {
  int64_t removed = 0;            // log entries deleted by this pass
  int64_t compacted_through = 0;  // every revision up to this is gone
};

// A stored API token. The secret itself is never stored, only its SHA-256.
struct TokenRecord {
  std::string name;  // unique, a valid object name
  std::string role;  // admin | editor | viewer | agent | proxy
  std::string zone;  // "" = all zones
  std::string secret_sha256_hex;
  int64_t created_at_ms = 0;
  std::string created_by;
  int64_t expires_at_ms = 0;    // 0 = never
  int64_t last_used_at_ms = 0;  // 0 = never used (or not yet recorded)
};

class Store {
 public:
  virtual ~Store() = default;

  // Every object and the revision they reflect (read in one transaction).
  virtual absl::StatusOr<Snapshot> Load() = 0;

  // The current revision (0 for an empty store).
  virtual absl::StatusOr<int64_t> Revision() = 0;

  // Changes with revision > `since`, in revision order, at most `limit`,
  // filtered by `filter`. OUT_OF_RANGE (CompactedError) when `since` is below
  // the compacted revision: some changes after `since` are gone.
  virtual absl::StatusOr<std::vector<Change>> ChangesSince(int64_t since, size_t limit,
                                                           const ChangeFilter& filter = {}) = 0;

  // Atomically persists `changes` (revisions expected_revision+1 ... dense, in
  // order): upserts `after` / deletes the key, appends each change to the log,
  // and sets the revision to the last change's. Fails with ABORTED (writing
  // nothing) when the stored revision is not `expected_revision`.
  virtual absl::Status Commit(int64_t expected_revision, const std::vector<Change>& changes) = 0;

  // The revision the log is compacted through (0: nothing compacted); every
  // change after it is still in the log.
  virtual absl::StatusOr<int64_t> CompactedRevision() = 0;

  // One bounded pass: deletes at most `max_rows` of the oldest log entries
  // that `retention` no longer keeps (ages judged against `now_ms`), in one
  // transaction that also records the new compacted revision, so a crash
  // leaves either all of it or none. Deletes a prefix of the log only: an
  // entry young enough stops the pass even when older-stamped ones follow
  // (clocks of several hubs). Safe to run from several processes at once.
  virtual absl::StatusOr<Compaction> CompactChangelog(const Retention& retention, int64_t now_ms,
                                                      int64_t max_rows) = 0;

  // Tokens.
  virtual absl::Status CreateToken(const TokenRecord& token) = 0;  // ALREADY_EXISTS on name clash
  virtual absl::StatusOr<std::vector<TokenRecord>> ListTokens() = 0;
  virtual absl::StatusOr<std::optional<TokenRecord>> FindTokenBySecretHash(
      const std::string& sha256_hex) = 0;
  virtual absl::Status DeleteToken(const std::string& name) = 0;  // NOT_FOUND if absent
  // Records when tokens were last used: for each (name, time_ms), raises the
  // stored last_used_at_ms to time_ms (never lowers it); names that no longer
  // exist are skipped. One transaction for the whole batch.
  virtual absl::Status TouchTokens(const std::vector<std::pair<std::string, int64_t>>& used) = 0;

  // The secret the hub derives routing-key proofs from (docs/two-way-routing.md,
  // "Keys at the edge"): the stored one, or `candidate` stored now when there
  // is none yet. The first writer wins, among hubs sharing one database too,
  // so every hub of a store derives the same proofs.
  virtual absl::StatusOr<std::string> KeyProofSecret(const std::string& candidate) = 0;

  // Called (on an unspecified thread) when another writer commits, for
  // backends that can tell (PostgreSQL LISTEN/NOTIFY). Optional.
  virtual void SetExternalChangeCallback(std::function<void()> callback) {}
};

// The OUT_OF_RANGE status of ChangesSince from a compacted revision.
absl::Status CompactedError(int64_t since, int64_t compacted);

// The last revision a compaction pass may delete before looking at ages:
// bounded by `max_rows` past `compacted`, and by `max_count` below
// `revision`. Returns `compacted` when there is nothing to do (no retention,
// or nothing beyond it).
int64_t CompactionLimit(const Retention& retention, int64_t revision, int64_t compacted,
                        int64_t max_rows);

// Opens a store from `--store` / `--data-dir`: "" or "sqlite:PATH" → SQLite
// (default PATH: <data_dir>/causeway.db); "postgresql://..." or
// "postgres://..." → PostgreSQL. Creates the schema if missing.
absl::StatusOr<std::unique_ptr<Store>> OpenStore(const std::string& spec,
                                                 const std::string& data_dir);

}  // namespace causeway::store
