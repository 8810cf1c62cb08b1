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

ThreadPoolExecutor::ThreadPoolExecutor(size_t threads) {
  threads = std::max<size_t>(threads, 1);
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
}

ThreadPoolExecutor::~ThreadPoolExecutor() {
  {
    detail::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (auto& thread : threads_) thread.join();
}

void ThreadPoolExecutor::Submit(Task task) {
  detail::MutexLock lock(&mu_);
  tasks_.push_back(std::move(task));
}

void ThreadPoolExecutor::Work() {
  for (;;) {
    Task task;
    {
      detail::MutexLock lock(&mu_);
      auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !tasks_.empty();
      };
      mu_.Await(absl::Condition(&has_work));
      if (tasks_.empty()) return;  // stopping, and nothing left to run
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

}  // namespace courier
