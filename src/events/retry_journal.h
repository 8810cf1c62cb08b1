// RetryJournal: the hub's record of EventBridge deliveries waiting for a retry, so that a hub
// rebuilt from its storage (Hub::Recover) tries them again at the same time, with the same
// attempts and ingestion time (the RetryPolicy's limits still hold). Not API.
//
// A target holds one only when the storage keeps records: under MemoryStorage a delivery's
// failure costs one pointer test more, and a delivery that succeeds at once nothing.
#ifndef COURIER_SRC_EVENTS_RETRY_JOURNAL_H_
#define COURIER_SRC_EVENTS_RETRY_JOURNAL_H_

#include <absl/status/status.h>
#include <absl/time/time.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "events/events_records.h"

namespace courier {
class Hub;
}  // namespace courier

namespace courier::events_internal {

struct Delivery;

class RetryJournal {
 public:
  explicit RetryJournal(std::shared_ptr<EventsLog> log) : log_(std::move(log)) {}

  // Records that `d` (given an id if it has none) waits for its next try at `due`, having
  // failed last with `failure`. Called by the thread that scheduled the retry, before the
  // timer can fire, so the records of one delivery come in the order of its tries.
  void Waiting(Delivery& d, absl::Time due, const absl::Status& failure);
  // Records that the delivery `id` of the rule `rule_arn` needs no more tries.
  void Ended(uint64_t id, const std::string& rule_arn);
  // Ids of deliveries recovered from the log are not given out again.
  void KeepAbove(uint64_t id);

 private:
  std::shared_ptr<EventsLog> log_;
  std::atomic<uint64_t> next_id_{1};
};

// The hub's journal (the EventBridge service's), for the deliveries of Scheduler's targets too;
// nullptr when the storage keeps no records.
std::shared_ptr<RetryJournal> RetryJournalOf(Hub& hub);

// The status a recorded failure stood for.
absl::Status FailureStatus(const RetryWaiting& w);

// Arms the timer of `d`, a delivery recovered from its RetryWaiting record, for `due` (at once
// if that has passed). When it fires, an event older than the target's MaximumEventAgeInSeconds
// goes to the dead-letter queue with `last_failure`; any other is tried as the retry it was.
void ResumeRetry(Delivery d, absl::Time due, absl::Status last_failure);

}  // namespace courier::events_internal

#endif  // COURIER_SRC_EVENTS_RETRY_JOURNAL_H_
