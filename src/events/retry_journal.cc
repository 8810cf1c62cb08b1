#include "events/retry_journal.h"

#include "courier/status.h"
#include "events/bus_state.h"

namespace courier::events_internal {

void RetryJournal::Waiting(Delivery& d, absl::Time due, const absl::Status& failure) {
  if (d.retry_id == 0) d.retry_id = next_id_.fetch_add(1, std::memory_order_relaxed);
  RetryWaiting w{.id = d.retry_id,
                 .rule_arn = d.rule->arn,
                 .target = d.target->spec,
                 .event = *d.event,
                 .body = std::nullopt,
                 .ingested_ns = absl::ToUnixNanos(d.ingested),
                 .due_ns = absl::ToUnixNanos(due),
                 .attempts = d.attempts,
                 .error_code = static_cast<int>(failure.code()),
                 .error_name = std::string(ErrorName(failure)),
                 .error_message = ErrorName(failure).empty() ? std::string(failure.message())
                                                             : std::string(ErrorMessage(failure))};
  if (d.body != d.event) w.body = *d.body;
  log_->Append(w);
}

void RetryJournal::Ended(uint64_t id, const std::string& rule_arn) {
  log_->Append(RetryEnded{id, rule_arn});
}

void RetryJournal::KeepAbove(uint64_t id) {
  uint64_t next = next_id_.load(std::memory_order_relaxed);
  while (next <= id && !next_id_.compare_exchange_weak(next, id + 1, std::memory_order_relaxed)) {
  }
}

absl::Status FailureStatus(const RetryWaiting& w) {
  const auto code = static_cast<absl::StatusCode>(w.error_code);
  if (w.error_name.empty()) return absl::Status(code, w.error_message);
  return AwsError(code, w.error_name, w.error_message);
}

}  // namespace courier::events_internal
