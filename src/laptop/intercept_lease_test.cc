#include "laptop/intercept_lease.h"

#include <boost/asio/io_context.hpp>
#include <deque>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace causeway::laptop {
namespace {

// A hub that records each call and answers from a script (default: OK with
// an intercept at a version that moves with each write).
class ScriptedLeaseHub final : public LeaseHub {
 public:
  absl::StatusOr<Json> Put(const std::string& path, const Json& body) override {
    calls.push_back("PUT " + path);
    bodies.push_back(body);
    return Answer(puts);
  }
  absl::StatusOr<Json> Get(const std::string& path) override {
    calls.push_back("GET " + path);
    return Answer(gets);
  }
  absl::StatusOr<Json> Delete(const std::string& path) override {
    calls.push_back("DELETE " + path);
    return Answer(deletes);
  }

  std::vector<std::string> calls;
  std::vector<Json> bodies;
  std::deque<absl::StatusOr<Json>> puts, gets, deletes;

 private:
  absl::StatusOr<Json> Answer(std::deque<absl::StatusOr<Json>>& script) {
    if (script.empty()) return Intercept(std::to_string(++version_), "ana");
    absl::StatusOr<Json> next = script.front();
    script.pop_front();
    return next;
  }
  int version_ = 0;

 public:
  static Json Intercept(const std::string& version, const std::string& owner) {
    return {{"version", version},
            {"owner", owner},
            {"expires_at", "2026-12-07T15:00:0" + version.substr(0, 1) + ".000Z"}};
  }
};

class InterceptLeaseTest : public ::testing::Test {
 protected:
  InterceptLeaseTest()
      : lease_(LeaseSpec{"staging", "ana-color", "color", "ana", 3000}, hub_, time_, io_,
               [this](const LeaseEvent& e) { Record(e); }) {}

  // Plain renewals counted; the rest kept in order.
  void Record(const LeaseEvent& e) {
    if (e.kind == LeaseEvent::Kind::kRenewed) {
      ++renewed_;
    } else {
      events_.push_back(e);
    }
  }

  // Moves the clock by `d` and runs the renewals that came due.
  void Advance(std::chrono::milliseconds d) {
    time_.Advance(d);
    io_.restart();
    io_.poll();
  }
  size_t Puts() const {
    size_t n = 0;
    for (const std::string& c : hub_.calls) n += c.starts_with("PUT ");
    return n;
  }

  SimulatedTime time_;
  boost::asio::io_context io_;
  ScriptedLeaseHub hub_;
  std::vector<LeaseEvent> events_;
  int renewed_ = 0;
  InterceptLease lease_;
};

TEST_F(InterceptLeaseTest, AcquireWritesWithoutAVersion) {
  absl::StatusOr<Json> written = lease_.Acquire();
  ASSERT_TRUE(written.ok()) << written.status();
  ASSERT_EQ(hub_.calls, std::vector<std::string>{"PUT /v1/zones/staging/intercepts/ana-color"});
  EXPECT_EQ(hub_.bodies[0], (Json{{"cluster", "color"}, {"key", "ana"}, {"lease_ms", 3000}}));
  EXPECT_EQ(lease_.current().value("owner", ""), "ana");
}

TEST_F(InterceptLeaseTest, AcquireReturnsTheHubsRefusal) {
  hub_.puts.push_back(absl::FailedPreconditionError("key \"ana\" is held by token \"bob\""));
  absl::StatusOr<Json> written = lease_.Acquire();
  EXPECT_TRUE(absl::IsFailedPrecondition(written.status()));
  EXPECT_TRUE(IsPermanentLeaseError(written.status()));
  EXPECT_FALSE(IsPermanentLeaseError(absl::UnavailableError("cannot reach the hub")));
}

TEST_F(InterceptLeaseTest, RenewsEveryThirdOfTheLease) {
  ASSERT_TRUE(lease_.Acquire().ok());
  lease_.StartRenewing();
  Advance(std::chrono::milliseconds(999));
  EXPECT_EQ(Puts(), 1u);
  Advance(std::chrono::milliseconds(1));
  EXPECT_EQ(Puts(), 2u);
  Advance(std::chrono::milliseconds(1000));
  EXPECT_EQ(Puts(), 3u);
  EXPECT_EQ(lease_.current().value("version", ""), "3");
  EXPECT_EQ(renewed_, 2);
  EXPECT_TRUE(events_.empty());
  lease_.StopRenewing();
  Advance(std::chrono::milliseconds(5000));
  EXPECT_EQ(Puts(), 3u);
}

TEST_F(InterceptLeaseTest, FailedRenewalsRetryAndRecoveryIsReported) {
  InterceptLease long_lease(LeaseSpec{"staging", "ana-color", "color", "ana", 30000}, hub_, time_,
                            io_, [this](const LeaseEvent& e) { Record(e); });
  EXPECT_EQ(long_lease.RetryDelay(1), std::chrono::milliseconds(1000));
  EXPECT_EQ(long_lease.RetryDelay(3), std::chrono::milliseconds(4000));
  EXPECT_EQ(long_lease.RetryDelay(9), std::chrono::milliseconds(10000));
  ASSERT_TRUE(long_lease.Acquire().ok());
  long_lease.StartRenewing();
  for (int i = 0; i < 2; ++i) hub_.puts.push_back(absl::UnavailableError("hub down"));
  Advance(std::chrono::milliseconds(10000));
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].kind, LeaseEvent::Kind::kRenewFailed);
  EXPECT_EQ(events_[0].retry_in, std::chrono::milliseconds(1000));
  EXPECT_EQ(events_[0].expires_at, long_lease.current().value("expires_at", ""));
  Advance(std::chrono::milliseconds(1000));
  ASSERT_EQ(events_.size(), 2u);
  EXPECT_EQ(events_[1].failures, 2);
  EXPECT_EQ(events_[1].retry_in, std::chrono::milliseconds(2000));
  Advance(std::chrono::milliseconds(2000));
  ASSERT_EQ(events_.size(), 3u);
  EXPECT_EQ(events_[2].kind, LeaseEvent::Kind::kRecovered);
  EXPECT_EQ(events_[2].failures, 2);
  Advance(std::chrono::milliseconds(10000));
  EXPECT_EQ(events_.size(), 3u);
  EXPECT_EQ(renewed_, 1);
  EXPECT_EQ(Puts(), 5u);
}

TEST_F(InterceptLeaseTest, ARefusedRenewalEndsTheHold) {
  ASSERT_TRUE(lease_.Acquire().ok());
  lease_.StartRenewing();
  hub_.puts.push_back(absl::PermissionDeniedError("held by token \"bob\""));
  Advance(std::chrono::milliseconds(1000));
  ASSERT_EQ(events_.size(), 1u);
  EXPECT_EQ(events_[0].kind, LeaseEvent::Kind::kLost);
  EXPECT_TRUE(absl::IsPermissionDenied(events_[0].status));
  Advance(std::chrono::milliseconds(10000));
  EXPECT_EQ(Puts(), 2u) << "no renewal after a refusal";
}

TEST_F(InterceptLeaseTest, ReleaseDeletesTheVersionItSaw) {
  ASSERT_TRUE(lease_.Acquire().ok());
  ASSERT_TRUE(lease_.Release().ok());
  EXPECT_EQ(hub_.calls.back(), "DELETE /v1/zones/staging/intercepts/ana-color?version=1");
}

TEST_F(InterceptLeaseTest, ReleaseFollowsAMovedVersionOfItsOwn) {
  ASSERT_TRUE(lease_.Acquire().ok());
  hub_.deletes.push_back(absl::FailedPreconditionError("version conflict"));
  hub_.gets.push_back(ScriptedLeaseHub::Intercept("7", "ana"));
  ASSERT_TRUE(lease_.Release().ok());
  EXPECT_EQ(hub_.calls.back(), "DELETE /v1/zones/staging/intercepts/ana-color?version=7");
}

TEST_F(InterceptLeaseTest, ReleaseLeavesSomeoneElsesIntercept) {
  ASSERT_TRUE(lease_.Acquire().ok());
  hub_.deletes.push_back(absl::FailedPreconditionError("version conflict"));
  hub_.gets.push_back(ScriptedLeaseHub::Intercept("7", "bob"));
  absl::Status released = lease_.Release();
  EXPECT_FALSE(released.ok());
  EXPECT_NE(released.message().find("bob"), std::string::npos) << released;
  EXPECT_EQ(hub_.calls.back(), "GET /v1/zones/staging/intercepts/ana-color");
}

TEST_F(InterceptLeaseTest, ReleaseOfAGoneInterceptSucceeds) {
  ASSERT_TRUE(lease_.Acquire().ok());
  hub_.deletes.push_back(absl::NotFoundError("no such intercept"));
  EXPECT_TRUE(lease_.Release().ok());
  hub_.deletes.push_back(absl::UnavailableError("hub down"));
  EXPECT_TRUE(absl::IsUnavailable(lease_.Release()));
}

}  // namespace
}  // namespace causeway::laptop
