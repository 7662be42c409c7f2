// The store suite: every test runs against SQLite and PostgreSQL.
#include <sys/stat.h>

#include <atomic>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/store.h"
#include "support/store/store_test_env.h"

namespace causeway::store::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// Objects compare by value, specs as JSON.
void ExpectSameObject(const model::Object& a, const model::Object& b) {
  EXPECT_EQ(a.key, b.key);
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.created_at_ms, b.created_at_ms);
  EXPECT_EQ(a.updated_at_ms, b.updated_at_ms);
  EXPECT_EQ(a.spec, b.spec);
}

void ExpectSameChange(const Change& a, const Change& b) {
  EXPECT_EQ(a.revision, b.revision);
  EXPECT_EQ(a.time_ms, b.time_ms);
  EXPECT_EQ(a.actor, b.actor);
  EXPECT_EQ(a.key, b.key);
  EXPECT_EQ(a.op, b.op);
  ASSERT_EQ(a.before.has_value(), b.before.has_value());
  if (a.before) ExpectSameObject(*a.before, *b.before);
  ASSERT_EQ(a.after.has_value(), b.after.has_value());
  if (a.after) ExpectSameObject(*a.after, *b.after);
}

std::vector<int64_t> Revisions(const std::vector<Change>& changes) {
  std::vector<int64_t> out;
  for (const Change& c : changes) out.push_back(c.revision);
  return out;
}

std::map<model::ObjectKey, model::Object> ByKey(const Snapshot& snapshot) {
  std::map<model::ObjectKey, model::Object> out;
  for (const auto& o : snapshot.objects) out[o.key] = o;
  return out;
}

class StoreSuite : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    env_ = std::make_unique<StoreEnv>(GetParam());
    auto store = env_->Open();
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  void Reopen() {
    store_.reset();
    auto store = env_->Open();
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  int64_t Rev() {
    auto rev = store_->Revision();
    EXPECT_TRUE(rev.ok()) << rev.status();
    return rev.value_or(-1);
  }

  std::vector<Change> All() {
    auto changes = store_->ChangesSince(0, 1'000'000);
    EXPECT_TRUE(changes.ok()) << changes.status();
    return changes.value_or(std::vector<Change>{});
  }

  std::unique_ptr<StoreEnv> env_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreSuite, EmptyStore) {
  EXPECT_EQ(Rev(), 0);
  auto snapshot = store_->Load();
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  EXPECT_EQ(snapshot->revision, 0);
  EXPECT_THAT(snapshot->objects, IsEmpty());
  EXPECT_THAT(All(), IsEmpty());
  auto tokens = store_->ListTokens();
  ASSERT_TRUE(tokens.ok());
  EXPECT_THAT(*tokens, IsEmpty());
}

// The first candidate is kept: a later one (another hub, a restart) gets the
// stored secret back, so proofs derived from it stay the same.
TEST_P(StoreSuite, KeyProofSecretFirstWriterWins) {
  auto first = store_->KeyProofSecret("secret-one");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, "secret-one");
  auto second = store_->KeyProofSecret("secret-two");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*second, "secret-one");
  Reopen();
  auto reopened = store_->KeyProofSecret("secret-three");
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ(*reopened, "secret-one");
}

TEST_P(StoreSuite, CommitLoadRoundTrip) {
  model::Object zone = MakeObject("dev", "dev", 1, "the zone", model::Kind::kZone);
  model::Object cluster = MakeObject("dev", "api", 2, "unicode ✓ \"quoted\"");
  cluster.spec["big"] = int64_t{9'007'199'254'740'993};
  cluster.spec["nested"] = {{"a", {1, 2, 3}}, {"b", nullptr}, {"c", true}};
  std::vector<Change> batch = {Create(1, zone, "token-a"), Create(2, cluster, "token-b")};
  ASSERT_TRUE(store_->Commit(0, batch).ok());

  EXPECT_EQ(Rev(), 2);
  auto snapshot = store_->Load();
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  EXPECT_EQ(snapshot->revision, 2);
  auto objects = ByKey(*snapshot);
  ASSERT_THAT(objects, SizeIs(2));
  ExpectSameObject(objects[zone.key], zone);
  ExpectSameObject(objects[cluster.key], cluster);

  auto changes = All();
  ASSERT_THAT(changes, SizeIs(2));
  ExpectSameChange(changes[0], batch[0]);
  ExpectSameChange(changes[1], batch[1]);
}

TEST_P(StoreSuite, UpdateAndDelete) {
  model::Object v1 = MakeObject("dev", "api", 1, "one");
  model::Object v2 = MakeObject("dev", "api", 2, "two");
  v2.created_at_ms = v1.created_at_ms;
  ASSERT_TRUE(store_->Commit(0, {Create(1, v1)}).ok());
  ASSERT_TRUE(store_->Commit(1, {Update(2, v1, v2)}).ok());
  auto snapshot = store_->Load();
  ASSERT_TRUE(snapshot.ok());
  ASSERT_THAT(snapshot->objects, SizeIs(1));
  ExpectSameObject(snapshot->objects[0], v2);

  ASSERT_TRUE(store_->Commit(2, {Delete(3, v2)}).ok());
  snapshot = store_->Load();
  ASSERT_TRUE(snapshot.ok());
  EXPECT_EQ(snapshot->revision, 3);
  EXPECT_THAT(snapshot->objects, IsEmpty());

  auto changes = All();
  ASSERT_THAT(changes, SizeIs(3));
  ExpectSameChange(changes[1], Update(2, v1, v2));
  ExpectSameChange(changes[2], Delete(3, v2));
}

TEST_P(StoreSuite, KeysWithQuotingCharactersRoundTrip) {
  // The model forbids these in names, but the store must not depend on it.
  model::Object odd = MakeObject("z,{\"\\", "a\"b\\c,d{e}' NULL", 1, "");
  ASSERT_TRUE(store_->Commit(0, {Create(1, odd)}).ok());
  auto snapshot = store_->Load();
  ASSERT_TRUE(snapshot.ok());
  ASSERT_THAT(snapshot->objects, SizeIs(1));
  ExpectSameObject(snapshot->objects[0], odd);
  ASSERT_TRUE(store_->Commit(1, {Delete(2, odd)}).ok());
  snapshot = store_->Load();
  ASSERT_TRUE(snapshot.ok());
  EXPECT_THAT(snapshot->objects, IsEmpty());
  auto changes = store_->ChangesSince(0, 10, {.zone = odd.key.zone, .name = odd.key.name});
  ASSERT_TRUE(changes.ok());
  EXPECT_THAT(Revisions(*changes), ElementsAre(1, 2));
}

TEST_P(StoreSuite, CreateUpdateDeleteOfOneKeyInOneBatch) {
  model::Object a1 = MakeObject("dev", "a", 1, "one");
  model::Object a2 = MakeObject("dev", "a", 2, "two");
  model::Object b1 = MakeObject("dev", "b", 4, "b");
  model::Object b2 = MakeObject("dev", "b", 5, "b2");
  ASSERT_TRUE(store_
                  ->Commit(0, {Create(1, a1), Update(2, a1, a2), Delete(3, a2), Create(4, b1),
                               Update(5, b1, b2)})
                  .ok());
  auto snapshot = store_->Load();
  ASSERT_TRUE(snapshot.ok());
  ASSERT_THAT(snapshot->objects, SizeIs(1));
  ExpectSameObject(snapshot->objects[0], b2);
  EXPECT_THAT(Revisions(All()), ElementsAre(1, 2, 3, 4, 5));
}

TEST_P(StoreSuite, RevisionsAreDenseAndMonotone) {
  int64_t rev = 0;
  for (int i = 0; i < 30; ++i) {
    std::vector<Change> batch;
    for (int j = 0; j <= i % 4; ++j) {
      ++rev;
      batch.push_back(Create(rev, MakeObject("z", "o" + std::to_string(rev), rev, "x")));
    }
    ASSERT_TRUE(store_->Commit(rev - static_cast<int64_t>(batch.size()), batch).ok());
    EXPECT_EQ(Rev(), rev);
  }
  std::vector<int64_t> want;
  for (int64_t r = 1; r <= rev; ++r) want.push_back(r);
  EXPECT_EQ(Revisions(All()), want);
}

TEST_P(StoreSuite, ChangesSinceFiltersAndLimits) {
  // Revisions 1..6 across two zones and two kinds; time_ms grows with revision.
  model::Object z1 = MakeObject("z1", "z1", 1, "", model::Kind::kZone);
  model::Object c1 = MakeObject("z1", "web", 2, "");
  model::Object r1 = MakeObject("z1", "web", 3, "", model::Kind::kRoute);
  model::Object z2 = MakeObject("z2", "z2", 4, "", model::Kind::kZone);
  model::Object c2 = MakeObject("z2", "web", 5, "");
  model::Object c3 = MakeObject("z1", "db", 6, "");
  ASSERT_TRUE(store_
                  ->Commit(0, {Create(1, z1), Create(2, c1), Create(3, r1), Create(4, z2),
                               Create(5, c2), Create(6, c3)})
                  .ok());

  auto query = [&](int64_t since, size_t limit, ChangeFilter filter) {
    auto changes = store_->ChangesSince(since, limit, filter);
    EXPECT_TRUE(changes.ok()) << changes.status();
    return Revisions(changes.value_or(std::vector<Change>{}));
  };
  EXPECT_THAT(query(0, 100, {}), ElementsAre(1, 2, 3, 4, 5, 6));
  EXPECT_THAT(query(2, 100, {}), ElementsAre(3, 4, 5, 6));
  EXPECT_THAT(query(0, 2, {}), ElementsAre(1, 2));
  EXPECT_THAT(query(3, 2, {}), ElementsAre(4, 5));
  EXPECT_THAT(query(6, 100, {}), IsEmpty());
  EXPECT_THAT(query(0, 0, {}), IsEmpty());
  EXPECT_THAT(query(0, std::numeric_limits<size_t>::max(), {}), SizeIs(6));
  EXPECT_THAT(query(0, 100, {.zone = "z1"}), ElementsAre(1, 2, 3, 6));
  EXPECT_THAT(query(0, 2, {.zone = "z1"}), ElementsAre(1, 2));
  EXPECT_THAT(query(2, 100, {.zone = "z1"}), ElementsAre(3, 6));
  EXPECT_THAT(query(0, 100, {.kind = model::Kind::kCluster}), ElementsAre(2, 5, 6));
  EXPECT_THAT(query(0, 100, {.zone = "z1", .kind = model::Kind::kCluster}), ElementsAre(2, 6));
  EXPECT_THAT(query(0, 100, {.name = "web"}), ElementsAre(2, 3, 5));
  EXPECT_THAT(query(0, 100, {.zone = "z2", .kind = model::Kind::kCluster, .name = "web"}),
              ElementsAre(5));
  const int64_t t4 = Create(4, z2).time_ms;
  EXPECT_THAT(query(0, 100, {.since_time_ms = t4}), ElementsAre(4, 5, 6));
  EXPECT_THAT(query(0, 100, {.zone = "z1", .since_time_ms = t4}), ElementsAre(6));
  EXPECT_THAT(query(0, 100, {.zone = "nope"}), IsEmpty());
}

TEST_P(StoreSuite, StaleExpectedRevisionAbortsAndWritesNothing) {
  model::Object a = MakeObject("z", "a", 1, "");
  ASSERT_TRUE(store_->Commit(0, {Create(1, a)}).ok());

  // A writer that still believes the store is empty.
  absl::Status stale = store_->Commit(0, {Create(1, MakeObject("z", "b", 1, ""))});
  EXPECT_EQ(stale.code(), absl::StatusCode::kAborted) << stale;
  // One from the future as well.
  absl::Status ahead = store_->Commit(5, {Create(6, MakeObject("z", "c", 6, ""))});
  EXPECT_EQ(ahead.code(), absl::StatusCode::kAborted) << ahead;
  // An empty batch still checks.
  EXPECT_EQ(store_->Commit(0, {}).code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(store_->Commit(1, {}).ok());

  EXPECT_EQ(Rev(), 1);
  EXPECT_THAT(Revisions(All()), ElementsAre(1));
  auto snapshot = store_->Load();
  ASSERT_TRUE(snapshot.ok());
  ASSERT_THAT(snapshot->objects, SizeIs(1));
  EXPECT_EQ(snapshot->objects[0].key, a.key);
}

TEST_P(StoreSuite, MalformedBatchIsRejected) {
  model::Object a = MakeObject("z", "a", 1, "");
  model::Object b = MakeObject("z", "b", 2, "");
  // Duplicate, gapped and misnumbered revisions.
  EXPECT_EQ(store_->Commit(0, {Create(1, a), Create(1, b)}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Commit(0, {Create(1, a), Create(3, b)}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Commit(0, {Create(2, a)}).code(), absl::StatusCode::kInvalidArgument);
  // Images that do not fit the op.
  Change no_after = Create(1, a);
  no_after.after.reset();
  EXPECT_EQ(store_->Commit(0, {no_after}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Rev(), 0);
  EXPECT_THAT(All(), IsEmpty());
}

TEST_P(StoreSuite, FailureMidBatchLeavesNothing) {
  ASSERT_TRUE(store_->Commit(0, {Create(1, MakeObject("z", "first", 1, ""))}).ok());
  env_->FailInsertsNamed("boom");
  model::Object first_v2 = MakeObject("z", "first", 2, "changed");
  std::vector<Change> batch = {
      Update(2, MakeObject("z", "first", 1, ""), first_v2), Create(3, MakeObject("z", "a", 3, "")),
      Create(4, MakeObject("z", "boom", 4, "")), Create(5, MakeObject("z", "c", 5, ""))};
  absl::Status status = store_->Commit(1, batch);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("injected failure"));

  EXPECT_EQ(Rev(), 1);
  EXPECT_THAT(Revisions(All()), ElementsAre(1));
  auto snapshot = store_->Load();
  ASSERT_TRUE(snapshot.ok());
  ASSERT_THAT(snapshot->objects, SizeIs(1));
  EXPECT_EQ(snapshot->objects[0].spec["note"], "");

  // The store is still usable, and the same revisions can be committed.
  batch.erase(batch.begin() + 2);
  batch[2].revision = 4;
  ASSERT_TRUE(store_->Commit(1, batch).ok());
  EXPECT_EQ(Rev(), 4);
  EXPECT_THAT(Revisions(All()), ElementsAre(1, 2, 3, 4));
}

TEST_P(StoreSuite, LargeBatch) {
  std::vector<Change> batch;
  for (int64_t r = 1; r <= 500; ++r) {
    batch.push_back(Create(r, MakeObject("z", "o" + std::to_string(r), r, std::string(200, 'x'))));
  }
  ASSERT_TRUE(store_->Commit(0, batch).ok());
  auto snapshot = store_->Load();
  ASSERT_TRUE(snapshot.ok());
  EXPECT_EQ(snapshot->revision, 500);
  EXPECT_THAT(snapshot->objects, SizeIs(500));
}

TEST_P(StoreSuite, Tokens) {
  TokenRecord admin{.name = "admin",
                    .role = "admin",
                    .zone = "",
                    .secret_sha256_hex = std::string(64, 'a'),
                    .created_at_ms = 1234,
                    .created_by = "bootstrap"};
  TokenRecord agent{.name = "agent-dev",
                    .role = "agent",
                    .zone = "dev",
                    .secret_sha256_hex = std::string(64, 'b'),
                    .created_at_ms = 5678,
                    .created_by = "admin"};
  ASSERT_TRUE(store_->CreateToken(agent).ok());
  ASSERT_TRUE(store_->CreateToken(admin).ok());

  TokenRecord clash = admin;
  clash.secret_sha256_hex = std::string(64, 'c');
  absl::Status status = store_->CreateToken(clash);
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists) << status;
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("\"admin\""));
  TokenRecord same_secret = agent;
  same_secret.name = "other";
  EXPECT_EQ(store_->CreateToken(same_secret).code(), absl::StatusCode::kAlreadyExists);

  auto tokens = store_->ListTokens();
  ASSERT_TRUE(tokens.ok());
  ASSERT_THAT(*tokens, SizeIs(2));
  EXPECT_EQ((*tokens)[0].name, "admin");
  EXPECT_EQ((*tokens)[1].name, "agent-dev");
  EXPECT_EQ((*tokens)[1].zone, "dev");
  EXPECT_EQ((*tokens)[1].role, "agent");
  EXPECT_EQ((*tokens)[1].created_at_ms, 5678);
  EXPECT_EQ((*tokens)[1].created_by, "admin");

  auto found = store_->FindTokenBySecretHash(std::string(64, 'b'));
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->name, "agent-dev");
  auto missing = store_->FindTokenBySecretHash(std::string(64, 'z'));
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  ASSERT_TRUE(store_->DeleteToken("agent-dev").ok());
  EXPECT_EQ(store_->DeleteToken("agent-dev").code(), absl::StatusCode::kNotFound);
  found = store_->FindTokenBySecretHash(std::string(64, 'b'));
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value());
  // Tokens are not objects: no revision, no change log.
  EXPECT_EQ(Rev(), 0);
}

TEST_P(StoreSuite, TokenExpiryAndLastUse) {
  TokenRecord ci{.name = "ci",
                 .role = "editor",
                 .zone = "",
                 .secret_sha256_hex = std::string(64, 'd'),
                 .created_at_ms = 1000,
                 .created_by = "admin",
                 .expires_at_ms = 90000};
  ASSERT_TRUE(store_->CreateToken(ci).ok());
  auto found = store_->FindTokenBySecretHash(std::string(64, 'd'));
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->expires_at_ms, 90000);
  EXPECT_EQ((*found)->last_used_at_ms, 0);

  ASSERT_TRUE(store_->TouchTokens({{"ci", 5000}, {"gone", 7000}}).ok());
  ASSERT_TRUE(store_->TouchTokens({{"ci", 4000}}).ok()) << "an older time is not an error";
  ASSERT_TRUE(store_->TouchTokens({}).ok());
  auto tokens = store_->ListTokens();
  ASSERT_TRUE(tokens.ok());
  ASSERT_THAT(*tokens, SizeIs(1));
  EXPECT_EQ((*tokens)[0].last_used_at_ms, 5000) << "never lowered";
  EXPECT_EQ((*tokens)[0].expires_at_ms, 90000);
}

TEST_P(StoreSuite, ReopenKeepsEverything) {
  model::Object a = MakeObject("z", "a", 1, "kept");
  ASSERT_TRUE(store_->Commit(0, {Create(1, a), Create(2, MakeObject("z", "b", 2, ""))}).ok());
  ASSERT_TRUE(store_->Commit(2, {Delete(3, MakeObject("z", "b", 2, ""))}).ok());
  ASSERT_TRUE(store_->CreateToken({.name = "t", .role = "viewer", .secret_sha256_hex = "ff"}).ok());
  Reopen();
  EXPECT_EQ(Rev(), 3);
  auto snapshot = store_->Load();
  ASSERT_TRUE(snapshot.ok());
  ASSERT_THAT(snapshot->objects, SizeIs(1));
  ExpectSameObject(snapshot->objects[0], a);
  EXPECT_THAT(Revisions(All()), ElementsAre(1, 2, 3));
  auto token = store_->FindTokenBySecretHash("ff");
  ASSERT_TRUE(token.ok());
  ASSERT_TRUE(token->has_value());
  // And it keeps going from there.
  EXPECT_TRUE(store_->Commit(3, {Create(4, MakeObject("z", "c", 4, ""))}).ok());
}

TEST_P(StoreSuite, TwoStoresOnOneDatabaseSerializeWriters) {
  // Two handles on the same database, as two hub replicas (or a restarted
  // hub) would have: the expected-revision check holds across them.
  auto other = env_->Open();
  ASSERT_TRUE(other.ok()) << other.status();
  ASSERT_TRUE(store_->Commit(0, {Create(1, MakeObject("z", "a", 1, ""))}).ok());
  EXPECT_EQ((*other)->Commit(0, {Create(1, MakeObject("z", "b", 1, ""))}).code(),
            absl::StatusCode::kAborted);
  EXPECT_TRUE((*other)->Commit(1, {Create(2, MakeObject("z", "b", 2, ""))}).ok());
  EXPECT_EQ(Rev(), 2);
}

TEST_P(StoreSuite, ConcurrentWritersExactlyOneWinsEachRevision) {
  constexpr int kThreads = 4;
  constexpr int kAttempts = 40;
  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAttempts; ++i) {
        auto rev = store_->Revision();
        if (!rev.ok()) continue;
        std::string name = "t" + std::to_string(t) + "-" + std::to_string(i);
        absl::Status s =
            store_->Commit(*rev, {Create(*rev + 1, MakeObject("z", name, *rev + 1, ""))});
        if (s.ok()) {
          ++wins;
        } else {
          EXPECT_EQ(s.code(), absl::StatusCode::kAborted) << s;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(Rev(), wins.load());
  auto snapshot = store_->Load();
  ASSERT_TRUE(snapshot.ok());
  EXPECT_EQ(static_cast<int>(snapshot->objects.size()), wins.load());
  EXPECT_THAT(All(), SizeIs(wins.load()));
}

TEST_P(StoreSuite, ReadersDuringCommitsSeeConsistentStates) {
  // Each commit adds one object, so a consistent snapshot at revision R has
  // exactly R objects and a change log of exactly 1..R.
  constexpr int kCommits = 150;
  ASSERT_TRUE(store_->CreateToken({.name = "t", .role = "viewer", .secret_sha256_hex = "ab"}).ok());
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      int64_t last = 0;
      while (!done) {
        auto snapshot = store_->Load();
        ASSERT_TRUE(snapshot.ok()) << snapshot.status();
        ASSERT_EQ(static_cast<int64_t>(snapshot->objects.size()), snapshot->revision);
        ASSERT_GE(snapshot->revision, last);
        last = snapshot->revision;
        auto changes = store_->ChangesSince(0, 1'000'000);
        ASSERT_TRUE(changes.ok()) << changes.status();
        for (size_t i = 0; i < changes->size(); ++i) {
          ASSERT_EQ((*changes)[i].revision, static_cast<int64_t>(i) + 1);
        }
        ASSERT_GE(static_cast<int64_t>(changes->size()), last);
        auto token = store_->FindTokenBySecretHash("ab");
        ASSERT_TRUE(token.ok() && token->has_value());
        ++reads;
      }
    });
  }
  for (int64_t r = 1; r <= kCommits; ++r) {
    ASSERT_TRUE(
        store_->Commit(r - 1, {Create(r, MakeObject("z", "o" + std::to_string(r), r, ""))}).ok());
  }
  // Let the readers overlap the writes at least a little before stopping.
  ::causeway::testing::WaitFor([&] { return reads.load() >= 6; });
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(Rev(), kCommits);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreSuite,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const auto& info) { return BackendName(info.param); });

// --- OpenStore and helpers -----------------------------------------------

TEST(OpenStore, DefaultIsSqliteInAPrivateDataDir) {
  ::causeway::testing::TempDir dir;
  std::string data = dir.File("a/b/data");
  auto store = OpenStore("", data);
  ASSERT_TRUE(store.ok()) << store.status();
  struct stat st {};
  ASSERT_EQ(::stat(data.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700);
  EXPECT_EQ(::stat((data + "/causeway.db").c_str(), &st), 0);
}

TEST(OpenStore, SqlitePath) {
  ::causeway::testing::TempDir dir;
  auto store = OpenStore("sqlite:" + dir.File("x/my.db"), "/nonexistent");
  ASSERT_TRUE(store.ok()) << store.status();
  struct stat st {};
  EXPECT_EQ(::stat(dir.File("x/my.db").c_str(), &st), 0);
}

TEST(OpenStore, UnknownSpecNamesIt) {
  auto store = OpenStore("mysql://x", "/tmp");
  EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(store.status().message()), ::testing::HasSubstr("mysql://x"));
}

TEST(OpenStore, UnopenableSqliteNamesThePath) {
  ::causeway::testing::TempDir dir;
  std::string path = dir.File("not-a-db");
  ASSERT_EQ(::mkdir(path.c_str(), 0700), 0);  // a directory is not a database
  auto store = OpenStore("sqlite:" + path, "");
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(std::string(store.status().message()), ::testing::HasSubstr(path));
}

TEST(OpenStore, UnreachablePostgresIsUnavailableAndNamesTheServer) {
  int port = ::causeway::testing::FreePort();
  auto store =
      OpenStore("postgresql://someone:secret@127.0.0.1:" + std::to_string(port) + "/db", "");
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable) << store.status();
  std::string message(store.status().message());
  EXPECT_THAT(message, ::testing::HasSubstr("someone@127.0.0.1:" + std::to_string(port) + "/db"));
  EXPECT_THAT(message, ::testing::Not(::testing::HasSubstr("secret")));
}

TEST(Op, NamesRoundTrip) {
  for (Op op : {Op::kCreate, Op::kUpdate, Op::kDelete}) EXPECT_EQ(ParseOp(OpName(op)), op);
  EXPECT_EQ(OpName(Op::kUpdate), "update");
  EXPECT_EQ(ParseOp("upsert"), std::nullopt);
}

}  // namespace
}  // namespace causeway::store::testing
