// The SQS service's mutation records (courier/storage.h): what Hub::Recover rebuilds its queues
// from. Not API.
//
// One log, "sqs", holds every record in the order the changes happened: queues' lives
// (created, attributes changed, tagged, purged, deleted) and every change to a message. A
// message record names its message by the queue's ARN and the message's place: shard, slot and
// stamp (a standard queue's slot generation, a FIFO queue's sequence number), which are also
// what its receipt handles carry. Message records carry the whole state they set, not a delta,
// so recovery keeps the last record of each message and needs no replay of the queue's logic:
// timers that ran out meanwhile (visibility, delay, retention) are applied by the queue itself
// on its next operation, as at any other time.
//
// A message's records (MessageStored, MessageReceived, MessageRemoved, DedupAdmitted), one or more
// per message, are binary: a format byte, fixed fields, then tagged optional fields, so that a
// million of them are read back in a moment. The queues' own records are JSON objects
// ({"op": "CreateQueue", ...}), readable by people. Records of the previous version (all JSON)
// still decode. docs/storage.md ("File format") describes both. A recording hub pays for records
// only when its Storage keeps them.
#ifndef COURIER_SRC_QUEUE_SQS_RECORDS_H_
#define COURIER_SRC_QUEUE_SQS_RECORDS_H_

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "courier/detail/digest.h"
#include "courier/detail/record_log.h"
#include "courier/message.h"
#include "courier/queue_attributes.h"
#include "courier/queue_requests.h"

namespace courier {
class Hub;
class SqsQueue;
}  // namespace courier

namespace courier::queue_internal {

inline constexpr std::string_view kSqsLog = "sqs";

struct QueueCreated {
  std::string arn, name;
  bool fifo = false;
  QueueAttributeMap attributes;       // as configured (ConfiguredAttributes)
  int64_t created_ns = 0;             // with the ARN, gives the receipt token
  std::array<uint64_t, 3> id_keys{};  // FIFO: the MessageId permutation's keys
};
struct QueueChanged {  // SetQueueAttributes
  std::string arn;
  QueueAttributeMap attributes;  // the whole configuration after the change
  int64_t modified_ns = 0;
};
struct QueueTagged {  // TagQueue, UntagQueue
  std::string arn;
  QueueAttributeMap tags;  // every tag after the change
};
struct QueuePurged {
  std::string arn;
  int64_t at_ns = 0;
};
struct QueueDeleted {
  std::string arn;
  int64_t at_ns = 0;
};

// Where a message lives: what its receipt handles name.
struct MessagePlace {
  uint32_t shard = 0, slot = 0;  // standard: the slot's lane (message_store.h) and index there
  uint64_t stamp = 0;            // standard: the slot's generation; FIFO: the sequence number
  friend bool operator==(const MessagePlace&, const MessagePlace&) = default;
};

// A message stored: sent, moved in as a dead letter, put back by a failed move.
struct MessageStored {
  std::string arn;
  MessagePlace place;
  std::string message_id, body;
  bool md5 = true;  // the body's digest is kept (not sent with SendMessageNoMd5)
  // That digest, when the writer has it at hand: recovery then need not compute it again.
  std::optional<detail::Md5Digest> body_md5;
  MessageAttributes attributes;
  std::optional<std::string> trace_header, group_id;
  std::string dedup_id, dead_letter_source_arn;
  int64_t sent_ns = 0, enqueued_ns = 0;
  int64_t visible_at_ns = 0;  // standard: when it is (was) first visible
  int64_t queued_ns = 0;      // FIFO: its group's time for it, from which the queue's delay counts
  uint32_t receives = 0;
  int64_t first_receive_ns = 0;
  // An encrypted queue's body and attributes, sealed (message_sealing.h); `body` and
  // `attributes` are then empty. Empty for a message kept in the clear.
  std::string sealed;
};

// A message's receive state: received (with its new count and deadline), its visibility
// changed, or a receive renewed. until_ns <= received_ns: visible again.
struct MessageReceived {
  std::string arn;
  MessagePlace place;
  uint32_t receives = 0;
  int64_t first_receive_ns = 0, received_ns = 0, until_ns = 0;
};

// A message gone: deleted, moved out, expired, dropped to a dead-letter queue.
struct MessageRemoved {
  std::string arn;
  MessagePlace place;
};

// FIFO: a deduplication id remembered by the window (for five minutes from `at_ns`).
struct DedupAdmitted {
  std::string arn, key;
  uint64_t value = 0;  // as the window keeps it: the sequence number, maybe marked foreign
  int64_t at_ns = 0;
};

// A message move task of a dead-letter queue, whole: at its start, after each step, when it is
// cancelled and when it ends.
struct MoveTaskSaved {
  std::string arn;  // the source (dead-letter) queue's
  uint64_t id = 0;  // its number among the queue's tasks
  MoveTask task;
};

// A message slot as recovery leaves it: the last state its records gave (without their ARN,
// which is the queue's).
struct RecoveredSlot {
  MessagePlace place;  // standard: the slot's generation now, also when it is free
  // The message there, if any: on the heap, so that the slots move cheaply while they gather.
  std::unique_ptr<MessageStored> stored;
  std::optional<MessageReceived> received;  // its latest receive, if any since stored
};

// What recovery hands a queue: its message slots, and for FIFO its window and next sequence.
struct RecoveredQueue {
  std::vector<RecoveredSlot> slots;
  std::vector<DedupAdmitted> admissions;  // in order
  uint64_t next_seq = 1;
  std::vector<std::pair<uint64_t, MoveTask>> move_tasks;  // by number, oldest first
};

using SqsRecord =
    std::variant<QueueCreated, QueueChanged, QueueTagged, QueuePurged, QueueDeleted, MessageStored,
                 MessageReceived, MessageRemoved, DedupAdmitted, MoveTaskSaved>;

std::string EncodeSqsRecord(const SqsRecord& record);
// The record as the previous version wrote every record: a JSON object. What older files hold;
// tests write them with it.
std::string EncodeSqsRecordAsJson(const SqsRecord& record);
// DataLoss for bytes that are not a record this version or the previous one wrote (a record of a
// newer version among them).
absl::StatusOr<SqsRecord> DecodeSqsRecord(std::string_view bytes);
// The same into `record`, reusing the memory of the ARN it holds when it is a message record
// again (a recovery decodes every record into one). On an error, `record` holds what was read.
absl::Status DecodeSqsRecord(std::string_view bytes, SqsRecord& record);

// The hub's SQS log (kSqsLog). Queues hold it only when the storage keeps records (else
// nullptr). Thread-safe.
using SqsLog = detail::TypedLog<SqsRecord, EncodeSqsRecord>;

// The log of `hub`'s SQS service; nullptr when its storage keeps no records.
std::shared_ptr<SqsLog> SqsLogOf(Hub& hub);
// Adds a new queue to the hub (AlreadyExists if its ARN is taken) and records its creation
// first, so that no record of its messages can precede it in the log.
absl::Status AddQueue(Hub& hub, std::shared_ptr<SqsQueue> queue, const QueueCreated& record);

}  // namespace courier::queue_internal

#endif  // COURIER_SRC_QUEUE_SQS_RECORDS_H_
