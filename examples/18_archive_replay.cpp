// Archive and replay: a bus keeps its events in an archive; a replay sends a time range of them
// back through the bus's rules, marked with "replay-name", on the simulated clock.
#include <cassert>
#include <cstdio>

#include "courier/event_bus.h"
#include "courier/events.h"
#include "courier/hub.h"
#include "courier/json.h"
#include "courier/queue.h"
#include "courier/sqs.h"
#include "courier/testing/simulation.h"

int main() {
  courier::testing::Simulation sim;
  courier::Hub hub(sim.environment());
  courier::EventsService& events = courier::Events(hub);
  auto bus = events.CreateEventBus("orders").value();
  //! [archive]
  std::string archive =
      events.CreateArchive("all-orders", {.event_source_arn = bus->arn(), .retention_days = 30})
          .value();
  const absl::Time start = sim.Now();
  for (int i = 0; i < 3; ++i) {
    bus->PutEvents({{.source = "shop",
                     .detail_type = "Order Placed",
                     .detail = "{\"id\":" + std::to_string(i) + "}"}})
        .value();
    sim.RunFor(absl::Minutes(1));
  }
  // A consumer added later replays the history it missed.
  auto late = courier::Sqs(hub).CreateQueue("late-consumer").value();
  bus->PutRule("copy", {.event_pattern = R"({"source":["shop"]})"}).value();
  bus->PutTargets("copy", {{.id = "q", .arn = late->arn()}}).value();
  events
      .StartReplay({.name = "catch-up",
                    .event_source_arn = archive,
                    .event_start_time = start,
                    .event_end_time = sim.Now(),
                    .destination_arn = bus->arn()})
      .value();
  sim.RunUntilIdle();
  //! [archive]
  assert(events.DescribeReplay("catch-up")->state == "COMPLETED");
  assert(events.DescribeArchive("all-orders")->event_count == 3);
  int replayed = 0;
  for (;;) {
    auto got = late->ReceiveMessage({.max_number_of_messages = 10}).value();
    if (got.empty()) break;
    for (const auto& m : got) {
      courier::Json e = courier::ParseJson(m.body).value();
      assert(e.at("replay-name") == "catch-up");
      ++replayed;
      if (!late->DeleteMessage(m.receipt_handle).ok()) return 1;
    }
  }
  std::printf("replayed %d archived events to the late consumer\n", replayed);
  assert(replayed == 3);
  return 0;
}
