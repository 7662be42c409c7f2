#include "common/thread_slice.h"

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace causeway {
namespace {

// The kernel's struct sched_attr, first version (48 bytes). glibc 2.36 has
// neither the struct nor wrappers for the two system calls, and the kernel's
// own header cannot be included next to <sched.h>.
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;  // for fair policies: the requested slice, ns
  uint64_t sched_deadline;
  uint64_t sched_period;
};
static_assert(sizeof(SchedAttr) == 48);

absl::Status Errno(const char* call) {
  return absl::ErrnoToStatus(errno, absl::StrCat(call, ": ", std::strerror(errno)));
}

absl::StatusOr<SchedAttr> GetAttr(pid_t tid) {
  SchedAttr attr{};
  if (syscall(SYS_sched_getattr, tid, &attr, sizeof(attr), 0) != 0) return Errno("sched_getattr");
  return attr;
}

bool FairPolicy(uint32_t policy) { return policy == SCHED_OTHER || policy == SCHED_BATCH; }

}  // namespace

absl::StatusOr<std::chrono::nanoseconds> ThreadSlice(pid_t tid) {
  auto attr = GetAttr(tid);
  if (!attr.ok()) return attr.status();
  if (!FairPolicy(attr->sched_policy)) return std::chrono::nanoseconds(0);
  return std::chrono::nanoseconds(attr->sched_runtime);
}

absl::StatusOr<std::chrono::nanoseconds> SetThreadSlice(std::chrono::nanoseconds slice) {
  auto attr = GetAttr(0);
  if (!attr.ok()) return attr.status();
  if (!FairPolicy(attr->sched_policy)) {
    return absl::FailedPreconditionError(
        absl::StrCat("thread is not under the fair scheduler (policy ", attr->sched_policy, ")"));
  }
  // Before 6.12 the kernel reports no slice for fair tasks.
  if (attr->sched_runtime == 0) {
    return absl::FailedPreconditionError("kernel has no per-thread slices (needs Linux 6.12)");
  }
  SchedAttr want = *attr;
  want.size = sizeof(want);
  want.sched_flags = 0;
  want.sched_runtime = static_cast<uint64_t>(slice.count());
  if (syscall(SYS_sched_setattr, 0, &want, 0) != 0) return Errno("sched_setattr");
  return ThreadSlice(0);
}

}  // namespace causeway
