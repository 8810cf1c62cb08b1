// FIFO deduplication: a second send with the same deduplication id inside 5 minutes is accepted
// but not delivered, even after the first was received and deleted; from 5:00.000 it is new.
#include <cassert>
#include <cstdio>

#include "courier/fifo_queue.h"
#include "courier/hub.h"
#include "courier/testing/simulation.h"

int main() {
  courier::testing::Simulation sim;
  courier::Hub hub(sim.environment());
  auto payments = courier::FifoQueue::Create(hub, "payments.fifo").value();
  const courier::SendMessageRequest charge{.body = R"({"charge": 42})",
                                           .message_group_id = "customer-7",
                                           .message_deduplication_id = "charge-0001"};

  auto first = payments->SendMessage(charge).value();
  auto retry = payments->SendMessage(charge).value();  // a client retry after a timeout
  assert(retry.message_id == first.message_id);        // accepted, the original's id

  auto got = payments->ReceiveMessage({.max_number_of_messages = 10}).value();
  assert(got.size() == 1);  // delivered once
  assert(payments->DeleteMessage(got[0].receipt_handle).ok());

  // Still remembered after the delete, up to 4:59.999 after the first send...
  sim.RunFor(absl::Minutes(5) - absl::Milliseconds(1));
  assert(payments->SendMessage(charge).value().message_id == first.message_id);
  assert(payments->ReceiveMessage({}).value().empty());

  // ...and new at exactly 5:00.000.
  sim.RunFor(absl::Milliseconds(1));
  auto later = payments->SendMessage(charge).value();
  assert(later.message_id != first.message_id);
  assert(payments->ReceiveMessage({}).value().size() == 1);

  // Content-based deduplication uses the SHA-256 of the body.
  auto events =
      courier::FifoQueue::Create(hub, "events.fifo", {{"ContentBasedDeduplication", "true"}})
          .value();
  auto a = events->SendMessage({.body = "same", .message_group_id = "g"}).value();
  auto b = events->SendMessage({.body = "same", .message_group_id = "other"}).value();
  assert(a.message_id == b.message_id);  // the scope is the queue, not the group
  std::printf("deduplicated: %s\n", a.message_id.str().c_str());
  return 0;
}
