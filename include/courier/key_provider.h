// KeyProvider: the master keys that encrypt queues at rest, named as AWS KMS names them.
//
// A queue with KmsMasterKeyId (SSE-KMS) has its messages sealed, in the records a durable
// Storage keeps, under data keys that the Environment's KeyProvider makes under that master key
// (envelope encryption, as SQS does with KMS): GenerateDataKey gives a fresh 256-bit data key
// in the clear and wrapped under the key's current version; the wrapped form is stored beside
// every message it sealed, and Decrypt turns it back into the data key at recovery, under
// whichever version wrapped it. A topic's KmsMasterKeyId is checked through ResolveKey.
//
// Keys are named by key id (a UUID), key ARN (arn:aws:kms:<region>:<account>:key/<uuid>), alias
// (alias/<name>) or alias ARN (arn:aws:kms:<region>:<account>:alias/<name>). The AWS managed
// keys alias/aws/sqs and alias/aws/sns always exist, as in every AWS account.
//
// Example:
//   auto keys = std::make_shared<courier::InMemoryKeyProvider>();
//   keys->AddKey("1234abcd-12ab-34cd-56ef-1234567890ab", courier::RandomKeyMaterial());
//   keys->AddAlias("alias/orders", "1234abcd-12ab-34cd-56ef-1234567890ab");
//   courier::Environment env = courier::Environment::Default();
//   env.keys = keys;     // or: courier::LoadKeyFile("/etc/app/courier.keys").value()
#ifndef COURIER_KEY_PROVIDER_H_
#define COURIER_KEY_PROVIDER_H_

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace courier {

struct Environment;

// 256 bits of key material.
using KeyMaterial = std::array<uint8_t, 32>;
// Fresh random key material (OpenSSL's generator).
KeyMaterial RandomKeyMaterial();

// Why a provider refused, as KMS says it. Each service reports these under its own names
// (SQS: KmsNotFound, ...; SNS: KMSNotFound, ...).
enum class KeyError {
  kNotFound,           // no key by that name (NotFoundException)
  kDisabled,           // the key is disabled (DisabledException)
  kInvalidState,       // e.g. pending deletion (KMSInvalidStateException)
  kInvalidKeyUsage,    // not an encryption key (InvalidKeyUsageException)
  kInvalidCiphertext,  // a wrapped data key this key did not make (InvalidCiphertextException)
  kAccessDenied,       // the caller may not use it (AccessDeniedException)
  kOptInRequired,      // KMS not subscribed (OptInRequired)
  kThrottled,          // too many requests (ThrottlingException)
};
// KMS's exception name for `error` ("NotFoundException", ...).
std::string_view KmsExceptionName(KeyError error);
// A provider's error: "<KMS exception name>: <message>".
absl::Status KeyProviderError(KeyError error, std::string_view message);
// The KeyError of a status that KeyProviderError made; nullopt for any other status.
std::optional<KeyError> KeyErrorOf(const absl::Status& status);

// A data key: in the clear for sealing now, and wrapped under its master key for storing.
struct DataKey {
  std::string key_arn;    // the master key's ARN, whichever name asked for it
  KeyMaterial plaintext;  // never stored
  std::string wrapped;    // opaque: what Decrypt takes back
};

class KeyProvider {
 public:
  virtual ~KeyProvider() = default;
  // A new random data key under the current version of the key `key_id` names, wrapped and
  // bound to `context` (SQS: the queue's ARN). Thread-safe.
  virtual absl::StatusOr<DataKey> GenerateDataKey(std::string_view key_id,
                                                  std::string_view context) = 0;
  // The data key of `wrapped`, which GenerateDataKey made for `key_arn` and `context` under any
  // version of the key; kInvalidCiphertext for anything else. Thread-safe.
  virtual absl::StatusOr<KeyMaterial> Decrypt(std::string_view key_arn, std::string_view wrapped,
                                              std::string_view context) = 0;
  // The ARN of the key `key_id` names if it can encrypt now, else GenerateDataKey's error.
  // Thread-safe.
  virtual absl::StatusOr<std::string> ResolveKey(std::string_view key_id) = 0;
};

// Keys held in memory: for tests, and for applications that keep key material elsewhere and
// hand it over at start (LoadKeyFile fills one from a file). Each key has versions, the newest
// making new data keys and every one still decrypting. Thread-safe: one lock.
class InMemoryKeyProvider final : public KeyProvider {
 public:
  enum class KeyState { kEnabled, kDisabled, kPendingDeletion };
  enum class KeyUsage { kEncryptDecrypt, kSignVerify };

  // Key ARNs are those of `region` and `account` (an Environment's defaults unless given).
  explicit InMemoryKeyProvider(std::string region = "us-east-1",
                               std::string account = "000000000000");

  // A key `key_id` (a UUID) with its first version. InvalidArgument for an id that is not a
  // UUID, AlreadyExists if it is known.
  absl::Status AddKey(std::string_view key_id, const KeyMaterial& material,
                      KeyUsage usage = KeyUsage::kEncryptDecrypt);
  // "alias/<name>" for a key (NotFound for an unknown key; InvalidArgument for a bad name or
  // one under the reserved alias/aws/). Pointing an alias elsewhere later is allowed.
  absl::Status AddAlias(std::string_view alias, std::string_view key_id);
  // A new version of the key (what rotation does): new data keys are wrapped under it, and data
  // keys wrapped under older versions still decrypt.
  absl::Status RotateKey(std::string_view key_id, const KeyMaterial& material);
  absl::Status SetKeyState(std::string_view key_id, KeyState state);
  // Forgets the key and its versions: from then on it is NotFound, for decrypting too.
  absl::Status RemoveKey(std::string_view key_id);
  // The ARN of key `key_id`.
  std::string KeyArn(std::string_view key_id) const;

  absl::StatusOr<DataKey> GenerateDataKey(std::string_view key_id,
                                          std::string_view context) override;
  absl::StatusOr<KeyMaterial> Decrypt(std::string_view key_arn, std::string_view wrapped,
                                      std::string_view context) override;
  absl::StatusOr<std::string> ResolveKey(std::string_view key_id) override;

 private:
  struct Key {
    std::vector<KeyMaterial> versions;
    KeyState state = KeyState::kEnabled;
    KeyUsage usage = KeyUsage::kEncryptDecrypt;
  };
  // An AWS managed key (alias/aws/<service>), derived from the alias, region and account.
  void AddManagedLocked(std::string_view alias);
  // The key a name names, usable or not; creates an AWS managed key on first use.
  absl::StatusOr<std::pair<std::string, Key*>> FindLocked(std::string_view key_id);
  static absl::Status Usable(const std::string& arn, const Key& key);

  const std::string region_, account_;
  mutable std::mutex mu_;
  std::map<std::string, Key, std::less<>> keys_;             // by UUID
  std::map<std::string, std::string, std::less<>> aliases_;  // "alias/name" -> UUID
};

// A provider with the keys of a key file (format: docs/storage.md, "Encryption and keys"):
//   # comment
//   key <uuid> <64 hex digits>      a version of the key; a later line for the same uuid
//                                   is a newer version (the newest makes new data keys)
//   alias alias/<name> <uuid>
//   disabled <uuid>
// InvalidArgument naming the line for a malformed file, NotFound for a missing one.
absl::StatusOr<std::shared_ptr<InMemoryKeyProvider>> LoadKeyFile(
    const std::string& path, std::string region = "us-east-1",
    std::string account = "000000000000");
// The same, from the file's text.
absl::StatusOr<std::shared_ptr<InMemoryKeyProvider>> ParseKeyFile(
    std::string_view text, std::string region = "us-east-1", std::string account = "000000000000");

// The environment's provider, or when it has none, one that knows only the AWS managed keys
// (alias/aws/sqs, alias/aws/sns) of its region and account.
std::shared_ptr<KeyProvider> KeyProviderOf(const Environment& environment);

}  // namespace courier

#endif  // COURIER_KEY_PROVIDER_H_
