// The progress tests' parking: a hook (src/queue/progress_hook.h) that parks the first thread
// to reach an armed point until the test releases it, and a latch the test waits on with a
// real-time deadline (a watchdog only: the tests assert no timing).
#ifndef COURIER_TESTS_QUEUE_PROGRESS_PARKING_H_
#define COURIER_TESTS_QUEUE_PROGRESS_PARKING_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "queue/progress_hook.h"

namespace courier::testing {

using queue_internal::ProgressPoint;

inline const char* NameOf(ProgressPoint point) {
  switch (point) {
    case ProgressPoint::kSend:
      return "SendMessage";
    case ProgressPoint::kReceive:
      return "ReceiveMessage";
    case ProgressPoint::kDelete:
      return "DeleteMessage";
    case ProgressPoint::kChangeVisibility:
      return "ChangeMessageVisibility";
    case ProgressPoint::kGiveBack:
      return "giving memory back";
    case ProgressPoint::kDeduplicate:
      return "a FIFO send's deduplication";
    case ProgressPoint::kClearWindow:
      return "a purge's clearing of the deduplication window";
  }
  return "?";
}

// Where the hook parks a thread. The hook is a plain function pointer, so its state is global.
struct Parking {
  std::atomic<int> armed{-1};  // the ProgressPoint to park at, or -1
  std::mutex mu;
  std::condition_variable cv;
  bool parked = false;    // guarded by mu
  bool released = false;  // guarded by mu
};
inline Parking& parking() {
  static Parking p;
  return p;
}

// The first thread to reach the armed point parks until released; every other passes (one
// relaxed load: the hook adds no synchronization between the threads it lets through).
inline void ParkHook(ProgressPoint point) {
  Parking& p = parking();
  int expected = static_cast<int>(point);
  if (p.armed.load(std::memory_order_relaxed) != expected ||
      !p.armed.compare_exchange_strong(expected, -1)) {
    return;
  }
  std::unique_lock lock(p.mu);
  p.parked = true;
  p.cv.notify_all();
  p.cv.wait(lock, [&] { return p.released; });
}

// Installs the hook for one test and always removes it, releasing a parked thread first.
class ParkingHook {
 public:
  ParkingHook() {
    Parking& p = parking();
    p.armed = -1;
    {
      std::lock_guard lock(p.mu);
      p.parked = p.released = false;
    }
    queue_internal::progress_hook.store(&ParkHook);
  }
  ~ParkingHook() {
    Release();
    queue_internal::progress_hook.store(nullptr);
  }
  ParkingHook(const ParkingHook&) = delete;
  ParkingHook& operator=(const ParkingHook&) = delete;

  void Arm(ProgressPoint point) { parking().armed = static_cast<int>(point); }
  // Whether a thread parked before the deadline (disarmed if not).
  bool WaitParked(std::chrono::steady_clock::time_point deadline) {
    Parking& p = parking();
    std::unique_lock lock(p.mu);
    if (p.cv.wait_until(lock, deadline, [&] { return p.parked; })) return true;
    p.armed = -1;
    return false;
  }
  void Release() {
    Parking& p = parking();
    std::lock_guard lock(p.mu);
    p.released = true;
    p.cv.notify_all();
  }
};

// Counts threads down; waited for with a real-time deadline.
class DoneLatch {
 public:
  explicit DoneLatch(int n) : left_(n) {}
  void CountDown() {
    std::lock_guard lock(mu_);
    if (--left_ == 0) cv_.notify_all();
  }
  bool WaitUntil(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mu_);
    return cv_.wait_until(lock, deadline, [&] { return left_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int left_;
};

}  // namespace courier::testing

#endif  // COURIER_TESTS_QUEUE_PROGRESS_PARKING_H_
