// The file collector against real files and real inotify events.
#include "discovery/collectors/file_collector.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <mutex>
#include <vector>

#include "support/process.h"

namespace causeway::discovery {
namespace {

using causeway::testing::TempDir;
using causeway::testing::WaitFor;

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

class Recorder {
 public:
  Collector::Callback callback() {
    return [this](Snapshot s) {
      std::lock_guard lock(mu_);
      sets_.push_back(std::move(s.clusters));
    };
  }
  size_t count() {
    std::lock_guard lock(mu_);
    return sets_.size();
  }
  ClusterSet last() {
    std::lock_guard lock(mu_);
    return sets_.empty() ? ClusterSet{} : sets_.back();
  }

 private:
  std::mutex mu_;
  std::vector<ClusterSet> sets_;
};

std::string OneCluster(const std::string& name, const std::string& host) {
  return "- cluster: " + name + "\n  instances:\n    - {host: " + host + ", port: 80}\n";
}

TEST(FileCollectorTest, ReadsAtStartAndOnInPlaceWrite) {
  TempDir dir;
  const std::string path = dir.File("clusters.yaml");
  WriteFile(path, OneCluster("a", "10.0.0.1"));
  Recorder rec;
  FileCollector collector(path);
  ASSERT_TRUE(collector.Start(rec.callback()).ok());
  ASSERT_EQ(rec.count(), 1u);  // the first set is reported before Start returns
  EXPECT_EQ(rec.last().at("a").at(0).host, "10.0.0.1");

  WriteFile(path, OneCluster("a", "10.0.0.2"));
  ASSERT_TRUE(WaitFor([&] { return rec.count() == 2; }));
  EXPECT_EQ(rec.last().at("a").at(0).host, "10.0.0.2");
  collector.Stop();
}

TEST(FileCollectorTest, SeesAtomicRenameReplace) {
  TempDir dir;
  const std::string path = dir.File("clusters.json");
  WriteFile(path, R"([{"cluster": "a", "instances": []}])");
  Recorder rec;
  FileCollector collector(path);
  ASSERT_TRUE(collector.Start(rec.callback()).ok());
  ASSERT_EQ(rec.count(), 1u);

  // What editors and config tools do: write a temporary, rename it over.
  for (int i = 1; i <= 3; ++i) {
    const std::string tmp = dir.File(".clusters.json.tmp");
    WriteFile(tmp, OneCluster("b", "10.0.1." + std::to_string(i)));
    ASSERT_EQ(std::rename(tmp.c_str(), path.c_str()), 0);
    ASSERT_TRUE(WaitFor([&] { return rec.count() == static_cast<size_t>(1 + i); })) << i;
    EXPECT_EQ(rec.last().count("a"), 0u);
    EXPECT_EQ(rec.last().at("b").at(0).host, "10.0.1." + std::to_string(i));
  }
  collector.Stop();
}

TEST(FileCollectorTest, BadFileKeepsLastGoodSet) {
  TempDir dir;
  const std::string path = dir.File("clusters.yaml");
  WriteFile(path, OneCluster("a", "10.0.0.1"));
  Recorder rec;
  FileCollector collector(path);
  ASSERT_TRUE(collector.Start(rec.callback()).ok());
  ASSERT_EQ(rec.count(), 1u);

  WriteFile(path, "- cluster: a\n  instances: [{host: x, port: nope}]\n");
  // An unrelated file in the same directory: not a reason to re-read.
  WriteFile(dir.File("other.yaml"), "junk");
  WriteFile(path, OneCluster("a", "10.0.0.3"));
  ASSERT_TRUE(WaitFor([&] { return rec.count() == 2; }));
  EXPECT_EQ(rec.last().at("a").at(0).host, "10.0.0.3");  // the bad version was never reported
  collector.Stop();
}

TEST(FileCollectorTest, FileCreatedAfterStart) {
  TempDir dir;
  const std::string path = dir.File("later.yaml");
  Recorder rec;
  FileCollector collector(path);
  ASSERT_TRUE(collector.Start(rec.callback()).ok());
  EXPECT_EQ(rec.count(), 0u);
  WriteFile(path, OneCluster("c", "10.0.0.9"));
  ASSERT_TRUE(WaitFor([&] { return rec.count() == 1; }));
  EXPECT_EQ(rec.last().at("c").at(0).host, "10.0.0.9");
}

TEST(FileCollectorTest, MissingDirectoryFailsStart) {
  FileCollector collector("/nonexistent-dir-for-causeway/clusters.yaml");
  EXPECT_FALSE(collector.Start([](Snapshot) {}).ok());
}

}  // namespace
}  // namespace causeway::discovery
