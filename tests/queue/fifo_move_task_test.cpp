// Message move tasks between FIFO queues (spec §6), on a simulated clock.
#include <catch2/catch.hpp>
#include <string>

#include "courier/fifo_queue.h"
#include "courier/hub.h"
#include "courier/status.h"
#include "courier/testing/simulation.h"

namespace courier {
namespace {

struct MoveFixture {
  testing::Simulation sim;
  Hub hub{sim.environment()};
  std::shared_ptr<FifoQueue> dlq = FifoQueue::Create(hub, "dlq.fifo").value();
  std::shared_ptr<FifoQueue> source =
      FifoQueue::Create(hub, "source.fifo",
                        {{"RedrivePolicy", R"({"deadLetterTargetArn":")" + dlq->arn() +
                                               R"(","maxReceiveCount":1})"}})
          .value();

  // Sends n messages to the source and makes each a dead letter.
  std::vector<std::string> Kill(int n) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      ids.push_back(source
                        ->SendMessage({.body = "m" + std::to_string(i),
                                       .message_group_id = "g" + std::to_string(i % 3),
                                       .message_deduplication_id = "d" + std::to_string(i)})
                        .value()
                        .message_id.str());
    }
    for (int round = 0; round < 2; ++round) {
      while (!source
                  ->ReceiveMessage(
                      {.max_number_of_messages = 10, .visibility_timeout = absl::ZeroDuration()})
                  .value()
                  .empty()) {
      }
    }
    return ids;
  }
  int Visible(FifoQueue& q) {
    return std::stoi(q.GetQueueAttributes({"ApproximateNumberOfMessages"})
                         .value()
                         .at("ApproximateNumberOfMessages"));
  }
};

TEST_CASE_METHOD(MoveFixture, "Move task: back to the source queue, at the given rate") {
  auto ids = Kill(5);
  REQUIRE(Visible(*dlq) == 5);
  auto handle = dlq->StartMessageMoveTask(std::nullopt, 2);
  REQUIRE(handle.ok());
  // Two moved at once, two more each second.
  CHECK(Visible(*source) == 2);
  auto tasks = dlq->ListMessageMoveTasks().value();
  REQUIRE(tasks.size() == 1);
  CHECK(tasks[0].status == "RUNNING");
  CHECK(tasks[0].task_handle == *handle);
  CHECK(tasks[0].approximate_number_of_messages_to_move == 5);
  CHECK(tasks[0].approximate_number_of_messages_moved == 2);
  sim.RunFor(absl::Seconds(1));
  CHECK(Visible(*source) == 4);
  sim.RunFor(absl::Seconds(1));
  CHECK(Visible(*source) == 5);
  CHECK(Visible(*dlq) == 0);
  sim.RunFor(absl::Seconds(1));
  tasks = dlq->ListMessageMoveTasks().value();
  CHECK(tasks[0].status == "COMPLETED");
  CHECK(tasks[0].approximate_number_of_messages_moved == 5);
  CHECK(tasks[0].task_handle.empty());
  // Moved messages get new ids; their order within each group is kept.
  auto back = source
                  ->ReceiveMessage(
                      {.max_number_of_messages = 10, .message_system_attribute_names = {"All"}})
                  .value();
  REQUIRE(back.size() == 5);
  for (const auto& m : back) {
    CHECK(std::find(ids.begin(), ids.end(), m.message_id) == ids.end());
    CHECK(m.attributes.count("DeadLetterQueueSourceArn") == 0);
  }
}

TEST_CASE_METHOD(MoveFixture, "Move task: to a destination, one at a time, cancel") {
  Kill(3);
  auto other = FifoQueue::Create(hub, "other.fifo").value();
  auto handle = dlq->StartMessageMoveTask(other->arn(), 1);
  REQUIRE(handle.ok());
  CHECK(Visible(*other) == 1);
  auto second = dlq->StartMessageMoveTask(other->arn(), 1);
  CHECK(ErrorMessage(second.status()) ==
        "There is already a task running. Only one active task is allowed for a source queue "
        "arn at a given time.");
  auto moved = FifoQueue::CancelMessageMoveTask(hub, *handle);
  REQUIRE(moved.ok());
  CHECK(*moved == 1);
  // CANCELLING until the task's next step, a second after the last one; meanwhile it cannot be
  // cancelled again and no other task may start.
  CHECK(dlq->ListMessageMoveTasks().value()[0].status == "CANCELLING");
  CHECK(ErrorName(FifoQueue::CancelMessageMoveTask(hub, *handle).status()) ==
        "InvalidParameterValue");
  CHECK(ErrorMessage(dlq->StartMessageMoveTask(other->arn(), 1).status()) ==
        "There is already a task running. Only one active task is allowed for a source queue "
        "arn at a given time.");
  sim.RunFor(absl::Seconds(1) - absl::Milliseconds(1));
  CHECK(dlq->ListMessageMoveTasks().value()[0].status == "CANCELLING");
  sim.RunFor(absl::Milliseconds(1));  // the next step stops it
  CHECK(dlq->ListMessageMoveTasks().value()[0].status == "CANCELLED");
  CHECK(dlq->ListMessageMoveTasks().value()[0].task_handle.empty());
  CHECK(Visible(*other) == 1);
  sim.RunFor(absl::Seconds(5));
  CHECK(Visible(*other) == 1);  // messages moved stay moved, no more move
  CHECK(Visible(*dlq) == 2);
  CHECK(dlq->ListMessageMoveTasks().value()[0].status == "CANCELLED");
  CHECK(ErrorName(FifoQueue::CancelMessageMoveTask(hub, *handle).status()) ==
        "InvalidParameterValue");
  CHECK(ErrorName(FifoQueue::CancelMessageMoveTask(hub, "nope").status()) ==
        "ResourceNotFoundException");
  // A new task may start now; ListMessageMoveTasks is newest first.
  REQUIRE(dlq->StartMessageMoveTask(other->arn()).ok());
  auto tasks = dlq->ListMessageMoveTasks(10).value();
  REQUIRE(tasks.size() == 2);
  CHECK(tasks[0].status == "COMPLETED");
  CHECK(tasks[1].status == "CANCELLED");
  CHECK(Visible(*other) == 3);
}

TEST_CASE_METHOD(MoveFixture, "Move task: errors") {
  auto st = source->StartMessageMoveTask();
  CHECK(ErrorMessage(st.status()) == "Source queue must be configured as a Dead Letter Queue.");
  CHECK(ErrorName(dlq->StartMessageMoveTask(std::nullopt, 501).status()) ==
        "InvalidParameterValue");
  CHECK(ErrorName(
            dlq->StartMessageMoveTask("arn:aws:sqs:us-east-1:000000000000:gone.fifo").status()) ==
        "ResourceNotFoundException");
  CHECK(ErrorName(dlq->ListMessageMoveTasks(11).status()) == "InvalidParameterValue");
}

}  // namespace
}  // namespace courier
