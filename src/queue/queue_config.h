// Shared SQS checks and the standard queue's configuration. Private to src/queue; FifoQueue may
// use the check helpers too (they take `fifo` where the rules differ).
#ifndef COURIER_SRC_QUEUE_QUEUE_CONFIG_H_
#define COURIER_SRC_QUEUE_QUEUE_CONFIG_H_

#include <absl/status/status.h>
#include <absl/time/time.h>

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "courier/hub.h"
#include "courier/message.h"
#include "courier/queue.h"
#include "courier/queue_attributes.h"
#include "queue/sqs_records.h"

namespace courier::queue_internal {

// A queue's attributes (the FIFO-only ones stay at their defaults on a standard queue);
// immutable once published.
struct QueueConfig {
  absl::Duration delay = absl::ZeroDuration();
  size_t maximum_message_size = 1048576;
  absl::Duration retention = absl::Seconds(345600);
  absl::Duration receive_wait = absl::ZeroDuration();
  absl::Duration visibility = absl::Seconds(30);
  std::string redrive_policy;  // as given (JSON), empty for none
  std::string dead_letter_target_arn;
  // That queue, resolved when the configuration is published, so that a receive never looks it
  // up in the hub (DeadLetterTarget).
  std::weak_ptr<Resource> dead_letter_target;
  int max_receive_count = 0;
  std::string redrive_allow_policy;
  bool sqs_managed_sse = true;
  // FIFO only.
  bool content_based_deduplication = false;
  std::string deduplication_scope = "queue";
  std::string fifo_throughput_limit = "perQueue";
  QueueAttributeMap other;  // Policy, KmsMasterKeyId, ...: stored and returned as given
  absl::Time created;
  absl::Time last_modified;
};

absl::Status InvalidAttributeName(std::string_view message);
// QueueDoesNotExist: a name, URL or ARN that names no queue, or a queue deleted since.
absl::Status QueueDoesNotExist();
// ReceiptHandleIsInvalid, with AWS's message for `handle`.
absl::Status ReceiptHandleIsInvalid(std::string_view handle);
// A whole decimal integer, nothing else around it.
std::optional<int64_t> ParseInt(std::string_view text);

// The 16 hex digits that start every receipt handle of a queue, derived from its ARN and
// creation time: a handle of another queue, or of an earlier queue of the same name, is not
// one of its handles, and a queue rebuilt from a record (same ARN, same creation time) still
// accepts the handles it gave out. Stable across processes and builds.
using ReceiptToken = std::array<char, 16>;
ReceiptToken ReceiptTokenOf(std::string_view queue_arn, absl::Time created);

// The dead-letter queue of `config` (of kind Q), or nullptr: the one resolved when it was
// published while it lives, else a lookup by ARN (it was deleted, and a queue may have been created
// again under its ARN since; only then is the hub's registry touched).
template <typename Q>
std::shared_ptr<Q> DeadLetterTarget(const QueueConfig& config, const Hub& hub) {
  if (config.max_receive_count <= 0) return nullptr;
  std::shared_ptr<Resource> target = config.dead_letter_target.lock();
  if (target == nullptr || target->deleted())
    target = hub.FindResource(config.dead_letter_target_arn);
  return std::dynamic_pointer_cast<Q>(std::move(target));
}
// The ARN of a queue given by name, ARN or URL (AWS's endpoint forms of this hub's region and
// account, or any other host); "" for a URL that cannot name a queue of this hub.
std::string QueueArnOf(const Hub& hub, std::string_view name_arn_or_url);

// 1-80 characters from [A-Za-z0-9_-].
absl::Status CheckStandardQueueName(std::string_view name);

// Parses and checks `attributes` onto `config`; on error `config` may be partly changed (callers
// apply to a copy). On a standard queue (!fifo) FIFO-only attributes are InvalidAttributeName;
// a dead-letter target must be a queue of the same kind.
absl::Status ApplyQueueAttributes(Hub& hub, std::string_view self_arn,
                                  const QueueAttributeMap& attributes, bool creating, bool fifo,
                                  QueueConfig& config);
QueueAttributeMap ToAttributeMap(const QueueConfig& config, bool fifo);
// Recovery: a whole configuration as ToAttributeMap gave it, onto a fresh `config`. The redrive
// policy is taken as recorded: its target may have been deleted since it was set.
absl::Status RestoreQueueAttributes(Hub& hub, std::string_view self_arn,
                                    QueueAttributeMap attributes, bool fifo, QueueConfig& config);

// CreateQueue idempotency: every given attribute must equal the existing queue's.
absl::Status CheckSameAttributes(const QueueAttributeMap& given, const QueueAttributeMap& parsed,
                                 const QueueAttributeMap& existing);
// GetQueueAttributes names: "All" or known names, else InvalidAttributeName.
absl::Status CheckAttributeNamesForGet(const std::vector<std::string>& names);
QueueAttributeMap SelectAttributes(const QueueAttributeMap& all,
                                   const std::vector<std::string>& names);

// The body with every character SQS does not allow (and every byte that is not UTF-8)
// replaced by U+FFFD (Queue::Options::replace_invalid_characters).
std::string ReplaceInvalidCharacters(std::string_view body);

// TagQueue: keys 1-128 and values 0-256 Unicode characters, AWS's tag characters, no "aws:".
absl::Status CheckTags(const QueueAttributeMap& tags);

// A queue's tags, for either queue kind: at most 50, each as CheckTags allows; a TagQueue that
// fails tags nothing. Thread-safe; a small lock of its own.
class QueueTags {
 public:
  absl::Status Tag(const QueueAttributeMap& tags, std::string_view queue_name);
  void Untag(const std::vector<std::string>& keys);
  QueueAttributeMap List() const;
  // Every change is then recorded to `log` (nullptr: none), as the queue `arn`'s whole tag set.
  void RecordTo(std::shared_ptr<SqsLog> log, std::string arn);
  // Recovery: the tags a record gave.
  void Restore(QueueAttributeMap tags);

 private:
  void RecordLocked() const;
  mutable std::mutex mu_;
  QueueAttributeMap tags_;
  std::shared_ptr<SqsLog> log_;
  std::string arn_;
};

// ReceiveMessage's MessageAttributeNames: "All", "*", ".*", "prefix.*" or exact names.
bool MessageAttributeSelected(const std::vector<std::string>& selectors, std::string_view name);

// A standard queue's SendMessage: body, attributes, size, delay, group id (FIFO sends have a
// path of their own, tuned for their hot loop).
absl::Status CheckSendRequest(const SendMessageRequest& request, const QueueConfig& config);
absl::Status CheckReceiveRequest(int max_number_of_messages,
                                 std::optional<absl::Duration> wait_time,
                                 std::optional<absl::Duration> visibility_timeout);
// Batch-level rules: 1-10 entries, ids valid and distinct, total size at most 1 MiB (unless
// `offloading`: the extended client moves large bodies out first).
absl::Status CheckSendBatch(const std::vector<Queue::SendBatchEntry>& entries, bool offloading);
// A SendMessageBatch entry's failure as AWS reports it: SendMessage's "One or more parameters
// are invalid." reads "cannot be validated" there [V].
Queue::BatchError SendBatchEntryError(const std::string& id, const absl::Status& status);
// StartMessageMoveTask's checks: a rate of 1-500 if given, and the source must be the
// dead-letter queue of some queue (of either kind) on the hub.
absl::Status CheckMoveTaskSource(Hub& hub, std::string_view source_arn,
                                 std::optional<int> max_per_second);
// The destination, when given, must be a queue on the hub of the source's kind.
absl::Status CheckMoveTaskDestination(Hub& hub, const std::optional<std::string>& destination,
                                      bool fifo);

absl::Status CheckBatchIds(std::span<const std::string_view> ids, std::string_view entry_name);
// CheckBatchIds for DeleteMessageBatch and ChangeMessageVisibilityBatch entries (`what`: the
// entry's AWS name, for the messages).
absl::Status CheckHandleBatch(const std::vector<Queue::HandleBatchEntry>& entries,
                              std::string_view what);

}  // namespace courier::queue_internal

#endif  // COURIER_SRC_QUEUE_QUEUE_CONFIG_H_
