// AdaptiveMutex: a mutex that spins briefly before it sleeps (glibc's adaptive kind).
//
// A queue shard's lock is held for a few dozen instructions. When a producer and a consumer meet
// on it, the holder lets go sooner than a futex sleep and wake-up take, but std::mutex puts the
// waiter to sleep at once; spinning first keeps the two threads running. Elsewhere it is an
// ordinary mutex (BasicLockable, for std::lock_guard), and sanitizers see it as a pthread mutex.
#ifndef COURIER_DETAIL_ADAPTIVE_MUTEX_H_
#define COURIER_DETAIL_ADAPTIVE_MUTEX_H_

#include <pthread.h>

namespace courier::detail {

class AdaptiveMutex {
 public:
  AdaptiveMutex() = default;
  AdaptiveMutex(const AdaptiveMutex&) = delete;
  AdaptiveMutex& operator=(const AdaptiveMutex&) = delete;
  ~AdaptiveMutex() { pthread_mutex_destroy(&mu_); }

  void lock() { pthread_mutex_lock(&mu_); }
  void unlock() { pthread_mutex_unlock(&mu_); }
  bool try_lock() { return pthread_mutex_trylock(&mu_) == 0; }

 private:
#if defined(PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP)
  pthread_mutex_t mu_ = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
#else
  pthread_mutex_t mu_ = PTHREAD_MUTEX_INITIALIZER;
#endif
};

}  // namespace courier::detail

#endif  // COURIER_DETAIL_ADAPTIVE_MUTEX_H_
