// Catalog: the hub's current state of every object, and its only write path.
//
// Reads are served from memory. Writes are validated here (versions,
// references, zone membership) and persisted through Store::Commit. Writes
// from concurrent requests are group-committed: one committer thread takes
// every queued request, validates each in order against the state left by the
// ones before it (a request that fails changes nothing), persists the
// survivors in one transaction (one fsync), then publishes them and answers.
// Each request is atomic on its own: all of its mutations or none.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/time_source.h"
#include "model/objects.h"
#include "store/store.h"

namespace causeway::catalog {

// Status payloads set on write errors, for the REST layer to render.
// kCurrentPayload: JSON (ToApiJson) of the current object on a version
// conflict or a create of an existing object. kReferrersPayload: JSON list of
// {"kind","zone","name","field"} that still refer to an object being deleted.
inline constexpr std::string_view kCurrentPayload = "causeway.dev/current";
inline constexpr std::string_view kReferrersPayload = "causeway.dev/referrers";

struct Mutation {
  enum class Type {
    kCreate,        // must not exist
    kReplace,       // must exist; expected_version required
    kUpsert,        // create or replace (apply); unchanged if the spec is equal
    kDelete,        // must exist; expected_version checked when given
    kSetInstances,  // a cluster's instances (agents); creates the cluster if missing
  };
  Type type = Type::kCreate;
  model::ObjectKey key;
  model::Json spec;                         // canonical; for kSetInstances the cluster spec
  std::optional<int64_t> expected_version;  // optimistic concurrency
};

enum class Outcome { kCreated, kUpdated, kUnchanged, kDeleted };
std::string_view OutcomeName(Outcome outcome);  // "created" | "updated" | "unchanged" | "deleted"

struct MutationResult {
  model::ObjectKey key;
  Outcome outcome = Outcome::kUnchanged;
  std::optional<model::Object> object;  // the object after the write (absent when deleted)
};

struct WriteResult {
  int64_t revision = 0;  // the hub revision after this write
  std::vector<MutationResult> results;
};

// Error codes of Write(): InvalidArgument (400, field payload), NotFound (404),
// AlreadyExists (409, current), FailedPrecondition (409: stale version with
// current, or referrers), Unavailable (store failure; nothing was applied).
class Catalog {
 public:
  Catalog(store::Store* store, const TimeSource* time);
  ~Catalog();
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  // Loads the store's snapshot and starts the committer thread.
  absl::Status Open();
  // Stops accepting writes, finishes queued ones, joins the committer.
  void Close();

  // --- reads ---------------------------------------------------------------
  int64_t Revision() const;
  std::optional<model::Object> Get(const model::ObjectKey& key) const;
  // Objects of `kind` in `zone` ("" = all zones), ordered by (zone, name).
  std::vector<model::Object> List(model::Kind kind, const std::string& zone) const;
  // Every object of one zone, the zone object first (for translation).
  std::vector<model::Object> ZoneObjects(const std::string& zone) const;
  // Objects that refer to `key`, with the referring field.
  std::vector<model::Reference> Referrers(const model::ObjectKey& key) const;
  // Reads the same snapshot under one lock: `fn(revision, objects_by_key)`.
  void Read(const std::function<void(int64_t, const std::map<model::ObjectKey, model::Object>&)>&
                fn) const;

  // --- writes --------------------------------------------------------------
  // Applies all `mutations` atomically on behalf of `actor` (a token name).
  absl::StatusOr<WriteResult> Write(std::vector<Mutation> mutations, const std::string& actor);

  // Catches up with changes committed by other hubs sharing the store (called
  // on a PostgreSQL notification, and before retrying a batch that lost a
  // race).
  absl::Status Refresh() ABSL_LOCKS_EXCLUDED(commit_mu_);

  // --- change feed ---------------------------------------------------------
  // `fn` is called on the committer thread with every published batch of
  // changes, in revision order; it must not block. Returns an id for
  // Unsubscribe.
  using Listener = std::function<void(const std::vector<store::Change>&)>;
  int Subscribe(Listener fn);
  void Unsubscribe(int id);

  store::Store* store() const { return store_; }

  struct Stats {
    uint64_t writes_ok = 0, writes_failed = 0, batches = 0, changes = 0;
  };
  Stats stats() const;

 private:
  struct Pending;
  class Overlay;

  void CommitterLoop() ABSL_LOCKS_EXCLUDED(queue_mu_);
  void ProcessBatch(std::vector<std::shared_ptr<Pending>>& batch)
      ABSL_LOCKS_EXCLUDED(commit_mu_, state_mu_);
  // Validates every request of `batch` in order against the current state;
  // the accepted requests' changes go to `all`. Returns the base revision.
  int64_t ValidateBatch(std::vector<std::shared_ptr<Pending>>& batch,
                        std::vector<store::Change>* all) ABSL_SHARED_LOCKS_REQUIRED(state_mu_);
  absl::StatusOr<std::vector<store::Change>> Validate(Overlay& overlay, const Pending& request,
                                                      int64_t* next_revision,
                                                      std::vector<MutationResult>* results);
  void Publish(const std::vector<store::Change>& changes)
      ABSL_LOCKS_EXCLUDED(state_mu_, listeners_mu_);
  absl::Status RefreshLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(commit_mu_)
      ABSL_LOCKS_EXCLUDED(state_mu_);
  // RefreshLocked's way out when the log was compacted past `behind`.
  absl::Status Reload(int64_t behind) ABSL_EXCLUSIVE_LOCKS_REQUIRED(commit_mu_)
      ABSL_LOCKS_EXCLUDED(state_mu_);

  store::Store* const store_;
  const TimeSource* const time_;

  // Changed only by a holder of commit_mu_ (which also takes state_mu_ to
  // write); readers take state_mu_ shared.
  mutable absl::Mutex state_mu_;
  int64_t revision_ ABSL_GUARDED_BY(state_mu_) = 0;
  std::map<model::ObjectKey, model::Object> objects_ ABSL_GUARDED_BY(state_mu_);

  absl::Mutex queue_mu_;
  absl::CondVar queue_cv_;
  std::deque<std::shared_ptr<Pending>> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool closing_ ABSL_GUARDED_BY(queue_mu_) = false;
  std::thread committer_;

  absl::Mutex commit_mu_;  // one batch or refresh at a time

  mutable absl::Mutex listeners_mu_;
  std::map<int, Listener> listeners_ ABSL_GUARDED_BY(listeners_mu_);
  int next_listener_id_ ABSL_GUARDED_BY(listeners_mu_) = 1;

  mutable absl::Mutex stats_mu_;
  Stats stats_ ABSL_GUARDED_BY(stats_mu_);
};

}  // namespace causeway::catalog
