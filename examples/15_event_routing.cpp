// EventBridge routing: rules on the default bus match events by pattern and send them to a
// queue and to a topic (whose subscriber queue gets SNS's envelope of the event).
#include <cassert>
#include <cstdio>

#include "courier/event_bus.h"
#include "courier/events.h"
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
  auto bus = courier::Events(hub).GetEventBus("default").value();
  auto big_orders = courier::Sqs(hub).CreateQueue("big-orders").value();
  auto alerts = courier::Sns(hub).CreateTopic("alerts").value();
  auto pager = courier::Sqs(hub).CreateQueue("pager").value();
  alerts->Subscribe(*pager).value();

  //! [routing]
  bus->PutRule("big", {.event_pattern = R"({"source":["shop"],
                          "detail":{"amount":[{"numeric":[">=",100]}]}})"})
      .value();
  bus->PutTargets("big", {{.id = "queue", .arn = big_orders->arn()}}).value();
  bus->PutRule("failed", {.event_pattern = R"({"detail-type":[{"prefix":"Payment Failed"}]})"})
      .value();
  bus->PutTargets("failed", {{.id = "topic", .arn = alerts->arn()}}).value();

  auto result =
      bus
          ->PutEvents({
              {.source = "shop",
               .detail_type = "Order Placed",
               .detail = R"({"id": 1, "amount": 250})"},
              {.source = "shop",
               .detail_type = "Order Placed",
               .detail = R"({"id": 2, "amount": 20})"},
              {.source = "payments", .detail_type = "Payment Failed", .detail = R"({"order": 3})"},
          })
          .value();
  //! [routing]
  assert(result.failed_entry_count == 0);

  auto big = big_orders->ReceiveMessage({.max_number_of_messages = 10}).value();
  assert(big.size() == 1);
  courier::Json event = courier::ParseJson(big[0].body).value();
  assert(event.at("detail").at("id") == 1);
  std::printf("big-orders got event %s from %s\n", event.at("id").as_string().c_str(),
              event.at("source").as_string().c_str());

  auto paged = pager->ReceiveMessage({.max_number_of_messages = 10}).value();
  assert(paged.size() == 1);
  courier::Json note = courier::ParseJson(paged[0].body).value();
  assert(note.at("Type") == "Notification");
  courier::Json inner = courier::ParseJson(note.at("Message").as_string()).value();
  assert(inner.at("detail-type") == "Payment Failed");
  std::printf("pager got SNS's notification of %s\n", inner.at("detail-type").as_string().c_str());
  return 0;
}
