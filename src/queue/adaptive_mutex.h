// AdaptiveMutex: a small mutex that spins briefly, then sleeps on a futex.
//
// A queue shard's lock is held for a few dozen instructions and taken on every send, receive and
// delete, so its cost matters twice: uncontended, taking and releasing it is one atomic
// instruction each, inline (a pthread mutex is two calls and several checks); contended, the
// holder usually lets go sooner than a futex sleep and wake-up take, so a waiter spins a little
// before it sleeps (std::mutex sleeps at once). BasicLockable, for std::lock_guard; sanitizers
// see its acquire/release atomics.
//
// The states are those of Drepper's "Futexes Are Tricky", mutex 2: 0 free, 1 locked, 2 locked
// and perhaps waited for (unlock then wakes one sleeper).
#ifndef COURIER_SRC_QUEUE_ADAPTIVE_MUTEX_H_
#define COURIER_SRC_QUEUE_ADAPTIVE_MUTEX_H_

#include <atomic>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace courier::queue_internal {

class AdaptiveMutex {
 public:
  AdaptiveMutex() = default;
  AdaptiveMutex(const AdaptiveMutex&) = delete;
  AdaptiveMutex& operator=(const AdaptiveMutex&) = delete;

  void lock() {
    if (!try_lock()) LockContended();
  }
  bool try_lock() {
    int free = 0;
    return state_.compare_exchange_strong(free, 1, std::memory_order_acquire,
                                          std::memory_order_relaxed);
  }
  void unlock() {
    if (state_.exchange(0, std::memory_order_release) == 2) Wake();
  }

 private:
  static constexpr int kSpins = 32;

  // Out of line, so that unlock() stays small enough to inline.
  [[gnu::noinline]] void Wake() { state_.notify_one(); }

  void LockContended() {
    for (int i = 0; i < kSpins; ++i) {
#if defined(__x86_64__) || defined(__i386__)
      _mm_pause();
#endif
      if (state_.load(std::memory_order_relaxed) == 0 && try_lock()) return;
    }
    // Mark the lock as waited for; whoever holds it wakes one sleeper when it lets go.
    while (state_.exchange(2, std::memory_order_acquire) != 0) state_.wait(2);
  }

  std::atomic<int> state_{0};
};

}  // namespace courier::queue_internal

#endif  // COURIER_SRC_QUEUE_ADAPTIVE_MUTEX_H_
