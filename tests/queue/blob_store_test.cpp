// BlobStore implementations and the extended client's wire format (spec §7).
#include "courier/blob_store.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "courier/detail/digest.h"
#include "courier/detail/uuid.h"
#include "courier/status.h"
#include "queue/extended_payload.h"

namespace courier {
namespace {

void CheckStore(BlobStore& store) {
  CHECK(store.Count() == 0);
  REQUIRE(store.Put("b", "k", "hello").ok());
  CHECK(store.Get("b", "k").value() == "hello");
  CHECK(store.Count() == 1);
  REQUIRE(store.Put("b", "k", std::string("bin\0ary", 7)).ok());  // replaces
  CHECK(store.Get("b", "k").value() == std::string("bin\0ary", 7));
  CHECK(ErrorName(store.Get("b", "other").status()) == "NoSuchKey");
  CHECK(ErrorName(store.Get("other", "k").status()) == "NoSuchKey");
  CHECK(store.Delete("b", "k").ok());
  CHECK(store.Delete("b", "k").ok());  // deleting a missing blob succeeds
  CHECK(ErrorName(store.Get("b", "k").status()) == "NoSuchKey");
  CHECK(store.Count() == 0);
}

TEST_CASE("MemoryBlobStore: put, get, replace, delete") {
  MemoryBlobStore store;
  CheckStore(store);
}

TEST_CASE("DirectoryBlobStore: the same contract on disk, and unsafe names are rejected") {
  const std::string root =
      (std::filesystem::temp_directory_path() / ("courier-blobs-" + detail::NewUuid())).string();
  {
    auto store = DirectoryBlobStore::Open(root);
    REQUIRE(store.ok());
    CheckStore(**store);
    CHECK(ErrorName((*store)->Put("b", "../escape", "x")) == "InvalidArgument");
    CHECK(ErrorName((*store)->Put("..", "k", "x")) == "InvalidArgument");
    CHECK(ErrorName((*store)->Get("b", "").status()) == "InvalidArgument");
    // Blobs survive reopening.
    REQUIRE((*store)->Put("b", "kept", "data").ok());
  }
  auto reopened = DirectoryBlobStore::Open(root);
  REQUIRE(reopened.ok());
  CHECK((*reopened)->Get("b", "kept").value() == "data");
  std::filesystem::remove_all(root);
}

TEST_CASE("Extended client: pointer body, exactly as AWS's extended client writes it") {
  const queue_internal::PayloadPointer p{"B", "K"};
  CHECK(
      queue_internal::PointerBody(p) ==
      R"(["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"B","s3Key":"K"}])");
  CHECK(queue_internal::ParsePointerBody(queue_internal::PointerBody(p)) == p);
  CHECK(
      queue_internal::ParsePointerBody(
          R"(["com.amazon.sqs.javamessaging.MessageS3Pointer",{"s3BucketName":"B","s3Key":"K"}])") ==
      p);
  CHECK_FALSE(
      queue_internal::ParsePointerBody(R"(["other.Class",{"s3BucketName":"B","s3Key":"K"}])"));
  CHECK_FALSE(queue_internal::ParsePointerBody("[1,2]"));
  CHECK_FALSE(queue_internal::ParsePointerBody("plain body"));
}

TEST_CASE("Extended client: receipt handle form") {
  const queue_internal::PayloadPointer p{"B", "K"};
  const std::string joined = queue_internal::JoinReceiptHandle(p, "inner-handle");
  CHECK(joined == "-..s3BucketName..-B-..s3BucketName..--..s3Key..-K-..s3Key..-inner-handle");
  std::string inner;
  CHECK(queue_internal::SplitReceiptHandle(joined, &inner) == p);
  CHECK(inner == "inner-handle");
  CHECK_FALSE(queue_internal::SplitReceiptHandle("plain", &inner));
  CHECK(inner == "plain");
  CHECK_FALSE(queue_internal::SplitReceiptHandle("-..s3BucketName..-B", &inner));
}

TEST_CASE("Extended client: offload above the threshold only, and restore") {
  auto store = std::make_shared<MemoryBlobStore>();
  LargePayloadOptions options{.store = store, .bucket = "bucket", .threshold = 100};
  SECTION("at the threshold stays inline") {
    SendMessageRequest r{.body = std::string(96, 'x'),
                         .attributes = {{"a", MessageAttribute::String("v")}}};  // 96+1+6+1
    REQUIRE(queue_internal::MessageSize(r) == 104);
    r.body.resize(92);
    REQUIRE(queue_internal::MessageSize(r) == 100);
    REQUIRE(queue_internal::OffloadPayload(options, r).ok());
    CHECK(r.body == std::string(92, 'x'));
    CHECK(r.attributes.size() == 1);
    CHECK(store->Count() == 0);
  }
  SECTION("one byte more is offloaded; restore gives back body, attributes and MD5s") {
    const std::string body(93, 'y');
    SendMessageRequest r{.body = body, .attributes = {{"a", MessageAttribute::String("v")}}};
    REQUIRE(queue_internal::OffloadPayload(options, r).ok());
    auto pointer = queue_internal::ParsePointerBody(r.body);
    REQUIRE(pointer.has_value());
    CHECK(pointer->bucket == "bucket");
    CHECK(r.attributes.at("ExtendedPayloadSize") == MessageAttribute::Number("93"));
    CHECK(store->Count() == 1);

    Message m{.message_id = MessageId("id"),
              .receipt_handle = ReceiptHandle("h"),
              .body = r.body,
              .message_attributes = r.attributes};
    REQUIRE(queue_internal::RestorePayload(options, m).ok());
    CHECK(m.body == body);
    CHECK(m.md5_of_body == detail::Md5Of(body));
    CHECK(m.message_attributes.size() == 1);
    CHECK(m.message_attributes.count("a") == 1);
    CHECK(m.md5_of_message_attributes ==
          detail::Md5OfMessageAttributes({{"a", MessageAttribute::String("v")}}));
    std::string inner;
    CHECK(queue_internal::SplitReceiptHandle(m.receipt_handle.value(), &inner) == pointer);
    CHECK(inner == "h");
    REQUIRE(queue_internal::DeleteBlob(options, *pointer).ok());
    CHECK(store->Count() == 0);
    // A pointer whose blob is gone cannot be restored.
    Message again{.body = queue_internal::PointerBody(*pointer),
                  .message_attributes = {{"ExtendedPayloadSize", MessageAttribute::Number("93")}}};
    CHECK(ErrorName(queue_internal::RestorePayload(options, again)) == "NoSuchKey");
  }
  SECTION("always offloads even a tiny body") {
    options.always = true;
    SendMessageRequest r{.body = "tiny"};
    REQUIRE(queue_internal::OffloadPayload(options, r).ok());
    CHECK(queue_internal::ParsePointerBody(r.body).has_value());
    CHECK(store->Count() == 1);
  }
  SECTION("ten user attributes leave no room for ExtendedPayloadSize") {
    SendMessageRequest r{.body = std::string(200, 'z')};
    for (int i = 0; i < 10; ++i) {
      r.attributes.emplace("a" + std::to_string(i), MessageAttribute::String("v"));
    }
    const SendMessageRequest before = r;
    const absl::Status st = queue_internal::OffloadPayload(options, r);
    CHECK(ErrorName(st) == "InvalidParameterValue");
    CHECK(ErrorMessage(st) == "Number of message attributes [10] exceeds the allowed maximum [9].");
    CHECK(r.body == before.body);
    CHECK(store->Count() == 0);
  }
  SECTION("the reserved attribute name is refused") {
    SendMessageRequest r{.body = "x",
                         .attributes = {{"ExtendedPayloadSize", MessageAttribute::Number("1")}}};
    CHECK(ErrorName(queue_internal::OffloadPayload(options, r)) == "InvalidParameterValue");
  }
  SECTION("an ordinary message passes through restore untouched") {
    Message m{.receipt_handle = ReceiptHandle("h"), .body = "plain"};
    const Message before = m;
    REQUIRE(queue_internal::RestorePayload(options, m).ok());
    CHECK(m == before);
  }
}

TEST_CASE("Extended client: a message written by the legacy Java client is restored") {
  // The legacy client's pointer class and size attribute (SQSLargePayloadSize): its messages
  // are read back like current ones, and neither the pointer nor the attribute shows.
  auto store = std::make_shared<MemoryBlobStore>();
  const LargePayloadOptions options{.store = store, .bucket = "b", .threshold = 100};
  const std::string body(500, 'L');
  REQUIRE(store->Put("b", "legacy-key", body).ok());
  Message m{.receipt_handle = ReceiptHandle("h"),
            .body = R"(["com.amazon.sqs.javamessaging.MessageS3Pointer",)"
                    R"({"s3BucketName":"b","s3Key":"legacy-key"}])",
            .message_attributes = {{"SQSLargePayloadSize", MessageAttribute::Number("500")}}};
  REQUIRE(queue_internal::RestorePayload(options, m).ok());
  CHECK(m.body == body);
  CHECK(m.md5_of_body == detail::Md5Of(body));
  CHECK(m.message_attributes.empty());
  CHECK(m.md5_of_message_attributes.empty());  // no attributes left: no digest, as SQS
  std::string inner;
  CHECK(queue_internal::SplitReceiptHandle(m.receipt_handle.value(), &inner) ==
        queue_internal::PayloadPointer{"b", "legacy-key"});
  CHECK(inner == "h");
}

TEST_CASE("Extended client: a 64 MiB body round-trips through a directory store") {
  const std::string root =
      (std::filesystem::temp_directory_path() / ("courier-blobs-" + detail::NewUuid())).string();
  auto store = DirectoryBlobStore::Open(root);
  REQUIRE(store.ok());
  LargePayloadOptions options{.store = *store};
  std::string body(64 << 20, 'a');
  body[12345] = 'b';
  SendMessageRequest r{.body = body};
  REQUIRE(queue_internal::OffloadPayload(options, r).ok());
  CHECK(r.body.size() < 200);
  Message m{
      .receipt_handle = ReceiptHandle("h"), .body = r.body, .message_attributes = r.attributes};
  REQUIRE(queue_internal::RestorePayload(options, m).ok());
  CHECK(m.body == body);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace courier
