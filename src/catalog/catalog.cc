#include "catalog/catalog.h"

#include <future>
#include <set>

#include "absl/strings/cord.h"
#include "common/status.h"
#include "common/strings.h"
#include "spdlog/spdlog.h"

namespace causeway::catalog {

using model::Kind;
using model::Object;
using model::ObjectKey;

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kCreated:
      return "created";
    case Outcome::kUpdated:
      return "updated";
    case Outcome::kUnchanged:
      return "unchanged";
    case Outcome::kDeleted:
      return "deleted";
  }
  return "?";
}

struct Catalog::Pending {
  std::vector<Mutation> mutations;
  std::string actor;
  std::promise<absl::StatusOr<WriteResult>> done;
  // Filled while the batch is processed.
  absl::Status status;
  std::vector<store::Change> changes;
  std::vector<MutationResult> results;
};

// The state seen while validating a batch: the committed objects, then the
// batch's accepted changes, then the current request's changes. Only the
// committer thread uses it, and only it writes objects_, so reading objects_
// here needs no lock.
class Catalog::Overlay {
 public:
  using Layer = std::map<ObjectKey, std::optional<Object>>;
  explicit Overlay(const std::map<ObjectKey, Object>& base) : base_(base) {}

  const Object* Get(const ObjectKey& key) const {
    for (const Layer* layer : {&request_, &batch_}) {
      auto it = layer->find(key);
      if (it != layer->end()) return it->second ? &*it->second : nullptr;
    }
    auto it = base_.find(key);
    return it == base_.end() ? nullptr : &it->second;
  }

  void Put(const ObjectKey& key, std::optional<Object> object) {
    request_[key] = std::move(object);
  }
  void AcceptRequest() {
    for (auto& [k, v] : request_) batch_[k] = std::move(v);
    request_.clear();
  }
  void RejectRequest() { request_.clear(); }
  void Reset() {
    request_.clear();
    batch_.clear();
  }

  // Every live object of `kind` in `zone`, in key order.
  std::vector<const Object*> InZone(Kind kind, const std::string& zone) const {
    std::map<ObjectKey, const Object*> merged;
    ObjectKey lo{kind, zone, ""};
    for (auto it = base_.lower_bound(lo);
         it != base_.end() && it->first.kind == kind && it->first.zone == zone; ++it) {
      merged[it->first] = &it->second;
    }
    for (const Layer* layer : {&batch_, &request_}) {
      for (auto it = layer->lower_bound(lo);
           it != layer->end() && it->first.kind == kind && it->first.zone == zone; ++it) {
        if (it->second) {
          merged[it->first] = &*it->second;
        } else {
          merged.erase(it->first);
        }
      }
    }
    std::vector<const Object*> out;
    out.reserve(merged.size());
    for (auto& [k, v] : merged) out.push_back(v);
    return out;
  }

 private:
  const std::map<ObjectKey, Object>& base_;
  Layer batch_;
  Layer request_;
};

namespace {

absl::Status WithPayload(absl::Status status, std::string_view key, const model::Json& json) {
  status.SetPayload(ToAbsl(key), absl::Cord(json.dump()));
  return status;
}

absl::Status Conflict(const std::string& message, const Object& current) {
  return WithPayload(absl::FailedPreconditionError(message), kCurrentPayload,
                     model::ToApiJson(current));
}

std::string RefList(const std::vector<model::Reference>& refs, const std::vector<ObjectKey>& from) {
  std::string out;
  for (size_t i = 0; i < refs.size() && i < 10; ++i) {
    if (i) out += ", ";
    out += StrCat(model::KindName(from[i].kind), " ", from[i].name, " (", refs[i].field, ")");
  }
  if (refs.size() > 10) out += StrCat(" and ", refs.size() - 10, " more");
  return out;
}

constexpr Kind kReferringKinds[] = {Kind::kProxy, Kind::kRouteGroup, Kind::kRoute};

}  // namespace

Catalog::Catalog(store::Store* store, const TimeSource* time) : store_(store), time_(time) {}

Catalog::~Catalog() { Close(); }

absl::Status Catalog::Open() {
  CW_ASSIGN_OR_RETURN(store::Snapshot snapshot, store_->Load());
  {
    absl::MutexLock lock(&state_mu_);
    revision_ = snapshot.revision;
    objects_.clear();
    for (Object& o : snapshot.objects) {
      ObjectKey key = o.key;
      objects_.emplace(std::move(key), std::move(o));
    }
  }
  committer_ = std::thread([this] { CommitterLoop(); });
  return absl::OkStatus();
}

void Catalog::Close() {
  {
    absl::MutexLock lock(&queue_mu_);
    if (closing_ && !committer_.joinable()) return;
    closing_ = true;
    queue_cv_.SignalAll();
  }
  if (committer_.joinable()) committer_.join();
}

int64_t Catalog::Revision() const {
  absl::ReaderMutexLock lock(&state_mu_);
  return revision_;
}

std::optional<Object> Catalog::Get(const ObjectKey& key) const {
  absl::ReaderMutexLock lock(&state_mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return std::nullopt;
  return it->second;
}

std::vector<Object> Catalog::List(Kind kind, const std::string& zone) const {
  std::vector<Object> out;
  absl::ReaderMutexLock lock(&state_mu_);
  for (auto it = objects_.lower_bound(ObjectKey{kind, zone, ""});
       it != objects_.end() && it->first.kind == kind && (zone.empty() || it->first.zone == zone);
       ++it) {
    out.push_back(it->second);
  }
  return out;
}

std::vector<Object> Catalog::ZoneObjects(const std::string& zone) const {
  std::vector<Object> out;
  absl::ReaderMutexLock lock(&state_mu_);
  for (Kind kind : model::kAllKinds) {
    for (auto it = objects_.lower_bound(ObjectKey{kind, zone, ""});
         it != objects_.end() && it->first.kind == kind && it->first.zone == zone; ++it) {
      out.push_back(it->second);
    }
  }
  return out;
}

std::vector<model::Reference> Catalog::Referrers(const ObjectKey& key) const {
  std::vector<model::Reference> out;
  absl::ReaderMutexLock lock(&state_mu_);
  for (Kind kind : kReferringKinds) {
    for (auto it = objects_.lower_bound(ObjectKey{kind, key.zone, ""});
         it != objects_.end() && it->first.kind == kind && it->first.zone == key.zone; ++it) {
      for (const auto& ref : model::ReferencesOf(it->first, it->second.spec)) {
        if (ref.target == key) out.push_back({it->first, ref.field});
      }
    }
  }
  return out;
}

void Catalog::Read(
    const std::function<void(int64_t, const std::map<ObjectKey, Object>&)>& fn) const {
  absl::ReaderMutexLock lock(&state_mu_);
  fn(revision_, objects_);
}

Catalog::Stats Catalog::stats() const {
  absl::MutexLock lock(&stats_mu_);
  return stats_;
}

int Catalog::Subscribe(Listener fn) {
  absl::MutexLock lock(&listeners_mu_);
  int id = next_listener_id_++;
  listeners_[id] = std::move(fn);
  return id;
}

void Catalog::Unsubscribe(int id) {
  absl::MutexLock lock(&listeners_mu_);
  listeners_.erase(id);
}

void Catalog::Publish(const std::vector<store::Change>& changes) {
  if (changes.empty()) return;
  absl::MutexLock lock(&listeners_mu_);
  for (auto& [id, fn] : listeners_) fn(changes);
}

absl::StatusOr<WriteResult> Catalog::Write(std::vector<Mutation> mutations,
                                           const std::string& actor) {
  if (mutations.empty()) return FieldError("", "nothing to write");
  auto pending = std::make_shared<Pending>();
  pending->mutations = std::move(mutations);
  pending->actor = actor;
  auto future = pending->done.get_future();
  {
    absl::MutexLock lock(&queue_mu_);
    if (closing_) return absl::UnavailableError("the hub is shutting down");
    queue_.push_back(pending);
    queue_cv_.Signal();
  }
  return future.get();
}

void Catalog::CommitterLoop() {
  while (true) {
    std::vector<std::shared_ptr<Pending>> batch;
    {
      absl::MutexLock lock(&queue_mu_);
      while (!closing_ && queue_.empty()) queue_cv_.Wait(&queue_mu_);
      if (queue_.empty() && closing_) return;
      // Bound the batch so one transaction stays short.
      while (!queue_.empty() && batch.size() < 1000) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    ProcessBatch(batch);
  }
}

void Catalog::ProcessBatch(std::vector<std::shared_ptr<Pending>>& batch) {
  absl::MutexLock commit_lock(&commit_mu_);
  absl::Status store_status;
  std::vector<store::Change> all;
  for (int attempt = 0; attempt < 5; ++attempt) {
    all.clear();
    int64_t base;
    {
      // Shared: only this thread (holding commit_mu_) changes the state.
      absl::ReaderMutexLock state_lock(&state_mu_);
      base = ValidateBatch(batch, &all);
    }
    store_status = all.empty() ? absl::OkStatus() : store_->Commit(base, all);
    if (store_status.code() != absl::StatusCode::kAborted) break;
    // Another hub wrote first: catch up and validate the batch again.
    spdlog::info("catalog: revision moved under us (another hub wrote); catching up and retrying");
    absl::Status refreshed = RefreshLocked();
    if (!refreshed.ok()) {
      store_status = refreshed;
      break;
    }
  }

  if (store_status.ok() && !all.empty()) {
    absl::MutexLock lock(&state_mu_);
    for (const store::Change& c : all) {
      if (c.after) {
        objects_[c.key] = *c.after;
      } else {
        objects_.erase(c.key);
      }
    }
    revision_ = all.back().revision;
  }
  if (store_status.ok()) Publish(all);

  uint64_t ok = 0, failed = 0;
  int64_t revision_now = Revision();
  for (auto& p : batch) {
    if (!store_status.ok()) {
      ++failed;
      p->done.set_value(
          absl::UnavailableError(StrCat("store: ", FromAbsl(store_status.message()))));
    } else if (!p->status.ok()) {
      ++failed;
      p->done.set_value(p->status);
    } else {
      ++ok;
      WriteResult result;
      result.revision = p->changes.empty() ? revision_now : p->changes.back().revision;
      result.results = std::move(p->results);
      p->done.set_value(std::move(result));
    }
  }
  absl::MutexLock lock(&stats_mu_);
  stats_.writes_ok += ok;
  stats_.writes_failed += failed;
  stats_.batches += 1;
  stats_.changes += store_status.ok() ? all.size() : 0;
}

int64_t Catalog::ValidateBatch(std::vector<std::shared_ptr<Pending>>& batch,
                               std::vector<store::Change>* all) {
  Overlay overlay(objects_);
  const int64_t base = revision_;
  int64_t next = base + 1;
  for (auto& p : batch) {
    p->results.clear();
    p->changes.clear();
    auto changes = Validate(overlay, *p, &next, &p->results);
    if (changes.ok()) {
      overlay.AcceptRequest();
      p->status = absl::OkStatus();
      p->changes = std::move(*changes);
      all->insert(all->end(), p->changes.begin(), p->changes.end());
    } else {
      overlay.RejectRequest();
      p->status = changes.status();
      p->results.clear();
    }
  }
  return base;
}

absl::StatusOr<std::vector<store::Change>> Catalog::Validate(Overlay& overlay,
                                                             const Pending& request,
                                                             int64_t* next_revision,
                                                             std::vector<MutationResult>* results) {
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(time_->Now().time_since_epoch())
          .count();
  const bool many = request.mutations.size() > 1;
  std::vector<store::Change> changes;
  std::set<ObjectKey> touched;
  int64_t next = *next_revision;

  auto fail = [&](size_t index, absl::Status status) {
    return many ? WithFieldPrefix(status, StrCat("[", index, "]")) : status;
  };

  for (size_t i = 0; i < request.mutations.size(); ++i) {
    const Mutation& m = request.mutations[i];
    const std::string what = model::KeyString(m.key);
    if (!touched.insert(m.key).second) {
      return fail(i, FieldError("name", StrCat(what, " appears more than once in one request")));
    }
    const Object* before = overlay.Get(m.key);
    if (m.expected_version && before && *m.expected_version != before->version) {
      return fail(
          i, Conflict(StrCat(what, " has version ", before->version, ", not ", *m.expected_version,
                             ": it was changed by someone else; read it again"),
                      *before));
    }
    store::Change change;
    change.time_ms = now_ms;
    change.actor = request.actor;
    change.key = m.key;
    if (before) change.before = *before;

    // An instance list replaces only the instances: the cluster's other
    // fields (its policies) stay as the last full write left them.
    const model::Json* spec = &m.spec;
    model::Json merged;
    if (m.type == Mutation::Type::kSetInstances && before) {
      merged = before->spec;
      merged["instances"] = m.spec.value("instances", model::Json::array());
      spec = &merged;
    }
    Outcome outcome = Outcome::kUnchanged;
    switch (m.type) {
      case Mutation::Type::kCreate:
        if (before) {
          return fail(i, WithPayload(absl::AlreadyExistsError(StrCat(what, " already exists")),
                                     kCurrentPayload, model::ToApiJson(*before)));
        }
        outcome = Outcome::kCreated;
        break;
      case Mutation::Type::kReplace:
        if (!before) return fail(i, absl::NotFoundError(StrCat(what, " does not exist")));
        if (!m.expected_version) {
          return fail(i, FieldError("version",
                                    "is required to replace an object: send the version you read "
                                    "(body field or If-Match)"));
        }
        outcome = before->spec == m.spec ? Outcome::kUnchanged : Outcome::kUpdated;
        break;
      case Mutation::Type::kUpsert:
      case Mutation::Type::kSetInstances:
        outcome = !before ? Outcome::kCreated
                          : (before->spec == *spec ? Outcome::kUnchanged : Outcome::kUpdated);
        break;
      case Mutation::Type::kDelete:
        if (!before) return fail(i, absl::NotFoundError(StrCat(what, " does not exist")));
        outcome = Outcome::kDeleted;
        break;
    }
    if (m.type == Mutation::Type::kSetInstances && m.key.kind != Kind::kCluster) {
      return fail(i, absl::InvalidArgumentError("instances can only be set on a Cluster"));
    }

    MutationResult result;
    result.key = m.key;
    result.outcome = outcome;
    if (outcome == Outcome::kUnchanged) {
      result.object = *before;
      results->push_back(std::move(result));
      continue;
    }
    change.revision = next++;
    if (outcome == Outcome::kDeleted) {
      change.op = store::Op::kDelete;
      overlay.Put(m.key, std::nullopt);
    } else {
      Object after;
      after.key = m.key;
      after.version = change.revision;
      after.created_at_ms = before ? before->created_at_ms : now_ms;
      after.updated_at_ms = now_ms;
      after.spec = *spec;
      change.op = before ? store::Op::kUpdate : store::Op::kCreate;
      change.after = after;
      overlay.Put(m.key, after);
      result.object = std::move(after);
    }
    results->push_back(std::move(result));
    changes.push_back(std::move(change));
  }

  // Whole-request checks, against the state the request leaves behind, so
  // one request may create a route before the group it names.
  for (size_t i = 0; i < request.mutations.size(); ++i) {
    const Mutation& m = request.mutations[i];
    const Object* now = overlay.Get(m.key);
    if (now) {
      if (m.key.kind != Kind::kZone &&
          !overlay.Get(ObjectKey{Kind::kZone, m.key.zone, m.key.zone})) {
        return fail(i, WithFieldPrefix(
                           absl::NotFoundError(StrCat("zone \"", m.key.zone, "\" does not exist")),
                           "zone"));
      }
      for (const model::Reference& ref : model::ReferencesOf(m.key, now->spec)) {
        if (!overlay.Get(ref.target)) {
          return fail(i, FieldError(ref.field,
                                    StrCat(model::KindName(ref.target.kind), " \"", ref.target.name,
                                           "\" does not exist in zone ", m.key.zone)));
        }
      }
    } else if (m.key.kind == Kind::kZone) {
      std::vector<std::string> children;
      for (Kind kind : model::kAllKinds) {
        if (kind == Kind::kZone) continue;
        for (const Object* o : overlay.InZone(kind, m.key.name))
          children.push_back(model::KeyString(o->key));
      }
      if (!children.empty()) {
        model::Json list = model::Json::array();
        for (const auto& c : children) list.push_back(c);
        std::string head = children.size() > 5
                               ? StrCat(children[0], ", ", children[1], ", ", children[2], " and ",
                                        children.size() - 3, " more")
                               : "";
        if (head.empty()) {
          for (size_t c = 0; c < children.size(); ++c) head += (c ? ", " : "") + children[c];
        }
        return fail(i, WithPayload(absl::FailedPreconditionError(
                                       StrCat("zone ", m.key.name, " still holds ", children.size(),
                                              " objects; delete them first: ", head)),
                                   kReferrersPayload, list));
      }
    } else {
      std::vector<model::Reference> refs;
      std::vector<ObjectKey> from;
      for (Kind kind : kReferringKinds) {
        for (const Object* o : overlay.InZone(kind, m.key.zone)) {
          for (const model::Reference& ref : model::ReferencesOf(o->key, o->spec)) {
            if (ref.target == m.key) {
              refs.push_back(ref);
              from.push_back(o->key);
            }
          }
        }
      }
      if (!refs.empty()) {
        model::Json list = model::Json::array();
        for (size_t r = 0; r < refs.size(); ++r) {
          list.push_back({{"kind", model::KindName(from[r].kind)},
                          {"zone", from[r].zone},
                          {"name", from[r].name},
                          {"field", refs[r].field}});
        }
        return fail(
            i, WithPayload(absl::FailedPreconditionError(StrCat(
                               model::KeyString(m.key), " is still used by ", RefList(refs, from))),
                           kReferrersPayload, list));
      }
    }
  }
  *next_revision = next;
  return changes;
}

// From a notification thread: commit_mu_ keeps batches and refreshes apart.
absl::Status Catalog::Refresh() {
  absl::MutexLock lock(&commit_mu_);
  return RefreshLocked();
}

absl::Status Catalog::RefreshLocked() {
  while (true) {
    int64_t since = Revision();
    absl::StatusOr<std::vector<store::Change>> read = store_->ChangesSince(since, 1000);
    if (absl::IsOutOfRange(read.status())) return Reload(since);
    CW_ASSIGN_OR_RETURN(std::vector<store::Change> changes, std::move(read));
    if (changes.empty()) return absl::OkStatus();
    {
      absl::MutexLock state_lock(&state_mu_);
      for (const store::Change& c : changes) {
        if (c.after) {
          objects_[c.key] = *c.after;
        } else {
          objects_.erase(c.key);
        }
      }
      revision_ = changes.back().revision;
    }
    Publish(changes);
  }
}

// The changes this hub missed are no longer in the log: other hubs wrote
// them and --history-retention compacted them before this one caught up (it
// was partitioned from the database, or stopped). Replaying is impossible, so
// the whole state is read again and the difference published as changes at
// the store's revision: subscribers (xDS snapshots, watch streams) end in the
// same state as a hub that saw every change, without a restart.
absl::Status Catalog::Reload(int64_t behind) {
  CW_ASSIGN_OR_RETURN(store::Snapshot snapshot, store_->Load());
  std::map<ObjectKey, Object> fresh;
  for (Object& o : snapshot.objects) {
    ObjectKey key = o.key;
    fresh.emplace(std::move(key), std::move(o));
  }
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(time_->Now().time_since_epoch())
          .count();
  std::vector<store::Change> diff;
  {
    absl::MutexLock state_lock(&state_mu_);
    auto change = [&](const ObjectKey& key, store::Op op) -> store::Change& {
      store::Change& c = diff.emplace_back();
      c.revision = snapshot.revision;
      c.time_ms = now_ms;
      c.key = key;
      c.op = op;
      return c;
    };
    for (const auto& [key, was] : objects_) {
      auto now = fresh.find(key);
      if (now == fresh.end()) {
        change(key, store::Op::kDelete).before = was;
      } else if (now->second.version != was.version) {
        store::Change& c = change(key, store::Op::kUpdate);
        c.before = was;
        c.after = now->second;
      }
    }
    for (const auto& [key, now] : fresh) {
      if (!objects_.contains(key)) change(key, store::Op::kCreate).after = now;
    }
    objects_ = std::move(fresh);
    revision_ = snapshot.revision;
  }
  spdlog::warn(
      "the change log no longer holds the changes after revision {} (compacted by "
      "--history-retention): reloaded the whole state at revision {} ({} objects differed)",
      behind, snapshot.revision, diff.size());
  if (!diff.empty()) Publish(diff);
  return absl::OkStatus();
}

}  // namespace causeway::catalog
