#include "queue/message_sealing.h"

#include <fmt/format.h>

#include <cstring>

#include "courier/detail/aes_gcm.h"
#include "courier/json.h"
#include "courier/status.h"
#include "queue/queue_config.h"
#include "queue/sqs_operations.h"

namespace courier::queue_internal {
namespace {

constexpr uint8_t kSealFormat = 1;
// A data key seals at most this many messages: far below the 2^32 random 96-bit nonces that
// AES-GCM allows one key, whatever the reuse period and the rate.
constexpr uint64_t kMaxSealsPerDataKey = uint64_t{1} << 30;
constexpr int64_t kDefaultReuseSeconds = 300;
// The SQS-owned key is an AWS managed key of a provider of its own, the same in every process.
constexpr std::string_view kOwnedAlias = "alias/aws/sqs-owned";

KeyProvider& OwnedKeys() {
  static InMemoryKeyProvider* const keys = new InMemoryKeyProvider("courier", "sqs");
  return *keys;
}

void PutU16(std::string& out, size_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>(v >> 8 & 0xff));
}
void PutU32(std::string& out, size_t v) {
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<char>(v >> shift & 0xff));
}
// Reads a little-endian integer of `bytes` bytes off the front of `in`.
std::optional<size_t> Take(std::string_view& in, int bytes) {
  if (in.size() < static_cast<size_t>(bytes)) return std::nullopt;
  size_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= size_t{static_cast<uint8_t>(in[i])} << (8 * i);
  in.remove_prefix(bytes);
  return v;
}
std::optional<std::string_view> TakeString(std::string_view& in) {
  std::optional<size_t> n = Take(in, 2);
  if (!n || in.size() < *n) return std::nullopt;
  std::string_view s = in.substr(0, *n);
  in.remove_prefix(*n);
  return s;
}

// What a message's ciphertext is bound to: moved to another queue or message, it does not open.
// What a sealed message is bound to, appended to `out`.
void AppendMessageAad(std::string_view queue_arn, std::string_view message_id, std::string& out) {
  out.append("courier-sqs-message\n").append(queue_arn).append("\n").append(message_id);
}
std::string MessageAad(std::string_view queue_arn, std::string_view message_id) {
  std::string aad;
  AppendMessageAad(queue_arn, message_id, aad);
  return aad;
}

std::string_view SqsNameOf(KeyError error) {
  switch (error) {
    case KeyError::kNotFound:
      return "KmsNotFound";
    case KeyError::kDisabled:
      return "KmsDisabled";
    case KeyError::kInvalidState:
    case KeyError::kInvalidCiphertext:
      return "KmsInvalidState";
    case KeyError::kInvalidKeyUsage:
      return "KmsInvalidKeyUsage";
    case KeyError::kAccessDenied:
      return "KmsAccessDenied";
    case KeyError::kOptInRequired:
      return "KmsOptInRequired";
    case KeyError::kThrottled:
      return "KmsThrottled";
  }
  return "KmsAccessDenied";
}

}  // namespace

absl::Status SqsKmsError(const absl::Status& provider_error) {
  const std::optional<KeyError> error = KeyErrorOf(provider_error);
  if (!error) return AwsError("KmsAccessDenied", std::string(provider_error.message()));
  return AwsError(SqsNameOf(*error), ErrorMessage(provider_error));
}

void MessageSealer::Configure(const QueueConfig& config) {
  Kind kind = config.sqs_managed_sse ? Kind::kSqsOwned : Kind::kNone;
  std::string key_id;
  if (auto it = config.other.find("KmsMasterKeyId"); it != config.other.end()) {
    kind = Kind::kKms;
    key_id = it->second;
  }
  int64_t reuse = kDefaultReuseSeconds;
  if (auto it = config.other.find("KmsDataKeyReusePeriodSeconds"); it != config.other.end()) {
    reuse = ParseInt(it->second).value_or(kDefaultReuseSeconds);
  }
  std::lock_guard lock(mu_);
  if (kind != kind_ || key_id != key_id_) {
    current_.reset();
    fresh_until_ns_.store(0, std::memory_order_release);
  }
  kind_ = kind;
  key_id_ = std::move(key_id);
  reuse_ns_ = reuse * 1000000000;
  uses_kms_.store(kind == Kind::kKms, std::memory_order_relaxed);
}

std::shared_ptr<const MessageSealer::Current> MessageSealer::KeyLocked(Kind kind, int64_t now_ns,
                                                                       absl::Status& error) {
  const bool kms = kind == Kind::kKms;
  std::shared_ptr<const Current>& slot = kms ? current_ : owned_;
  if (slot != nullptr && now_ns < slot->fresh_until_ns &&
      slot->seals.load(std::memory_order_relaxed) < kMaxSealsPerDataKey) {
    return slot;
  }
  absl::StatusOr<DataKey> key = kms ? keys_->GenerateDataKey(key_id_, queue_arn_)
                                    : OwnedKeys().GenerateDataKey(kOwnedAlias, queue_arn_);
  if (!key.ok()) {
    error = SqsKmsError(key.status());
    return nullptr;
  }
  auto next = std::make_shared<Current>();
  next->header.push_back(static_cast<char>(kSealFormat));
  const std::string_view arn = kms ? std::string_view(key->key_arn) : kSqsOwnedKeyArn;
  PutU16(next->header, arn.size());
  next->header.append(arn);
  PutU16(next->header, key->wrapped.size());
  next->header.append(key->wrapped);
  next->key = *std::move(key);
  next->fresh_until_ns = now_ns + (kms ? reuse_ns_ : kDefaultReuseSeconds * 1000000000);
  slot = std::move(next);
  if (kms) fresh_until_ns_.store(slot->fresh_until_ns, std::memory_order_release);
  return slot;
}

absl::Status MessageSealer::Refresh(int64_t now_ns) {
  std::lock_guard lock(mu_);
  if (kind_ != Kind::kKms) return absl::OkStatus();
  absl::Status error;
  (void)KeyLocked(Kind::kKms, now_ns, error);
  return error;
}

void MessageSealer::Seal(MessageStored& record, int64_t now_ns) {
  std::shared_ptr<const Current> key;
  {
    std::lock_guard lock(mu_);
    if (kind_ == Kind::kNone) return;
    absl::Status error;
    key = KeyLocked(kind_, now_ns, error);
    // A KMS key that fails now still seals: under the key that cannot fail (see the header).
    if (key == nullptr) key = KeyLocked(Kind::kSqsOwned, now_ns, error);
  }
  if (key == nullptr) return;  // not encrypted
  key->seals.fetch_add(1, std::memory_order_relaxed);
  std::string plain;
  PutU32(plain, record.body.size());
  plain.append(record.body);
  if (!record.attributes.empty()) {
    plain.append(ToJsonText(JsonObject{{"a", MessageAttributesJson(record.attributes)}}));
  }
  std::string sealed = key->header;
  detail::SealAes256Gcm(key->key.plaintext, MessageAad(queue_arn_, record.message_id), plain,
                        sealed);
  record.sealed = std::move(sealed);
  record.body.clear();
  record.attributes.clear();
}

const KeyMaterial* MessageUnsealer::DataKey(std::string_view key_arn, std::string_view wrapped,
                                            std::string_view queue_arn, absl::Status& error) {
  if (last_ != nullptr && key_arn == last_arn_ && wrapped == last_wrapped_) return last_;
  auto cached = data_keys_.find(std::pair(std::string(key_arn), std::string(wrapped)));
  if (cached == data_keys_.end()) {
    const bool owned = key_arn == kSqsOwnedKeyArn;
    absl::StatusOr<KeyMaterial> key = owned ? OwnedKeys().Decrypt(kOwnedAlias, wrapped, queue_arn)
                                            : keys_->Decrypt(key_arn, wrapped, queue_arn);
    if (!key.ok()) {
      const absl::Status sqs = SqsKmsError(key.status());
      error = AwsErrorF(ErrorName(sqs), "Messages of {} cannot be decrypted: {}", queue_arn,
                        ErrorMessage(sqs));
      return nullptr;
    }
    cached = data_keys_.emplace(std::pair(std::string(key_arn), std::string(wrapped)), *key).first;
  }
  last_arn_ = key_arn;
  last_wrapped_ = wrapped;
  last_ = &cached->second;
  return last_;
}

absl::Status MessageUnsealer::Open(MessageStored& record, std::string_view queue_arn) {
  if (record.sealed.empty()) return absl::OkStatus();
  auto unreadable = [&](std::string_view why) {
    return absl::DataLossError(fmt::format("An SQS record's sealed message {} of {} {}",
                                           record.message_id, queue_arn, why));
  };
  std::string_view in = record.sealed;
  std::optional<size_t> format = Take(in, 1);
  if (!format || *format != kSealFormat) return unreadable("has an unknown format");
  std::optional<std::string_view> key_arn = TakeString(in);
  std::optional<std::string_view> wrapped = key_arn ? TakeString(in) : std::nullopt;
  if (!wrapped) return unreadable("is cut short");
  absl::Status error;
  const KeyMaterial* key = DataKey(*key_arn, *wrapped, queue_arn, error);
  if (key == nullptr) return error;
  aad_.clear();
  AppendMessageAad(queue_arn, record.message_id, aad_);
  std::string& plain = plain_;
  if (!detail::OpenAes256Gcm(*key, aad_, in, plain)) {
    return unreadable("does not open under its key (altered, or moved from elsewhere)");
  }
  std::string_view text = plain;
  std::optional<size_t> body_size = Take(text, 4);
  if (!body_size || text.size() < *body_size) return unreadable("holds a cut body");
  record.body.assign(text.data(), *body_size);
  text.remove_prefix(*body_size);
  if (!text.empty()) {
    absl::StatusOr<Json> doc = ParseJson(text);
    if (!doc.ok() || !doc->is_object()) return unreadable("holds unreadable attributes");
    absl::StatusOr<MessageAttributes> attributes = MessageAttributesOf(doc->get_object(), "a");
    if (!attributes.ok()) return unreadable("holds unreadable attributes");
    record.attributes = *std::move(attributes);
  }
  record.sealed.clear();
  return absl::OkStatus();
}

}  // namespace courier::queue_internal
