// S3-shaped notifications from a blob store (the queue component's NotifyingBlobStore) to a bus:
// Object Created and Object Deleted as S3 sends them to EventBridge, routed by rules like any
// event; also from the extended client's payload bucket.
#include "courier/s3_notifications.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "courier/event_bus.h"
#include "courier/events.h"
#include "courier/hub.h"
#include "courier/json.h"
#include "courier/queue.h"
#include "courier/sqs.h"
#include "courier/testing/simulation.h"

namespace courier {
namespace {

struct Fixture {
  testing::Simulation sim;
  Hub hub{sim.environment()};
  std::shared_ptr<EventBus> bus = Events(hub).GetEventBus("default").value();
  std::shared_ptr<NotifyingBlobStore> blobs =
      std::make_shared<NotifyingBlobStore>(std::make_shared<MemoryBlobStore>(), hub, bus);
  std::shared_ptr<Queue> created = Sqs(hub).CreateQueue("created").value();
  std::shared_ptr<Queue> deleted = Sqs(hub).CreateQueue("deleted").value();

  Fixture() {
    REQUIRE(bus->PutRule("created", {.event_pattern = R"({"source":["aws.s3"],
                "detail-type":["Object Created"],"detail":{"bucket":{"name":["uploads"]}}})"})
                .ok());
    REQUIRE(bus->PutTargets("created", {{.id = "q", .arn = created->arn()}}).ok());
    REQUIRE(bus->PutRule("deleted", {.event_pattern = R"({"source":["aws.s3"],
                "detail-type":["Object Deleted"]})"})
                .ok());
    REQUIRE(bus->PutTargets("deleted", {{.id = "q", .arn = deleted->arn()}}).ok());
  }
  static std::vector<Json> Drain(Queue& q) {
    std::vector<Json> out;
    for (;;) {
      auto got = q.ReceiveMessage({.max_number_of_messages = 10, .wait_time = absl::ZeroDuration()})
                     .value();
      if (got.empty()) return out;
      for (const Message& m : got) {
        REQUIRE(q.DeleteMessage(m.receipt_handle).ok());
        out.push_back(ParseJson(m.body).value());
      }
    }
  }
};

TEST_CASE("Put and Delete send S3's Object Created and Object Deleted", "[events][s3]") {
  Fixture f;
  REQUIRE(f.blobs->Put("uploads", "a/b.txt", "hello").ok());
  REQUIRE(f.blobs->Put("other", "x", "y").ok());  // the rule names one bucket
  CHECK(f.blobs->Get("uploads", "a/b.txt").value() == "hello");
  std::vector<Json> got = Fixture::Drain(*f.created);
  REQUIRE(got.size() == 1);
  const Json& e = got[0];
  CHECK(e.at("source") == "aws.s3");
  CHECK(e.at("detail-type") == "Object Created");
  CHECK(e.at("resources") == JsonArray{Json("arn:aws:s3:::uploads")});
  CHECK(e.at("account") == "000000000000");
  const Json& d = e.at("detail");
  CHECK(d.at("bucket").at("name") == "uploads");
  CHECK(d.at("object").at("key") == "a/b.txt");
  CHECK(d.at("object").at("size") == 5);
  CHECK(d.at("object").at("etag") == "5d41402abc4b2a76b9719d911017c592");  // MD5 of "hello"
  CHECK(d.at("reason") == "PutObject");

  REQUIRE(f.blobs->Delete("uploads", "a/b.txt").ok());
  REQUIRE(f.blobs->Delete("uploads", "never-there").ok());  // no object, no event
  got = Fixture::Drain(*f.deleted);
  REQUIRE(got.size() == 1);
  CHECK(got[0].at("detail").at("object").at("key") == "a/b.txt");
  CHECK(got[0].at("detail").at("reason") == "DeleteObject");
  CHECK(got[0].at("detail").at("deletion-type") == "Permanently Deleted");
  CHECK(f.blobs->Count() == 1);
}

TEST_CASE("The extended client's payload bucket notifies the bus", "[events][s3]") {
  Fixture f;
  auto big = Queue::Create(
                 f.hub, "big", {},
                 {.large_payloads =
                      LargePayloadOptions{.store = f.blobs, .bucket = "uploads", .always = true}})
                 .value();
  REQUIRE(big->SendMessage({.body = "a large body"}).ok());
  std::vector<Json> created = Fixture::Drain(*f.created);
  REQUIRE(created.size() == 1);
  CHECK(created[0].at("detail").at("object").at("size") == 12);
  auto got = big->ReceiveMessage({.wait_time = absl::ZeroDuration()}).value();
  REQUIRE(got.size() == 1);
  CHECK(got[0].body == "a large body");
  REQUIRE(big->DeleteMessage(got[0].receipt_handle).ok());
  CHECK(Fixture::Drain(*f.deleted).size() == 1);
}

}  // namespace
}  // namespace courier
