// GiveBackPacing: when a slab (a standard queue's lane, a FIFO queue's shards) may next try to
// give its memory back, and that one thread at a time does. Not API.
//
// A try that finds the memory in use (a sender filling a slot) costs as much as one that gives
// it back, so each one doubles the wait before the next: 1 s on the caller's clock, then 2,
// 4... up to 5 minutes. A try that gives back waits for nothing; one that finds nothing to give
// waits 1 s.
#ifndef COURIER_SRC_QUEUE_GIVE_BACK_PACING_H_
#define COURIER_SRC_QUEUE_GIVE_BACK_PACING_H_

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace courier::queue_internal {

class GiveBackPacing {
 public:
  enum class Outcome { kNothingToGive, kGaveBack, kInUse };

  // Whether the wait after the last try has ended at `now` (ns). One relaxed load.
  bool Due(int64_t now) const { return now >= after_.load(std::memory_order_relaxed); }
  // Due, and no other thread's try runs: then this one does, until End.
  bool Begin(int64_t now) {
    return Due(now) && !running_.exchange(true, std::memory_order_acquire);
  }
  void End(int64_t now, Outcome outcome) {
    int64_t wait = kFirstWait;
    if (outcome == Outcome::kGaveBack) {
      wait = 0;
      next_wait_ = kFirstWait;
    } else if (outcome == Outcome::kInUse) {
      wait = next_wait_;
      next_wait_ = std::min(2 * next_wait_, kLongestWait);
    }
    after_.store(now + wait, std::memory_order_relaxed);
    running_.store(false, std::memory_order_release);
  }

 private:
  static constexpr int64_t kFirstWait = 1'000'000'000, kLongestWait = 300 * 1'000'000'000LL;
  std::atomic<int64_t> after_{0};
  std::atomic<bool> running_{false};
  int64_t next_wait_ = kFirstWait;  // the running try's
};

}  // namespace courier::queue_internal

#endif  // COURIER_SRC_QUEUE_GIVE_BACK_PACING_H_
