// testing_support::Drain: every message a queue has visible now, received (with all their
// attributes) and deleted, in the order received.
#ifndef COURIER_TESTS_DRAIN_QUEUE_H_
#define COURIER_TESTS_DRAIN_QUEUE_H_

#include <catch2/catch.hpp>
#include <utility>
#include <vector>

#include "courier/sqs_queue.h"

namespace courier::testing_support {

inline std::vector<Message> Drain(SqsQueue& q) {
  std::vector<Message> out;
  for (;;) {
    std::vector<Message> got = q.ReceiveMessage({.max_number_of_messages = 10,
                                                 .wait_time = absl::ZeroDuration(),
                                                 .message_attribute_names = {"All"}})
                                   .value();
    if (got.empty()) return out;
    for (Message& m : got) {
      REQUIRE(q.DeleteMessage(m.receipt_handle).ok());
      out.push_back(std::move(m));
    }
  }
}

}  // namespace courier::testing_support

#endif  // COURIER_TESTS_DRAIN_QUEUE_H_
