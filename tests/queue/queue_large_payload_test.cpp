// The standard Queue with the extended client's option (spec §7).
#include <catch2/catch.hpp>
#include <string>

#include "courier/blob_store.h"
#include "courier/detail/digest.h"
#include "courier/hub.h"
#include "courier/queue.h"
#include "courier/status.h"
#include "courier/testing/simulation.h"

namespace courier {
namespace {

TEST_CASE("Queue large payloads: offload, restore, delete the blob") {
  testing::Simulation sim;
  Hub hub(sim.environment());
  auto blobs = std::make_shared<MemoryBlobStore>();
  auto q = Queue::Create(hub, "big", {}, {.large_payloads = LargePayloadOptions{.store = blobs}})
               .value();

  SECTION("a 64 MiB body, 64 times the queue's size limit") {
    std::string body(64 << 20, 'x');
    body.back() = 'y';
    SendMessageRequest r{.body = body};
    r.attributes["kind"] = MessageAttribute::String("huge");
    auto sent = q->SendMessage(r);
    REQUIRE(sent.ok());
    // SQS hashes what it receives, the pointer body; the receive restores the original's MD5.
    CHECK(sent->md5_of_message_body != detail::Md5Of(body));
    CHECK(blobs->Count() == 1);
    auto got = q->ReceiveMessage({.message_attribute_names = {"All"}}).value();
    REQUIRE(got.size() == 1);
    CHECK(got[0].body == body);
    CHECK(got[0].md5_of_body == detail::Md5Of(body));
    CHECK(got[0].message_attributes.size() == 1);  // ExtendedPayloadSize is not shown
    CHECK(got[0].message_attributes.contains("kind"));
    CHECK(got[0].receipt_handle.value().starts_with(
        "-..s3BucketName..-courier-large-payloads-..s3BucketName..--..s3Key..-"));
    REQUIRE(q->DeleteMessage(got[0].receipt_handle).ok());
    CHECK(blobs->Count() == 0);
    CHECK(q->GetQueueAttributes({"ApproximateNumberOfMessagesNotVisible"})
              .value()
              .at("ApproximateNumberOfMessagesNotVisible") == "0");
  }
  SECTION("restored without requested attributes; visibility changes take the extended handle") {
    SendMessageRequest r{.body = std::string(300000, 'q')};
    REQUIRE(q->SendMessage(r).ok());
    auto got = q->ReceiveMessage({}).value();
    REQUIRE(got.size() == 1);
    CHECK(got[0].body == r.body);
    CHECK(got[0].message_attributes.empty());
    REQUIRE(q->ChangeMessageVisibility(got[0].receipt_handle, absl::Seconds(0)).ok());
    auto again = q->ReceiveMessage({}).value();
    REQUIRE(again.size() == 1);
    CHECK(again[0].body == r.body);
    // The first handle is stale now: success, and neither message nor blob goes.
    REQUIRE(q->DeleteMessage(got[0].receipt_handle).ok());
    CHECK(blobs->Count() == 1);
    REQUIRE(q->DeleteMessage(again[0].receipt_handle).ok());
    CHECK(blobs->Count() == 0);
  }
  SECTION("small bodies stay inline") {
    REQUIRE(q->SendMessage({.body = "small"}).ok());
    CHECK(blobs->Count() == 0);
    auto got = q->ReceiveMessage({}).value();
    REQUIRE(got.size() == 1);
    CHECK(got[0].body == "small");
    CHECK_FALSE(got[0].receipt_handle.value().starts_with("-.."));
  }
  SECTION("a body the queue rejects leaves no blob behind") {
    SendMessageRequest r{.body = std::string(300000, 'q')};
    for (int i = 0; i < 10; ++i) {
      r.attributes["a" + std::to_string(i)] = MessageAttribute::String("v");
    }
    auto sent = q->SendMessage(r);  // 10 user attributes + ExtendedPayloadSize is too many
    REQUIRE_FALSE(sent.ok());
    CHECK(ErrorName(sent.status()) == "InvalidParameterValue");
    CHECK(blobs->Count() == 0);
  }
}

}  // namespace
}  // namespace courier
