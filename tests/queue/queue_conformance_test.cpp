// The standard queue against AWS's documented and recorded SQS behaviour, where the other queue
// tests do not reach. Recorded AWS responses are cited as [V]. The cases that are requests and
// responses (error names and messages, attribute string forms, selection rules, tag limits,
// move-task errors) are data, run through the operation table:
// tests/conformance/sqs/recorded_standard.jsonl. The ones here need what a script cannot say:
//   - a batch of exactly 1 MiB and one byte more (two 512 KiB bodies: too large for a line);
//   - ListQueues' 1,000-URL cap (a loop of 1,001 CreateQueue calls);
//   - CancelMessageMoveTask with a handle built from another task's handle (a script can only
//     repeat a saved value, not cut and join one);
//   - a move task whose source is deleted (its task list, read through the deleted queue's
//     handle, which no operation can reach any more);
//   - queue Options: invalid characters replaced, shuffled receives, duplicate deliveries (not
//     SQS attributes, so not reachable through the operation table; the last also a loop).
#include <fmt/format.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>

#include "courier/fifo_queue.h"
#include "courier/hub.h"
#include "courier/lambda.h"
#include "courier/queue.h"
#include "courier/sqs.h"
#include "courier/status.h"
#include "courier/step_functions.h"
#include "courier/testing/simulation.h"

namespace courier {
namespace {

struct Fixture {
  testing::Simulation sim;
  Hub hub{sim.environment()};
  std::shared_ptr<Queue> q = Sqs(hub).CreateQueue("orders").value();
};

std::string Redrive(const std::string& arn, const std::string& count) {
  return R"({"deadLetterTargetArn":")" + arn + R"(","maxReceiveCount":)" + count + "}";
}

TEST_CASE("Conformance: a batch of exactly 1 MiB is accepted, one byte more is not [V]",
          "[queue][conformance]") {
  Fixture f;
  auto ok = f.q->SendMessageBatch(
      {{"a", {.body = std::string(524288, 'a')}}, {"b", {.body = std::string(524288, 'b')}}});
  REQUIRE(ok.ok());
  CHECK(ok->successful.size() == 2);
  auto over = f.q->SendMessageBatch(
      {{"a", {.body = std::string(524288, 'a')}}, {"b", {.body = std::string(524289, 'b')}}});
  CHECK(ErrorName(over.status()) == "BatchRequestTooLong");
  CHECK(ErrorMessage(over.status()) ==
        "Batch requests cannot be longer than 1048576 bytes. You have sent 1048577 bytes.");
}

TEST_CASE("Conformance: ListQueues returns at most 1,000 URLs; MaxResults 1-1,000",
          "[queue][conformance]") {
  testing::Simulation sim;
  Hub hub(sim.environment());
  for (int i = 0; i < 1001; ++i) REQUIRE(Sqs(hub).CreateQueue(fmt::format("q{:04}", i)).ok());
  auto listed = Sqs(hub).ListQueues();
  REQUIRE(listed.size() == 1000);
  CHECK(listed.front() == Sqs(hub).QueueUrl("q0000"));
  CHECK(listed.back() == Sqs(hub).QueueUrl("q0999"));
  CHECK(Sqs(hub).ListQueues("q099").size() == 10);
  CHECK(Sqs(hub).ListQueues("q1") == std::vector<std::string>{Sqs(hub).QueueUrl("q1000")});
  auto two = Sqs(hub).ListQueues("q", 2);
  REQUIRE(two.ok());
  CHECK(*two == std::vector<std::string>{Sqs(hub).QueueUrl("q0000"), Sqs(hub).QueueUrl("q0001")});
  CHECK(Sqs(hub).ListQueues("", 1000)->size() == 1000);
  CHECK(ErrorName(Sqs(hub).ListQueues("", 0).status()) == "InvalidParameterValue");
  CHECK(ErrorName(Sqs(hub).ListQueues("", 1001).status()) == "InvalidParameterValue");
}

TEST_CASE("Conformance: CancelMessageMoveTask errors [V]", "[queue][conformance][dlq]") {
  Fixture f;
  auto invalid = Sqs(f.hub).CancelMessageMoveTask("foobared");
  CHECK(ErrorName(invalid.status()) == "InvalidParameterValue");
  CHECK(ErrorMessage(invalid.status()) == "Value for parameter TaskHandle is invalid.");
  // A well-formed handle whose source queue does not exist.
  auto dlq = Sqs(f.hub).CreateQueue("dlq").value();
  REQUIRE(f.q->SetQueueAttributes({{"RedrivePolicy", Redrive(dlq->arn(), "1")}}).ok());
  const std::string handle = Sqs(f.hub).StartMessageMoveTask(dlq->arn()).value();
  const std::string other_source = f.hub.Arn("sqs", "test-queue-doesnt-exist");
  auto no_source =
      Sqs(f.hub).CancelMessageMoveTask(other_source + handle.substr(dlq->arn().size()));
  CHECK(ErrorName(no_source.status()) == "ResourceNotFoundException");
  CHECK(ErrorMessage(no_source.status()) ==
        "The resource that you specified for the SourceArn parameter doesn't exist.");
  // The source exists, the task does not.
  auto no_task = Sqs(f.hub).CancelMessageMoveTask(dlq->arn() + "#999");
  CHECK(ErrorName(no_task.status()) == "ResourceNotFoundException");
  CHECK(ErrorMessage(no_task.status()) == "Task does not exist.");
}

TEST_CASE("Conformance: a move task whose source is deleted fails", "[queue][conformance][dlq]") {
  Fixture f;
  auto dlq = Sqs(f.hub).CreateQueue("dlq").value();
  REQUIRE(f.q->SetQueueAttributes({{"RedrivePolicy", Redrive(dlq->arn(), "1")}}).ok());
  for (int i = 0; i < 3; ++i) REQUIRE(f.q->SendMessage({.body = "m"}).ok());
  REQUIRE(f.q->ReceiveMessage(
                 {.max_number_of_messages = 10, .visibility_timeout = absl::ZeroDuration()})
              ->size() == 3);
  REQUIRE(f.q->ReceiveMessage({.max_number_of_messages = 10})->empty());
  REQUIRE(Sqs(f.hub).StartMessageMoveTask(dlq->arn(), std::nullopt, 1).ok());
  auto tasks_before = Sqs(f.hub).ListMessageMoveTasks(dlq->arn()).value();
  REQUIRE(tasks_before[0]["Status"] == "RUNNING");
  REQUIRE(Sqs(f.hub).DeleteQueue(dlq->arn()).ok());
  f.sim.clock().Advance(absl::Seconds(2));
  auto tasks = dlq->ListMessageMoveTasks(1).value();
  REQUIRE(tasks.size() == 1);
  CHECK(tasks[0].status == "FAILED");
  CHECK(tasks[0].failure_reason == "AWS.SimpleQueueService.NonExistentQueue");
  CHECK(tasks[0].approximate_number_of_messages_moved == 1);
}

TEST_CASE("Options: invalid body characters replaced with U+FFFD instead of refused (spec §2)",
          "[queue][conformance]") {
  testing::Simulation sim;
  Hub hub(sim.environment());
  auto q = Queue::Create(hub, "lenient", {}, {.replace_invalid_characters = true}).value();
  const std::string body = std::string(
      "a\x01"
      "b\xFF"
      "c\xED\xA0\x80"
      "d\xC3",
      10);
  const std::string replaced =
      "a\xEF\xBF\xBD"
      "b\xEF\xBF\xBD"
      "c\xEF\xBF\xBD"
      "d\xEF\xBF\xBD";
  auto sent = q->SendMessage({.body = body}).value();
  auto got = q->ReceiveMessage({}).value();
  REQUIRE(got.size() == 1);
  CHECK(got[0].body == replaced);
  CHECK(got[0].md5_of_body == sent.md5_of_message_body);
  CHECK(q->SendMessage({.body = "fine \xC3\xA9"}).ok());
  // Attribute values are not rewritten; the default queue still refuses.
  CHECK(ErrorName(
            q->SendMessage({.body = "x", .attributes = {{"a", MessageAttribute::String("\x01")}}})
                .status()) == "InvalidMessageContents");
  auto strict = Sqs(hub).CreateQueue("strict").value();
  CHECK(ErrorName(strict->SendMessage({.body = body}).status()) == "InvalidMessageContents");
}

TEST_CASE("Options: shuffle returns a receive's messages in random order (spec §3)",
          "[queue][conformance]") {
  testing::Simulation sim;
  Hub hub(sim.environment());
  auto q = Queue::Create(hub, "shuffled", {}, {.shuffle = true, .seed = 42}).value();
  std::vector<std::string> sent;
  for (int i = 0; i < 10; ++i) {
    sent.push_back(std::to_string(i));
    REQUIRE(q->SendMessage({.body = sent.back()}).ok());
  }
  auto got = q->ReceiveMessage({.max_number_of_messages = 10}).value();
  REQUIRE(got.size() == 10);
  std::vector<std::string> bodies;
  for (const Message& m : got) bodies.push_back(m.body);
  CHECK(bodies != sent);
  std::sort(bodies.begin(), bodies.end());
  CHECK(bodies == sent);
  for (const Message& m : got) CHECK(q->DeleteMessage(m.receipt_handle).ok());
  CHECK(q->GetQueueAttributes({"ApproximateNumberOfMessagesNotVisible"})
            .value()["ApproximateNumberOfMessagesNotVisible"] == "0");
}

TEST_CASE("Options: duplicate deliveries (spec §3 at-least-once)", "[queue][conformance]") {
  testing::Simulation sim;
  Hub hub(sim.environment());
  auto always = Queue::Create(hub, "dup", {}, {.duplicate_probability = 1, .seed = 7}).value();
  REQUIRE(always->SendMessage({.body = "twice"}).ok());
  auto first = always->ReceiveMessage({.message_system_attribute_names = {"All"}}).value();
  REQUIRE(first.size() == 1);
  auto second = always->ReceiveMessage({.message_system_attribute_names = {"All"}}).value();
  REQUIRE(second.size() == 1);
  CHECK(second[0].message_id == first[0].message_id);
  CHECK(second[0].attributes.at("ApproximateReceiveCount") == "2");
  // The first handle is stale now: success, nothing deleted; the latest one deletes.
  CHECK(always->DeleteMessage(first[0].receipt_handle).ok());
  CHECK(always->GetQueueAttributes({"ApproximateNumberOfMessages"})
            .value()["ApproximateNumberOfMessages"] == "1");
  CHECK(always->DeleteMessage(second[0].receipt_handle).ok());
  CHECK(always->ReceiveMessage({}).value().empty());

  auto half = Queue::Create(hub, "half", {}, {.duplicate_probability = 0.5, .seed = 7}).value();
  for (int i = 0; i < 1000; ++i) REQUIRE(half->SendMessage({.body = "m"}).ok());
  for (int i = 0; i < 100; ++i) {
    REQUIRE(half->ReceiveMessage({.max_number_of_messages = 10}).value().size() == 10);
  }
  const int again = std::stoi(half->GetQueueAttributes({"ApproximateNumberOfMessages"})
                                  .value()["ApproximateNumberOfMessages"]);
  CHECK(again > 400);
  CHECK(again < 600);
}

}  // namespace
}  // namespace courier
