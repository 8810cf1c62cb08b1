#include "courier/executor.h"

#include <algorithm>

namespace courier {

void ManualExecutor::Submit(Task task) {
  detail::MutexLock lock(&mu_);
  tasks_.push_back(std::move(task));
}

bool ManualExecutor::RunOne() {
  Task task;
  {
    detail::MutexLock lock(&mu_);
    if (tasks_.empty()) return false;
    task = std::move(tasks_.front());
    tasks_.pop_front();
  }
  task();
  return true;
}

size_t ManualExecutor::RunUntilIdle() {
  size_t ran = 0;
  while (RunOne()) ++ran;
  return ran;
}

size_t ManualExecutor::Pending() const {
  detail::MutexLock lock(&mu_);
  return tasks_.size();
}

struct ThreadPoolExecutor::State {
  detail::Mutex mu;
  std::deque<Task> tasks ABSL_GUARDED_BY(mu);
  bool stopping ABSL_GUARDED_BY(mu) = false;

  void Work() {
    for (;;) {
      Task task;
      {
        detail::MutexLock lock(&mu);
        auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
          return stopping || !tasks.empty();
        };
        mu.Await(absl::Condition(&has_work));
        if (tasks.empty()) return;  // stopping, and nothing left to run
        task = std::move(tasks.front());
        tasks.pop_front();
      }
      task();
    }
  }
};

ThreadPoolExecutor::ThreadPoolExecutor(size_t threads) : state_(std::make_shared<State>()) {
  threads = std::max<size_t>(threads, 1);
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([s = state_] { s->Work(); });
}

ThreadPoolExecutor::~ThreadPoolExecutor() {
  {
    detail::MutexLock lock(&state_->mu);
    state_->stopping = true;
  }
  for (auto& thread : threads_) {
    if (thread.get_id() == std::this_thread::get_id()) {
      thread.detach();  // the task destroying the pool: this worker ends when it returns
    } else {
      thread.join();
    }
  }
}

void ThreadPoolExecutor::Submit(Task task) {
  detail::MutexLock lock(&state_->mu);
  state_->tasks.push_back(std::move(task));
}

}  // namespace courier
