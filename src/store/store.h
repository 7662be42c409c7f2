// Store: durable persistence of objects, the change log and tokens.
//
// Backends are deliberately dumb: all semantics (validation, references,
// optimistic concurrency) live in the Catalog (catalog/catalog.h), which keeps
// the current state in memory and hands the backend fully formed changes.
// Commit() is the only write of objects and is atomic: either every change in
// the batch is durable (objects, change-log rows and the revision), or none.
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
  // filtered by `filter`.
  virtual absl::StatusOr<std::vector<Change>> ChangesSince(int64_t since, size_t limit,
                                                           const ChangeFilter& filter = {}) = 0;

  // Atomically persists `changes` (revisions expected_revision+1 ... dense, in
  // order): upserts `after` / deletes the key, appends each change to the log,
  // and sets the revision to the last change's. Fails with ABORTED (writing
  // nothing) when the stored revision is not `expected_revision`.
  virtual absl::Status Commit(int64_t expected_revision, const std::vector<Change>& changes) = 0;

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

  // Called (on an unspecified thread) when another writer commits, for
  // backends that can tell (PostgreSQL LISTEN/NOTIFY). Optional.
  virtual void SetExternalChangeCallback(std::function<void()> callback) {}
};

// Opens a store from `--store` / `--data-dir`: "" or "sqlite:PATH" → SQLite
// (default PATH: <data_dir>/causeway.db); "postgresql://..." or
// "postgres://..." → PostgreSQL. Creates the schema if missing.
absl::StatusOr<std::unique_ptr<Store>> OpenStore(const std::string& spec,
                                                 const std::string& data_dir);

}  // namespace causeway::store
