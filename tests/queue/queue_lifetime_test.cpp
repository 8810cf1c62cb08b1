// Handles that outlive their hub: every call answers QueueDoesNotExist, and the work the queues
// left on the clock (delayed and in-flight messages, move tasks) runs out without reaching the
// hub. Run under AddressSanitizer, a use of the destroyed hub fails these tests.
#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "courier/fifo_queue.h"
#include "courier/hub.h"
#include "courier/queue.h"
#include "courier/sqs.h"
#include "courier/status.h"
#include "courier/testing/simulation.h"

namespace courier {
namespace {

std::string Redrive(const std::string& arn) {
  return R"({"deadLetterTargetArn":")" + arn + R"(","maxReceiveCount":1})";
}

// Every call a handle has that can fail, each answering QueueDoesNotExist.
template <typename Q>
void CheckEveryCallIsGone(Q& q, const ReceiptHandle& handle, SendMessageRequest send) {
  auto gone = [](const absl::Status& st) { return ErrorName(st) == "QueueDoesNotExist"; };
  CHECK(gone(q.SendMessage(send).status()));
  CHECK(gone(q.SendMessageBatch({{"a", send}}).status()));
  CHECK(gone(q.ReceiveMessage({.max_number_of_messages = 10}).status()));
  CHECK(gone(q.ReceiveMessage({.wait_time = absl::Seconds(20)}).status()));
  CHECK(gone(q.DeleteMessage(handle)));
  CHECK(gone(q.DeleteMessageBatch({{"a", handle, {}}}).status()));
  CHECK(gone(q.ChangeMessageVisibility(handle, absl::Seconds(5))));
  CHECK(gone(q.ChangeMessageVisibilityBatch({{"a", handle, absl::Seconds(5)}}).status()));
  CHECK(gone(q.GetQueueAttributes({"All"}).status()));
  CHECK(gone(q.SetQueueAttributes({{"DelaySeconds", "1"}})));
  CHECK(gone(q.TagQueue({{"k", "v"}})));
  CHECK(gone(q.UntagQueue({"k"})));
  CHECK(gone(q.PurgeQueue()));
  CHECK(gone(q.StartMessageMoveTask().status()));
}

TEST_CASE("A standard queue that outlives its hub answers QueueDoesNotExist", "[queue][lifetime]") {
  testing::Simulation sim;
  auto hub = std::make_unique<Hub>(sim.environment());
  auto dlq = Sqs(*hub).CreateQueue("dlq").value();
  auto q = Sqs(*hub)
               .CreateQueue("q", {.visibility_timeout = absl::Seconds(5),
                                  .redrive_policy = Redrive(dlq->arn())})
               .value();
  // Work left on the clock: a delayed message, one in flight, a move task that needs seconds.
  REQUIRE(q->SendMessage({.body = "late", .delay = absl::Seconds(30)}).ok());
  REQUIRE(q->SendMessage({.body = "held"}).ok());
  auto held = q->ReceiveMessage({}).value();
  REQUIRE(held.size() == 1);
  for (int i = 0; i < 3; ++i) REQUIRE(dlq->SendMessage({.body = "dead"}).ok());
  REQUIRE(dlq->StartMessageMoveTask(q->arn(), 1).ok());

  hub.reset();
  CheckEveryCallIsGone(*q, held[0].receipt_handle, {.body = "x"});
  CheckEveryCallIsGone(*dlq, held[0].receipt_handle, {.body = "x"});
  sim.RunFor(absl::Hours(1));  // timers of the move task, expiring timeouts and delays
  CheckEveryCallIsGone(*q, held[0].receipt_handle, {.body = "x"});
  CHECK(q->url() == "https://sqs.us-east-1.amazonaws.com/000000000000/q");  // its own data stays
  // The queue keeps its move tasks: the one running failed when its hub went, as a task whose
  // source is deleted does, having moved the one message of its first step.
  auto tasks = dlq->ListMessageMoveTasks().value();
  REQUIRE(tasks.size() == 1);
  CHECK(tasks[0].status == MoveTaskStatus::kFailed);
  CHECK(tasks[0].failure_reason == "AWS.SimpleQueueService.NonExistentQueue");
  CHECK(tasks[0].approximate_number_of_messages_moved == 1);
}

TEST_CASE("A FIFO queue that outlives its hub answers QueueDoesNotExist", "[queue][lifetime]") {
  testing::Simulation sim;
  auto hub = std::make_unique<Hub>(sim.environment());
  auto dlq = Sqs(*hub).CreateFifoQueue("dlq.fifo").value();
  auto q = Sqs(*hub)
               .CreateFifoQueue("q.fifo", {.visibility_timeout = absl::Seconds(5),
                                           .redrive_policy = Redrive(dlq->arn())})
               .value();
  const SendMessageRequest send{
      .body = "x", .message_group_id = "g", .message_deduplication_id = "d"};
  REQUIRE(q->SendMessage(send).ok());
  auto held = q->ReceiveMessage({}).value();
  REQUIRE(held.size() == 1);
  for (int i = 0; i < 3; ++i) {
    REQUIRE(dlq->SendMessage({.body = "dead",
                              .message_group_id = "g",
                              .message_deduplication_id = std::to_string(i)})
                .ok());
  }
  REQUIRE(dlq->StartMessageMoveTask(q->arn(), 1).ok());

  hub.reset();
  CheckEveryCallIsGone(*q, held[0].receipt_handle, send);
  sim.RunFor(absl::Hours(1));
  CheckEveryCallIsGone(*q, held[0].receipt_handle, send);
  CheckEveryCallIsGone(*dlq, held[0].receipt_handle, send);
  // The queue keeps its move tasks: the one running failed when its hub went, as a task whose
  // source is deleted does, having moved the one message of its first step.
  auto tasks = dlq->ListMessageMoveTasks().value();
  REQUIRE(tasks.size() == 1);
  CHECK(tasks[0].status == "FAILED");
  CHECK(tasks[0].failure_reason == "AWS.SimpleQueueService.NonExistentQueue");
  CHECK(tasks[0].approximate_number_of_messages_moved == 1);
}

}  // namespace
}  // namespace courier
