#include "courier/detail/mutex.h"

namespace courier::detail {

bool Mutex::AwaitWithDeadline(const absl::Condition& cond, absl::Time deadline) {
  // The caller holds mu_ through Lock(); adopt it for the condition variable and give it back.
  std::unique_lock<std::mutex> lock(mu_, std::adopt_lock);
  ++waiters_;
  bool holds = cond.Eval();
  while (!holds) {
    if (deadline == absl::InfiniteFuture()) {
      cv_.wait(lock);
    } else if (cv_.wait_until(lock, absl::ToChronoTime(deadline)) == std::cv_status::timeout) {
      holds = cond.Eval();
      break;
    }
    holds = cond.Eval();
  }
  --waiters_;
  lock.release();
  return holds;
}

}  // namespace courier::detail
