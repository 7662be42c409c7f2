#include "laptop/intercept_progress.h"

#include "common/strings.h"

namespace causeway::laptop {
namespace {

std::string Seconds(std::chrono::milliseconds ms) {
  if (ms.count() % 1000 == 0) return StrCat(ms.count() / 1000, "s");
  return StrCat(ms.count(), "ms");
}

}  // namespace

void InterceptProgress::Line(const std::string& text) { out_ << text << std::endl; }

void InterceptProgress::Written(const nlohmann::json& intercept) {
  Line(StrCat("intercept ", plan_.name, " written in zone ", plan_.zone, ": requests to cluster ",
              plan_.cluster, " with key ", plan_.key, " go to ", plan_.to, " (owner ",
              intercept.value("owner", "?"), ", lease ",
              Seconds(std::chrono::milliseconds(plan_.lease_ms)), ", expires ",
              intercept.value("expires_at", "?"), ")"));
  // Edge proxies take a key from outside staging only with its proof, which
  // only the owner's write gets back (docs/two-way-routing.md, "Keys at the
  // edge"): hand the developer the header to send.
  const std::string proof = intercept.value("proof", "");
  if (!proof.empty()) {
    Line(StrCat("from outside staging, send: x-causeway-key: ", plan_.key, "~", proof));
  }
}

void InterceptProgress::NoTunnel() {
  Line(
      "no tunnel given (--tunnel or CAUSEWAY_TUNNEL): the key is held, but no request reaches "
      "this laptop until a tunnel is connected");
}

void InterceptProgress::Tunnel(const TunnelNews& news) {
  switch (news.kind) {
    case TunnelNews::Kind::kConnecting:
      if (connecting_said_) return;
      connecting_said_ = true;
      Line(StrCat("tunnel connecting to ", plan_.tunnel));
      return;
    case TunnelNews::Kind::kConnected:
      connected_ = true;
      connecting_said_ = true;
      last_failure_.clear();
      Line(StrCat("tunnel connected to ", plan_.tunnel, ": requests with key ", plan_.key,
                  " now reach ", plan_.to));
      return;
    case TunnelNews::Kind::kDisconnected:
      if (connected_) {
        connected_ = false;
        Line(StrCat("tunnel lost (", news.message, "); reconnecting"));
      } else if (news.message != last_failure_) {
        Line(StrCat("tunnel cannot connect (", news.message, "); retrying"));
      }
      last_failure_ = news.message;
      return;
    case TunnelNews::Kind::kRefused: {
      connected_ = false;
      std::string said = StrCat(news.status, " ", news.message);
      if (said == last_failure_ && !news.permanent) return;
      last_failure_ = said;
      Line(StrCat("tunnel refused by ", plan_.tunnel, ": ", said,
                  news.permanent ? "" : "; retrying"));
      return;
    }
  }
}

void InterceptProgress::TunnelUnrecorded() {
  connected_ = false;
  connecting_said_ = false;
  Line(
      "the hub has no record of the tunnel (the intercept was removed and written again); "
      "opening a new tunnel so that its holder reports it");
}

void InterceptProgress::Lease(const LeaseEvent& event) {
  switch (event.kind) {
    case LeaseEvent::Kind::kRenewed:
      return;  // the normal case says nothing
    case LeaseEvent::Kind::kRenewFailed:
      Line(StrCat("lease renewal failed (", event.status.message(),
                  "); still serving, retrying in ", Seconds(event.retry_in),
                  "; the hub last confirmed the lease until ", event.expires_at));
      return;
    case LeaseEvent::Kind::kRecovered:
      Line(StrCat("lease renewed again after ", event.failures, " failed attempt",
                  event.failures == 1 ? "" : "s", "; expires ", event.expires_at));
      return;
    case LeaseEvent::Kind::kLost:
      Line(StrCat("lease lost: the hub refused the renewal (", event.status.message(), ")"));
      return;
  }
}

void InterceptProgress::Stopped(const std::string& why, const std::string& left,
                                uint64_t requests_served) {
  std::string served;
  if (!plan_.tunnel.empty()) {
    served = StrCat("; ", requests_served, " request", requests_served == 1 ? "" : "s",
                    " served over the tunnel");
  }
  Line(StrCat("stopped (", why, "): ", left, served));
}

}  // namespace causeway::laptop
