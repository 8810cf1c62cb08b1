// Queue: an in-process SQS standard queue (spec/sqs-sns.md §1-4 and §6).
//
// At-least-once delivery, best-effort order, visibility timeouts, delays, retention, long
// polling, dead-letter queues and message move tasks. Every timeout reads the environment's
// clock, so a ManualClock or a testing::Simulation drives it to the exact instant. On the system
// clock, sends and receives read its coarse time (Clock::CoarseNowUnixNanos: within one
// scheduler tick, 1-4 ms, behind the precise time), so SentTimestamp and the moments delays and
// visibility timeouts end are that precise; SQS documents no finer precision.
//
// Example:
//   courier::testing::Simulation sim;
//   courier::Hub hub(sim.environment());
//   auto q = courier::Sqs(hub).CreateQueue("orders").value();
//   q->SendMessage({.body = "hello"});
//   auto got = q->ReceiveMessage({.max_number_of_messages = 10}).value();
//   q->DeleteMessage(got[0].receipt_handle);
//
// Thread-safety: every method is thread-safe. Messages live in 16 shards, each with its own lock
// (spinning briefly before it sleeps) held only for a few slot updates: there is no queue-wide
// lock on send, receive, delete or visibility changes. A thread sends to one shard; a receive
// skips empty shards without locking them and locks the others one at a time; a batch delete
// locks each shard it touches once. These calls are blocking (a thread descheduled inside a
// shard's critical section delays others on that shard only) but never wait on each other
// across shards. Attribute changes publish a new immutable configuration with one atomic store;
// readers never wait for it.
#ifndef COURIER_QUEUE_H_
#define COURIER_QUEUE_H_

#include <absl/status/status.h>
#include <absl/status/statusor.h>
#include <absl/time/time.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "courier/blob_store.h"
#include "courier/message.h"
#include "courier/queue_attributes.h"
#include "courier/queue_requests.h"
#include "courier/resource.h"
#include "courier/sqs.h"
#include "courier/sqs_queue.h"

namespace courier {

class Hub;
namespace queue_internal {
struct QueueConfig;
struct QueueCreated;
}  // namespace queue_internal

class Queue final : public SqsQueue, public std::enable_shared_from_this<Queue> {
 public:
  // Options that are not SQS attributes.
  struct Options {
    // The extended client (spec §7): bodies over the threshold (or all) go to a blob store;
    // the queue carries AWS's pointer body and ExtendedPayloadSize attribute, a receive returns
    // the original body, and deleting the message deletes the blob.
    std::optional<LargePayloadOptions> large_payloads;
    // Spec §2 [?]: some SDK pages say SQS replaces characters it does not allow in a body with
    // U+FFFD; with this set a send does so instead of failing with InvalidMessageContents.
    bool replace_invalid_characters = false;
    // Spec §3: make a standard queue's best-effort order and at-least-once delivery visible,
    // as SQS may show them. `shuffle`: each receive returns its messages in random order.
    // `duplicate_probability`: each message a receive returns stays visible with this
    // probability, so that a later receive delivers it again (its first handle then deletes
    // nothing, as a stale handle). `seed` makes both repeatable (0: a random seed).
    bool shuffle = false;
    double duplicate_probability = 0;
    uint64_t seed = 0;
  };

  // Use SqsService::CreateQueue (or this, for Options). Validates name and attributes; registers on
  // the hub.
  static absl::StatusOr<std::shared_ptr<Queue>> Create(Hub& hub, std::string_view name,
                                                       const AttributeMap& attributes,
                                                       Options options);
  // With the default Options. (Not a default argument: Options is not complete yet there.)
  static absl::StatusOr<std::shared_ptr<Queue>> Create(Hub& hub, std::string_view name,
                                                       const AttributeMap& attributes);
  ~Queue() override;

  // SendMessage (spec §2). Validates body, size, attributes, delay and group id; returns the
  // MessageId and MD5s. Thread-safe; locks the calling thread's shard briefly.
  absl::StatusOr<SendMessageResult> SendMessage(SendMessageRequest request) override;
  // A delivery from a topic or bus: SendMessageNoMd5.
  absl::StatusOr<SendMessageResult> DeliverNow(SendMessageRequest request) override {
    return SendMessageNoMd5(std::move(request));
  }
  // As SendMessage, without computing MD5OfMessageBody (left empty): the fast path for callers
  // that do not check it. ReceiveMessage still returns the body's MD5 (computed then).
  // Thread-safe, as SendMessage.
  absl::StatusOr<SendMessageResult> SendMessageNoMd5(SendMessageRequest request);
  // 1-10 entries with distinct ids; entries fail one by one (spec §4 batch rules). Thread-safe;
  // each entry is one SendMessage.
  absl::StatusOr<SendBatchResult> SendMessageBatch(std::vector<SendBatchEntry> entries) override;

  // ReceiveMessage (spec §3). Returns at once when a message is available; otherwise long polls
  // on the environment's clock up to the wait time (woken by sends and by delayed or in-flight
  // messages becoming visible). Thread-safe; locks non-empty shards one at a time, and sleeps
  // only while long polling.
  absl::StatusOr<std::vector<Message>> ReceiveMessage(const ReceiveRequest& request) override;
  // The same, into `out`, which it replaces: the messages already there lend their storage, so
  // a consumer receiving into one vector again and again allocates nothing per message (as
  // with a bulk dequeue into a reused array). On error `out` is left empty. Thread-safe for the
  // queue, as above; `out` belongs to the caller.
  absl::Status ReceiveMessage(const ReceiveRequest& request, std::vector<Message>& out) override;

  // DeleteMessage (spec §4): stale handle succeeds and keeps the message; expired handle with no
  // later receive deletes; malformed or foreign handle is ReceiptHandleIsInvalid. Thread-safe;
  // locks the message's shard briefly (DeleteMessageBatch: each shard once).
  absl::Status DeleteMessage(const ReceiptHandle& handle) override;
  absl::StatusOr<BatchResult> DeleteMessageBatch(
      const std::vector<HandleBatchEntry>& entries) override;
  // Timeout 0-43,200 s counted from now, at most 12 h after the receive. Thread-safe; locks the
  // message's shard briefly (the batch: one entry at a time).
  absl::Status ChangeMessageVisibility(const ReceiptHandle& handle,
                                       absl::Duration timeout) override;
  absl::StatusOr<BatchResult> ChangeMessageVisibilityBatch(
      const std::vector<HandleBatchEntry>& entries) override;

  // Removes every message; a second purge within 60 s fails with PurgeQueueInProgress.
  // Thread-safe; locks the shards one after another (a send to an already purged shard stays).
  absl::Status PurgeQueue() override;

  // "All" or names; the approximate counts are exact (each shard counted under its lock, one
  // after another). Thread-safe.
  absl::StatusOr<AttributeMap> GetQueueAttributes(const std::vector<std::string>& names = {
                                                      "All"}) const override;
  // Validates every attribute first: on error nothing changes. Thread-safe.
  absl::Status SetQueueAttributes(const AttributeMap& attributes) override;
  // The attributes as configured (create time plus changes), without read-only ones.
  // Thread-safe; wait-free (one atomic load).
  AttributeMap ConfiguredAttributes() const override;

  // Up to 50 tags (keys 1-128, values 0-256 Unicode characters: letters, digits, white space
  // and _ . : / = + - @; no "aws:" prefix); InvalidParameterValue otherwise, and nothing is
  // tagged. Thread-safe; a small lock of their own.
  absl::Status TagQueue(const AttributeMap& tags) override;
  absl::Status UntagQueue(const std::vector<std::string>& keys) override;
  AttributeMap ListQueueTags() const override;

  // ---- Dead-letter queues and move tasks (spec §6) ----
  // A message moving between queues as a dead letter: it keeps id, body, attributes, receive
  // count, first receive and original enqueue time (retention counts from there).
  struct DeadLetter {
    std::string message_id;
    SendMessageRequest request;
    uint32_t receive_count = 0;
    absl::Time first_receive;
    absl::Time sent;
    absl::Time enqueued;
    std::string source_arn;
  };
  // Starts moving this queue's messages (it must be some queue's dead-letter queue) to
  // `destination_arn` or back to each message's source, at most `max_per_second` (1-500) a
  // second on the environment's clock. Returns the task handle. Thread-safe (the queue's tasks
  // have one lock; the moves run as clock timers).
  absl::StatusOr<std::string> StartMessageMoveTask(
      std::optional<std::string> destination_arn = std::nullopt,
      std::optional<int> max_per_second = std::nullopt) override;
  // Newest first; max_results 1-10. Thread-safe.
  absl::StatusOr<std::vector<MoveTask>> ListMessageMoveTasks(int max_results = 1) const override;
  // Cancels a RUNNING task by handle; returns the number of messages moved so far. The task
  // shows CANCELLING until its next step stops it (CANCELLED). Thread-safe.
  static absl::StatusOr<int64_t> CancelMessageMoveTask(Hub& hub, std::string_view task_handle);

 private:
  struct Impl;
  friend class SqsRecovery;  // rebuilds queues from their records (Hub::Recover)

  static std::shared_ptr<Queue> Make(Hub& hub, std::string_view name,
                                     queue_internal::QueueConfig config, Options options);
  // Recovery: the queue a record created (sqs_records.h); then SqsQueue's Restore calls.
  static absl::StatusOr<std::shared_ptr<Queue>> Restore(Hub& hub,
                                                        const queue_internal::QueueCreated& record);
  absl::Status RestoreConfig(const AttributeMap& attributes, absl::Time modified) override;
  void RestoreTags(AttributeMap tags) override;
  void RestorePurge(absl::Time at) override;
  absl::Status RestoreMessages(queue_internal::RecoveredQueue queue) override;

  // Thread-safe; locks the calling thread's shard briefly.
  void AcceptDeadLetter(DeadLetter letter);
  // Removes the oldest visible message (for move tasks); nullopt when none. Thread-safe; visits
  // the shards under their locks.
  std::optional<DeadLetter> TakeOldestForMove();
  Queue(Hub& hub, std::string name, std::string arn, std::string url);
  absl::StatusOr<SendMessageResult> Send(SendMessageRequest& request, bool md5);
  // One step of move task `id`, then the next a second later on the clock while it runs.
  void RunMoveTask(uint64_t id);
  void ScheduleMoveStep(uint64_t id);  // a second from now

  Hub& hub_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace courier

#endif  // COURIER_QUEUE_H_
