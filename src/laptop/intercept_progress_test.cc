#include "laptop/intercept_progress.h"

#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace causeway::laptop {
namespace {

InterceptPlan ProgressPlan() {
  InterceptPlan plan;
  plan.zone = "staging";
  plan.name = "ana-color";
  plan.cluster = "color";
  plan.key = "ana";
  plan.lease_ms = 30000;
  plan.to = "127.0.0.1:8080";
  plan.tunnel = "edge:9443";
  return plan;
}

TunnelNews News(TunnelNews::Kind kind, std::string message = "", int status = 0,
                bool permanent = false) {
  TunnelNews news;
  news.kind = kind;
  news.message = std::move(message);
  news.status = status;
  news.permanent = permanent;
  return news;
}

TEST(InterceptProgressTest, WrittenNamesTheInterceptKeyAndExpiry) {
  InterceptPlan plan = ProgressPlan();
  std::ostringstream out;
  InterceptProgress progress(plan, out);
  progress.Written({{"owner", "ana"}, {"expires_at", "2026-12-07T15:00:00.000Z"}});
  EXPECT_EQ(out.str(),
            "intercept ana-color written in zone staging: requests to cluster color with key ana "
            "go to 127.0.0.1:8080 (owner ana, lease 30s, expires 2026-12-07T15:00:00.000Z)\n");
  std::ostringstream with_proof;
  InterceptProgress proven(plan, with_proof);
  proven.Written({{"owner", "ana"}, {"proof", "PROOF43"}});
  EXPECT_NE(with_proof.str().find("\nfrom outside staging, send: x-causeway-key: ana~PROOF43\n"),
            std::string::npos)
      << with_proof.str();
}

TEST(InterceptProgressTest, TunnelChangesAreSaidOnceEach) {
  InterceptPlan plan = ProgressPlan();
  std::ostringstream out;
  InterceptProgress progress(plan, out);
  progress.Tunnel(News(TunnelNews::Kind::kConnecting));
  progress.Tunnel(News(TunnelNews::Kind::kDisconnected, "connection refused"));
  progress.Tunnel(News(TunnelNews::Kind::kConnecting));
  progress.Tunnel(News(TunnelNews::Kind::kDisconnected, "connection refused"));
  progress.Tunnel(News(TunnelNews::Kind::kConnected));
  progress.Tunnel(News(TunnelNews::Kind::kDisconnected, "ping timeout"));
  progress.Tunnel(News(TunnelNews::Kind::kRefused, "hub unreachable", 502));
  progress.Tunnel(News(TunnelNews::Kind::kRefused, "hub unreachable", 502));
  progress.Tunnel(News(TunnelNews::Kind::kRefused, "owner is bob", 403, true));
  EXPECT_EQ(out.str(),
            "tunnel connecting to edge:9443\n"
            "tunnel cannot connect (connection refused); retrying\n"
            "tunnel connected to edge:9443: requests with key ana now reach 127.0.0.1:8080\n"
            "tunnel lost (ping timeout); reconnecting\n"
            "tunnel refused by edge:9443: 502 hub unreachable; retrying\n"
            "tunnel refused by edge:9443: 403 owner is bob\n");
}

TEST(InterceptProgressTest, RenewalsAreSaidOnlyWhenTheyFailOrRecover) {
  InterceptPlan plan = ProgressPlan();
  std::ostringstream out;
  InterceptProgress progress(plan, out);
  LeaseEvent failed;
  failed.kind = LeaseEvent::Kind::kRenewFailed;
  failed.status = absl::UnavailableError("cannot reach the hub");
  failed.failures = 1;
  failed.retry_in = std::chrono::milliseconds(1000);
  failed.expires_at = "2026-12-07T15:00:00.000Z";
  progress.Lease(failed);
  LeaseEvent recovered;
  recovered.kind = LeaseEvent::Kind::kRecovered;
  recovered.failures = 3;
  recovered.expires_at = "2026-12-07T15:00:30.000Z";
  progress.Lease(recovered);
  progress.Stopped("interrupted", "intercept ana-color deleted", 1);
  EXPECT_EQ(out.str(),
            "lease renewal failed (cannot reach the hub); still serving, retrying in 1s; the hub "
            "last confirmed the lease until 2026-12-07T15:00:00.000Z\n"
            "lease renewed again after 3 failed attempts; expires 2026-12-07T15:00:30.000Z\n"
            "stopped (interrupted): intercept ana-color deleted; 1 request served over the "
            "tunnel\n");
}

}  // namespace
}  // namespace causeway::laptop
