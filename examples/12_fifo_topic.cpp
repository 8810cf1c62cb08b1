// A FIFO topic feeding a FIFO queue and a standard queue: the FIFO queue gets each group in
// order with the group id, dedup id and sequence number; a duplicate publish is dropped.
#include <cassert>
#include <string>
#include <vector>

#include "courier/fifo_queue.h"
#include "courier/hub.h"
#include "courier/json.h"
#include "courier/queue.h"
#include "courier/sns.h"
#include "courier/sqs.h"
#include "courier/testing/simulation.h"
#include "courier/topic.h"

int main() {
  courier::testing::Simulation sim;
  courier::Hub hub(sim.environment());
  courier::SnsService& sns = courier::Sns(hub);
  auto topic =
      sns.CreateTopic("ledger.fifo", {{"FifoTopic", "true"}, {"ContentBasedDeduplication", "true"}})
          .value();
  auto fifo = courier::Sqs(hub).CreateFifoQueue("ledger.fifo").value();
  auto standard = courier::Sqs(hub).CreateQueue("ledger-report").value();
  sns.Subscribe(topic->arn(), "sqs", fifo->arn(), {{"RawMessageDelivery", "true"}}).value();
  sns.Subscribe(topic->arn(), "sqs", standard->arn()).value();

  std::string last;
  for (std::string entry : {"open", "credit 10", "debit 4", "close"}) {
    auto r = topic->Publish({.message = entry, .message_group_id = "account-7"});
    assert(r.ok() && r->sequence_number > last);
    last = r->sequence_number;
  }
  // Same body within 5 minutes: content-based dedup answers the first publish again.
  auto dup = topic->Publish({.message = "close", .message_group_id = "account-7"});
  assert(dup.ok() && dup->sequence_number == last);

  std::vector<std::string> order;
  for (auto got = fifo->ReceiveMessage({.max_number_of_messages = 10}).value(); !got.empty();
       got = fifo->ReceiveMessage({.max_number_of_messages = 10}).value()) {
    for (auto& m : got) {
      order.push_back(m.body);
      fifo->DeleteMessage(m.receipt_handle).IgnoreError();
    }
  }
  assert((order == std::vector<std::string>{"open", "credit 10", "debit 4", "close"}));
  // The standard queue gets the envelope, which carries the sequence number.
  auto report = standard->ReceiveMessage({.max_number_of_messages = 10}).value();
  assert(report.size() == 4);
  assert(courier::ParseJson(report[0].body)->as_object().contains("SequenceNumber"));
  return 0;
}
