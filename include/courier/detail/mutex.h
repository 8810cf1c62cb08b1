// courier::detail::Mutex: absl::Mutex's interface over std::mutex.
//
// Debian's Abseil is not built with ThreadSanitizer, so TSan cannot see absl::Mutex's
// synchronisation and reports races on everything it guards. std::mutex is intercepted by every
// sanitizer. The interface (Lock/Unlock, MutexLock, Await on an absl::Condition, deadlines) is
// absl's, so code reads the same; as in absl, every Unlock lets waiters re-check their
// conditions.
//
// Example:
//   courier::detail::Mutex mu;
//   bool ready = false;                          // guarded by mu
//   courier::detail::MutexLock lock(&mu);
//   mu.Await(absl::Condition(&ready));
#ifndef COURIER_DETAIL_MUTEX_H_
#define COURIER_DETAIL_MUTEX_H_

#include <absl/base/thread_annotations.h>
#include <absl/synchronization/mutex.h>
#include <absl/time/time.h>

#include <condition_variable>
#include <mutex>

namespace courier::detail {

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    // Notify before unlocking: a woken waiter may destroy the mutex as soon as it is free.
    if (waiters_ > 0) cv_.notify_all();
    mu_.unlock();
  }
  bool TryLock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) { return mu_.try_lock(); }
  // Readers take the lock exclusively: simpler, and correct.
  void ReaderLock() ABSL_SHARED_LOCK_FUNCTION() { Lock(); }
  void ReaderUnlock() ABSL_UNLOCK_FUNCTION() { Unlock(); }

  // With the lock held: blocks until `cond` holds (re-checked after every Unlock by anyone).
  void Await(const absl::Condition& cond) ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    AwaitWithDeadline(cond, absl::InfiniteFuture());
  }
  // As Await, giving up at the real-time `deadline`; returns whether `cond` holds.
  bool AwaitWithDeadline(const absl::Condition& cond, absl::Time deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this);
  bool AwaitWithTimeout(const absl::Condition& cond, absl::Duration timeout)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    return AwaitWithDeadline(cond, absl::Now() + timeout);
  }
  void LockWhen(const absl::Condition& cond) ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    Lock();
    Await(cond);
  }
  void AssertHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK() {}

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int waiters_ = 0;  // guarded by mu_
};

class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_->Lock(); }
  MutexLock(Mutex* mu, const absl::Condition& cond) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->LockWhen(cond);
  }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};
using ReaderMutexLock = MutexLock;
using WriterMutexLock = MutexLock;

}  // namespace courier::detail

#endif  // COURIER_DETAIL_MUTEX_H_
