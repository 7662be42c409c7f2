// The pod collector against a simulated API server (fake_kube_api.h says why
// it is simulated): list then watch, pods turning ready and unready, a pod
// rescheduled to a new address, dropped connections resumed from the last
// resourceVersion, 410 Gone answered by a relist, and bookmarks that keep a
// quiet watch's version fresh.
#include "discovery/kubernetes/kubernetes_collector.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <mutex>

#include "discovery/kubernetes/kube_config.h"
#include "fake_kube_api.h"
#include "support/process.h"

namespace causeway::discovery {
namespace {

using causeway::testing::FakeKubeApi;
using causeway::testing::WaitFor;

class KubernetesCollectorTest : public ::testing::Test {
 protected:
  void StartCollector(const std::string& spec_text, int page_size = 500) {
    auto spec = ParseKubernetesSpec(spec_text);
    ASSERT_TRUE(spec.ok()) << spec.status();
    KubernetesCollector::Options options;
    ASSERT_TRUE(ParseServerUrl(api_.url(), options.config).ok());
    options.min_backoff = std::chrono::milliseconds(20);
    options.max_backoff = std::chrono::milliseconds(200);
    options.page_size = page_size;
    collector_ = std::make_unique<KubernetesCollector>(*spec, options, "kubernetes:" + spec_text);
    ASSERT_TRUE(collector_
                    ->Start([this](Snapshot s) {
                      std::lock_guard lock(mu_);
                      sets_.push_back(std::move(s.clusters));
                    })
                    .ok());
  }
  void TearDown() override {
    if (collector_) collector_->Stop();
  }

  size_t reports() {
    std::lock_guard lock(mu_);
    return sets_.size();
  }
  std::optional<ClusterSet> last() {
    std::lock_guard lock(mu_);
    if (sets_.empty()) return std::nullopt;
    return sets_.back();
  }
  // Waits until the last reported set has exactly these hosts per cluster.
  bool WaitForHosts(const std::map<std::string, std::vector<std::string>>& want) {
    return WaitFor([&] {
      auto set = last();
      if (!set || set->size() != want.size()) return false;
      for (const auto& [cluster, hosts] : want) {
        auto it = set->find(cluster);
        if (it == set->end() || it->second.size() != hosts.size()) return false;
        for (size_t i = 0; i < hosts.size(); ++i) {
          if (it->second[i].host != hosts[i]) return false;
        }
      }
      return true;
    });
  }

  // Pods users-0 … users-(n-1) of cluster "users" in namespace staging, all
  // ready; returns their addresses in order.
  std::vector<std::string> ApplyUsers(int n) {
    std::vector<std::string> hosts;
    for (int i = 0; i < n; ++i) {
      hosts.push_back("10.0.0." + std::to_string(10 + i));
      api_.Apply("staging",
                 FakeKubeApi::Pod("users-" + std::to_string(i), "users", hosts.back(), true));
    }
    return hosts;
  }

  FakeKubeApi api_;  // declared first: outlives the collector
  std::unique_ptr<KubernetesCollector> collector_;
  std::mutex mu_;
  std::vector<ClusterSet> sets_;
};

TEST_F(KubernetesCollectorTest, ListsThenFollowsReadinessAndRescheduling) {
  api_.Apply("staging", FakeKubeApi::Pod("users-a", "users", "10.0.0.1", true));
  api_.Apply("staging", FakeKubeApi::Pod("users-b", "users", "10.0.0.2", false));
  api_.Apply("staging", FakeKubeApi::Pod("billing-a", "billing", "10.0.1.1", true));
  api_.Apply("staging", FakeKubeApi::Pod("sidecar", "", "10.0.9.9", true));  // no cluster label
  api_.Apply("other", FakeKubeApi::Pod("users-x", "users", "10.9.0.1", true));
  StartCollector("namespace=staging");

  ASSERT_TRUE(WaitForHosts({{"users", {"10.0.0.1"}}, {"billing", {"10.0.1.1"}}}));
  const auto first = *last();
  const auto& instance = first.at("users")[0];
  EXPECT_EQ(instance.port, 8080u);
  EXPECT_EQ(instance.metadata.at("app"), "users");
  EXPECT_EQ(instance.metadata.at("node_name"), "node-1");
  EXPECT_EQ(instance.metadata.at("host_ip"), "192.168.1.10");
  EXPECT_EQ(instance.metadata.count("causeway.io/cluster"), 0u);
  ASSERT_TRUE(WaitFor([&] { return api_.open_watches() == 1; }));

  // users-b turns ready.
  api_.Apply("staging", FakeKubeApi::Pod("users-b", "users", "10.0.0.2", true));
  ASSERT_TRUE(WaitForHosts({{"users", {"10.0.0.1", "10.0.0.2"}}, {"billing", {"10.0.1.1"}}}));

  // users-a turns unready.
  api_.Apply("staging", FakeKubeApi::Pod("users-a", "users", "10.0.0.1", false));
  ASSERT_TRUE(WaitForHosts({{"users", {"10.0.0.2"}}, {"billing", {"10.0.1.1"}}}));

  // billing-a is rescheduled: deleted, then a new pod elsewhere becomes ready.
  api_.Delete("staging", "billing-a");
  api_.Apply("staging", FakeKubeApi::Pod("billing-b", "billing", "10.0.2.7", false));
  ASSERT_TRUE(WaitForHosts({{"users", {"10.0.0.2"}}, {"billing", {}}}));  // known, no instance
  api_.Apply("staging", FakeKubeApi::Pod("billing-b", "billing", "10.0.2.7", true));
  ASSERT_TRUE(WaitForHosts({{"users", {"10.0.0.2"}}, {"billing", {"10.0.2.7"}}}));

  // Every pod of a cluster gone: the cluster vanishes.
  api_.Delete("staging", "billing-b");
  ASSERT_TRUE(WaitForHosts({{"users", {"10.0.0.2"}}}));
  EXPECT_EQ(api_.lists(), 1);
}

TEST_F(KubernetesCollectorTest, DroppedWatchResumesFromLastVersionWithoutRelisting) {
  api_.Apply("staging", FakeKubeApi::Pod("users-a", "users", "10.0.0.1", true));
  StartCollector("namespace=staging");
  ASSERT_TRUE(WaitForHosts({{"users", {"10.0.0.1"}}}));
  ASSERT_TRUE(WaitFor([&] { return api_.open_watches() == 1; }));

  // Changes happen while the connection is lost.
  api_.PauseWatches(true);
  const std::string seen = std::to_string(api_.resource_version());
  api_.Apply("staging", FakeKubeApi::Pod("users-b", "users", "10.0.0.2", true));
  api_.Delete("staging", "users-a");
  api_.DropWatches();
  api_.PauseWatches(false);

  ASSERT_TRUE(WaitForHosts({{"users", {"10.0.0.2"}}}));
  EXPECT_EQ(api_.lists(), 1);
  EXPECT_GE(api_.watches(), 2);
  EXPECT_EQ(api_.last_watch_version(), seen);
}

class GoneTest : public KubernetesCollectorTest, public ::testing::WithParamInterface<bool> {};

TEST_P(GoneTest, ExpiredVersionRelists) {
  api_.Use410Status(GetParam());
  api_.Apply("staging", FakeKubeApi::Pod("users-a", "users", "10.0.0.1", true));
  StartCollector("namespace=staging");
  ASSERT_TRUE(WaitForHosts({{"users", {"10.0.0.1"}}}));
  ASSERT_TRUE(WaitFor([&] { return api_.open_watches() == 1; }));

  // The collector misses changes, and the history it would resume from is
  // compacted away: it must list again.
  api_.PauseWatches(true);
  api_.Apply("staging", FakeKubeApi::Pod("users-b", "users", "10.0.0.2", true));
  api_.Apply("staging", FakeKubeApi::Pod("users-a", "users", "10.0.0.1", false));
  api_.Compact();
  api_.DropWatches();
  api_.PauseWatches(false);

  ASSERT_TRUE(WaitForHosts({{"users", {"10.0.0.2"}}}));
  EXPECT_EQ(api_.lists(), 2);
  EXPECT_GE(api_.gone_responses(), 1);
  // And it watches again from the new list.
  ASSERT_TRUE(WaitFor([&] { return api_.open_watches() == 1; }));
  api_.Apply("staging", FakeKubeApi::Pod("users-c", "users", "10.0.0.3", true));
  ASSERT_TRUE(WaitForHosts({{"users", {"10.0.0.2", "10.0.0.3"}}}));
}

INSTANTIATE_TEST_SUITE_P(ErrorEventOrHttpStatus, GoneTest, ::testing::Bool());

TEST_F(KubernetesCollectorTest, BookmarkKeepsAQuietWatchFresh) {
  api_.Apply("staging", FakeKubeApi::Pod("users-a", "users", "10.0.0.1", true));
  StartCollector("namespace=staging");
  ASSERT_TRUE(WaitForHosts({{"users", {"10.0.0.1"}}}));
  ASSERT_TRUE(WaitFor([&] { return api_.open_watches() == 1; }));

  // Other namespaces move the shared resourceVersion on; this watch sees
  // nothing but the bookmark.
  for (int i = 0; i < 5; ++i) {
    api_.Apply("elsewhere", FakeKubeApi::Pod("p" + std::to_string(i), "x", "10.5.0.1", true));
  }
  api_.SendBookmarks();
  const std::string bookmark = std::to_string(api_.resource_version());
  ASSERT_TRUE(WaitFor([&] { return api_.bookmarks_sent() == 1; }));
  api_.Compact();
  api_.DropWatches();
  ASSERT_TRUE(WaitFor([&] { return api_.watches() >= 2 && api_.open_watches() == 1; }));
  EXPECT_EQ(api_.last_watch_version(), bookmark);
  EXPECT_EQ(api_.gone_responses(), 0);
  EXPECT_EQ(api_.lists(), 1);
}

TEST_F(KubernetesCollectorTest, SeveralNamespacesReportOnceAllAreListed) {
  api_.Apply("a", FakeKubeApi::Pod("users-a", "users", "10.0.0.1", true));
  api_.Apply("b", FakeKubeApi::Pod("users-b", "users", "10.0.0.2", true));
  api_.Apply("b", FakeKubeApi::Pod("web-b", "web", "10.0.3.1", true));
  StartCollector("namespace=a,b");
  ASSERT_TRUE(WaitForHosts({{"users", {"10.0.0.1", "10.0.0.2"}}, {"web", {"10.0.3.1"}}}));
  // The first report already held both namespaces.
  std::lock_guard lock(mu_);
  EXPECT_EQ(sets_.front().at("users").size(), 2u);
}

TEST_F(KubernetesCollectorTest, SelectorAndCustomPortAndHostNetwork) {
  auto pod = FakeKubeApi::Pod("edge-a", "edge", "10.0.0.1", true, 9000);
  pod["spec"]["hostNetwork"] = true;
  api_.Apply("default", pod);
  api_.Apply("default", FakeKubeApi::Pod("users-a", "users", "10.0.0.2", true));
  StartCollector("selector=app=edge");
  ASSERT_TRUE(WaitForHosts({{"edge", {"192.168.1.10"}}}));
  EXPECT_EQ(last()->at("edge")[0].port, 9000u);
}

// A namespace larger than a page is listed in pages and reported whole.
TEST_F(KubernetesCollectorTest, ListInPagesReportsEveryPod) {
  std::vector<std::string> hosts = ApplyUsers(7);
  StartCollector("namespace=staging", /*page_size=*/2);
  ASSERT_TRUE(WaitForHosts({{"users", hosts}}));
  EXPECT_EQ(api_.lists(), 1);
  EXPECT_EQ(api_.list_pages(), 4);
  std::lock_guard lock(mu_);
  EXPECT_EQ(sets_.size(), 1u);  // one report, with all seven
}

// The continue token expires between two pages (etcd compacted the
// snapshot of a slow list): the collector lists again from the first page
// and never reports the pages it had, nor an empty namespace.
TEST_F(KubernetesCollectorTest, ContinueTokenExpiredMidListStartsOverWithoutPartialReport) {
  std::vector<std::string> hosts = ApplyUsers(7);
  api_.CompactAfterListPages(2);  // the third page's token is gone
  StartCollector("namespace=staging", /*page_size=*/2);
  ASSERT_TRUE(WaitForHosts({{"users", hosts}}));
  EXPECT_EQ(api_.expired_continues(), 1);
  EXPECT_EQ(api_.lists(), 2);
  // The watch starts from the complete list's version and follows changes.
  ASSERT_TRUE(WaitFor([&] { return api_.open_watches() == 1; }));
  api_.Apply("staging", FakeKubeApi::Pod("users-9", "users", "10.0.0.99", true));
  hosts.push_back("10.0.0.99");
  ASSERT_TRUE(WaitForHosts({{"users", hosts}}));
  std::lock_guard lock(mu_);
  ASSERT_EQ(sets_.size(), 2u);
  EXPECT_EQ(sets_.front().at("users").size(), 7u);  // the first report was whole
}

// A relist after a watch's 410 whose own pages expire: every report the
// hub ever gets holds the whole namespace.
TEST_F(KubernetesCollectorTest, RelistAfterGoneNeverPublishesPartialView) {
  std::vector<std::string> hosts = ApplyUsers(5);
  StartCollector("namespace=staging", /*page_size=*/2);
  ASSERT_TRUE(WaitForHosts({{"users", hosts}}));
  ASSERT_TRUE(WaitFor([&] { return api_.open_watches() == 1; }));

  api_.PauseWatches(true);
  api_.Apply("staging", FakeKubeApi::Pod("users-5", "users", "10.0.0.15", true));
  hosts.push_back("10.0.0.15");
  api_.Compact();
  api_.CompactAfterListPages(1);  // the relist's second page meets an expired token
  api_.DropWatches();
  api_.PauseWatches(false);

  ASSERT_TRUE(WaitForHosts({{"users", hosts}}));
  EXPECT_EQ(api_.expired_continues(), 1);
  EXPECT_EQ(api_.lists(), 3);  // the first list, the relist cut short, the relist
  std::lock_guard lock(mu_);
  for (const ClusterSet& set : sets_) {
    ASSERT_EQ(set.size(), 1u);
    EXPECT_GE(set.at("users").size(), 5u);
  }
}

// Tokens that always expire: the list fails and is retried after a
// backoff, and nothing is ever reported.
TEST_F(KubernetesCollectorTest, ListThatNeverCompletesReportsNothing) {
  ApplyUsers(5);
  api_.ExpireEveryContinueToken(true);
  StartCollector("namespace=staging", /*page_size=*/2);
  // Four tries per list (the first and three restarts), then a backoff and
  // another list: eight expired tokens mean two whole lists failed.
  ASSERT_TRUE(WaitFor([&] { return api_.expired_continues() >= 8; }));
  EXPECT_GE(api_.lists(), 8);
  EXPECT_EQ(reports(), 0u);
}

// Nothing listens at first: the collector retries with a backoff (seen by
// a listener that takes and drops its connections) and reports once the
// API server is there; Stop() is prompt in either state.
TEST_F(KubernetesCollectorTest, ApiServerDownAtStartIsRetried) {
  namespace asio = boost::asio;
  asio::io_context ioc;
  asio::ip::tcp::acceptor refuser(ioc, {asio::ip::make_address("127.0.0.1"), 0});
  const int port = refuser.local_endpoint().port();
  auto spec = ParseKubernetesSpec("namespace=x");
  ASSERT_TRUE(spec.ok());
  KubernetesCollector::Options options;
  ASSERT_TRUE(ParseServerUrl("http://127.0.0.1:" + std::to_string(port), options.config).ok());
  options.min_backoff = std::chrono::milliseconds(20);
  options.max_backoff = std::chrono::milliseconds(100);
  std::atomic<int> reported{0};
  KubernetesCollector collector(*spec, options, "kubernetes:namespace=x");
  ASSERT_TRUE(collector.Start([&](Snapshot) { ++reported; }).ok());
  // Three connections taken and dropped: three failed lists, retried.
  for (int i = 0; i < 3; ++i) {
    asio::ip::tcp::socket s(ioc);
    refuser.accept(s);
  }
  EXPECT_EQ(reported.load(), 0);
  refuser.close();
  FakeKubeApi server(port);
  server.Apply("x", FakeKubeApi::Pod("users-a", "users", "10.0.0.1", true));
  ASSERT_TRUE(WaitFor([&] { return reported.load() == 1; }));
  EXPECT_EQ(server.lists(), 1);
  const auto before = std::chrono::steady_clock::now();
  collector.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(2));
}

}  // namespace
}  // namespace causeway::discovery
