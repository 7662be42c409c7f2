// A thread's scheduling slice under Linux's fair scheduler (EEVDF).
//
// Every task of the fair scheduler has a slice: how long it may run before
// the next task is due. Since Linux 6.12 a thread may ask for its own
// (sched_setattr's sched_runtime, 0.1 to 100 ms; the default is 1.4 ms on a
// machine of two CPUs). A shorter slice gives the task an earlier deadline,
// so when it wakes up it runs before tasks that run long, and may preempt
// them. That fits a proxy worker, which runs in short bursts (read a
// request, forward it, relay the answer): when the machine stalls and
// everything wakes at once, its requests are handled before the load
// generator, the compiler or the batch job next to it has used up a longer
// slice. Nice value and policy stay as they are; threads the thread starts
// afterwards inherit the slice.
#pragma once

#include <sys/types.h>

#include <chrono>

#include "absl/status/statusor.h"

namespace causeway {

// Asks for `slice` for the calling thread. Returns the slice the kernel
// reports afterwards (clamped to its range). FailedPrecondition when the
// kernel keeps its own slice (before 6.12 it accepts the call and ignores the
// value) or the thread is not under the fair scheduler (real-time, idle);
// the thread is then left as it was.
absl::StatusOr<std::chrono::nanoseconds> SetThreadSlice(std::chrono::nanoseconds slice);

// The slice of thread `tid` (0: the calling thread) as the kernel reports it;
// 0 where the kernel does not report one (before 6.12, or not under the fair
// scheduler).
absl::StatusOr<std::chrono::nanoseconds> ThreadSlice(pid_t tid = 0);

}  // namespace causeway
