// Dead-letter queue and redrive: a message received more than maxReceiveCount times moves to the
// DLQ with its receive count and source ARN; a move task sends it back at a clock-driven rate.
#include <cassert>
#include <cstdio>

#include "courier/hub.h"
#include "courier/queue.h"
#include "courier/sqs.h"
#include "courier/testing/simulation.h"

int main() {
  courier::testing::Simulation sim;
  courier::Hub hub(sim.environment());
  auto dlq = Sqs(hub).CreateQueue("payments-dlq").value();
  auto payments =
      Sqs(hub)
          .CreateQueue("payments", {.visibility_timeout = absl::Seconds(10),
                                    .redrive_policy = R"({"deadLetterTargetArn":")" + dlq->arn() +
                                                      R"(","maxReceiveCount":2})"})
          .value();
  payments->SendMessage({.body = "charge card 42"}).value();
  for (int attempt = 1; attempt <= 2; ++attempt) {
    assert(payments->ReceiveMessage({}).value().size() == 1);  // the consumer fails each time
    sim.clock().Advance(absl::Seconds(10));
  }
  assert(payments->ReceiveMessage({}).value().empty());  // the 3rd receive moves it
  auto dead = dlq->ReceiveMessage({.visibility_timeout = absl::ZeroDuration(),
                                   .message_system_attribute_names = {"All"}})
                  .value();
  assert(dead.size() == 1);
  assert(dead[0].attributes.at("ApproximateReceiveCount") == "3");
  assert(dead[0].attributes.at("DeadLetterQueueSourceArn") == payments->arn());
  std::printf("dead letter \"%s\" from %s\n", dead[0].body.c_str(),
              dead[0].attributes.at("DeadLetterQueueSourceArn").c_str());

  // After the fix: redrive the DLQ back to its source.
  auto handle = Sqs(hub).StartMessageMoveTask(dlq->arn()).value();
  auto tasks = Sqs(hub).ListMessageMoveTasks(dlq->arn()).value();
  assert(tasks[0]["Status"] == "COMPLETED" && tasks[0]["ApproximateNumberOfMessagesMoved"] == "1");
  auto back = payments->ReceiveMessage({}).value();
  assert(back.size() == 1 && back[0].body == "charge card 42");
  assert(payments->DeleteMessage(back[0].receipt_handle).ok());
  std::printf("task %s redrove it; processed\n", handle.c_str());
}
