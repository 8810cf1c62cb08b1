// Receipt handles are a function of the queue's ARN, its creation time and what happened to it:
// two hubs that do the same things hand out the same handles (so a hub rebuilt from a record can
// honour them), and a queue created again under the same name refuses the old queue's handles.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "courier/fifo_queue.h"
#include "courier/hub.h"
#include "courier/queue.h"
#include "courier/sqs.h"
#include "courier/status.h"
#include "courier/testing/simulation.h"

namespace courier {
namespace {

// The handles of one run: two queues of each kind, a send and a receive on each.
std::vector<std::string> HandlesOfOneRun() {
  testing::Simulation sim;
  Hub hub(sim.environment());
  std::vector<std::string> handles;
  for (const char* name : {"a", "b"}) {
    auto q = Sqs(hub).CreateQueue(name).value();
    REQUIRE(q->SendMessage({.body = "x"}).ok());
    handles.emplace_back(q->ReceiveMessage({}).value().at(0).receipt_handle.value());
    auto f = Sqs(hub).CreateFifoQueue(std::string(name) + ".fifo").value();
    REQUIRE(f->SendMessage({.body = "x", .message_group_id = "g", .message_deduplication_id = "d"})
                .ok());
    handles.emplace_back(f->ReceiveMessage({}).value().at(0).receipt_handle.value());
  }
  return handles;
}

TEST_CASE("The same operations give the same receipt handles in another hub", "[queue][handles]") {
  const std::vector<std::string> first = HandlesOfOneRun();
  CHECK(HandlesOfOneRun() == first);
  // Each queue's handles are its own.
  CHECK(first[0].substr(0, 16) != first[2].substr(0, 16));
  CHECK(first[1].substr(0, 16) != first[3].substr(0, 16));
}

TEST_CASE("A queue created again under the same name refuses the old queue's handles",
          "[queue][handles]") {
  testing::Simulation sim;
  Hub hub(sim.environment());
  auto old = Sqs(hub).CreateQueue("q").value();
  REQUIRE(old->SendMessage({.body = "x"}).ok());
  const ReceiptHandle handle = old->ReceiveMessage({}).value().at(0).receipt_handle;
  REQUIRE(Sqs(hub).DeleteQueue("q").ok());
  sim.RunFor(absl::Seconds(61));
  auto again = Sqs(hub).CreateQueue("q").value();
  REQUIRE(again->SendMessage({.body = "y"}).ok());
  REQUIRE(again->ReceiveMessage({}).value().size() == 1);
  CHECK(ErrorName(again->DeleteMessage(handle)) == "ReceiptHandleIsInvalid");

  auto old_fifo = Sqs(hub).CreateFifoQueue("f.fifo").value();
  REQUIRE(
      old_fifo->SendMessage({.body = "x", .message_group_id = "g", .message_deduplication_id = "1"})
          .ok());
  const ReceiptHandle fifo_handle = old_fifo->ReceiveMessage({}).value().at(0).receipt_handle;
  REQUIRE(Sqs(hub).DeleteQueue("f.fifo").ok());
  sim.RunFor(absl::Seconds(61));
  auto fifo_again = Sqs(hub).CreateFifoQueue("f.fifo").value();
  CHECK(ErrorName(fifo_again->DeleteMessage(fifo_handle)) == "ReceiptHandleIsInvalid");
}

}  // namespace
}  // namespace courier
