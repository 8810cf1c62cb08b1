// Clock: where every timed behaviour of courier reads the time, sets timers and blocks.
//
// Visibility timeouts, delays, retention, dedup windows, Wait states, retries and schedules all
// read `Now()` from the environment's clock and set timers on it, so a test can drive them with a
// ManualClock and no sleeps.
//
// Example:
//   courier::ManualClock clock;                       // starts at 2026-01-01T00:00:00Z
//   clock.ScheduleAfter(absl::Seconds(30), [] { std::puts("visible again"); });
//   clock.Advance(absl::Seconds(30));                 // prints, at exactly t+30s
#ifndef COURIER_CLOCK_H_
#define COURIER_CLOCK_H_

#include <absl/base/thread_annotations.h>
#include <absl/functional/any_invocable.h>
#include <absl/functional/function_ref.h>
#include <absl/time/time.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "courier/detail/mutex.h"

namespace courier {

// A signal that blocked callers wait on. A component calls Notify() after a change that may make
// a waiter's condition true (a message sent, an execution finished). Notify costs one atomic load
// when nobody waits, so it is safe on a hot path.
class WakeSignal {
 public:
  WakeSignal() = default;
  WakeSignal(const WakeSignal&) = delete;
  WakeSignal& operator=(const WakeSignal&) = delete;

  // Wakes every waiter so it re-checks its condition. Thread-safe. Lock-free when no one waits.
  void Notify();
  // Notify, for a change made under a lock that every waiter's condition also takes before it
  // returns false: that lock already orders a waiter's registration before the change, or the
  // change before the waiter's check, so the full fence Notify needs is not needed (it costs a
  // send about a tenth of its time). Thread-safe. Lock-free when no one waits.
  void NotifyAfterLockedChange();
  // Notify, for a change published by a seq_cst atomic operation that every waiter's check
  // reads with seq_cst loads: with the waiter's seq_cst registration those already order as the
  // fence would (the store-buffering case), and on x86 a seq_cst load is a plain one.
  // Thread-safe. Lock-free when no one waits.
  void NotifyAfterSeqCstChange();

 private:
  friend class SystemClock;
  friend class ManualClock;
  // Returns the epoch to wait on; registers the caller as a waiter until Leave().
  uint64_t Enter();
  void Wake();  // bumps the epoch: every waiter re-checks
  void Leave();
  // Blocks until the epoch moves past `epoch` or the real-time deadline passes.
  void AwaitChange(uint64_t epoch, absl::Time real_deadline);

  std::atomic<int> waiters_{0};
  detail::Mutex mu_;
  uint64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
};

class Clock {
 public:
  using TimerId = uint64_t;
  using TimerFn = absl::AnyInvocable<void()>;

  virtual ~Clock() = default;

  // The current time. Thread-safe.
  virtual absl::Time Now() const = 0;
  // The same as nanoseconds since the Unix epoch, the form queues store; a clock may give it
  // without the round trip through absl::Time. Thread-safe.
  virtual int64_t NowUnixNanos() const { return absl::ToUnixNanos(Now()); }
  // The same to within the clock's coarse resolution, never ahead of Now(): what queues stamp
  // messages with and test deadlines against on every send and receive. SystemClock reads the
  // kernel's coarse clock here (one scheduler tick, 1-4 ms, for a quarter of the cost: about 4
  // ns against 17 on a VM); ManualClock is exact. Thread-safe.
  virtual int64_t CoarseNowUnixNanos() const { return NowUnixNanos(); }

  // Runs `fn` once at `when` (at once if `when` has passed: on the next Advance for a
  // ManualClock). Timers fire in deadline order, ties in scheduling order. Thread-safe.
  virtual TimerId ScheduleAt(absl::Time when, TimerFn fn) = 0;
  TimerId ScheduleAfter(absl::Duration delay, TimerFn fn) {
    return ScheduleAt(Now() + delay, std::move(fn));
  }

  // Cancels a timer that has not fired; returns whether it was pending. Thread-safe.
  virtual bool Cancel(TimerId id) = 0;

  // Blocks the caller until `ready()` is true or the clock reaches `deadline`; `ready` is
  // re-checked whenever `signal` is notified. Returns the last value of `ready()`.
  // This is how long polls and "wait for the execution" block without sleeping in tests.
  virtual bool WaitUntil(absl::Time deadline, WakeSignal& signal,
                         absl::FunctionRef<bool()> ready) = 0;
};

// Real time; timers run on one internal thread started on first use.
class SystemClock final : public Clock {
 public:
  SystemClock();
  ~SystemClock() override;
  SystemClock(const SystemClock&) = delete;
  SystemClock& operator=(const SystemClock&) = delete;

  // clock_gettime directly: Debian's absl::Now() costs several times more, and every send
  // reads the clock.
  absl::Time Now() const override;
  int64_t NowUnixNanos() const override;
  int64_t CoarseNowUnixNanos() const override;
  TimerId ScheduleAt(absl::Time when, TimerFn fn) override;
  bool Cancel(TimerId id) override;
  bool WaitUntil(absl::Time deadline, WakeSignal& signal, absl::FunctionRef<bool()> ready) override;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// Virtual time that moves only when told. Modelled on absl::SimulatedClock.
class ManualClock final : public Clock {
 public:
  // 2026-01-01T00:00:00Z: a fixed, recognisable start so that timestamps in tests are stable.
  static absl::Time DefaultStart();

  explicit ManualClock(absl::Time start = DefaultStart());
  ManualClock(const ManualClock&) = delete;
  ManualClock& operator=(const ManualClock&) = delete;

  // Read without a lock: a queue reads the time on every send and receive.
  absl::Time Now() const override;
  int64_t NowUnixNanos() const override;
  TimerId ScheduleAt(absl::Time when, TimerFn fn) override;
  bool Cancel(TimerId id) override;
  bool WaitUntil(absl::Time deadline, WakeSignal& signal, absl::FunctionRef<bool()> ready) override;

  // Moves time forward to `t` (never backwards), firing due timers in deadline order with Now()
  // equal to each timer's deadline, and waking blocked waiters. Returns the timers fired.
  int AdvanceTo(absl::Time t);
  int Advance(absl::Duration d) { return AdvanceTo(Now() + d); }

  // The earliest pending timer's deadline, if any.
  std::optional<absl::Time> NextTimer() const;
  size_t PendingTimers() const;

  // When set, a WaitUntil that would block first calls `idle` (which runs other ready work and
  // returns whether it did any), then jumps time to the next timer or the deadline: a
  // single-threaded test never hangs. testing::Simulation sets this.
  void SetAutoAdvance(std::function<bool()> idle);

 private:
  void WakeWaiters() ABSL_LOCKS_EXCLUDED(mu_);
  void MoveTo(absl::Time t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);  // forward only

  mutable detail::Mutex mu_;
  // Nanoseconds since the Unix epoch; stored under mu_ (so that timers fire in order), loaded
  // without it.
  std::atomic<int64_t> now_;
  TimerId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  // Keyed by (deadline, id): deadline order, then scheduling order.
  std::map<std::pair<absl::Time, TimerId>, TimerFn> timers_ ABSL_GUARDED_BY(mu_);
  std::map<TimerId, absl::Time> deadlines_ ABSL_GUARDED_BY(mu_);
  std::map<WakeSignal*, int> waiting_ ABSL_GUARDED_BY(mu_);
  std::function<bool()> auto_advance_idle_;
  bool auto_advance_ = false;
};

}  // namespace courier

#endif  // COURIER_CLOCK_H_
