// Queue basics: create a standard queue on a hub, send with attributes, receive, delete, and read
// the exact approximate counters.
#include <cassert>
#include <cstdio>

#include "courier/hub.h"
#include "courier/queue.h"
#include "courier/sqs.h"
#include "courier/testing/simulation.h"

int main() {
  courier::testing::Simulation sim;
  courier::Hub hub(sim.environment());
  auto orders = Sqs(hub).CreateQueue("orders", {.visibility_timeout = absl::Seconds(30)}).value();
  std::printf("created %s\n", orders->url().c_str());

  auto sent =
      orders
          ->SendMessage({.body = "order #1",
                         .attributes = {{"priority", courier::MessageAttribute::Number("2")}}})
          .value();
  std::printf("sent %s (MD5 of body %s)\n", sent.message_id.str().c_str(),
              sent.md5_of_message_body.str().c_str());
  assert(sent.md5_of_message_attributes.size() == 32);

  auto got = orders
                 ->ReceiveMessage({.max_number_of_messages = 10,
                                   .message_system_attribute_names = {"ApproximateReceiveCount"},
                                   .message_attribute_names = {"All"}})
                 .value();
  assert(got.size() == 1 && got[0].body == "order #1");
  assert(got[0].message_attributes.at("priority").string_value == "2");
  assert(got[0].attributes.at("ApproximateReceiveCount") == "1");
  std::printf("received \"%s\", in flight: %s\n", got[0].body.c_str(),
              orders->GetQueueAttributes({"ApproximateNumberOfMessagesNotVisible"})
                  .value()["ApproximateNumberOfMessagesNotVisible"]
                  .c_str());

  assert(orders->DeleteMessage(got[0].receipt_handle).ok());
  auto counts = orders->GetQueueAttributes().value();
  assert(counts["ApproximateNumberOfMessages"] == "0");
  assert(counts["ApproximateNumberOfMessagesNotVisible"] == "0");
  assert(Sqs(hub).ListQueues() == std::vector<std::string>{orders->url()});
  std::printf("deleted; queue empty\n");
}
