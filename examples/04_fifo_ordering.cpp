// FIFO ordering: strict order within a message group; a group waits while one of its messages is
// in flight, other groups do not; a message whose visibility lapses comes first again.
#include <cassert>
#include <cstdio>

#include "courier/fifo_queue.h"
#include "courier/hub.h"
#include "courier/testing/simulation.h"

int main() {
  courier::testing::Simulation sim;
  courier::Hub hub(sim.environment());
  auto orders =
      courier::FifoQueue::Create(
          hub, "orders.fifo", {{"ContentBasedDeduplication", "true"}, {"VisibilityTimeout", "30"}})
          .value();
  for (const char* step : {"created", "paid", "shipped"}) {
    auto sent = orders->SendMessage({.body = step, .message_group_id = "order-1"});
    assert(sent.ok() && sent->sequence_number.size() == 20);
  }
  // One receive takes as much of one group as it can (here 2 of order-1's 3).
  auto batch = orders->ReceiveMessage({.max_number_of_messages = 2}).value();
  assert(batch.size() == 2);
  std::printf("received %s, %s\n", batch[0].body.c_str(), batch[1].body.c_str());

  // While order-1's messages are in flight, its "shipped" is not handed out, even to a
  // receiver with room for it; another group's message is.
  assert(orders->SendMessage({.body = "order-2 created", .message_group_id = "order-2"}).ok());
  auto other = orders->ReceiveMessage({.max_number_of_messages = 10}).value();
  assert(other.size() == 1 && other[0].body == "order-2 created");
  assert(orders->DeleteMessage(other[0].receipt_handle).ok());

  // The consumer of order-1 handles "created" but crashes before "paid": after the visibility
  // timeout "paid" is first in its group again, followed by "shipped".
  assert(batch[0].body == "created" && batch[1].body == "paid");
  assert(orders->DeleteMessage(batch[0].receipt_handle).ok());
  assert(orders->ReceiveMessage({.max_number_of_messages = 10}).value().empty());
  sim.RunFor(absl::Seconds(30));
  auto again = orders
                   ->ReceiveMessage(
                       {.max_number_of_messages = 10, .message_system_attribute_names = {"All"}})
                   .value();
  assert(again.size() == 2 && again[0].body == "paid" && again[1].body == "shipped");
  assert(again[0].attributes.at("ApproximateReceiveCount") == "2");
  std::printf("after the lapse: %s (receive %s), %s\n", again[0].body.c_str(),
              again[0].attributes.at("ApproximateReceiveCount").c_str(), again[1].body.c_str());
  return 0;
}
