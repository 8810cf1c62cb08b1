#include "topic/retry_journal.h"

#include "topic/topic_state.h"

namespace courier::topic_internal {

void RetryJournal::Waiting(Delivery& d, absl::Time due) {
  if (d.retry_id == 0) d.retry_id = next_id_.fetch_add(1, std::memory_order_relaxed);
  log_->Append(DeliveryWaiting{.id = d.retry_id,
                               .subscription_arn = d.sub->arn,
                               .request = d.request,
                               .message_id = std::string(d.message_id.view()),
                               .subject = d.subject,
                               .tries = d.tries,
                               .due_ns = absl::ToUnixNanos(due)});
}

void RetryJournal::Ended(uint64_t id, const std::string& subscription_arn) {
  log_->Append(DeliveryEnded{id, subscription_arn});
}

void RetryJournal::KeepAbove(uint64_t id) {
  uint64_t next = next_id_.load(std::memory_order_relaxed);
  while (next <= id && !next_id_.compare_exchange_weak(next, id + 1, std::memory_order_relaxed)) {
  }
}

}  // namespace courier::topic_internal
