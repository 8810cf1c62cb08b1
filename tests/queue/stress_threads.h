// What the queue stress tests share: how long they run, the hand-off of receipt handles from
// consumers to the threads that race them, and the requests for manual-clock steps.
#ifndef COURIER_TESTS_QUEUE_STRESS_THREADS_H_
#define COURIER_TESTS_QUEUE_STRESS_THREADS_H_

#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <utility>

#include "courier/message.h"

namespace courier::testing {

// COURIER_STRESS_SCALE (default 1): how many times the usual work a stress test does, for a
// longer run on demand.
inline int StressScale() {
  const char* s = std::getenv("COURIER_STRESS_SCALE");
  const int n = s != nullptr ? std::atoi(s) : 1;
  return n >= 1 ? n : 1;
}

// A receive of one message, named by its thread and its place in that thread's receives.
struct ReceiveId {
  int thread = 0;
  size_t index = 0;
  bool operator<(const ReceiveId& o) const {
    return thread != o.thread ? thread < o.thread : index < o.index;
  }
};

// Handles the consumers pass to the racers.
struct Handoff {
  struct Item {
    ReceiptHandle handle;
    ReceiveId of;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Item> items;  // guarded by mu
  bool closed = false;     // guarded by mu: no consumer is left
  void Push(Item item) {
    {
      std::lock_guard lock(mu);
      items.push_back(std::move(item));
    }
    cv.notify_one();
  }
  // False once closed and empty.
  bool Pop(Item& out) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return !items.empty() || closed; });
    if (items.empty()) return false;
    out = std::move(items.front());
    items.pop_front();
    return true;
  }
  void Close() {
    {
      std::lock_guard lock(mu);
      closed = true;
    }
    cv.notify_all();
  }
};

// Asks the clock thread for 1 s steps.
struct Ticks {
  std::mutex mu;
  std::condition_variable cv;
  int64_t asked = 0;  // guarded by mu
  bool stop = false;  // guarded by mu
  void Ask() {
    {
      std::lock_guard lock(mu);
      ++asked;
    }
    cv.notify_one();
  }
  void Stop() {
    {
      std::lock_guard lock(mu);
      stop = true;
    }
    cv.notify_all();
  }
};

}  // namespace courier::testing

#endif  // COURIER_TESTS_QUEUE_STRESS_THREADS_H_
