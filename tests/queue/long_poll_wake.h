// A test helper: does a long poll on a ManualClock return because of a change another thread
// makes, without the clock moving?
#ifndef COURIER_TESTS_QUEUE_LONG_POLL_WAKE_H_
#define COURIER_TESTS_QUEUE_LONG_POLL_WAKE_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "courier/clock.h"

namespace courier::testing {

// Runs `poll` (a long poll of at most 20 s) on a thread; once the poll has set a timer on
// `clock` (it has looked once and is about to wait: the queue must have a message in flight
// whose visibility ends within the wait), calls `change` on this thread. Returns whether the
// poll then finished on its own; if it has not within 10 s of real time, the clock is advanced
// to release it, and the answer is false.
inline bool PollWokenBy(ManualClock& clock, const std::function<void()>& poll,
                        const std::function<void()>& change) {
  std::atomic<bool> done{false};
  std::thread poller([&] {
    poll();
    done = true;
  });
  while (clock.PendingTimers() == 0) std::this_thread::yield();
  change();
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
  const bool woken = done;
  if (!woken) clock.Advance(absl::Seconds(20));
  poller.join();
  return woken;
}

}  // namespace courier::testing

#endif  // COURIER_TESTS_QUEUE_LONG_POLL_WAKE_H_
