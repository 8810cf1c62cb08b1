// Server-side encryption of SQS messages at rest: the body and message attributes of a
// MessageStored record (sqs_records.h) sealed with AES-256-GCM before a storage keeps it, and
// opened again at recovery. Not API.
//
// Envelope encryption, as SQS does it: a queue with SqsManagedSseEnabled seals under data keys
// of the built-in SQS-owned key; a queue with KmsMasterKeyId under data keys the environment's
// KeyProvider makes under that key, each reused for KmsDataKeyReusePeriodSeconds. Every sealed
// payload carries the master key's ARN and the wrapped data key, so it opens after the queue's
// key changed, its data key was replaced, or its master key was rotated.
//
// Sealed payload: format byte (1) | u16 length + key ARN | u16 length + wrapped data key |
// AES-256-GCM nonce | ciphertext | tag, over u32 body length | body | attributes as JSON, bound
// to the queue's ARN and the message id. (Integers little-endian.)
//
// Only records are sealed, and only for a storage that keeps them: messages in memory stay as
// they are. The KMS check of SendMessage (Prepare) runs whatever the storage, as SQS's does.
#ifndef COURIER_SRC_QUEUE_MESSAGE_SEALING_H_
#define COURIER_SRC_QUEUE_MESSAGE_SEALING_H_

#include <absl/status/status.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "courier/key_provider.h"
#include "queue/sqs_records.h"

namespace courier::queue_internal {

struct QueueConfig;

// The ARN recorded for the SQS-owned key (SqsManagedSseEnabled).
inline constexpr std::string_view kSqsOwnedKeyArn = "SQS-owned";

// A provider's error under SQS's name for it (KmsNotFound, KmsDisabled, ...), with its message;
// KmsAccessDenied for an error that is not a provider's.
absl::Status SqsKmsError(const absl::Status& provider_error);

// One queue's sealing: its encryption setting and its current data key. Thread-safe.
class MessageSealer {
 public:
  MessageSealer(std::shared_ptr<KeyProvider> keys, std::string queue_arn)
      : keys_(std::move(keys)), queue_arn_(std::move(queue_arn)) {}
  MessageSealer(const MessageSealer&) = delete;
  MessageSealer& operator=(const MessageSealer&) = delete;

  // Takes the encryption attributes of each configuration the queue publishes. A new master
  // key (or none) drops the current data key.
  void Configure(const QueueConfig& config);
  // SendMessage's check on a queue with a KMS key: OK while a data key is at hand at `now_ns`
  // (a new one is asked for when the last one's reuse period is over), else the Kms* error.
  // One atomic load while the data key is fresh; nothing at all without a KMS key.
  absl::Status Prepare(int64_t now_ns) {
    if (!uses_kms_.load(std::memory_order_relaxed) ||
        now_ns < fresh_until_ns_.load(std::memory_order_acquire)) [[likely]]
      return absl::OkStatus();
    return Refresh(now_ns);
  }
  // Moves the record's body and attributes into `record.sealed`, unless the queue is not
  // encrypted. A KMS key that fails here (after Prepare let the send through: a dead letter
  // moved in, a key disabled a moment ago) seals under the SQS-owned key rather than keep the
  // message in the clear or lose it.
  void Seal(MessageStored& record, int64_t now_ns);

 private:
  enum class Kind { kNone, kSqsOwned, kKms };
  struct Current {
    DataKey key;
    std::string header;  // the payload's start: format, key ARN, wrapped data key
    int64_t fresh_until_ns = 0;
    mutable std::atomic<uint64_t> seals{0};
  };
  absl::Status Refresh(int64_t now_ns);
  // The data key of `kind` (kKms or kSqsOwned) to seal with at `now_ns`, a new one when the last
  // is past its reuse period; nullptr with the provider's error in `error`. Under mu_.
  std::shared_ptr<const Current> KeyLocked(Kind kind, int64_t now_ns, absl::Status& error);

  const std::shared_ptr<KeyProvider> keys_;
  const std::string queue_arn_;
  std::atomic<bool> uses_kms_{false};
  std::atomic<int64_t> fresh_until_ns_{0};
  std::mutex mu_;
  Kind kind_ = Kind::kNone;                 // guarded by mu_
  std::string key_id_;                      // guarded by mu_
  int64_t reuse_ns_ = 0;                    // guarded by mu_
  std::shared_ptr<const Current> current_;  // guarded by mu_: the KMS key's
  std::shared_ptr<const Current> owned_;    // guarded by mu_: the SQS-owned key's
};

// Recovery's side: opens sealed records, asking the provider once per wrapped data key.
class MessageUnsealer {
 public:
  explicit MessageUnsealer(std::shared_ptr<KeyProvider> keys) : keys_(std::move(keys)) {}
  // Puts the body and attributes of `record.sealed` back (nothing for a record in the clear).
  // A key the provider does not give: its Kms* error, naming the queue and the key; a payload
  // that does not open under its key: DataLoss.
  // `queue_arn`: the queue the record is of (a recovered record does not carry it).
  absl::Status Open(MessageStored& record, std::string_view queue_arn);

 private:
  // The data key of (key ARN, wrapped key): the last one used, else from the map, else asked
  // of the provider; nullptr with the error in `error`.
  const KeyMaterial* DataKey(std::string_view key_arn, std::string_view wrapped,
                             std::string_view queue_arn, absl::Status& error);

  std::shared_ptr<KeyProvider> keys_;
  std::map<std::pair<std::string, std::string>, KeyMaterial> data_keys_;  // by ARN, wrapped
  // The last data key used: a queue's messages share few data keys, mostly in a row.
  std::string last_arn_, last_wrapped_;
  const KeyMaterial* last_ = nullptr;  // points into data_keys_
  std::string aad_, plain_;            // buffers reused from one message to the next
};

}  // namespace courier::queue_internal

#endif  // COURIER_SRC_QUEUE_MESSAGE_SEALING_H_
