// What the FIFO queue tests share: a hub on a simulated clock, queue creation and a receive
// that asks for every attribute, and helpers to build sends and read bodies.
#ifndef COURIER_TESTS_QUEUE_FIFO_FIXTURE_H_
#define COURIER_TESTS_QUEUE_FIFO_FIXTURE_H_

#include <catch2/catch.hpp>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "courier/fifo_queue.h"
#include "courier/hub.h"
#include "courier/testing/simulation.h"

namespace courier::testing {

struct FifoFixture {
  Simulation sim;
  Hub hub{sim.environment()};

  std::shared_ptr<FifoQueue> Make(std::string name = "q.fifo", FifoQueue::AttributeMap attrs = {}) {
    auto q = FifoQueue::Create(hub, name, attrs);
    REQUIRE(q.ok());
    return *q;
  }
  std::vector<Message> Receive(FifoQueue& q, int max = 10,
                               std::optional<absl::Duration> vis = std::nullopt) {
    auto got = q.ReceiveMessage({.max_number_of_messages = max,
                                 .visibility_timeout = vis,
                                 .message_system_attribute_names = {"All"},
                                 .message_attribute_names = {"All"}});
    REQUIRE(got.ok());
    return *got;
  }
  std::string Count(FifoQueue& q, const std::string& name) {
    return q.GetQueueAttributes({name}).value().at(name);
  }
};

inline SendMessageRequest Msg(std::string body, std::string group,
                              std::optional<std::string> dedup = std::nullopt) {
  return {.body = std::move(body),
          .message_group_id = std::move(group),
          .message_deduplication_id = std::move(dedup)};
}

inline std::vector<std::string> Bodies(const std::vector<Message>& ms) {
  std::vector<std::string> out;
  for (const auto& m : ms) out.push_back(m.body);
  return out;
}

}  // namespace courier::testing

#endif  // COURIER_TESTS_QUEUE_FIFO_FIXTURE_H_
