// Executor: where courier runs work that is not the caller's own (subscriber deliveries, state
// machine steps, timer callbacks that do real work).
//
// Example:
//   courier::ManualExecutor executor;
//   executor.Submit([] { std::puts("ran"); });
//   executor.RunUntilIdle();                           // prints "ran", on this thread
#ifndef COURIER_EXECUTOR_H_
#define COURIER_EXECUTOR_H_

#include <absl/base/thread_annotations.h>
#include <absl/functional/any_invocable.h>

#include <cstddef>
#include <deque>
#include <memory>
#include <thread>
#include <vector>

#include "courier/detail/mutex.h"

namespace courier {

class Executor {
 public:
  using Task = absl::AnyInvocable<void()>;
  virtual ~Executor() = default;
  // Runs `task` some time later (or now, for InlineExecutor). Thread-safe.
  virtual void Submit(Task task) = 0;
};

// Runs every task at once on the caller's thread.
class InlineExecutor final : public Executor {
 public:
  void Submit(Task task) override { task(); }
};

// Queues tasks until the test runs them: deterministic, single-threaded.
class ManualExecutor final : public Executor {
 public:
  void Submit(Task task) override;
  // Runs one queued task; false if there was none. Thread-safe.
  bool RunOne();
  // Runs tasks, including those they submit, until none is left; returns how many ran.
  size_t RunUntilIdle();
  size_t Pending() const;

 private:
  mutable detail::Mutex mu_;
  std::deque<Task> tasks_ ABSL_GUARDED_BY(mu_);
};

// A fixed pool of worker threads sharing one FIFO of tasks. The destructor runs what is queued,
// then joins.
class ThreadPoolExecutor final : public Executor {
 public:
  explicit ThreadPoolExecutor(size_t threads = std::thread::hardware_concurrency());
  ~ThreadPoolExecutor() override;
  ThreadPoolExecutor(const ThreadPoolExecutor&) = delete;
  ThreadPoolExecutor& operator=(const ThreadPoolExecutor&) = delete;

  void Submit(Task task) override;

 private:
  // Shared with the workers, so that a pool destroyed by one of its own tasks (which released
  // its last owner) can let that worker finish instead of joining it.
  struct State;
  std::shared_ptr<State> state_;
  std::vector<std::thread> threads_;
};

}  // namespace courier

#endif  // COURIER_EXECUTOR_H_
