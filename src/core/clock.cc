#include "courier/clock.h"

#include <time.h>

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace courier {

// ---- WakeSignal ----------------------------------------------------------------------------

void WakeSignal::Notify() {
  // Pairs with the seq_cst increment in Enter(): either the waiter sees the change that led to
  // this Notify when it checks `ready`, or we see the waiter here and bump the epoch.
#if defined(__SANITIZE_THREAD__)
  // ThreadSanitizer does not model fences; a seq_cst read-modify-write orders the same way.
  if (waiters_.fetch_add(0, std::memory_order_seq_cst) == 0) return;
#else
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (waiters_.load(std::memory_order_relaxed) == 0) return;
#endif
  Wake();
}

void WakeSignal::NotifyAfterLockedChange() {
  // A waiter registered before taking the lock it checks under; if its check came first, the
  // lock hands its registration to us (happens-before), so a relaxed load sees it.
  if (waiters_.load(std::memory_order_relaxed) == 0) return;
  Wake();
}

void WakeSignal::NotifyAfterSeqCstChange() {
  if (waiters_.load(std::memory_order_seq_cst) == 0) return;
  Wake();
}

void WakeSignal::Wake() {
  detail::MutexLock lock(&mu_);
  ++epoch_;
}

uint64_t WakeSignal::Enter() {
  waiters_.fetch_add(1, std::memory_order_seq_cst);
  detail::MutexLock lock(&mu_);
  return epoch_;
}

void WakeSignal::Leave() { waiters_.fetch_sub(1, std::memory_order_seq_cst); }

void WakeSignal::AwaitChange(uint64_t epoch, absl::Time real_deadline) {
  detail::MutexLock lock(&mu_);
  auto changed = [this, epoch]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return epoch_ != epoch; };
  mu_.AwaitWithDeadline(absl::Condition(&changed), real_deadline);
}

// ---- SystemClock ---------------------------------------------------------------------------

struct SystemClock::State {
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::pair<absl::Time, TimerId>, TimerFn> timers;
  std::map<TimerId, absl::Time> deadlines;
  TimerId next_id = 1;
  bool stop = false;
  std::thread thread;

  void Run() {
    std::unique_lock lock(mu);
    while (!stop) {
      if (timers.empty()) {
        cv.wait(lock);
        continue;
      }
      auto it = timers.begin();
      absl::Time now = absl::Now();
      if (it->first.first > now) {
        cv.wait_for(lock, absl::ToChronoNanoseconds(it->first.first - now));
        continue;
      }
      TimerFn fn = std::move(it->second);
      deadlines.erase(it->first.second);
      timers.erase(it);
      lock.unlock();
      fn();
      lock.lock();
    }
  }
};

SystemClock::SystemClock() : state_(std::make_shared<State>()) {}

SystemClock::~SystemClock() {
  {
    std::lock_guard lock(state_->mu);
    state_->stop = true;
  }
  state_->cv.notify_all();
  if (!state_->thread.joinable()) return;
  // Destroyed by one of its own timers' callbacks (which released the last owner): that thread
  // ends by itself once the callback returns, and keeps the state alive until then.
  if (state_->thread.get_id() == std::this_thread::get_id()) {
    state_->thread.detach();
  } else {
    state_->thread.join();
  }
}

Clock::TimerId SystemClock::ScheduleAt(absl::Time when, TimerFn fn) {
  std::lock_guard lock(state_->mu);
  if (!state_->thread.joinable()) state_->thread = std::thread([s = state_] { s->Run(); });
  TimerId id = state_->next_id++;
  state_->timers.emplace(std::make_pair(when, id), std::move(fn));
  state_->deadlines.emplace(id, when);
  state_->cv.notify_all();
  return id;
}

bool SystemClock::Cancel(TimerId id) {
  std::lock_guard lock(state_->mu);
  auto it = state_->deadlines.find(id);
  if (it == state_->deadlines.end()) return false;
  state_->timers.erase({it->second, id});
  state_->deadlines.erase(it);
  return true;
}

bool SystemClock::WaitUntil(absl::Time deadline, WakeSignal& signal,
                            absl::FunctionRef<bool()> ready) {
  for (;;) {
    uint64_t epoch = signal.Enter();
    if (ready()) {
      signal.Leave();
      return true;
    }
    if (absl::Now() >= deadline) {
      signal.Leave();
      return false;
    }
    signal.AwaitChange(epoch, deadline);
    signal.Leave();
  }
}

// ---- ManualClock ---------------------------------------------------------------------------

absl::Time ManualClock::DefaultStart() { return absl::FromUnixSeconds(1767225600); }

ManualClock::ManualClock(absl::Time start) : now_(absl::ToUnixNanos(start)) {}

namespace {
int64_t ReadUnixNanos(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}
}  // namespace

absl::Time SystemClock::Now() const { return absl::FromUnixNanos(NowUnixNanos()); }
int64_t SystemClock::NowUnixNanos() const { return ReadUnixNanos(CLOCK_REALTIME); }
int64_t SystemClock::CoarseNowUnixNanos() const { return ReadUnixNanos(CLOCK_REALTIME_COARSE); }

absl::Time ManualClock::Now() const { return absl::FromUnixNanos(NowUnixNanos()); }

int64_t ManualClock::NowUnixNanos() const { return now_.load(std::memory_order_acquire); }

Clock::TimerId ManualClock::ScheduleAt(absl::Time when, TimerFn fn) {
  detail::MutexLock lock(&mu_);
  TimerId id = next_id_++;
  timers_.emplace(std::make_pair(when, id), std::move(fn));
  deadlines_.emplace(id, when);
  return id;
}

bool ManualClock::Cancel(TimerId id) {
  detail::MutexLock lock(&mu_);
  auto it = deadlines_.find(id);
  if (it == deadlines_.end()) return false;
  timers_.erase({it->second, id});
  deadlines_.erase(it);
  return true;
}

std::optional<absl::Time> ManualClock::NextTimer() const {
  detail::MutexLock lock(&mu_);
  if (timers_.empty()) return std::nullopt;
  return timers_.begin()->first.first;
}

size_t ManualClock::PendingTimers() const {
  detail::MutexLock lock(&mu_);
  return timers_.size();
}

void ManualClock::SetAutoAdvance(std::function<bool()> idle) {
  auto_advance_idle_ = std::move(idle);
  auto_advance_ = true;
}

int ManualClock::AdvanceTo(absl::Time t) {
  int fired = 0;
  for (;;) {
    TimerFn fn;
    {
      detail::MutexLock lock(&mu_);
      if (timers_.empty() || timers_.begin()->first.first > t) {
        MoveTo(t);
        break;
      }
      auto it = timers_.begin();
      MoveTo(it->first.first);
      fn = std::move(it->second);
      deadlines_.erase(it->first.second);
      timers_.erase(it);
    }
    fn();
    ++fired;
    WakeWaiters();
  }
  WakeWaiters();
  return fired;
}

void ManualClock::MoveTo(absl::Time t) {
  const int64_t nanos = absl::ToUnixNanos(t);
  if (nanos > now_.load(std::memory_order_relaxed)) now_.store(nanos, std::memory_order_release);
}

void ManualClock::WakeWaiters() {
  // Holding mu_ keeps every registered signal alive: a waiter deregisters under mu_ before it
  // returns. Lock order is always clock, then signal.
  detail::MutexLock lock(&mu_);
  for (auto& [signal, count] : waiting_) {
    detail::MutexLock signal_lock(&signal->mu_);
    ++signal->epoch_;
  }
}

bool ManualClock::WaitUntil(absl::Time deadline, WakeSignal& signal,
                            absl::FunctionRef<bool()> ready) {
  {
    detail::MutexLock lock(&mu_);
    ++waiting_[&signal];
  }
  bool result = false;
  for (;;) {
    uint64_t epoch = signal.Enter();
    if (ready()) {
      signal.Leave();
      result = true;
      break;
    }
    if (Now() >= deadline) {
      signal.Leave();
      break;
    }
    if (auto_advance_) {
      signal.Leave();
      // Nothing else can make progress on this thread: run other ready work, then jump to the
      // next thing that can change the answer.
      if (auto_advance_idle_ && auto_advance_idle_()) continue;
      std::optional<absl::Time> next = NextTimer();
      AdvanceTo(next && *next < deadline ? *next : deadline);
      continue;
    }
    signal.AwaitChange(epoch, absl::InfiniteFuture());
    signal.Leave();
  }
  detail::MutexLock lock(&mu_);
  if (--waiting_[&signal] == 0) waiting_.erase(&signal);
  return result;
}

}  // namespace courier
