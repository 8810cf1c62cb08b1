// Visibility and redelivery on a manual clock: a message not deleted in time comes back with a
// higher receive count; the stale handle no longer deletes it; a long poll wakes at the instant.
#include <cassert>
#include <cstdio>

#include "courier/hub.h"
#include "courier/queue.h"
#include "courier/sqs.h"
#include "courier/testing/simulation.h"

int main() {
  courier::testing::Simulation sim;
  courier::Hub hub(sim.environment());
  auto jobs = Sqs(hub).CreateQueue("jobs", {.visibility_timeout = absl::Seconds(30)}).value();
  jobs->SendMessage({.body = "resize image"}).value();

  auto first = jobs->ReceiveMessage({}).value();
  assert(first.size() == 1);
  sim.clock().Advance(absl::Seconds(29));
  assert(jobs->ReceiveMessage({}).value().empty());  // still invisible at t+29s
  sim.clock().Advance(absl::Seconds(1));             // t+30s: visible again
  auto second =
      jobs->ReceiveMessage({.message_system_attribute_names = {"ApproximateReceiveCount"}}).value();
  assert(second.size() == 1 && second[0].attributes.at("ApproximateReceiveCount") == "2");
  std::printf("redelivered at t+30s, receive count %s\n",
              second[0].attributes.at("ApproximateReceiveCount").c_str());

  // The first handle is stale: the delete succeeds but keeps the message.
  assert(jobs->DeleteMessage(first[0].receipt_handle).ok());
  // Extending the visibility counts from now; a long poll wakes exactly when it ends.
  assert(jobs->ChangeMessageVisibility(second[0].receipt_handle, absl::Seconds(15)).ok());
  const absl::Time before = sim.Now();
  auto third = jobs->ReceiveMessage({.wait_time = absl::Seconds(20)}).value();
  assert(third.size() == 1 && sim.Now() == before + absl::Seconds(15));
  std::printf("a long poll woke exactly when the extended timeout ended (t+%llds)\n",
              static_cast<long long>(absl::ToInt64Seconds(sim.Now() - before)));
  assert(jobs->DeleteMessage(third[0].receipt_handle).ok());
}
