// FifoQueue with the extended client's option (spec §7).
#include <catch2/catch.hpp>
#include <string>

#include "courier/blob_store.h"
#include "courier/detail/digest.h"
#include "courier/fifo_queue.h"
#include "courier/hub.h"
#include "courier/status.h"
#include "courier/testing/simulation.h"
#include "queue/extended_payload.h"

namespace courier {
namespace {

TEST_CASE("FifoQueue large payloads: offload, restore, delete the blob") {
  testing::Simulation sim;
  Hub hub(sim.environment());
  auto blobs = std::make_shared<MemoryBlobStore>();
  auto q = FifoQueue::Create(hub, "big.fifo", {{"ContentBasedDeduplication", "true"}},
                             {.large_payloads = LargePayloadOptions{.store = blobs}})
               .value();

  SECTION("a 64 MiB body, 64 times the queue's size limit") {
    std::string body(64 << 20, 'x');
    body.back() = 'y';
    SendMessageRequest r{.body = body, .message_group_id = "g"};
    r.attributes["kind"] = MessageAttribute::String("huge");
    auto sent = q->SendMessage(r);
    REQUIRE(sent.ok());
    CHECK(blobs->Count() == 1);
    // A duplicate (content-based, hashed on the original body) stores nothing more.
    CHECK(q->SendMessage(r).value().message_id == sent->message_id);
    CHECK(blobs->Count() == 1);
    auto got = q->ReceiveMessage({.message_attribute_names = {"All"}}).value();
    REQUIRE(got.size() == 1);
    CHECK(got[0].body == body);
    CHECK(got[0].md5_of_body == detail::Md5Of(body));
    CHECK(got[0].message_attributes.size() == 1);  // ExtendedPayloadSize is not shown
    CHECK(got[0].receipt_handle.value().starts_with(
        "-..s3BucketName..-courier-large-payloads-..s3BucketName..--..s3Key..-"));
    REQUIRE(q->DeleteMessage(got[0].receipt_handle).ok());
    CHECK(blobs->Count() == 0);
  }
  SECTION("restored even when the receive asks for no attributes") {
    SendMessageRequest r{.body = std::string(300000, 'q'), .message_group_id = "g"};
    REQUIRE(q->SendMessage(r).ok());
    auto got = q->ReceiveMessage({}).value();
    REQUIRE(got.size() == 1);
    CHECK(got[0].body == r.body);
    CHECK(got[0].message_attributes.empty());
    CHECK(got[0].md5_of_message_attributes.empty());
    // Visibility changes take the extended handle too.
    CHECK(q->ChangeMessageVisibility(got[0].receipt_handle, absl::Seconds(5)).ok());
    REQUIRE(q->DeleteMessage(got[0].receipt_handle).ok());
    CHECK(blobs->Count() == 0);
  }
  SECTION("small bodies stay inline; the threshold counts attributes") {
    SendMessageRequest r{.body = std::string(262144, 'a'), .message_group_id = "g"};
    REQUIRE(q->SendMessage(r).ok());
    CHECK(blobs->Count() == 0);
    r.body.push_back('b');
    REQUIRE(q->SendMessage(r).ok());
    CHECK(blobs->Count() == 1);
  }
  SECTION("ten user attributes cannot be offloaded") {
    SendMessageRequest r{.body = std::string(300000, 'a'), .message_group_id = "g"};
    for (int i = 0; i < 10; ++i) {
      r.attributes["a" + std::to_string(i)] = MessageAttribute::String("v");
    }
    CHECK(ErrorName(q->SendMessage(r).status()) == "InvalidParameterValue");
    CHECK(blobs->Count() == 0);
  }
  SECTION("the queued body is the pointer a plain SQS consumer would see") {
    auto plain =
        FifoQueue::Create(
            hub, "plain.fifo", {{"ContentBasedDeduplication", "true"}},
            {.large_payloads = LargePayloadOptions{.store = blobs, .bucket = "B", .always = true}})
            .value();
    REQUIRE(plain->SendMessage({.body = "tiny", .message_group_id = "g"}).ok());
    // TakeOldestForMove hands out the queued (pointer) message as is.
    auto raw = plain->TakeOldestForMove();
    REQUIRE(raw.has_value());
    auto pointer = queue_internal::ParsePointerBody(raw->body);
    REQUIRE(pointer.has_value());
    CHECK(pointer->bucket == "B");
    CHECK(raw->body.starts_with(
        R"(["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"B","s3Key":")"));
    CHECK(raw->attributes.at("ExtendedPayloadSize") == MessageAttribute::Number("4"));
  }
}

}  // namespace
}  // namespace courier
