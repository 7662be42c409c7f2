// ThreadSanitizer builds only (CAUSEWAY_TSAN, see the root CMakeLists.txt).
//
// Debian's Abseil is not built with ThreadSanitizer, so absl::Mutex locks and
// unlocks out of its sight and every access a mutex guards would be reported
// as a race. The linker wraps the Mutex and CondVar calls causeway's objects
// make (ld --wrap) and these wrappers tell ThreadSanitizer what Abseil's own
// ThreadSanitizer build would: the acquire after a lock, the release before
// an unlock, and that a wait releases the mutex while it blocks. Between the
// pre and post annotations ThreadSanitizer ignores the thread's accesses, as
// Abseil evaluates waiters' conditions inside Unlock and Await.
#include <sanitizer/tsan_interface.h>

#include <string_view>

#include "absl/base/options.h"
#include "absl/synchronization/mutex.h"

// The wrapped names below are mangled with Debian's inline namespace.
#define CW_TSAN_STR_INNER(x) #x
#define CW_TSAN_STR(x) CW_TSAN_STR_INNER(x)
static_assert(std::string_view(CW_TSAN_STR(ABSL_OPTION_INLINE_NAMESPACE_NAME)) == "debian3",
              "Abseil's inline namespace changed: update the names here and in CMakeLists.txt");

using absl::Condition;
using absl::CondVar;
using absl::Duration;
using absl::Mutex;

namespace {

void TsanAbslAcquired(absl::Mutex* mu, unsigned flags) { __tsan_mutex_post_lock(mu, flags, 0); }

}  // namespace

extern "C" {

void __real__ZN4absl7debian35Mutex4LockEv(absl::Mutex* mu);
void __real__ZN4absl7debian35Mutex6UnlockEv(absl::Mutex* mu);
void __real__ZN4absl7debian35Mutex10ReaderLockEv(absl::Mutex* mu);
void __real__ZN4absl7debian35Mutex12ReaderUnlockEv(absl::Mutex* mu);
void __real__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(absl::Mutex* mu,
                                                           const absl::Condition& cond);
bool __real__ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    absl::Mutex* mu, const absl::Condition& cond, absl::Duration timeout);
void __real__ZN4absl7debian37CondVar4WaitEPNS0_5MutexE(absl::CondVar* cv, absl::Mutex* mu);
bool __real__ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE(
    absl::CondVar* cv, absl::Mutex* mu, absl::Duration timeout);

void __wrap__ZN4absl7debian35Mutex4LockEv(absl::Mutex* mu) {
  __tsan_mutex_pre_lock(mu, 0);
  __real__ZN4absl7debian35Mutex4LockEv(mu);
  TsanAbslAcquired(mu, 0);
}

void __wrap__ZN4absl7debian35Mutex6UnlockEv(absl::Mutex* mu) {
  __tsan_mutex_pre_unlock(mu, 0);
  __real__ZN4absl7debian35Mutex6UnlockEv(mu);
  __tsan_mutex_post_unlock(mu, 0);
}

void __wrap__ZN4absl7debian35Mutex10ReaderLockEv(absl::Mutex* mu) {
  __tsan_mutex_pre_lock(mu, __tsan_mutex_read_lock);
  __real__ZN4absl7debian35Mutex10ReaderLockEv(mu);
  TsanAbslAcquired(mu, __tsan_mutex_read_lock);
}

void __wrap__ZN4absl7debian35Mutex12ReaderUnlockEv(absl::Mutex* mu) {
  __tsan_mutex_pre_unlock(mu, __tsan_mutex_read_lock);
  __real__ZN4absl7debian35Mutex12ReaderUnlockEv(mu);
  __tsan_mutex_post_unlock(mu, __tsan_mutex_read_lock);
}

// Awaits and waits are entered and left holding the mutex (exclusively, as
// causeway uses them) and may release it in between.
void __wrap__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(absl::Mutex* mu,
                                                           const absl::Condition& cond) {
  __tsan_mutex_pre_unlock(mu, 0);
  __real__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(mu, cond);
  __tsan_mutex_post_unlock(mu, 0);
  __tsan_mutex_pre_lock(mu, 0);
  TsanAbslAcquired(mu, 0);
}

bool __wrap__ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    absl::Mutex* mu, const absl::Condition& cond, absl::Duration timeout) {
  __tsan_mutex_pre_unlock(mu, 0);
  const bool met = __real__ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE(
      mu, cond, timeout);
  __tsan_mutex_post_unlock(mu, 0);
  __tsan_mutex_pre_lock(mu, 0);
  TsanAbslAcquired(mu, 0);
  return met;
}

void __wrap__ZN4absl7debian37CondVar4WaitEPNS0_5MutexE(absl::CondVar* cv, absl::Mutex* mu) {
  __tsan_mutex_pre_unlock(mu, 0);
  __real__ZN4absl7debian37CondVar4WaitEPNS0_5MutexE(cv, mu);
  __tsan_mutex_post_unlock(mu, 0);
  __tsan_mutex_pre_lock(mu, 0);
  TsanAbslAcquired(mu, 0);
}

bool __wrap__ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE(
    absl::CondVar* cv, absl::Mutex* mu, absl::Duration timeout) {
  __tsan_mutex_pre_unlock(mu, 0);
  const bool timed_out =
      __real__ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE(cv, mu, timeout);
  __tsan_mutex_post_unlock(mu, 0);
  __tsan_mutex_pre_lock(mu, 0);
  TsanAbslAcquired(mu, 0);
  return timed_out;
}

}  // extern "C"
