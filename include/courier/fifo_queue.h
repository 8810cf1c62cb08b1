// FifoQueue: an in-process SQS FIFO queue (spec §5 and the FIFO parts of §1-4 and §6).
//
// Strict order within a message group; a receive starts with the group of the oldest message,
// takes as many messages of one group as it can and may add other groups; while a message of a
// group is in flight no later one is returned (an earlier one put back is). Exactly-once sends
// inside the 5-minute deduplication window (by MessageDeduplicationId or the SHA-256 of the
// body), scoped to the queue or to the message group. Every timeout reads the environment's
// clock, so a ManualClock drives it to the exact instant; on the system clock, sends are stamped
// with its coarse time (Clock::CoarseNowUnixNanos, within 1-4 ms).
//
// Example:
//   courier::testing::Simulation sim;
//   courier::Hub hub(sim.environment());
//   auto q = courier::Sqs(hub)
//                .CreateFifoQueue("orders.fifo", {.content_based_deduplication = true})
//                .value();
//   q->SendMessage({.body = "a", .message_group_id = "customer-1"});
//   q->SendMessage({.body = "a", .message_group_id = "customer-1"});  // duplicate: not delivered
//   auto got = q->ReceiveMessage({.max_number_of_messages = 10}).value();   // exactly one "a"
//   q->DeleteMessage(got[0].receipt_handle);
//
// Thread-safety: every method is thread-safe. Send, receive, delete and visibility changes are
// lock-free (docs/architecture.md, "The lock-free core"), but a send's admission to the
// deduplication window, which locks one of its shards. Attribute changes publish a new
// immutable configuration atomically.
#ifndef COURIER_FIFO_QUEUE_H_
#define COURIER_FIFO_QUEUE_H_

#include <absl/status/status.h>
#include <absl/status/statusor.h>
#include <absl/time/time.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "courier/blob_store.h"
#include "courier/clock.h"
#include "courier/message.h"
#include "courier/queue.h"
#include "courier/queue_requests.h"
#include "courier/resource.h"
#include "courier/sqs_queue.h"

namespace courier {
namespace queue_internal {
struct QueueCreated;
}  // namespace queue_internal

class Hub;

class FifoQueue final : public SqsQueue, public std::enable_shared_from_this<FifoQueue> {
 public:
  // AWS attribute names to values, as CreateQueue / Get/SetQueueAttributes carry them.

  // Options that are not SQS attributes.
  struct Options {
    // The extended client (spec §7): offload large bodies to a blob store.
    std::optional<LargePayloadOptions> large_payloads;
  };

  // Creates a FIFO queue and registers it on the hub under its ARN. The name must end in
  // ".fifo" (1-80 characters with the suffix). `attributes` are AWS's (FifoQueue may be given as
  // "true"). With an existing queue of that name: the same queue if the attributes match,
  // QueueAlreadyExists otherwise.
  static absl::StatusOr<std::shared_ptr<FifoQueue>> Create(Hub& hub, std::string_view name,
                                                           const AttributeMap& attributes = {},
                                                           Options options = {});

  ~FifoQueue() override;

  // SendMessage (spec §2, §5). MessageGroupId is required; the deduplication id is the explicit
  // one, else the body's SHA-256 with ContentBasedDeduplication. A duplicate inside the window is
  // accepted and not delivered; the result is the original's. Lock-free but for one dedup shard.
  absl::StatusOr<SendMessageResult> SendMessage(SendMessageRequest request) override;
  // A delivery from a topic or bus: SendMessageNoMd5.
  absl::StatusOr<SendMessageResult> DeliverNow(SendMessageRequest request) override {
    return SendMessageNoMd5(std::move(request));
  }
  // As SendMessage, without computing MD5OfMessageBody (left empty; a receive computes it then
  // unless asked not to), as Queue::SendMessageNoMd5. Thread-safe, as SendMessage.
  absl::StatusOr<SendMessageResult> SendMessageNoMd5(SendMessageRequest request);
  // 1-10 entries with distinct ids; entries fail one by one. Entries are sent in order.
  absl::StatusOr<SendBatchResult> SendMessageBatch(std::vector<SendBatchEntry> entries) override;

  // ReceiveMessage (spec §3, §5). Long polls on the environment's clock when nothing is
  // available. Blocking only while long polling; otherwise visits group shards one at a time.
  absl::StatusOr<std::vector<Message>> ReceiveMessage(const ReceiveRequest& request) override;
  // The same, into `out`, which it replaces: the messages already there lend their storage, so
  // a consumer receiving into one vector again and again allocates nothing per message. On error
  // `out` is left empty.
  absl::Status ReceiveMessage(const ReceiveRequest& request, std::vector<Message>& out) override;

  // DeleteMessage: a handle whose receive is over fails with InvalidParameterValue "...The
  // receipt handle has expired."; a malformed or foreign one with ReceiptHandleIsInvalid.
  absl::Status DeleteMessage(const ReceiptHandle& handle) override;
  absl::StatusOr<BatchResult> DeleteMessageBatch(
      const std::vector<HandleBatchEntry>& entries) override;
  // ChangeMessageVisibility: timeout 0-43,200 s from now, at most 12 h after the receive.
  absl::Status ChangeMessageVisibility(const ReceiptHandle& handle,
                                       absl::Duration timeout) override;
  absl::StatusOr<BatchResult> ChangeMessageVisibilityBatch(
      const std::vector<HandleBatchEntry>& entries) override;

  // Removes every message; a second purge within 60 s fails with PurgeQueueInProgress.
  absl::Status PurgeQueue() override;

  // "All" or names; read-only counts are exact.
  absl::StatusOr<AttributeMap> GetQueueAttributes(const std::vector<std::string>& names = {
                                                      "All"}) const override;
  // Validates every attribute first: on error nothing changes.
  absl::Status SetQueueAttributes(const AttributeMap& attributes) override;

  // Tags, as on a standard queue (Queue::TagQueue): up to 50, AWS's characters and lengths.
  absl::Status TagQueue(const AttributeMap& tags) override;
  absl::Status UntagQueue(const std::vector<std::string>& keys) override;
  AttributeMap ListQueueTags() const override;

  // ---- Message move tasks (spec §6), this queue being the source (a dead-letter queue) ----
  // Starts moving this dead-letter queue's messages, oldest first, to `destination_arn` (a FIFO
  // queue) or back to each message's source queue, at most `max_per_second` (1-500) a second on
  // the environment's clock. Each moved message gets a new MessageId and enqueue time. Returns
  // the task handle. One running task per source.
  absl::StatusOr<std::string> StartMessageMoveTask(
      std::optional<std::string> destination_arn = std::nullopt,
      std::optional<int> max_per_second = std::nullopt) override;
  // The most recent tasks of this source, newest first; max_results 1-10.
  absl::StatusOr<std::vector<MoveTask>> ListMessageMoveTasks(int max_results = 1) const override;
  // Cancels a RUNNING task by handle (found through the hub); messages moved stay moved.
  // Returns the number of messages moved so far. As in SQS the task is CANCELLING until its next
  // step (a second later on the environment's clock), which stops it: CANCELLED. Meanwhile a
  // second cancel fails with InvalidParameterValue and StartMessageMoveTask is refused.
  static absl::StatusOr<int64_t> CancelMessageMoveTask(Hub& hub, std::string_view task_handle);

  // Removes the oldest available message whose group has nothing in flight, as queued.
  std::optional<SendMessageRequest> TakeOldestForMove();
  // The queue's attributes as configured (the ones given at create time plus changes).
  AttributeMap ConfiguredAttributes() const override;

 private:
  struct Config;
  struct Record;
  struct Impl;
  friend class SqsRecovery;  // rebuilds queues from their records (Hub::Recover)
  FifoQueue(Hub& hub, std::string name, std::string arn, std::string url, Options options);
  static std::shared_ptr<FifoQueue> Make(Hub& hub, std::string_view name, Config config,
                                         Options options);
  // Recovery: the queue a record created (sqs_records.h); then SqsQueue's Restore calls.
  static absl::StatusOr<std::shared_ptr<FifoQueue>> Restore(
      Hub& hub, const queue_internal::QueueCreated& record);
  absl::Status RestoreConfig(const AttributeMap& attributes, absl::Time modified) override;
  void RestoreTags(AttributeMap tags) override;
  void RestorePurge(absl::Time at) override;
  absl::Status RestoreMessages(queue_internal::RecoveredQueue queue) override;
  static AttributeMap ToMap(const Config& config);

  // Consumes `request` (the body and attributes move into the queue). `now_ns`: Unix ns.
  absl::StatusOr<SendMessageResult> Send(SendMessageRequest&& request, int64_t now_ns,
                                         bool md5 = true);
  // Deletes n handles' messages (one lock per group shard per ten); out[i] is handles[i]'s
  // DeleteMessage status.
  void DeleteHandles(const ReceiptHandle* const* handles, size_t n, absl::Status* out);
  absl::Status AcceptDeadLetter(Record record, std::string_view group, uint32_t receives,
                                absl::Time first_received);
  void RunMoveTask(uint64_t id);       // one step, then the next a second later while it runs
  void ScheduleMoveStep(uint64_t id);  // a second from now
  // One non-blocking receive into `out` (replacing its contents); returns how many.
  size_t TryReceive(const ReceiveRequest& request, const Config& config, absl::Time now,
                    std::vector<Message>& out, bool use_hints = true);

  Hub& hub_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace courier

#endif  // COURIER_FIFO_QUEUE_H_
