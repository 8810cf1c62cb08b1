// SqsQueue: an in-process SQS standard queue (spec/sqs-sns.md §1-4 and §6).
//
// At-least-once, best-effort order; visibility timeouts, delays, retention, purge, dead-letter
// queues and message move tasks all read the hub's clock, so a ManualClock or a
// testing::Simulation drives them to the exact instant. Requests and results are FifoQueue's
// types, so code reads the same for both kinds.
//
// Example:
//   courier::testing::Simulation sim;
//   courier::Hub hub(sim.environment());
//   auto dlq = courier::SqsQueue::Create(hub, "orders-dlq").value();
//   auto orders = courier::SqsQueue::Create(hub, "orders", {
//       {"RedrivePolicy", R"({"deadLetterTargetArn":")" + dlq->arn() +
//                         R"(","maxReceiveCount":3})"}}).value();
//   orders->SendMessage({.body = "hello"});
//   auto got = orders->ReceiveMessage({.max_number_of_messages = 10}).value();
//   orders->DeleteMessage(got[0].receipt_handle);
//
// Thread-safety: every method is thread-safe. Messages live in 8 shards, each a slab of slots
// with generation stamps, a FIFO of visible slots and a min-heap of delay/visibility deadlines
// validated lazily, guarded by its own short lock. Send, receive, delete and visibility changes
// never take a queue-wide lock: a send locks its thread's shard, a receive visits shards in turn
// (skipping empty ones without locking), and a receipt handle names its shard, slot and
// generation, so deletes and visibility changes are O(1) on one shard. Attribute changes publish
// a new immutable configuration atomically.
#ifndef COURIER_SQS_QUEUE_H_
#define COURIER_SQS_QUEUE_H_

#include <absl/status/status.h>
#include <absl/status/statusor.h>
#include <absl/time/time.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "courier/blob_store.h"
#include "courier/fifo_queue.h"
#include "courier/message.h"
#include "courier/resource.h"

namespace courier {

class Hub;

// Options that are not SQS attributes.
struct SqsQueueOptions {
  // The extended client (spec §7): offload large bodies to a blob store.
  std::optional<LargePayloadOptions> large_payloads;
  // MD5OfMessageBody is the most expensive part of a send: a caller that never reads it may
  // switch it off (send results and received messages then carry an empty MD5 of the body;
  // MD5OfMessageAttributes is always computed).
  bool md5_of_body = true;
  // Spec §2 [?]: some SDK pages say SQS replaces characters outside its allowed set with U+FFFD
  // instead of rejecting the message. Off (the default): InvalidMessageContents.
  bool replace_invalid_characters = false;
  // CreateQueue's tags.
  std::map<std::string, std::string, std::less<>> tags;
};

class SqsQueue final : public MessageSink, public std::enable_shared_from_this<SqsQueue> {
 public:
  // The same request and result shapes as FifoQueue's.
  using AttributeMap = FifoQueue::AttributeMap;
  using ReceiveRequest = FifoQueue::ReceiveRequest;
  using BatchError = FifoQueue::BatchError;
  using SendBatchEntry = FifoQueue::SendBatchEntry;
  using SendBatchResult = FifoQueue::SendBatchResult;
  using HandleBatchEntry = FifoQueue::HandleBatchEntry;
  using BatchResult = FifoQueue::BatchResult;
  using MoveTask = FifoQueue::MoveTask;
  using Tags = std::map<std::string, std::string, std::less<>>;

  using Options = SqsQueueOptions;

  // Creates a standard queue and registers it on the hub. Name: 1-80 characters from
  // [A-Za-z0-9_-]. With an existing queue of that name: the same queue if the attributes match,
  // QueueAlreadyExists otherwise; QueueDeletedRecently within 60 s of Delete. Thread-safe.
  static absl::StatusOr<std::shared_ptr<SqsQueue>> Create(Hub& hub, std::string_view name,
                                                          const AttributeMap& attributes = {},
                                                          Options options = {});
  // A standard queue by name, ARN or URL: QueueDoesNotExist if none. Thread-safe.
  static absl::StatusOr<std::shared_ptr<SqsQueue>> Get(Hub& hub, std::string_view name_arn_or_url);
  // Removes the queue from the hub (holders keep a usable handle); the name is refused for 60 s.
  static absl::Status Delete(Hub& hub, std::string_view name_arn_or_url);
  ~SqsQueue() override;

  const std::string& url() const { return url_; }

  // SendMessage (spec §2): body characters and size (attributes counted), at most 10 valid
  // attributes, per-message delay 0-900 s overriding the queue's, AWSTraceHeader, fair-queue
  // MessageGroupId. Thread-safe; locks one shard briefly.
  absl::StatusOr<SendMessageResult> SendMessage(SendMessageRequest request) override;
  // 1-10 entries with distinct ids, at most 1 MiB in all; entries fail one by one.
  absl::StatusOr<SendBatchResult> SendMessageBatch(std::vector<SendBatchEntry> entries);

  // ReceiveMessage (spec §3): 1-10 messages; long polls on the hub's clock (returns as soon as
  // one message is available, or empty at the end of the wait). Each receive issues a new
  // receipt handle and hides the message for the visibility timeout. A message received
  // maxReceiveCount times moves to the dead-letter queue on its next receive instead.
  // Thread-safe; locks shards one at a time; blocks only while long polling.
  absl::StatusOr<std::vector<Message>> ReceiveMessage(const ReceiveRequest& request);

  // DeleteMessage (spec §4): a malformed or foreign handle is ReceiptHandleIsInvalid; a stale
  // handle (received again since) succeeds and keeps the message; an expired handle with no later
  // receive deletes it. Thread-safe; O(1) on one shard.
  absl::Status DeleteMessage(const ReceiptHandle& handle);
  absl::StatusOr<BatchResult> DeleteMessageBatch(const std::vector<HandleBatchEntry>& entries);
  // ChangeMessageVisibility: 0-43,200 s counted from now, at most 12 h after the receive.
  // Thread-safe; O(log n) on one shard.
  absl::Status ChangeMessageVisibility(const ReceiptHandle& handle, absl::Duration timeout);
  absl::StatusOr<BatchResult> ChangeMessageVisibilityBatch(
      const std::vector<HandleBatchEntry>& entries);

  // Removes every message, in flight too; a second purge within 60 s is PurgeQueueInProgress.
  absl::Status PurgeQueue();

  // "All" or names; the approximate counts are exact. Thread-safe (visits every shard).
  absl::StatusOr<AttributeMap> GetQueueAttributes(const std::vector<std::string>& names = {
                                                      "All"}) const;
  // Validates every attribute first: on error nothing changes.
  absl::Status SetQueueAttributes(const AttributeMap& attributes);
  // The attributes as configured (no counts).
  AttributeMap ConfiguredAttributes() const;

  // Tags: at most 50; keys 1-128 characters, values 0-256.
  absl::Status TagQueue(const Tags& tags);
  absl::Status UntagQueue(const std::vector<std::string>& keys);
  Tags ListQueueTags() const;

  // ---- Message move tasks (spec §6), this queue being the source (a dead-letter queue) ----
  // Moves this dead-letter queue's messages, oldest first, to `destination_arn` or back to each
  // message's source queue, at most `max_per_second` (1-500; default 500) a second on the hub's
  // clock. Each moved message gets a new MessageId and enqueue time. Returns the task handle.
  absl::StatusOr<std::string> StartMessageMoveTask(
      std::optional<std::string> destination_arn = std::nullopt,
      std::optional<int> max_per_second = std::nullopt);
  // The most recent tasks of this source, newest first; max_results 1-10.
  absl::StatusOr<std::vector<MoveTask>> ListMessageMoveTasks(int max_results = 1) const;
  // Cancels a RUNNING task by handle (found through the hub); messages moved stay moved.
  // Returns the number of messages moved so far.
  static absl::StatusOr<int64_t> CancelMessageMoveTask(Hub& hub, std::string_view task_handle);

  // A message leaving its source queue for this one as a dead letter: keeps its id, body,
  // attributes, send time (its retention still counts from it), receive count.
  struct DeadLetter {
    std::string message_id;
    std::string body;
    MessageAttributes attributes;
    std::optional<std::string> trace_header;
    std::optional<std::string> message_group_id;
    absl::Time sent;
    uint32_t receives = 0;
    absl::Time first_received;
    std::string source_arn;
  };
  // Called by a source queue's receive; available at once. Thread-safe; locks one shard.
  void AcceptDeadLetter(DeadLetter letter);

 private:
  struct Config;
  struct Impl;
  SqsQueue(Hub& hub, std::string name, std::string arn, std::string url, Options options);
  static AttributeMap ToMap(const Config& config);

  absl::StatusOr<SendMessageResult> Send(SendMessageRequest request, absl::Time now);
  absl::StatusOr<std::vector<Message>> TryReceive(const ReceiveRequest& request,
                                                  const Config& config, absl::Time now,
                                                  bool long_poll);
  void RunMoveTask(uint64_t id);

  Hub& hub_;
  std::string url_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace courier

#endif  // COURIER_SQS_QUEUE_H_
