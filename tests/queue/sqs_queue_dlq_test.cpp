// SqsQueue dead-letter queues, redrive policies, message move tasks (spec §6) and large
// payloads (spec §7), driven by a simulated clock.
#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "courier/blob_store.h"
#include "courier/fifo_queue.h"
#include "courier/hub.h"
#include "courier/sqs_queue.h"
#include "courier/status.h"
#include "courier/testing/simulation.h"

namespace courier {
namespace {

struct Fixture {
  testing::Simulation sim;
  Hub hub{sim.environment()};

  std::shared_ptr<SqsQueue> Make(std::string name, SqsQueue::AttributeMap attrs = {},
                                 SqsQueue::Options options = {}) {
    auto q = SqsQueue::Create(hub, name, attrs, std::move(options));
    REQUIRE(q.ok());
    return *q;
  }
  std::vector<Message> Receive(SqsQueue& q, int max = 10) {
    auto got = q.ReceiveMessage({.max_number_of_messages = max,
                                 .message_system_attribute_names = {"All"},
                                 .message_attribute_names = {"All"}});
    REQUIRE(got.ok());
    return *got;
  }
  std::string Visible(SqsQueue& q) {
    return q.GetQueueAttributes({"ApproximateNumberOfMessages"})
        .value()
        .at("ApproximateNumberOfMessages");
  }
};

std::string Redrive(const std::string& arn, int n) {
  return R"({"deadLetterTargetArn":")" + arn + R"(","maxReceiveCount":)" + std::to_string(n) + "}";
}

TEST_CASE("SqsQueue DLQ: redrive policy validation", "[sqs]") {
  Fixture f;
  auto dlq = f.Make("dlq");
  auto q = f.Make("src");
  auto bad = [&](std::string policy) -> std::string {
    return std::string(ErrorName(q->SetQueueAttributes({{"RedrivePolicy", policy}})));
  };
  CHECK(bad("not json") == "InvalidParameterValue");
  CHECK(bad(R"({"maxReceiveCount":3})") == "InvalidParameterValue");
  CHECK(bad(R"({"deadLetterTargetArn":")" + dlq->arn() + R"("})") == "InvalidParameterValue");
  CHECK(bad(Redrive(dlq->arn(), 0)) == "InvalidParameterValue");
  CHECK(bad(Redrive(dlq->arn(), 1001)) == "InvalidParameterValue");
  CHECK(bad(Redrive(f.hub.Arn("sqs", "missing"), 3)) == "InvalidParameterValue");
  CHECK(bad(Redrive(q->arn(), 3)) == "InvalidParameterValue");
  auto fifo = FifoQueue::Create(f.hub, "f.fifo").value();
  CHECK(bad(Redrive(fifo->arn(), 3)) == "InvalidParameterValue");  // same type only
  CHECK_FALSE(q->GetQueueAttributes({"RedrivePolicy"}).value().contains("RedrivePolicy"));
  CHECK(q->SetQueueAttributes({{"RedrivePolicy", Redrive(dlq->arn(), 1000)}}).ok());
  CHECK(q->SetQueueAttributes({{"RedrivePolicy", Redrive(dlq->arn(), 1)}}).ok());
  // maxReceiveCount given as a string is accepted, as AWS does.
  CHECK(q->SetQueueAttributes({{"RedrivePolicy", R"({"deadLetterTargetArn":")" + dlq->arn() +
                                                     R"(","maxReceiveCount":"2"})"}})
            .ok());
  // RedriveAllowPolicy on the target.
  auto strict = f.Make("strict", {{"RedriveAllowPolicy", R"({"redrivePermission":"denyAll"})"}});
  CHECK(bad(Redrive(strict->arn(), 3)) == "InvalidParameterValue");
  auto by_queue = f.Make("byq", {{"RedriveAllowPolicy", R"({"redrivePermission":"byQueue",
      "sourceQueueArns":[")" + q->arn() + R"("]})"}});
  CHECK(q->SetQueueAttributes({{"RedrivePolicy", Redrive(by_queue->arn(), 3)}}).ok());
  auto other = f.Make("other");
  CHECK(ErrorName(other->SetQueueAttributes({{"RedrivePolicy", Redrive(by_queue->arn(), 3)}})) ==
        "InvalidParameterValue");
  std::string eleven = R"({"redrivePermission":"byQueue","sourceQueueArns":[)";
  for (int i = 0; i < 11; ++i)
    eleven += std::string(i ? "," : "") + "\"arn:x:" + std::to_string(i) + "\"";
  eleven += "]}";
  CHECK(ErrorName(other->SetQueueAttributes({{"RedriveAllowPolicy", eleven}})) ==
        "InvalidParameterValue");
  CHECK(ErrorName(other->SetQueueAttributes(
            {{"RedriveAllowPolicy", R"({"redrivePermission":"byQueue"})"}})) ==
        "InvalidParameterValue");
  CHECK(ErrorName(other->SetQueueAttributes(
            {{"RedriveAllowPolicy", R"({"redrivePermission":"sometimes"})"}})) ==
        "InvalidParameterValue");
  CHECK(other->SetQueueAttributes({{"RedriveAllowPolicy", R"({"redrivePermission":"allowAll"})"}})
            .ok());
}

TEST_CASE("SqsQueue DLQ: the receive past maxReceiveCount moves the message", "[sqs]") {
  Fixture f;
  auto dlq = f.Make("dlq", {{"MessageRetentionPeriod", "345600"}});
  auto q = f.Make("src", {{"VisibilityTimeout", "0"},
                          {"MessageRetentionPeriod", "86400"},
                          {"RedrivePolicy", Redrive(dlq->arn(), 2)}});
  auto sent = q->SendMessage({.body = "poison",
                              .attributes = {{"k", MessageAttribute::String("v")}},
                              .aws_trace_header = "Root=1"})
                  .value();
  const absl::Time t0 = f.sim.Now();
  REQUIRE(f.Receive(*q).size() == 1);
  REQUIRE(f.Receive(*q).size() == 1);
  // The third receive would exceed 2: the message moves and is not returned.
  CHECK(f.Receive(*q).empty());
  CHECK(f.Visible(*q) == "0");
  CHECK(f.Visible(*dlq) == "1");
  auto got = f.Receive(*dlq);
  REQUIRE(got.size() == 1);
  CHECK(got[0].message_id == sent.message_id);
  CHECK(got[0].body == "poison");
  CHECK(got[0].md5_of_message_attributes == sent.md5_of_message_attributes);
  CHECK(got[0].message_attributes.at("k").string_value == "v");
  CHECK(got[0].attributes.at("ApproximateReceiveCount") == "3");
  CHECK(got[0].attributes.at("DeadLetterQueueSourceArn") == q->arn());
  CHECK(got[0].attributes.at("AWSTraceHeader") == "Root=1");
  CHECK(got[0].attributes.at("SentTimestamp") == std::to_string(absl::ToUnixMillis(t0)));
  CHECK(got[0].attributes.at("ApproximateFirstReceiveTimestamp") ==
        std::to_string(absl::ToUnixMillis(t0)));
  // The DLQ's handle is foreign to the source queue.
  CHECK(ErrorName(q->DeleteMessage(got[0].receipt_handle)) == "ReceiptHandleIsInvalid");
  REQUIRE(dlq->ChangeMessageVisibility(got[0].receipt_handle, absl::ZeroDuration()).ok());
  // Retention in a standard DLQ counts from the original enqueue: 4 days from t0.
  f.sim.clock().AdvanceTo(t0 + absl::Hours(96) - absl::Seconds(1));
  CHECK(f.Visible(*dlq) == "1");
  f.sim.clock().AdvanceTo(t0 + absl::Hours(96));
  CHECK(f.Visible(*dlq) == "0");
}

TEST_CASE("SqsQueue DLQ: a dead letter already past the DLQ's retention is dropped", "[sqs]") {
  Fixture f;
  auto dlq = f.Make("dlq", {{"MessageRetentionPeriod", "60"}});
  auto q = f.Make("src", {{"VisibilityTimeout", "0"}, {"RedrivePolicy", Redrive(dlq->arn(), 1)}});
  REQUIRE(q->SendMessage({.body = "x"}).ok());
  REQUIRE(f.Receive(*q).size() == 1);
  f.sim.clock().Advance(absl::Seconds(61));
  CHECK(f.Receive(*q).empty());
  CHECK(f.Visible(*q) == "0");
  CHECK(f.Visible(*dlq) == "0");
}

TEST_CASE("SqsQueue move tasks: back to the source, rate on the clock, statuses", "[sqs]") {
  Fixture f;
  auto dlq = f.Make("dlq");
  auto q = f.Make("src", {{"VisibilityTimeout", "0"}, {"RedrivePolicy", Redrive(dlq->arn(), 1)}});
  std::set<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.insert(q->SendMessage({.body = "m" + std::to_string(i)}).value().message_id);
  }
  REQUIRE(f.Receive(*q).size() == 5);
  REQUIRE(f.Receive(*q).empty());  // all five move
  REQUIRE(f.Visible(*dlq) == "5");
  // Errors.
  CHECK(ErrorMessage(q->StartMessageMoveTask().status()) ==
        "Source queue must be configured as a Dead Letter Queue.");
  CHECK(ErrorName(dlq->StartMessageMoveTask(std::nullopt, 501).status()) ==
        "InvalidParameterValue");
  CHECK(ErrorName(dlq->StartMessageMoveTask(f.hub.Arn("sqs", "nope")).status()) ==
        "ResourceNotFoundException");
  CHECK(ErrorName(dlq->ListMessageMoveTasks(0).status()) == "InvalidParameterValue");
  CHECK(ErrorName(SqsQueue::CancelMessageMoveTask(f.hub, "nope").status()) ==
        "ResourceNotFoundException");
  // 2 a second: 2 now, 2 after 1 s, 1 after 2 s.
  auto handle = dlq->StartMessageMoveTask(std::nullopt, 2);
  REQUIRE(handle.ok());
  CHECK(f.Visible(*q) == "2");
  auto tasks = dlq->ListMessageMoveTasks().value();
  REQUIRE(tasks.size() == 1);
  CHECK(tasks[0].status == "RUNNING");
  CHECK(tasks[0].task_handle == *handle);
  CHECK(tasks[0].approximate_number_of_messages_to_move == 5);
  CHECK(tasks[0].approximate_number_of_messages_moved == 2);
  CHECK(ErrorMessage(dlq->StartMessageMoveTask().status()) ==
        "There is already a task running. Only one active task is allowed for a source queue "
        "arn at a given time.");
  f.sim.clock().Advance(absl::Seconds(1));
  CHECK(f.Visible(*q) == "4");
  f.sim.clock().Advance(absl::Seconds(1));
  CHECK(f.Visible(*q) == "5");
  CHECK(f.Visible(*dlq) == "0");
  f.sim.RunFor(absl::Seconds(2));
  tasks = dlq->ListMessageMoveTasks().value();
  CHECK(tasks[0].status == "COMPLETED");
  CHECK(tasks[0].task_handle.empty());
  CHECK(tasks[0].approximate_number_of_messages_moved == 5);
  // Moved messages have new ids and a restarted receive count.
  auto back = f.Receive(*q);
  REQUIRE(back.size() == 5);
  for (const Message& m : back) {
    CHECK_FALSE(ids.contains(m.message_id));
    CHECK(m.attributes.at("ApproximateReceiveCount") == "1");
    CHECK_FALSE(m.attributes.contains("DeadLetterQueueSourceArn"));
  }
  // Cancel: a RUNNING task only; moved messages stay moved.
  REQUIRE(f.Receive(*q).empty());  // back to the DLQ
  REQUIRE(f.Visible(*dlq) == "5");
  auto dest = f.Make("elsewhere");
  auto second = dlq->StartMessageMoveTask(dest->arn(), 1).value();
  CHECK(f.Visible(*dest) == "1");
  CHECK(SqsQueue::CancelMessageMoveTask(f.hub, second).value() == 1);
  CHECK(ErrorName(SqsQueue::CancelMessageMoveTask(f.hub, second).status()) ==
        "InvalidParameterValue");
  f.sim.RunFor(absl::Seconds(5));
  CHECK(f.Visible(*dest) == "1");
  CHECK(f.Visible(*dlq) == "4");
  tasks = dlq->ListMessageMoveTasks(10).value();
  REQUIRE(tasks.size() == 2);
  CHECK(tasks[0].status == "CANCELLED");  // newest first
  CHECK(tasks[0].destination_arn == dest->arn());
  CHECK(tasks[1].status == "COMPLETED");
}

TEST_CASE("SqsQueue move tasks: a vanished source queue fails the task", "[sqs]") {
  Fixture f;
  auto dlq = f.Make("dlq");
  auto q = f.Make("src", {{"VisibilityTimeout", "0"}, {"RedrivePolicy", Redrive(dlq->arn(), 1)}});
  REQUIRE(q->SendMessage({.body = "x"}).ok());
  REQUIRE(f.Receive(*q).size() == 1);
  REQUIRE(f.Receive(*q).empty());
  auto keep = f.Make("keep", {{"RedrivePolicy", Redrive(dlq->arn(), 1)}});  // still a DLQ
  REQUIRE(SqsQueue::Delete(f.hub, "src").ok());
  REQUIRE(dlq->StartMessageMoveTask().ok());
  auto tasks = dlq->ListMessageMoveTasks().value();
  CHECK(tasks[0].status == "FAILED");
  CHECK_FALSE(tasks[0].failure_reason.empty());
  CHECK(f.Visible(*dlq) == "1");  // nothing lost
}

TEST_CASE("SqsQueue large payloads: offloaded, restored, blob deleted with the message", "[sqs]") {
  Fixture f;
  auto store = std::make_shared<MemoryBlobStore>();
  auto q = f.Make(
      "big", {},
      {.large_payloads = LargePayloadOptions{.store = store, .bucket = "b", .threshold = 1000}});
  const std::string body(5000, 'z');
  REQUIRE(q->SendMessage({.body = body}).ok());
  CHECK(store->Count() == 1);
  auto got = q->ReceiveMessage({.max_number_of_messages = 1}).value();
  REQUIRE(got.size() == 1);
  CHECK(got[0].body == body);
  CHECK(got[0].message_attributes.empty());
  CHECK(got[0].receipt_handle.value().starts_with("-..s3BucketName..-b-..s3BucketName..-"));
  REQUIRE(q->DeleteMessage(got[0].receipt_handle).ok());
  CHECK(f.Visible(*q) == "0");
  CHECK(store->Count() == 0);
  REQUIRE(q->SendMessage({.body = "small"}).ok());
  CHECK(store->Count() == 0);
  auto got_small = q->ReceiveMessage({}).value();
  REQUIRE(got_small.size() == 1);
  CHECK(got_small[0].body == "small");
  CHECK_FALSE(got_small[0].receipt_handle.value().starts_with("-.."));
}

}  // namespace
}  // namespace courier
