// Dead-letter queues, RedriveAllowPolicy and message move tasks of standard queues (spec §6).
#include <catch2/catch.hpp>
#include <string>

#include "courier/fifo_queue.h"
#include "courier/hub.h"
#include "courier/queue.h"
#include "courier/sqs.h"
#include "courier/status.h"
#include "courier/testing/simulation.h"

namespace courier {
namespace {

std::string Redrive(const std::string& arn, int n) {
  return R"({"deadLetterTargetArn":")" + arn + R"(","maxReceiveCount":)" + std::to_string(n) + "}";
}

struct DlqFixture {
  testing::Simulation sim;
  Hub hub{sim.environment()};
  std::shared_ptr<Queue> dlq = Sqs(hub).CreateQueue("dlq").value();
  std::shared_ptr<Queue> src =
      Sqs(hub)
          .CreateQueue("src", QueueAttributeMap{{"RedrivePolicy", Redrive(dlq->arn(), 2)}})
          .value();
  int64_t Count(Queue& q, const std::string& name = "ApproximateNumberOfMessages") {
    return std::stoll(q.GetQueueAttributes({name}).value()[name]);
  }
  std::vector<Message> Receive(Queue& q, absl::Duration vt = absl::ZeroDuration()) {
    return q
        .ReceiveMessage({.max_number_of_messages = 10,
                         .visibility_timeout = vt,
                         .message_system_attribute_names = {"All"},
                         .message_attribute_names = {"All"}})
        .value();
  }
};

TEST_CASE("DLQ: moved on the (N+1)th receive with count and source ARN", "[queue][dlq]") {
  DlqFixture f;
  auto sent = f.src
                  ->SendMessage({.body = "poison",
                                 .attributes = {{"k", MessageAttribute::String("v")}},
                                 .aws_trace_header = "Root=1"})
                  .value();
  REQUIRE(f.Receive(*f.src).size() == 1);
  REQUIRE(f.Receive(*f.src).size() == 1);
  CHECK(f.Receive(*f.src).empty());  // the third receive moves it and returns nothing
  CHECK(f.Count(*f.src) == 0);
  CHECK(f.Count(*f.dlq) == 1);
  auto got = f.Receive(*f.dlq);
  REQUIRE(got.size() == 1);
  CHECK(got[0].message_id == sent.message_id);
  CHECK(got[0].body == "poison");
  CHECK(got[0].message_attributes.at("k").string_value == "v");
  CHECK(got[0].attributes.at("ApproximateReceiveCount") == "3");
  CHECK(got[0].attributes.at("DeadLetterQueueSourceArn") == f.src->arn());
  CHECK(got[0].attributes.at("AWSTraceHeader") == "Root=1");
}

TEST_CASE("DLQ retention counts from the original enqueue", "[queue][dlq]") {
  DlqFixture f;
  REQUIRE(f.dlq->SetQueueAttributes({{"MessageRetentionPeriod", "345600"}}).ok());  // 4 days
  REQUIRE(f.src->SetQueueAttributes({{"RedrivePolicy", Redrive(f.dlq->arn(), 1)}}).ok());
  f.src->SendMessage({.body = "m"}).value();
  REQUIRE(f.Receive(*f.src).size() == 1);
  f.sim.clock().Advance(absl::Hours(24));
  CHECK(f.Receive(*f.src).empty());  // moved after one day in the source
  CHECK(f.Count(*f.dlq) == 1);
  f.sim.clock().Advance(absl::Hours(72) - absl::Seconds(1));
  CHECK(f.Count(*f.dlq) == 1);
  f.sim.clock().Advance(absl::Seconds(1));  // 4 days after the original send
  CHECK(f.Count(*f.dlq) == 0);
}

TEST_CASE("RedrivePolicy validation and RedriveAllowPolicy", "[queue][dlq]") {
  DlqFixture f;
  auto q = Sqs(f.hub).CreateQueue("q").value();
  auto set = [&](const std::string& policy) {
    return q->SetQueueAttributes({{"RedrivePolicy", policy}});
  };
  CHECK(ErrorName(set("not json")) == "InvalidParameterValue");
  CHECK(ErrorName(set(Redrive(f.dlq->arn(), 0))) == "InvalidParameterValue");
  CHECK(ErrorName(set(Redrive(f.dlq->arn(), 1001))) == "InvalidParameterValue");
  CHECK(set(Redrive(f.dlq->arn(), 1000)).ok());
  CHECK(ErrorName(set(Redrive(f.hub.Arn("sqs", "missing"), 3))) == "InvalidParameterValue");
  CHECK(ErrorName(set(R"({"maxReceiveCount":3})")) == "InvalidParameterValue");
  auto fifo = Sqs(f.hub).CreateFifoQueue("f.fifo").value();
  CHECK(ErrorName(set(Redrive(fifo->arn(), 3))) == "InvalidParameterValue");  // other type
  // The DLQ decides who may use it.
  REQUIRE(f.dlq->SetQueueAttributes({{"RedriveAllowPolicy", R"({"redrivePermission":"denyAll"})"}})
              .ok());
  CHECK(ErrorName(set(Redrive(f.dlq->arn(), 3))) == "InvalidParameterValue");
  REQUIRE(f.dlq
              ->SetQueueAttributes(
                  {{"RedriveAllowPolicy", R"({"redrivePermission":"byQueue","sourceQueueArns":[")" +
                                              q->arn() + R"("]})"}})
              .ok());
  CHECK(set(Redrive(f.dlq->arn(), 3)).ok());
  CHECK(ErrorName(f.dlq->SetQueueAttributes(
            {{"RedriveAllowPolicy", R"({"redrivePermission":"byQueue"})"}})) ==
        "InvalidParameterValue");
  CHECK(ErrorName(f.dlq->SetQueueAttributes(
            {{"RedriveAllowPolicy", R"({"redrivePermission":"sometimes"})"}})) ==
        "InvalidParameterValue");
  CHECK(q->SetQueueAttributes({{"RedrivePolicy", ""}}).ok());
  CHECK(q->GetQueueAttributes().value().count("RedrivePolicy") == 0);
}

TEST_CASE("Move tasks: back to the source at the clock's rate; statuses and errors",
          "[queue][dlq]") {
  DlqFixture f;
  REQUIRE(f.src->SetQueueAttributes({{"RedrivePolicy", Redrive(f.dlq->arn(), 1)}}).ok());
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(f.src->SendMessage({.body = "m"}).value().message_id.str());
  REQUIRE(f.Receive(*f.src).size() == 5);
  CHECK(f.Receive(*f.src).empty());
  REQUIRE(f.Count(*f.dlq) == 5);

  CHECK(ErrorMessage(Sqs(f.hub).StartMessageMoveTask(f.src->arn()).status()) ==
        "Source queue must be configured as a Dead Letter Queue.");
  CHECK(ErrorName(Sqs(f.hub).StartMessageMoveTask(f.dlq->arn(), std::nullopt, 501).status()) ==
        "InvalidParameterValue");
  CHECK(ErrorName(Sqs(f.hub).StartMessageMoveTask(f.hub.Arn("sqs", "nope")).status()) ==
        "ResourceNotFoundException");
  CHECK(ErrorName(Sqs(f.hub).CancelMessageMoveTask("nonsense").status()) ==
        "InvalidParameterValue");

  auto handle = Sqs(f.hub).StartMessageMoveTask(f.dlq->arn(), std::nullopt, 2).value();
  CHECK(f.Count(*f.src) == 2);  // the first second's worth at once
  auto second = Sqs(f.hub).StartMessageMoveTask(f.dlq->arn());
  CHECK(ErrorMessage(second.status()) ==
        "There is already a task running. Only one active task is allowed for a source queue "
        "arn at a given time.");
  auto tasks = Sqs(f.hub).ListMessageMoveTasks(f.dlq->arn()).value();
  REQUIRE(tasks.size() == 1);
  CHECK(tasks[0]["Status"] == "RUNNING");
  CHECK(tasks[0]["TaskHandle"] == handle);
  CHECK(tasks[0]["ApproximateNumberOfMessagesToMove"] == "5");
  f.sim.clock().Advance(absl::Seconds(1));
  CHECK(f.Count(*f.src) == 4);
  f.sim.clock().Advance(absl::Seconds(1));
  CHECK(f.Count(*f.src) == 5);
  CHECK(f.Count(*f.dlq) == 0);
  tasks = Sqs(f.hub).ListMessageMoveTasks(f.dlq->arn()).value();
  CHECK(tasks[0]["Status"] == "COMPLETED");
  CHECK(tasks[0]["ApproximateNumberOfMessagesMoved"] == "5");
  CHECK(tasks[0].count("TaskHandle") == 0);
  // Moved messages are new: new ids, receive count starts again.
  auto back = f.Receive(*f.src, absl::Seconds(30));
  REQUIRE(back.size() == 5);
  for (const auto& m : back) {
    CHECK(std::find(ids.begin(), ids.end(), m.message_id) == ids.end());
    CHECK(m.attributes.at("ApproximateReceiveCount") == "1");
  }
  CHECK(ErrorName(Sqs(f.hub).CancelMessageMoveTask(handle).status()) == "InvalidParameterValue");
  CHECK(ErrorName(Sqs(f.hub).ListMessageMoveTasks(f.dlq->arn(), 11).status()) ==
        "InvalidParameterValue");
}

TEST_CASE("Move tasks: to a destination, cancelled midway", "[queue][dlq]") {
  DlqFixture f;
  auto dest = Sqs(f.hub).CreateQueue("dest").value();
  REQUIRE(f.src->SetQueueAttributes({{"RedrivePolicy", Redrive(f.dlq->arn(), 1)}}).ok());
  for (int i = 0; i < 4; ++i) f.src->SendMessage({.body = "m"}).value();
  REQUIRE(f.Receive(*f.src).size() == 4);
  CHECK(f.Receive(*f.src).empty());
  auto handle = Sqs(f.hub).StartMessageMoveTask(f.dlq->arn(), dest->arn(), 1).value();
  CHECK(f.Count(*dest) == 1);
  CHECK(Sqs(f.hub).CancelMessageMoveTask(handle).value() == 1);
  // CANCELLING until the task's next step; it cannot be cancelled twice or joined by another.
  CHECK(Sqs(f.hub).ListMessageMoveTasks(f.dlq->arn(), 1).value()[0]["Status"] == "CANCELLING");
  CHECK(ErrorName(Sqs(f.hub).CancelMessageMoveTask(handle).status()) == "InvalidParameterValue");
  CHECK(ErrorName(Sqs(f.hub).StartMessageMoveTask(f.dlq->arn(), dest->arn()).status()) ==
        "InvalidParameterValue");
  f.sim.clock().Advance(absl::Seconds(5));
  CHECK(f.Count(*dest) == 1);
  CHECK(f.Count(*f.dlq) == 3);
  auto tasks = Sqs(f.hub).ListMessageMoveTasks(f.dlq->arn(), 10).value();
  CHECK(tasks[0]["Status"] == "CANCELLED");
  CHECK(tasks[0]["DestinationArn"] == dest->arn());
  // A new task may start after the cancelled one; newest first.
  REQUIRE(Sqs(f.hub).StartMessageMoveTask(f.dlq->arn(), dest->arn()).ok());
  tasks = Sqs(f.hub).ListMessageMoveTasks(f.dlq->arn(), 10).value();
  REQUIRE(tasks.size() == 2);
  CHECK(tasks[0]["Status"] == "COMPLETED");
  CHECK(tasks[1]["Status"] == "CANCELLED");
  CHECK(f.Count(*dest) == 4);
}

}  // namespace
}  // namespace courier
