// kill -9 of a writer loses nothing it was told was committed.
#include <signal.h>

#include <fstream>
#include <set>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "support/store/store_test_env.h"

namespace causeway::store::testing {
namespace {

using ::causeway::testing::Subprocess;
using ::causeway::testing::WaitFor;

// Complete lines of `path` as revisions (a partial last line was cut by the kill).
std::vector<int64_t> AckedRevisions(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  std::vector<int64_t> revisions;
  size_t start = 0;
  for (size_t nl = s.find('\n'); nl != std::string::npos; nl = s.find('\n', start)) {
    revisions.push_back(std::stoll(s.substr(start, nl - start)));
    start = nl + 1;
  }
  return revisions;
}

class StoreCrash : public ::testing::TestWithParam<Backend> {};

TEST_P(StoreCrash, KilledWriterLosesNothingAcknowledged) {
  StoreEnv env(GetParam());
  ::causeway::testing::TempDir logs;
  int64_t acked_total = 0;
  // Twice: the second writer starts from what recovery left after the first kill.
  for (int round = 0; round < 2; ++round) {
    std::string out = logs.File("acks-" + std::to_string(round));
    Subprocess writer({.argv = {CAUSEWAY_STORE_CRASH_WRITER, env.spec(), env.data_dir() + "/data"},
                       .log_path = out});
    const size_t target = 200;
    ASSERT_TRUE(WaitFor([&] { return AckedRevisions(out).size() >= target || !writer.Running(); },
                        std::chrono::seconds(60)));
    ASSERT_TRUE(writer.Running()) << "writer exited early:\n" << writer.Log();
    writer.Signal(SIGKILL);
    writer.Wait();

    std::vector<int64_t> acked = AckedRevisions(out);
    ASSERT_FALSE(acked.empty());
    acked_total += static_cast<int64_t>(acked.size());
    auto store = env.Open();
    ASSERT_TRUE(store.ok()) << store.status();
    auto snapshot = (*store)->Load();
    ASSERT_TRUE(snapshot.ok()) << snapshot.status();
    // Every acknowledged commit is there; at most the one in flight (≤ 3
    // changes) beyond the last acknowledgement.
    EXPECT_GE(snapshot->revision, acked.back());
    EXPECT_LE(snapshot->revision, acked.back() + 3);
    std::set<std::string> names;
    for (const auto& o : snapshot->objects) names.insert(o.key.name);
    for (int64_t rev : acked) EXPECT_TRUE(names.count("c-" + std::to_string(rev))) << rev;
    // One object per change, and the change log agrees with the objects.
    EXPECT_EQ(static_cast<int64_t>(snapshot->objects.size()), snapshot->revision);
    auto changes = (*store)->ChangesSince(0, 1'000'000);
    ASSERT_TRUE(changes.ok());
    ASSERT_EQ(static_cast<int64_t>(changes->size()), snapshot->revision);
    for (size_t i = 0; i < changes->size(); ++i) {
      ASSERT_EQ((*changes)[i].revision, static_cast<int64_t>(i) + 1);
      ASSERT_TRUE(names.count((*changes)[i].key.name));
    }
  }
  RecordProperty("acknowledged_commits", static_cast<int>(acked_total));
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreCrash,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const auto& info) { return BackendName(info.param); });

}  // namespace
}  // namespace causeway::store::testing
