#include "laptop/intercept_lease.h"

#include <algorithm>
#include <utility>

#include "common/strings.h"

namespace causeway::laptop {
namespace {

// Attempts at deleting when the version keeps moving under the delete (the
// holder writing and clearing `tunnel` as the tunnel closes).
constexpr int kReleaseAttempts = 5;

std::string VersionOf(const Json& object) {
  if (!object.is_object() || !object.contains("version")) return "";
  const Json& v = object["version"];
  return v.is_string() ? v.get<std::string>() : v.dump();
}

}  // namespace

bool IsPermanentLeaseError(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
      return true;
    default:
      return false;
  }
}

InterceptLease::InterceptLease(LeaseSpec spec, LeaseHub& hub, TimeSource& time,
                               boost::asio::io_context& io, EventCallback on_event)
    : spec_(std::move(spec)),
      hub_(hub),
      time_(time),
      on_event_(std::move(on_event)),
      timer_(time.CreateTimer(io)) {}

InterceptLease::~InterceptLease() { StopRenewing(); }

std::string InterceptLease::path() const {
  return StrCat("/v1/zones/", spec_.zone, "/intercepts/", spec_.name);
}

std::chrono::milliseconds InterceptLease::interval() const {
  return std::chrono::milliseconds(spec_.lease_ms / 3);
}

std::chrono::milliseconds InterceptLease::RetryDelay(int failures) const {
  std::chrono::milliseconds delay{1000};
  for (int i = 1; i < failures && delay < interval(); ++i) delay *= 2;
  return std::min(delay, interval());
}

absl::StatusOr<Json> InterceptLease::Acquire() {
  // No version: a PUT of an intercept creates or renews it, so the laptop
  // never reads first (and the holder's `tunnel` write cannot make it fail).
  Json body = {{"cluster", spec_.cluster}, {"key", spec_.key}, {"lease_ms", spec_.lease_ms}};
  absl::StatusOr<Json> answer = hub_.Put(path(), body);
  if (answer.ok()) current_ = *answer;
  return answer;
}

void InterceptLease::StartRenewing() {
  failures_ = 0;
  ScheduleRenewal(interval());
}

void InterceptLease::StopRenewing() { timer_->Cancel(); }

void InterceptLease::ScheduleRenewal(std::chrono::milliseconds after) {
  timer_->Schedule(time_.Monotonic() + after, [this] { Renew(); });
}

void InterceptLease::Renew() {
  absl::StatusOr<Json> answer = Acquire();
  LeaseEvent event;
  event.expires_at = current_.value("expires_at", "");
  if (answer.ok()) {
    event.kind = failures_ > 0 ? LeaseEvent::Kind::kRecovered : LeaseEvent::Kind::kRenewed;
    event.failures = failures_;
    failures_ = 0;
    ScheduleRenewal(interval());
    on_event_(event);
    return;
  }
  event.status = answer.status();
  if (IsPermanentLeaseError(answer.status())) {
    event.kind = LeaseEvent::Kind::kLost;
    on_event_(event);
    return;
  }
  ++failures_;
  event.kind = LeaseEvent::Kind::kRenewFailed;
  event.failures = failures_;
  event.retry_in = RetryDelay(failures_);
  on_event_(event);
  ScheduleRenewal(event.retry_in);
}

absl::Status InterceptLease::Release() {
  StopRenewing();
  const std::string owner = current_.value("owner", "");
  for (int attempt = 0; attempt < kReleaseAttempts; ++attempt) {
    const std::string version = VersionOf(current_);
    std::string target = path();
    if (!version.empty()) target = StrCat(target, "?version=", version);
    absl::StatusOr<Json> deleted = hub_.Delete(target);
    if (deleted.ok() || absl::IsNotFound(deleted.status())) return absl::OkStatus();
    if (!absl::IsFailedPrecondition(deleted.status())) return deleted.status();
    // The version moved: delete what is there only if it is still ours (after
    // the lease ran out, someone else may have taken the name).
    absl::StatusOr<Json> now = hub_.Get(path());
    if (absl::IsNotFound(now.status())) return absl::OkStatus();
    if (!now.ok()) return now.status();
    if (now->value("owner", "") != owner) {
      return absl::FailedPreconditionError(StrCat("intercept ", spec_.name,
                                                  " now belongs to token \"",
                                                  now->value("owner", ""), "\"; left in place"));
    }
    current_ = *now;
  }
  return absl::AbortedError(StrCat("intercept ", spec_.name, " kept changing while deleting it (",
                                   kReleaseAttempts, " attempts); its lease ends it at ",
                                   current_.value("expires_at", "")));
}

}  // namespace causeway::laptop
