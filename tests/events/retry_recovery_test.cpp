// A delivery to a target that failed and waits for a retry survives a restart: the hub rebuilt
// from the first one's records (Hub::Recover) tries it at the time it was due, once, with the
// attempts and ingestion time it had, so the target's RetryPolicy still holds; one that ended
// before the copy is not made again. A Scheduler target's retry too.
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "courier/event_bus.h"
#include "courier/events.h"
#include "courier/hub.h"
#include "courier/queue.h"
#include "courier/scheduler.h"
#include "courier/sqs.h"
#include "courier/status.h"
#include "courier/storage.h"
#include "drain_queue.h"
#include "flaky_sink.h"
#include "recording_hub.h"

namespace courier {
namespace {

using Side = testing_support::RecordingSide;

using testing_support::AddFlaky;

using testing_support::Drain;

// The rule "r" on the default bus sends shop events to the target "t".
void Route(Hub& hub, const std::string& arn, Target extra = {}) {
  auto bus = Events(hub).GetEventBus("default").value();
  REQUIRE(bus->PutRule("r", {.event_pattern = R"({"source":["shop"]})"}).ok());
  extra.id = "t";
  extra.arn = arn;
  REQUIRE(bus->PutTargets("r", {extra}).ok());
}

void PutOrder(Hub& hub, int n) {
  auto bus = Events(hub).GetEventBus("default").value();
  PutEventsResult r = bus->PutEvents({{.source = "shop",
                                       .detail_type = "Order",
                                       .detail = R"({"n":)" + std::to_string(n) + "}"}})
                          .value();
  REQUIRE(r.failed_entry_count == 0);
}

EventsMetrics TargetMetrics(Hub& hub) {
  return Events(hub).GetEventBus("default").value()->TargetMetrics("r", "t").value();
}

TEST_CASE("A retry waiting when the hub stops is made by the recovered hub at its time, once",
          "[events][recovery]") {
  auto log = std::make_shared<RecordingStorage>();
  Side first(log);
  auto flaky = AddFlaky(first.hub, 1000);
  Route(first.hub, flaky->arn());
  PutOrder(first.hub, 1);
  REQUIRE(flaky->tries.size() == 1);
  auto copy = log->Copy();  // the hub stops here, its retry waiting
  // When the first hub retried: the time the recovered one must keep.
  first.sim.RunFor(absl::Seconds(10));
  REQUIRE(flaky->tries.size() >= 2);
  const absl::Time due = flaky->tries[1];

  Side second(copy, flaky->tries[0]);
  REQUIRE(second.hub.Recover().ok());
  auto back = AddFlaky(second.hub, 0);  // the target works again
  second.sim.RunFor(due - second.sim.Now() - absl::Milliseconds(1));
  CHECK(back->tries.empty());
  second.sim.RunFor(absl::Milliseconds(1));
  REQUIRE(back->received.size() == 1);
  CHECK(back->tries[0] == due);
  CHECK(back->received[0].body.find(R"("detail":{"n":1})") != std::string::npos);
  second.sim.RunFor(absl::Hours(1));
  CHECK(back->received.size() == 1);
  CHECK(TargetMetrics(second.hub).at("Invocations") == 1);

  // Delivered, it is not delivered again by a hub recovered from the second one's records.
  Side third(copy->Copy(), second.sim.Now());
  REQUIRE(third.hub.Recover().ok());
  auto later = AddFlaky(third.hub, 0);
  third.sim.RunFor(absl::Hours(1));
  CHECK(later->tries.empty());
}

TEST_CASE("A retry that ended before the hub stopped is not made again", "[events][recovery]") {
  auto log = std::make_shared<RecordingStorage>();
  Side first(log);
  auto flaky = AddFlaky(first.hub, 1);
  Route(first.hub, flaky->arn());
  PutOrder(first.hub, 1);
  first.sim.RunFor(absl::Minutes(1));
  REQUIRE(flaky->received.size() == 1);

  Side second(log->Copy(), first.sim.Now());
  REQUIRE(second.hub.Recover().ok());
  auto back = AddFlaky(second.hub, 0);
  second.sim.RunFor(absl::Hours(1));
  CHECK(back->tries.empty());
}

TEST_CASE("A retry keeps its attempts: MaximumRetryAttempts counts those before the restart",
          "[events][recovery]") {
  auto log = std::make_shared<RecordingStorage>();
  Side first(log);
  auto dlq = Sqs(first.hub).CreateQueue("dlq").value();
  auto flaky = AddFlaky(first.hub, 1000);
  Route(first.hub, flaky->arn(),
        {.retry_policy = TargetRetryPolicy{.maximum_retry_attempts = 2},
         .dead_letter_arn = dlq->arn()});
  PutOrder(first.hub, 1);
  first.sim.RunFor(absl::Milliseconds(1200));  // the first retry (within 1 s) fails too
  REQUIRE(flaky->tries.size() == 2);

  Side second(log->Copy(), first.sim.Now());
  REQUIRE(second.hub.Recover().ok());
  auto still_down = AddFlaky(second.hub, 1000);
  second.sim.RunFor(absl::Hours(1));
  CHECK(still_down->tries.size() == 1);  // the last retry the policy allows
  auto dead = Drain(*Sqs(second.hub).GetQueue("dlq").value());
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].message_attributes.at("RETRY_ATTEMPTS").string_value == "2");
  CHECK(dead[0].message_attributes.at("EXHAUSTED_RETRY_CONDITION").string_value ==
        "MaximumRetryAttempts");
}

TEST_CASE("A retry whose event got too old while the hub was down goes to the dead-letter queue",
          "[events][recovery]") {
  auto log = std::make_shared<RecordingStorage>();
  Side first(log);
  auto dlq = Sqs(first.hub).CreateQueue("dlq").value();
  auto flaky = AddFlaky(first.hub, 1000);
  Route(first.hub, flaky->arn(),
        {.retry_policy = TargetRetryPolicy{.maximum_retry_attempts = 185,
                                           .maximum_event_age = absl::Seconds(60)},
         .dead_letter_arn = dlq->arn()});
  PutOrder(first.hub, 1);
  REQUIRE(flaky->tries.size() == 1);

  auto copy = log->Copy();
  Side second(copy, first.sim.Now() + absl::Hours(1));
  REQUIRE(second.hub.Recover().ok());
  auto back = AddFlaky(second.hub, 0);
  second.sim.RunFor(absl::Seconds(1));
  CHECK(back->tries.empty());
  auto dead = Drain(*Sqs(second.hub).GetQueue("dlq").value());
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].body.find(R"("detail":{"n":1})") != std::string::npos);
  const MessageAttributes& a = dead[0].message_attributes;
  CHECK(a.at("ERROR_CODE").string_value == "INTERNAL_ERROR");
  CHECK(a.at("ERROR_MESSAGE").string_value == "try later");
  CHECK(a.at("RULE_ARN").string_value == "arn:aws:events:us-east-1:000000000000:rule/r");
  CHECK(a.at("TARGET_ARN").string_value == flaky->arn());
  CHECK(a.at("RETRY_ATTEMPTS").string_value == "0");
  CHECK(a.at("EXHAUSTED_RETRY_CONDITION").string_value == "MaximumEventAgeInSeconds");
  EventsMetrics m = TargetMetrics(second.hub);
  CHECK(m.at("FailedInvocations") == 1);
  CHECK(m.at("InvocationsSentToDlq") == 1);

  // Given to the dead-letter queue, it is not given again after another restart.
  Side third(copy->Copy(), second.sim.Now());
  REQUIRE(third.hub.Recover().ok());
  third.sim.RunFor(absl::Hours(1));
  CHECK(Drain(*Sqs(third.hub).GetQueue("dlq").value()).empty());
}

TEST_CASE("A retry whose rule was deleted before the restart still ends at its target's DLQ",
          "[events][recovery]") {
  auto log = std::make_shared<RecordingStorage>();
  Side first(log);
  auto dlq = Sqs(first.hub).CreateQueue("dlq").value();
  auto flaky = AddFlaky(first.hub, 1000);
  Route(first.hub, flaky->arn(), {.dead_letter_arn = dlq->arn()});
  PutOrder(first.hub, 1);
  auto bus = Events(first.hub).GetEventBus("default").value();
  REQUIRE(bus->DeleteRule("r", /*force=*/true).ok());

  // The target's queue is gone too: as a retry that finds no target, NO_RESOURCE.
  Side second(log->Copy(), first.sim.Now());
  REQUIRE(second.hub.Recover().ok());
  second.sim.RunFor(absl::Hours(1));
  auto dead = Drain(*Sqs(second.hub).GetQueue("dlq").value());
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].message_attributes.at("ERROR_CODE").string_value == "NO_RESOURCE");
  CHECK(dead[0].message_attributes.at("RULE_ARN").string_value ==
        "arn:aws:events:us-east-1:000000000000:rule/r");
}

TEST_CASE("A schedule's delivery waiting for a retry is made after the restart, once",
          "[events][recovery]") {
  auto log = std::make_shared<RecordingStorage>();
  Side first(log);
  auto flaky = AddFlaky(first.hub, 1000);
  const absl::Time at = first.sim.Now() + absl::Minutes(1);
  REQUIRE(Scheduler(first.hub)
              .CreateSchedule(
                  "once",
                  {.expression =
                       "at(" + absl::FormatTime("%Y-%m-%dT%H:%M:%S", at, absl::UTCTimeZone()) + ")",
                   .target = {.arn = flaky->arn(), .input = R"("tick")"}})
              .ok());
  first.sim.RunFor(absl::Minutes(1));
  REQUIRE(flaky->tries.size() == 1);  // fired, failed, its retry waiting
  auto copy = log->Copy();
  first.sim.RunFor(absl::Seconds(10));
  REQUIRE(flaky->tries.size() >= 2);
  const absl::Time due = flaky->tries[1];

  Side second(copy, flaky->tries[0]);
  REQUIRE(second.hub.Recover().ok());
  auto back = AddFlaky(second.hub, 0);
  second.sim.RunFor(due - second.sim.Now());
  REQUIRE(back->received.size() == 1);
  CHECK(back->tries[0] == due);
  CHECK(back->received[0].body == R"("tick")");
  // The schedule had completed: it does not fire again, and the retry is not made twice.
  second.sim.RunFor(absl::Hours(2));
  CHECK(back->received.size() == 1);
}

}  // namespace
}  // namespace courier
