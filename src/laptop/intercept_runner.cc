#include "laptop/intercept_runner.h"

#include <signal.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <utility>

#include "cli/hub_client.h"
#include "common/status.h"
#include "common/strings.h"
#include "laptop/intercept_lease.h"
#include "laptop/intercept_progress.h"
#include "laptop/tunnel_link.h"

namespace causeway::laptop {
namespace {

// The CLI's hub client as the lease's view of the REST API.
class CliLeaseHub final : public LeaseHub {
 public:
  explicit CliLeaseHub(cli::HubClient& hub) : hub_(hub) {}
  absl::StatusOr<Json> Put(const std::string& path, const Json& body) override {
    return hub_.Put(path, body);
  }
  absl::StatusOr<Json> Get(const std::string& path) override { return hub_.Get(path); }
  absl::StatusOr<Json> Delete(const std::string& path) override { return hub_.Delete(path); }

 private:
  cli::HubClient& hub_;
};

// The error a permanent refusal of the tunnel ends the command with.
absl::Status RefusalError(const TunnelNews& news, const std::string& tunnel) {
  std::string message = StrCat("the tunnel's holder at ", tunnel,
                               " refused the tunnel: ", news.status, " ", news.message);
  switch (news.status) {
    case 401:
      return absl::UnauthenticatedError(message);
    case 403:
      return absl::PermissionDeniedError(message);
    case 404:
      return absl::NotFoundError(message);
    default:
      return absl::UnavailableError(message);
  }
}

class InterceptRunner {
 public:
  InterceptRunner(const InterceptPlan& plan, cli::HubClient& hub, std::ostream& out)
      : plan_(plan),
        token_(hub.connection().token),
        signals_(io_, SIGINT, SIGTERM),
        lease_hub_(hub),
        lease_(LeaseSpec{plan.zone, plan.name, plan.cluster, plan.key, plan.lease_ms}, lease_hub_,
               RealTime::Instance(), io_, [this](const LeaseEvent& e) { OnLease(e); }),
        progress_(plan_, out) {}

  absl::Status Run() {
    signals_.async_wait([this](const boost::system::error_code& error, int signal) {
      if (!error) Finish(absl::OkStatus(), signal == SIGINT ? "interrupted" : "terminated");
    });
    // The tunnel client checks its options (and reads the CA) before the
    // intercept is written, so a bad --tunnel or --tunnel-ca writes nothing.
    if (!plan_.tunnel.empty()) {
      CW_ASSIGN_OR_RETURN(tunnel_, NewTunnel());
    }
    CW_ASSIGN_OR_RETURN(Json written, lease_.Acquire());
    progress_.Written(written);
    if (tunnel_ != nullptr) {
      if (absl::Status started = tunnel_->Start(); !started.ok()) {
        Finish(started, "the tunnel did not start");
        return Shutdown();
      }
    } else {
      progress_.NoTunnel();
    }
    lease_.StartRenewing();
    io_.run();
    return Shutdown();
  }

 private:
  absl::StatusOr<std::unique_ptr<proxy::tunnel::TunnelClient>> NewTunnel() {
    return CreateTunnelLink(plan_, token_, [this](const TunnelNews& news) {
      boost::asio::post(io_, [this, news] { OnTunnel(news); });
    });
  }

  // The tunnel is up but the renewal's answer has no record of it, so no
  // key route leads here: after a hub outage longer than the lease the
  // sweeper removed the intercept and the renewal wrote it anew, without
  // `tunnel`. The holder reports a tunnel when it is opened: open a new one.
  // Only when the tunnel was up at the previous renewal too, so that this
  // renewal was sent after the holder's report (made before its 101).
  void ReopenTunnelIfUnrecorded() {
    const bool connected = tunnel_ != nullptr && tunnel_->connected();
    const bool unrecorded = !lease_.current().contains("tunnel");
    const bool was_connected = connected_at_last_renewal_;
    connected_at_last_renewal_ = connected;
    if (!connected || !was_connected || !unrecorded) return;
    progress_.TunnelUnrecorded();
    tunnel_->Stop();
    served_before_ += tunnel_->requests_served();
    connected_at_last_renewal_ = false;
    absl::StatusOr<std::unique_ptr<proxy::tunnel::TunnelClient>> fresh = NewTunnel();
    absl::Status started = fresh.ok() ? (*fresh)->Start() : fresh.status();
    tunnel_ = fresh.ok() ? *std::move(fresh) : nullptr;
    if (!started.ok()) Finish(started, "the tunnel did not start again");
  }

  void OnLease(const LeaseEvent& event) {
    progress_.Lease(event);
    if (event.kind == LeaseEvent::Kind::kRenewed || event.kind == LeaseEvent::Kind::kRecovered) {
      ReopenTunnelIfUnrecorded();
    }
    if (event.kind != LeaseEvent::Kind::kLost) return;
    lease_lost_ = true;
    Finish(event.status, "the lease was lost");
  }

  void OnTunnel(const TunnelNews& news) {
    progress_.Tunnel(news);
    if (news.kind == TunnelNews::Kind::kRefused && news.permanent) {
      Finish(RefusalError(news, plan_.tunnel), "the tunnel was refused");
    }
  }

  // Ends the main loop; the first reason given is the one reported.
  void Finish(absl::Status status, std::string why) {
    if (finishing_) return;
    finishing_ = true;
    exit_status_ = std::move(status);
    why_ = std::move(why);
    io_.stop();
  }

  absl::Status Shutdown() {
    // A second Ctrl-C during the shutdown ends the process at once.
    boost::system::error_code ignored;
    signals_.clear(ignored);
    uint64_t served = served_before_;
    if (tunnel_ != nullptr) {
      tunnel_->Stop();
      served += tunnel_->requests_served();
    }
    std::string left = StrCat("intercept ", plan_.name, " left to its lease (expires ",
                              lease_.current().value("expires_at", "?"), ")");
    if (!lease_lost_) {
      absl::Status released = lease_.Release();
      if (released.ok()) {
        left = StrCat("intercept ", plan_.name, " deleted");
      } else {
        left = StrCat("could not delete intercept ", plan_.name, " (", released.message(),
                      "); its lease ends it at ", lease_.current().value("expires_at", "?"));
        if (exit_status_.ok()) exit_status_ = released;
      }
    }
    progress_.Stopped(why_, left, served);
    return exit_status_;
  }

  const InterceptPlan& plan_;
  const std::string token_;
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  CliLeaseHub lease_hub_;
  InterceptLease lease_;
  InterceptProgress progress_;
  // Declared after io_: stopped (its thread joined) in Shutdown, before the
  // io_context it posts to goes away.
  std::unique_ptr<proxy::tunnel::TunnelClient> tunnel_;
  uint64_t served_before_ = 0;  // by tunnels replaced since the start
  bool connected_at_last_renewal_ = false;
  bool finishing_ = false;
  bool lease_lost_ = false;
  absl::Status exit_status_;
  std::string why_;
};

}  // namespace

absl::Status RunIntercept(const InterceptPlan& plan, cli::HubClient& hub, std::ostream& progress) {
  InterceptRunner runner(plan, hub, progress);
  return runner.Run();
}

}  // namespace causeway::laptop
