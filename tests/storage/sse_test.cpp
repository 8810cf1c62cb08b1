// Encryption at rest (SSE): queues' message bodies and attributes sealed in the records a
// storage keeps, under the SQS-owned key or a KMS key of the environment's KeyProvider
// (courier/key_provider.h, src/queue/message_sealing.h); the KMS errors of SendMessage, Recover
// and Publish; the data key reuse period on the manual clock; rotation; the key file.
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "courier/detail/aes_gcm.h"
#include "courier/detail/digest.h"
#include "courier/fifo_queue.h"
#include "courier/hub.h"
#include "courier/key_provider.h"
#include "courier/queue.h"
#include "courier/sns.h"
#include "courier/sqlite_storage.h"
#include "courier/sqs.h"
#include "courier/status.h"
#include "courier/testing/simulation.h"
#include "courier/topic.h"

namespace courier {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kKeyId = "1234abcd-12ab-34cd-56ef-1234567890ab";
constexpr std::string_view kOtherKeyId = "0f0e0d0c-1111-4222-8333-444455556666";
const std::string kKeyArn = fmt::format("arn:aws:kms:us-east-1:000000000000:key/{}", kKeyId);

struct TempDir {
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "courier-sse-XXXXXX").string();
    path = mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path); }
  std::string File(std::string_view name) const { return (path / name).string(); }
  fs::path path;
};

KeyMaterial Material(uint8_t fill) {
  KeyMaterial k;
  k.fill(fill);
  return k;
}

// The key provider the tests share: one key with an alias, one more key.
std::shared_ptr<InMemoryKeyProvider> Keys() {
  auto keys = std::make_shared<InMemoryKeyProvider>();
  REQUIRE(keys->AddKey(kKeyId, Material(1)).ok());
  REQUIRE(keys->AddAlias("alias/orders", kKeyId).ok());
  REQUIRE(keys->AddKey(kOtherKeyId, Material(2)).ok());
  return keys;
}

// Counts the data keys asked for, and can fail them all with one error.
class CountingKeys final : public KeyProvider {
 public:
  explicit CountingKeys(std::shared_ptr<KeyProvider> inner) : inner_(std::move(inner)) {}
  absl::StatusOr<DataKey> GenerateDataKey(std::string_view key_id,
                                          std::string_view context) override {
    ++generated;
    if (fail) return KeyProviderError(*fail, "refused by the test");
    return inner_->GenerateDataKey(key_id, context);
  }
  absl::StatusOr<KeyMaterial> Decrypt(std::string_view key_arn, std::string_view wrapped,
                                      std::string_view context) override {
    ++decrypted;
    return inner_->Decrypt(key_arn, wrapped, context);
  }
  absl::StatusOr<std::string> ResolveKey(std::string_view key_id) override {
    if (fail) return KeyProviderError(*fail, "refused by the test");
    return inner_->ResolveKey(key_id);
  }
  std::atomic<int> generated{0}, decrypted{0};
  std::optional<KeyError> fail;

 private:
  std::shared_ptr<KeyProvider> inner_;
};

// One hub on a manual clock with the given storage and keys.
struct Side {
  Side(std::shared_ptr<Storage> storage, std::shared_ptr<KeyProvider> keys)
      : hub(EnvironmentOf(sim, std::move(storage), std::move(keys))) {}
  static Environment EnvironmentOf(testing::Simulation& sim, std::shared_ptr<Storage> storage,
                                   std::shared_ptr<KeyProvider> keys) {
    Environment e = sim.environment();
    if (storage != nullptr) e.storage = std::move(storage);
    e.keys = std::move(keys);
    return e;
  }
  testing::Simulation sim;
  Hub hub;
};

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

SendMessageRequest Distinctive(std::string body, std::string attribute) {
  return {.body = std::move(body),
          .attributes = {{"secret", MessageAttribute::String(std::move(attribute))}}};
}

std::vector<Message> ReceiveAll(SqsQueue& q) {
  std::vector<Message> out;
  for (;;) {
    auto got = q.ReceiveMessage({.max_number_of_messages = 10, .message_attribute_names = {"All"}})
                   .value();
    if (got.empty()) return out;
    for (Message& m : got) out.push_back(std::move(m));
  }
}

std::set<std::string> BodiesOf(const std::vector<Message>& messages) {
  std::set<std::string> out;
  for (const Message& m : messages) out.insert(m.body);
  return out;
}

TEST_CASE("AES-256-GCM opens what it sealed, and nothing else", "[sse]") {
  const detail::Key256 key = detail::RandomKey256();
  std::string sealed = "header";
  detail::SealAes256Gcm(key, "context", "plain text", sealed);
  const std::string_view box = std::string_view(sealed).substr(6);
  CHECK(box.find("plain text") == std::string_view::npos);
  CHECK(detail::OpenAes256Gcm(key, "context", box) == "plain text");
  CHECK_FALSE(detail::OpenAes256Gcm(key, "other context", box).has_value());
  CHECK_FALSE(detail::OpenAes256Gcm(detail::RandomKey256(), "context", box).has_value());
  std::string altered(box);
  altered[detail::kGcmNonceSize] ^= 1;
  CHECK_FALSE(detail::OpenAes256Gcm(key, "context", altered).has_value());
  CHECK_FALSE(detail::OpenAes256Gcm(key, "context", "short").has_value());
}

TEST_CASE("The SQLite file holds no plaintext of an encrypted queue, and recovery reads it back",
          "[sse]") {
  TempDir dir;
  const std::string file = dir.File("hub.db");
  std::shared_ptr<InMemoryKeyProvider> keys = Keys();
  {
    Side side(SqliteStorage::Open(file).value(), keys);
    SqsService& sqs = Sqs(side.hub);
    auto owned = sqs.CreateQueue("owned", Queue::AttributeMap{}).value();  // SSE-SQS, the default
    auto kms =
        sqs.CreateQueue("kms", Queue::AttributeMap{{"KmsMasterKeyId", "alias/orders"}}).value();
    auto fifo = sqs.CreateFifoQueue("kms.fifo",
                                    FifoQueue::AttributeMap{{"FifoQueue", "true"},
                                                            {"ContentBasedDeduplication", "true"},
                                                            {"KmsMasterKeyId", kKeyArn}})
                    .value();
    auto clear =
        sqs.CreateQueue("clear", Queue::AttributeMap{{"SqsManagedSseEnabled", "false"}}).value();
    REQUIRE(owned->SendMessage(Distinctive("owned-body-7f3a9c", "owned-attr-51de02")).ok());
    REQUIRE(kms->SendMessage(Distinctive("kms-body-c0ffee11", "kms-attr-beef4242")).ok());
    SendMessageRequest f = Distinctive("fifo-body-a1b2c3d4", "fifo-attr-99e8d7");
    f.message_group_id = "g";
    REQUIRE(fifo->SendMessage(f).ok());
    REQUIRE(clear->SendMessage(Distinctive("clear-body-5a5a5a", "clear-attr-6b6b6b")).ok());
  }
  const std::string bytes = FileBytes(file) + FileBytes(file + "-wal");
  for (const char* secret : {"owned-body-7f3a9c", "owned-attr-51de02", "kms-body-c0ffee11",
                             "kms-attr-beef4242", "fifo-body-a1b2c3d4", "fifo-attr-99e8d7"}) {
    INFO(secret);
    CHECK(bytes.find(secret) == std::string::npos);
  }
  // The same search finds what was not encrypted: it would have found the others.
  CHECK(bytes.find("clear-body-5a5a5a") != std::string::npos);
  CHECK(bytes.find("clear-attr-6b6b6b") != std::string::npos);

  Side side(SqliteStorage::Open(file).value(), keys);
  REQUIRE(side.hub.Recover().ok());
  SqsService& sqs = Sqs(side.hub);
  auto check = [&](std::string_view queue, const std::string& body, const std::string& attr) {
    INFO(queue);
    std::shared_ptr<SqsQueue> q;
    if (queue.ends_with(".fifo")) {
      q = sqs.GetFifoQueue(queue).value();
    } else {
      q = sqs.GetQueue(queue).value();
    }
    std::vector<Message> got = ReceiveAll(*q);
    REQUIRE(got.size() == 1);
    CHECK(got[0].body == body);
    REQUIRE(got[0].message_attributes.contains("secret"));
    CHECK(got[0].message_attributes.at("secret").string_value == attr);
    CHECK(got[0].md5_of_message_attributes ==
          detail::Md5OfMessageAttributes(Distinctive("", attr).attributes));
  };
  check("owned", "owned-body-7f3a9c", "owned-attr-51de02");
  check("kms", "kms-body-c0ffee11", "kms-attr-beef4242");
  check("kms.fifo", "fifo-body-a1b2c3d4", "fifo-attr-99e8d7");
  check("clear", "clear-body-5a5a5a", "clear-attr-6b6b6b");
}

TEST_CASE("A data key is reused for KmsDataKeyReusePeriodSeconds on the environment's clock",
          "[sse]") {
  const bool keeping = GENERATE(false, true);  // MemoryStorage checks the key all the same
  INFO((keeping ? "RecordingStorage" : "MemoryStorage"));
  auto keys = std::make_shared<CountingKeys>(Keys());
  Side side(keeping ? std::make_shared<RecordingStorage>() : nullptr, keys);
  auto q = Sqs(side.hub)
               .CreateQueue("q", Queue::AttributeMap{{"KmsMasterKeyId", std::string(kKeyId)},
                                                     {"KmsDataKeyReusePeriodSeconds", "60"}})
               .value();
  CHECK(keys->generated == 0);  // asked for at the first send, not at creation
  for (int i = 0; i < 3; ++i) REQUIRE(q->SendMessage({.body = "m"}).ok());
  CHECK(keys->generated == 1);
  side.sim.clock().Advance(absl::Seconds(59));
  REQUIRE(q->SendMessage({.body = "m"}).ok());
  CHECK(keys->generated == 1);
  side.sim.clock().Advance(absl::Seconds(1));
  REQUIRE(q->SendMessage({.body = "m"}).ok());
  CHECK(keys->generated == 2);
  // Within the period a key the provider now refuses does not stop sends (as with KMS); after
  // it, it does.
  keys->fail = KeyError::kDisabled;
  REQUIRE(q->SendMessage({.body = "m"}).ok());
  side.sim.clock().Advance(absl::Seconds(60));
  absl::StatusOr<SendMessageResult> refused = q->SendMessage({.body = "m"});
  CHECK(ErrorName(refused.status()) == "KmsDisabled");
  // A new key for the queue: a new data key at once.
  keys->fail.reset();
  REQUIRE(q->SetQueueAttributes({{"KmsMasterKeyId", std::string(kOtherKeyId)}}).ok());
  const int before = keys->generated;
  REQUIRE(q->SendMessage({.body = "m"}).ok());
  CHECK(keys->generated == before + 1);
}

TEST_CASE("A queue without a KMS key never asks the provider", "[sse]") {
  auto keys = std::make_shared<CountingKeys>(Keys());
  keys->fail = KeyError::kAccessDenied;
  Side side(nullptr, keys);  // MemoryStorage: nothing is sealed either
  auto q = Sqs(side.hub).CreateQueue("q").value();
  REQUIRE(q->SendMessage({.body = "m"}).ok());
  CHECK(keys->generated == 0);
}

TEST_CASE("SendMessage to a queue whose key cannot be used fails with SQS's KMS error", "[sse]") {
  std::shared_ptr<InMemoryKeyProvider> keys = Keys();
  const std::string sign_key = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
  REQUIRE(keys->AddKey(sign_key, Material(3), InMemoryKeyProvider::KeyUsage::kSignVerify).ok());
  const std::string disabled = "bbbbbbbb-bbbb-4ccc-8ddd-eeeeeeeeeeee";
  REQUIRE(keys->AddKey(disabled, Material(4)).ok());
  REQUIRE(keys->SetKeyState(disabled, InMemoryKeyProvider::KeyState::kDisabled).ok());
  const std::string deleting = "cccccccc-bbbb-4ccc-8ddd-eeeeeeeeeeee";
  REQUIRE(keys->AddKey(deleting, Material(5)).ok());
  REQUIRE(keys->SetKeyState(deleting, InMemoryKeyProvider::KeyState::kPendingDeletion).ok());
  Side side(std::make_shared<RecordingStorage>(), keys);
  SqsService& sqs = Sqs(side.hub);
  int n = 0;
  auto send_with_key = [&](const std::string& key) {
    auto q = sqs.CreateQueue(fmt::format("q{}", n++), Queue::AttributeMap{{"KmsMasterKeyId", key}})
                 .value();  // CreateQueue takes any key, as SQS does
    return q->SendMessage({.body = "m"}).status();
  };
  // Every way KMS names a key.
  for (const std::string& good : {std::string(kKeyId), kKeyArn, std::string("alias/orders"),
                                  std::string("arn:aws:kms:us-east-1:000000000000:alias/orders"),
                                  std::string("alias/aws/sqs")}) {
    INFO(good);
    CHECK(send_with_key(good).ok());
  }
  for (const auto& [key, name] : std::vector<std::pair<std::string, std::string>>{
           {"alias/missing", "KmsNotFound"},
           {"99999999-9999-4999-8999-999999999999", "KmsNotFound"},
           {"not-a-key", "KmsNotFound"},
           {fmt::format("arn:aws:kms:eu-west-1:000000000000:key/{}", kKeyId), "KmsNotFound"},
           {sign_key, "KmsInvalidKeyUsage"},
           {disabled, "KmsDisabled"},
           {deleting, "KmsInvalidState"}}) {
    INFO(key);
    const absl::Status st = send_with_key(key);
    CHECK(ErrorName(st) == name);
    CHECK(st.code() == absl::StatusCode::kPermissionDenied);
    CHECK(std::string(st.message()).starts_with(name + ": "));
  }
  // A provider's other refusals, and the batch and FIFO forms.
  auto counting = std::make_shared<CountingKeys>(keys);
  Side other(nullptr, counting);
  auto q = Sqs(other.hub)
               .CreateQueue("q", Queue::AttributeMap{{"KmsMasterKeyId", "alias/orders"}})
               .value();
  auto fifo =
      Sqs(other.hub)
          .CreateFifoQueue("q.fifo", FifoQueue::AttributeMap{{"FifoQueue", "true"},
                                                             {"ContentBasedDeduplication", "true"},
                                                             {"KmsMasterKeyId", "alias/orders"}})
          .value();
  for (const auto& [error, name] : std::vector<std::pair<KeyError, std::string>>{
           {KeyError::kThrottled, "KmsThrottled"},
           {KeyError::kAccessDenied, "KmsAccessDenied"},
           {KeyError::kOptInRequired, "KmsOptInRequired"}}) {
    counting->fail = error;
    CHECK(ErrorName(q->SendMessage({.body = "m"}).status()) == name);
    CHECK(ErrorName(fifo->SendMessage({.body = "m", .message_group_id = "g"}).status()) == name);
    auto batch = q->SendMessageBatch({{.id = "a", .request = {.body = "m"}}}).value();
    REQUIRE(batch.failed.size() == 1);
    CHECK(batch.failed[0].code == name);
  }
  counting->fail.reset();
  CHECK(q->SendMessage({.body = "m"}).ok());
  CHECK(fifo->SendMessage({.body = "m", .message_group_id = "g"}).ok());
}

TEST_CASE("Rotation and new data keys keep older messages readable", "[sse]") {
  std::shared_ptr<InMemoryKeyProvider> keys = Keys();
  auto log = std::make_shared<RecordingStorage>();
  {
    Side side(log, keys);
    auto q = Sqs(side.hub)
                 .CreateQueue("q", Queue::AttributeMap{{"KmsMasterKeyId", "alias/orders"},
                                                       {"KmsDataKeyReusePeriodSeconds", "60"}})
                 .value();
    REQUIRE(q->SendMessage({.body = "before rotation"}).ok());
    REQUIRE(keys->RotateKey(kKeyId, Material(9)).ok());
    REQUIRE(q->SendMessage({.body = "same data key"}).ok());
    side.sim.clock().Advance(absl::Minutes(2));
    REQUIRE(q->SendMessage({.body = "new version"}).ok());
    REQUIRE(q->SetQueueAttributes({{"KmsMasterKeyId", std::string(kOtherKeyId)}}).ok());
    REQUIRE(q->SendMessage({.body = "other key"}).ok());
    REQUIRE(q->SetQueueAttributes({{"KmsMasterKeyId", ""}}).ok());  // back to no encryption
    REQUIRE(q->SendMessage({.body = "in the clear"}).ok());
  }
  Side side(log->Copy(), keys);
  REQUIRE(side.hub.Recover().ok());
  side.sim.clock().Advance(absl::Minutes(2));  // to the time of the last sends
  CHECK(BodiesOf(ReceiveAll(*Sqs(side.hub).GetQueue("q").value())) ==
        std::set<std::string>{"before rotation", "same data key", "new version", "other key",
                              "in the clear"});
}

TEST_CASE("Recover fails with SQS's KMS error when a message's key is gone or wrong", "[sse]") {
  auto log = std::make_shared<RecordingStorage>();
  {
    Side side(log, Keys());
    auto q = Sqs(side.hub)
                 .CreateQueue("q", Queue::AttributeMap{{"KmsMasterKeyId", "alias/orders"}})
                 .value();
    REQUIRE(q->SendMessage({.body = "secret"}).ok());
  }
  SECTION("no such key") {
    Side side(log->Copy(), std::make_shared<InMemoryKeyProvider>());
    const absl::Status st = side.hub.Recover();
    CHECK(ErrorName(st) == "KmsNotFound");
    CHECK(std::string(st.message()).starts_with("KmsNotFound: Messages of arn:aws:sqs:"));
    CHECK(std::string(st.message()).find(kKeyArn) != std::string::npos);
  }
  SECTION("the same key id with other material") {
    auto wrong = std::make_shared<InMemoryKeyProvider>();
    REQUIRE(wrong->AddKey(kKeyId, Material(7)).ok());
    CHECK(ErrorName(Side(log->Copy(), wrong).hub.Recover()) == "KmsInvalidState");
  }
  SECTION("the key disabled") {
    std::shared_ptr<InMemoryKeyProvider> keys = Keys();
    REQUIRE(keys->SetKeyState(kKeyId, InMemoryKeyProvider::KeyState::kDisabled).ok());
    CHECK(ErrorName(Side(log->Copy(), keys).hub.Recover()) == "KmsDisabled");
  }
  SECTION("a message deleted before the restart needs no key") {
    Side first(log->Copy(), Keys());
    REQUIRE(first.hub.Recover().ok());
    auto q = Sqs(first.hub).GetQueue("q").value();
    auto got = ReceiveAll(*q);
    REQUIRE(got.size() == 1);
    CHECK(got[0].body == "secret");
  }
}

TEST_CASE("An altered sealed record stops recovery with DataLoss, never garbage", "[sse]") {
  auto log = std::make_shared<RecordingStorage>();
  {
    Side side(log, Keys());
    auto q = Sqs(side.hub).CreateQueue("q").value();  // SSE-SQS
    REQUIRE(q->SendMessage({.body = "secret"}).ok());
  }
  std::vector<std::string> records = log->Records("sqs");
  auto altered = std::make_shared<RecordingStorage>();
  bool changed = false;
  for (std::string& r : records) {
    // A stored message's binary record (format 1, kind 1) ends with its sealed field, whose
    // last byte is one of the AES-GCM tag's.
    if (r.size() > 2 && r[0] == '\x01' && r[1] == '\x01') {
      r.back() = static_cast<char>(r.back() ^ 1);
      changed = true;
    }
  }
  REQUIRE(changed);
  altered->Submit("sqs", records);
  Side side(altered, Keys());
  const absl::Status st = side.hub.Recover();
  CHECK(st.code() == absl::StatusCode::kDataLoss);
  CHECK(std::string(st.message()).find("does not open") != std::string::npos);
}

TEST_CASE("A key file gives named keys, versions, aliases and states", "[sse]") {
  const std::string hex1(64, '1'), hex2(64, '2'), hex3(64, 'a');
  const std::string text = fmt::format(
      "# courier keys\n"
      "key {0} {1}\n"
      "key {0} {2}   # a newer version\n"
      "\n"
      "alias alias/orders {0}\n"
      "key {3} {4}\r\n"
      "disabled {3}\n",
      kKeyId, hex1, hex2, kOtherKeyId, hex3);
  TempDir dir;
  const std::string path = dir.File("courier.keys");
  std::ofstream(path) << text;
  auto keys = LoadKeyFile(path).value();
  CHECK(keys->ResolveKey("alias/orders").value() == kKeyArn);
  CHECK(ErrorName(keys->ResolveKey(std::string(kOtherKeyId)).status()) == "DisabledException");
  // The newest version wraps: a provider with only the first version cannot open it.
  DataKey data = keys->GenerateDataKey("alias/orders", "ctx").value();
  auto first_only = ParseKeyFile(fmt::format("key {} {}\n", kKeyId, hex1)).value();
  CHECK(ErrorName(first_only->Decrypt(kKeyArn, data.wrapped, "ctx").status()) ==
        "InvalidCiphertextException");
  CHECK(keys->Decrypt(kKeyArn, data.wrapped, "ctx").value() == data.plaintext);
  CHECK(ErrorName(keys->Decrypt(kKeyArn, data.wrapped, "other").status()) ==
        "InvalidCiphertextException");

  for (const auto& [bad, line] : std::vector<std::pair<std::string, std::string>>{
           {"key nope 00\n", "line 1"},
           {fmt::format("# c\nkey {} {}\n", kKeyId, std::string(63, '1')), "line 2"},
           {fmt::format("alias alias/x {}\n", kKeyId), "line 1"},
           {fmt::format("key {0} {1}\nalias alias/aws/sqs {0}\n", kKeyId, hex1), "line 2"},
           {"secret 12\n", "line 1"}}) {
    INFO(bad);
    absl::StatusOr<std::shared_ptr<InMemoryKeyProvider>> parsed = ParseKeyFile(bad);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(parsed.status().message()).find(line) != std::string::npos);
  }
  CHECK(absl::IsNotFound(LoadKeyFile(dir.File("missing.keys")).status()));

  // A hub on a file reopened with the keys loaded again from the key file.
  const std::string db = dir.File("hub.db");
  {
    Side side(SqliteStorage::Open(db).value(), LoadKeyFile(path).value());
    auto q = Sqs(side.hub)
                 .CreateQueue("q", Queue::AttributeMap{{"KmsMasterKeyId", "alias/orders"}})
                 .value();
    REQUIRE(q->SendMessage({.body = "from the key file"}).ok());
  }
  Side side(SqliteStorage::Open(db).value(), LoadKeyFile(path).value());
  REQUIRE(side.hub.Recover().ok());
  CHECK(BodiesOf(ReceiveAll(*Sqs(side.hub).GetQueue("q").value())) ==
        std::set<std::string>{"from the key file"});
}

TEST_CASE("The AWS managed keys are the same in every provider of an account", "[sse]") {
  DataKey data = InMemoryKeyProvider().GenerateDataKey("alias/aws/sqs", "ctx").value();
  CHECK(InMemoryKeyProvider().Decrypt(data.key_arn, data.wrapped, "ctx").value() == data.plaintext);
  CHECK_FALSE(InMemoryKeyProvider("us-east-1", "111111111111")
                  .Decrypt(data.key_arn, data.wrapped, "ctx")
                  .ok());
}

TEST_CASE("Publish to a topic whose KMS key cannot be used fails with SNS's KMS error", "[sse]") {
  std::shared_ptr<InMemoryKeyProvider> keys = Keys();
  Side side(nullptr, keys);
  SnsService& sns = Sns(side.hub);
  auto topic = sns.CreateTopic("t", {{"KmsMasterKeyId", "alias/orders"}}).value();
  CHECK(topic->Publish({.message = "m"}).ok());
  REQUIRE(keys->SetKeyState(kKeyId, InMemoryKeyProvider::KeyState::kDisabled).ok());
  CHECK(ErrorName(topic->Publish({.message = "m"}).status()) == "KMSDisabled");
  REQUIRE(keys->SetKeyState(kKeyId, InMemoryKeyProvider::KeyState::kPendingDeletion).ok());
  CHECK(ErrorName(topic->Publish({.message = "m"}).status()) == "KMSInvalidState");
  REQUIRE(topic->SetAttribute("KmsMasterKeyId", "alias/missing").ok());
  CHECK(ErrorName(topic->Publish({.message = "m"}).status()) == "KMSNotFound");
  auto batch = topic->PublishBatch({{.id = "a", .request = {.message = "m"}}}).value();
  REQUIRE(batch.failed.size() == 1);
  CHECK(batch.failed[0].code == "KMSNotFound");
  REQUIRE(topic->SetAttribute("KmsMasterKeyId", "alias/aws/sns").ok());
  CHECK(topic->Publish({.message = "m"}).ok());
  // Without a provider only the AWS managed keys exist.
  Side bare(nullptr, nullptr);
  auto t2 = Sns(bare.hub).CreateTopic("t2", {{"KmsMasterKeyId", "alias/orders"}}).value();
  CHECK(ErrorName(t2->Publish({.message = "m"}).status()) == "KMSNotFound");
  auto counting = std::make_shared<CountingKeys>(keys);
  counting->fail = KeyError::kThrottled;
  Side throttled(nullptr, counting);
  auto t3 = Sns(throttled.hub).CreateTopic("t3", {{"KmsMasterKeyId", "alias/orders"}}).value();
  CHECK(ErrorName(t3->Publish({.message = "m"}).status()) == "KMSThrottling");
  auto t4 = Sns(throttled.hub).CreateTopic("t4").value();
  CHECK(t4->Publish({.message = "m"}).ok());  // no key: no check
}

}  // namespace
}  // namespace courier
