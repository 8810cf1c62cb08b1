// RetryJournal: the hub's record of SNS deliveries waiting for a retry, so that a hub rebuilt
// from its storage (Hub::Recover) tries them again at the time they were due, with the tries
// they had made (the delivery policy goes on counting). Not API.
//
// A topic's deliveries hold one only when the storage keeps records: under MemoryStorage a
// failed try costs one pointer test more, a delivery that succeeds at once nothing. Deliveries
// of FIFO topics are not recorded (their group's order lives in memory).
#ifndef COURIER_SRC_TOPIC_RETRY_JOURNAL_H_
#define COURIER_SRC_TOPIC_RETRY_JOURNAL_H_

#include <absl/time/time.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "topic/sns_records.h"

namespace courier::topic_internal {

struct Delivery;

class RetryJournal {
 public:
  explicit RetryJournal(std::shared_ptr<SnsLog> log) : log_(std::move(log)) {}
  // Records that `d` (given an id if it has none) waits for its next try at `due`. Called
  // before its timer is armed, so the records of one delivery come in the order of its tries.
  void Waiting(Delivery& d, absl::Time due);
  // Records that the delivery `id` to `subscription_arn` needs no more tries.
  void Ended(uint64_t id, const std::string& subscription_arn);
  // Ids of deliveries recovered from the log are not given out again.
  void KeepAbove(uint64_t id);

 private:
  std::shared_ptr<SnsLog> log_;
  std::atomic<uint64_t> next_id_{1};
};

// Arms the timer of `d`, recovered from its DeliveryWaiting record, for `due` (at once if that
// has passed); it is then tried as the retry it was.
void ResumeRetry(Delivery d, absl::Time due);

}  // namespace courier::topic_internal

#endif  // COURIER_SRC_TOPIC_RETRY_JOURNAL_H_
