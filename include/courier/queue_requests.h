// The requests and results both queue kinds take: ReceiveMessage's request, the batch entries and
// results, and message move tasks. Queue and FifoQueue name them as their own members
// (Queue::ReceiveRequest is courier::ReceiveRequest), so code is written once for both.
#ifndef COURIER_QUEUE_REQUESTS_H_
#define COURIER_QUEUE_REQUESTS_H_

#include <absl/time/time.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "courier/message.h"

namespace courier {

// ReceiveMessage (spec §3).
struct ReceiveRequest {
  int max_number_of_messages = 1;                    // 1-10
  std::optional<absl::Duration> wait_time;           // 0-20 s; default: the queue's
  std::optional<absl::Duration> visibility_timeout;  // 0-43,200 s; default: the queue's
  // System attributes to return: "All" or names (SentTimestamp, ApproximateReceiveCount,
  // SequenceNumber...). As in SQS, "All" leaves out SqsManagedSseEnabled, returned when named.
  std::vector<std::string> message_system_attribute_names;
  // Message attributes to return: "All", "*", ".*", names, or "prefix.*" (the names starting
  // with "prefix": "Hel.*" selects "Hello" and "Help.Me").
  std::vector<std::string> message_attribute_names;
  // FIFO queues: a retry with the same id within 5 minutes returns the same messages. A
  // standard queue ignores it, as SQS does.
  std::optional<std::string> receive_request_attempt_id;
  // Not SQS: false skips hashing a body sent with SendMessageNoMd5 (md5_of_body stays empty).
  bool md5_of_body = true;
};

// Batch calls: one entry's failure, as SQS reports it.
struct BatchError {
  std::string id;
  bool sender_fault = true;
  std::string code;
  std::string message;
  friend bool operator==(const BatchError&, const BatchError&) = default;
};
struct SendBatchEntry {
  std::string id;
  SendMessageRequest request;
};
struct SendBatchResult {
  std::vector<std::pair<std::string, SendMessageResult>> successful;
  std::vector<BatchError> failed;
};
// DeleteMessageBatch and ChangeMessageVisibilityBatch entries.
struct HandleBatchEntry {
  std::string id;
  ReceiptHandle receipt_handle;
  absl::Duration visibility_timeout;  // ChangeMessageVisibilityBatch only
};
struct BatchResult {
  std::vector<std::string> successful;
  std::vector<BatchError> failed;
};

// A message move task's status. It compares equal to AWS's name for it: status == "RUNNING".
enum class MoveTaskStatus { kRunning, kCompleted, kCancelling, kCancelled, kFailed };
std::string_view MoveTaskStatusName(MoveTaskStatus status);
inline bool operator==(MoveTaskStatus status, std::string_view aws_name) {
  return MoveTaskStatusName(status) == aws_name;
}

// A message move task (spec §6), as ListMessageMoveTasks describes it.
struct MoveTask {
  std::string task_handle;  // set while RUNNING or CANCELLING
  MoveTaskStatus status = MoveTaskStatus::kRunning;
  std::string source_arn;
  std::string destination_arn;                // empty: each message back to its own source
  int max_number_of_messages_per_second = 0;  // 0: not given (500 a second)
  int64_t approximate_number_of_messages_moved = 0;
  int64_t approximate_number_of_messages_to_move = 0;  // a snapshot taken at the start
  std::string failure_reason;
  absl::Time started_timestamp;
};

}  // namespace courier

#endif  // COURIER_QUEUE_REQUESTS_H_
