#include "courier/clock.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "courier/executor.h"

namespace courier {
namespace {

TEST_CASE("ManualClock fires timers in deadline order with Now() at each deadline", "[clock]") {
  ManualClock clock;
  absl::Time start = clock.Now();
  std::vector<std::pair<int, absl::Duration>> fired;
  clock.ScheduleAfter(absl::Seconds(30), [&] { fired.push_back({3, clock.Now() - start}); });
  clock.ScheduleAfter(absl::Seconds(10), [&] { fired.push_back({1, clock.Now() - start}); });
  clock.ScheduleAfter(absl::Seconds(10), [&] { fired.push_back({2, clock.Now() - start}); });
  REQUIRE(clock.Advance(absl::Seconds(29)) == 2);
  REQUIRE(fired == std::vector<std::pair<int, absl::Duration>>{{1, absl::Seconds(10)},
                                                               {2, absl::Seconds(10)}});
  REQUIRE(clock.Now() - start == absl::Seconds(29));
  REQUIRE(clock.Advance(absl::Seconds(1)) == 1);
  REQUIRE(fired.back() == std::pair<int, absl::Duration>{3, absl::Seconds(30)});
}

TEST_CASE("ManualClock timers scheduled by a timer fire in the same advance", "[clock]") {
  ManualClock clock;
  int fired = 0;
  clock.ScheduleAfter(absl::Seconds(1), [&] {
    ++fired;
    clock.ScheduleAfter(absl::Seconds(1), [&] { ++fired; });
  });
  clock.Advance(absl::Seconds(5));
  REQUIRE(fired == 2);
}

TEST_CASE("ManualClock Cancel stops a pending timer", "[clock]") {
  ManualClock clock;
  bool fired = false;
  auto id = clock.ScheduleAfter(absl::Seconds(1), [&] { fired = true; });
  REQUIRE(clock.Cancel(id));
  REQUIRE_FALSE(clock.Cancel(id));
  clock.Advance(absl::Seconds(2));
  REQUIRE_FALSE(fired);
  REQUIRE(clock.PendingTimers() == 0);
}

TEST_CASE("ManualClock WaitUntil wakes on Notify from another thread", "[clock]") {
  ManualClock clock;
  WakeSignal signal;
  std::atomic<bool> ready{false};
  std::thread notifier([&] {
    ready = true;
    signal.Notify();
  });
  bool got = clock.WaitUntil(clock.Now() + absl::Seconds(20), signal, [&] { return ready.load(); });
  notifier.join();
  REQUIRE(got);
}

TEST_CASE("ManualClock WaitUntil returns false once another thread advances past the deadline",
          "[clock]") {
  ManualClock clock;
  WakeSignal signal;
  absl::Time deadline = clock.Now() + absl::Seconds(20);
  std::thread advancer([&] {
    while (clock.Now() < deadline) clock.Advance(absl::Seconds(5));
  });
  bool got = clock.WaitUntil(deadline, signal, [] { return false; });
  advancer.join();
  REQUIRE_FALSE(got);
  REQUIRE(clock.Now() >= deadline);
}

TEST_CASE("SystemClock WaitUntil times out and fires timers", "[clock]") {
  SystemClock clock;
  WakeSignal signal;
  std::atomic<bool> fired{false};
  clock.ScheduleAfter(absl::Milliseconds(1), [&] {
    fired = true;
    signal.Notify();
  });
  REQUIRE(clock.WaitUntil(clock.Now() + absl::Seconds(30), signal, [&] { return fired.load(); }));
  REQUIRE_FALSE(clock.WaitUntil(clock.Now() + absl::Milliseconds(2), signal, [] { return false; }));
}

// A callback that releases the last owner of what runs it, once the test has let go of its own
// reference: `owner` is the only one left then.
template <typename T>
void ReleaseFromInside(std::shared_ptr<T> owner, auto run_inside) {
  std::mutex mu;
  std::condition_variable cv;
  bool go = false, released = false;
  T& target = *owner;
  run_inside(target, [&, owner = std::move(owner)]() mutable {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return go; });
    }
    owner.reset();  // the last reference: the destructor runs here, on the object's own thread
    std::lock_guard lock(mu);
    released = true;
    cv.notify_all();
  });
  std::unique_lock lock(mu);
  go = true;
  cv.notify_all();
  REQUIRE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return released; }));
}

TEST_CASE("A SystemClock may be destroyed by its own timer's callback", "[clock]") {
  // The last owner of the clock can be something a timer's callback releases (an execution
  // whose hub is gone): the clock must not join its own thread then.
  ReleaseFromInside(std::make_shared<SystemClock>(), [](SystemClock& clock, auto fn) {
    clock.ScheduleAfter(absl::Milliseconds(1), std::move(fn));
  });
}

TEST_CASE("A ThreadPoolExecutor may be destroyed by one of its own tasks", "[executor]") {
  ReleaseFromInside(std::make_shared<ThreadPoolExecutor>(2),
                    [](ThreadPoolExecutor& pool, auto fn) { pool.Submit(std::move(fn)); });
}

TEST_CASE("SystemClock's coarse time is never ahead of its precise time and close to it",
          "[clock]") {
  SystemClock clock;
  for (int i = 0; i < 1000; ++i) {
    const int64_t coarse = clock.CoarseNowUnixNanos();
    const int64_t precise = clock.NowUnixNanos();
    REQUIRE(coarse <= precise);
    // One scheduler tick is at most 10 ms (HZ=100); allow a descheduled thread a second.
    REQUIRE(precise - coarse < 1'000'000'000);
  }
  ManualClock manual;
  REQUIRE(manual.CoarseNowUnixNanos() == absl::ToUnixNanos(manual.Now()));
}

}  // namespace
}  // namespace courier
