// SqsQueue: the SQS API of one queue, which both kinds answer. Queue (standard) and FifoQueue
// implement it over their own message cores; code that serves either kind (the SQS operation
// table, the SQS service, subscriptions and targets) holds an SqsQueue and needs no cast. Calls
// on a Queue or FifoQueue handle are direct (both classes are final), so the typed fast path
// pays nothing for the interface.
//
// Example:
//   std::shared_ptr<courier::SqsQueue> q = courier::Sqs(hub).GetAnyQueue("orders.fifo").value();
//   if (q->is_fifo()) { ... }
//   q->PurgeQueue();
#ifndef COURIER_SQS_QUEUE_H_
#define COURIER_SQS_QUEUE_H_

#include <absl/status/status.h>
#include <absl/status/statusor.h>
#include <absl/time/time.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "courier/message.h"
#include "courier/queue_attributes.h"
#include "courier/queue_requests.h"
#include "courier/resource.h"

namespace courier {
class SqsRecovery;
namespace queue_internal {
struct RecoveredQueue;
}  // namespace queue_internal

class SqsQueue : public MessageSink {
 public:
  using AttributeMap = QueueAttributeMap;
  using ReceiveRequest = courier::ReceiveRequest;
  using BatchError = courier::BatchError;
  using SendBatchEntry = courier::SendBatchEntry;
  using SendBatchResult = courier::SendBatchResult;
  using HandleBatchEntry = courier::HandleBatchEntry;
  using BatchResult = courier::BatchResult;
  using MoveTask = courier::MoveTask;

  SqsQueue(std::string name, std::string arn, std::string url, bool fifo)
      : MessageSink(std::move(name), std::move(arn)), url_(std::move(url)), fifo_(fifo) {}

  const std::string& url() const { return url_; }
  bool is_fifo() const { return fifo_; }

  // Each kind documents its own rules (queue.h, fifo_queue.h); every call is thread-safe.
  virtual absl::StatusOr<SendBatchResult> SendMessageBatch(std::vector<SendBatchEntry> entries) = 0;
  virtual absl::StatusOr<std::vector<Message>> ReceiveMessage(const ReceiveRequest& request) = 0;
  virtual absl::Status ReceiveMessage(const ReceiveRequest& request, std::vector<Message>& out) = 0;
  virtual absl::Status DeleteMessage(const ReceiptHandle& handle) = 0;
  virtual absl::StatusOr<BatchResult> DeleteMessageBatch(
      const std::vector<HandleBatchEntry>& entries) = 0;
  virtual absl::Status ChangeMessageVisibility(const ReceiptHandle& handle,
                                               absl::Duration timeout) = 0;
  virtual absl::StatusOr<BatchResult> ChangeMessageVisibilityBatch(
      const std::vector<HandleBatchEntry>& entries) = 0;
  virtual absl::Status PurgeQueue() = 0;
  virtual absl::StatusOr<AttributeMap> GetQueueAttributes(const std::vector<std::string>& names = {
                                                              "All"}) const = 0;
  virtual absl::Status SetQueueAttributes(const AttributeMap& attributes) = 0;
  // The attributes as configured (create time plus changes), without read-only ones.
  virtual AttributeMap ConfiguredAttributes() const = 0;
  virtual absl::Status TagQueue(const AttributeMap& tags) = 0;
  virtual absl::Status UntagQueue(const std::vector<std::string>& keys) = 0;
  virtual AttributeMap ListQueueTags() const = 0;
  // This queue as a dead-letter queue: its message move tasks (spec §6).
  virtual absl::StatusOr<std::string> StartMessageMoveTask(
      std::optional<std::string> destination_arn = std::nullopt,
      std::optional<int> max_per_second = std::nullopt) = 0;
  virtual absl::StatusOr<std::vector<MoveTask>> ListMessageMoveTasks(int max_results = 1) const = 0;

 private:
  friend class SqsRecovery;  // rebuilds queues from their records (Hub::Recover)
  // Recovery, before the hub is shared: the state the queue's records gave (sqs_records.h).
  virtual absl::Status RestoreConfig(const AttributeMap& attributes, absl::Time modified) = 0;
  virtual void RestoreTags(AttributeMap tags) = 0;
  virtual void RestorePurge(absl::Time at) = 0;
  virtual absl::Status RestoreMessages(queue_internal::RecoveredQueue queue) = 0;

  std::string url_;
  bool fifo_;
};

}  // namespace courier

#endif  // COURIER_SQS_QUEUE_H_
