// A hub rebuilt from the records its EventBridge and Scheduler services left in a
// RecordingStorage (Hub::Recover) has the same buses (descriptions, policies, tags), rules
// (patterns, schedules, states, tags), targets (inputs, retry policies, dead-letter queues),
// archives with the events they kept, and schedule groups and schedules; and they work: an event
// put on the rebuilt bus reaches the rebuilt queue, a replay of the rebuilt archive sends the
// first hub's events again, schedules fire on the second hub's clock as documented (missed
// recurring firings are not made up; a one-time schedule that had not fired fires at once).
#include <algorithm>
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
#include "recording_hub.h"

namespace courier {
namespace {

using Side = testing_support::RecordingSide;

constexpr char kShop[] = R"({"source":["shop"]})";

std::vector<std::string> Bodies(Queue& queue) {
  std::vector<std::string> out;
  for (const Message& m : testing_support::Drain(queue)) out.push_back(m.body);
  return out;
}

PutEventsEntry Shop(std::string detail) {
  return {.source = "shop", .detail_type = "Order", .detail = std::move(detail)};
}

TEST_CASE("Buses, rules and targets come back from the EventBridge records", "[events][recovery]") {
  auto log = std::make_shared<RecordingStorage>();
  Side first(log);
  EventsService& events = Events(first.hub);
  auto orders = Sqs(first.hub).CreateQueue("orders").value();
  auto dlq = Sqs(first.hub).CreateQueue("dlq").value();
  auto bus = events.CreateEventBus("shop", "the shop's bus", {{"team", "a"}}).value();
  first.sim.RunFor(absl::Minutes(1));
  REQUIRE(events.UpdateEventBus("shop", "the shop").ok());
  REQUIRE(events.PutPermission("shop", "let-b", "111122223333").ok());
  REQUIRE(events.TagResource(bus->arn(), {{"env", "test"}}).ok());
  REQUIRE(events.UntagResource(bus->arn(), {"team"}).ok());
  // A tag set that would pass 50 tags changes nothing.
  EventsTagMap many;
  for (int i = 0; i < 51; ++i) many["k" + std::to_string(i)] = "v";
  CHECK(ErrorName(events.TagResource(bus->arn(), many)) == "ValidationException");

  const std::string big_arn =
      bus->PutRule("big", {.event_pattern = R"({"detail":{"amount":[{"numeric":[">",100]}]}})",
                           .description = "big orders",
                           .tags = {{"kind", "big"}}})
          .value();
  REQUIRE(bus->PutTargets("big",
                          {{.id = "q",
                            .arn = orders->arn(),
                            .input_transformer = InputTransformer{{{"amount", "$.detail.amount"}},
                                                                  R"({"big":<amount>})"},
                            .retry_policy = TargetRetryPolicy{3, absl::Minutes(5)},
                            .dead_letter_arn = dlq->arn()},
                           {.id = "gone", .arn = dlq->arn()}})
              .ok());
  REQUIRE(bus->RemoveTargets("big", {"gone"}).ok());
  REQUIRE(bus->PutRule("off", {.event_pattern = kShop}).ok());
  REQUIRE(bus->PutTargets("off", {{.id = "q", .arn = orders->arn(), .input = R"("off")"}}).ok());
  REQUIRE(bus->DisableRule("off").ok());
  REQUIRE(bus->PutRule("temp", {.event_pattern = kShop}).ok());
  REQUIRE(bus->DeleteRule("temp").ok());
  REQUIRE(events.CreateEventBus("gone").ok());
  REQUIRE(events.DeleteEventBus("gone").ok());
  const EventBusDescription before = events.DescribeEventBus("shop").value();
  const std::vector<Target> targets_before = bus->ListTargetsByRule("big").value();

  Side second(log->Copy(), first.sim.Now() + absl::Hours(1));
  REQUIRE(second.hub.Recover().ok());
  EventsService& again = Events(second.hub);
  std::vector<std::string> names;
  for (const EventBusDescription& d : again.ListEventBuses()) names.push_back(d.name);
  CHECK(names == std::vector<std::string>{"default", "shop"});
  const EventBusDescription after = again.DescribeEventBus("shop").value();
  CHECK(after.description == "the shop");
  CHECK(after.policy == before.policy);
  CHECK(after.creation_time == before.creation_time);
  CHECK(after.last_modified_time == before.last_modified_time);
  CHECK(again.ListTagsForResource(bus->arn()).value() == EventsTagMap{{"env", "test"}});
  CHECK(again.ListTagsForResource(big_arn).value() == EventsTagMap{{"kind", "big"}});

  auto rebuilt = again.GetEventBus("shop").value();
  std::vector<std::string> rules;
  for (const RuleDescription& d : rebuilt->ListRules()) rules.push_back(d.name);
  CHECK(rules == std::vector<std::string>{"big", "off"});
  CHECK(rebuilt->DescribeRule("big").value().description == "big orders");
  CHECK(rebuilt->DescribeRule("off").value().state == "DISABLED");
  const std::vector<Target> targets_after = rebuilt->ListTargetsByRule("big").value();
  REQUIRE(targets_after.size() == 1);
  CHECK(targets_after[0].id == targets_before[0].id);
  CHECK(targets_after[0].input_transformer->input_template == R"({"big":<amount>})");
  CHECK(targets_after[0].input_transformer->input_paths_map ==
        targets_before[0].input_transformer->input_paths_map);
  CHECK(targets_after[0].retry_policy->maximum_retry_attempts == 3);
  CHECK(targets_after[0].retry_policy->maximum_event_age == absl::Minutes(5));
  CHECK(targets_after[0].dead_letter_arn == dlq->arn());

  // They route: the big order through the transformer, the disabled rule not at all.
  auto queue = Sqs(second.hub).GetQueue("orders").value();
  REQUIRE(rebuilt->PutEvents({Shop(R"({"amount":250})"), Shop(R"({"amount":5})")})
              .value()
              .failed_entry_count == 0);
  CHECK(Bodies(*queue) == std::vector<std::string>{R"({"big":250})"});
}

TEST_CASE("An archive comes back with the events it kept, and replays them", "[events][recovery]") {
  auto log = std::make_shared<RecordingStorage>();
  Side first(log);
  EventsService& events = Events(first.hub);
  auto orders = Sqs(first.hub).CreateQueue("orders").value();
  auto bus = events.CreateEventBus("shop").value();
  REQUIRE(bus->PutRule("all", {.event_pattern = kShop}).ok());
  REQUIRE(
      bus->PutTargets("all", {{.id = "q", .arn = orders->arn(), .input_path = "$.detail"}}).ok());
  REQUIRE(events
              .CreateArchive("kept", {.event_source_arn = bus->arn(),
                                      .event_pattern = R"({"detail":{"keep":[true]}})",
                                      .retention_days = 0})
              .ok());
  REQUIRE(events
              .UpdateArchive("kept", {.event_pattern = R"({"detail":{"keep":[true]}})",
                                      .description = "the kept ones",
                                      .retention_days = 0})
              .ok());
  REQUIRE(events.CreateArchive("dropped", {.event_source_arn = bus->arn()}).ok());
  REQUIRE(events.DeleteArchive("dropped").ok());
  const absl::Time start = first.sim.Now();
  REQUIRE(bus->PutEvents({Shop(R"({"keep":true,"n":1})"), Shop(R"({"keep":false,"n":2})")}).ok());
  first.sim.RunFor(absl::Minutes(2));
  REQUIRE(bus->PutEvents({Shop(R"({"keep":true,"n":3})")}).ok());
  const ArchiveDescription before = events.DescribeArchive("kept").value();
  REQUIRE(before.event_count == 2);
  REQUIRE(Bodies(*orders).size() == 3);  // delivered, and gone before the restart

  Side second(log->Copy(), first.sim.Now() + absl::Hours(1));
  REQUIRE(second.hub.Recover().ok());
  EventsService& again = Events(second.hub);
  CHECK(again.ListArchives().size() == 1);
  const ArchiveDescription after = again.DescribeArchive("kept").value();
  CHECK(after.event_count == 2);
  CHECK(after.size_bytes == before.size_bytes);
  CHECK(after.description == "the kept ones");
  CHECK(after.creation_time == before.creation_time);
  CHECK(after.event_pattern == before.event_pattern);

  auto queue = Sqs(second.hub).GetQueue("orders").value();
  REQUIRE(again
              .StartReplay({.name = "again",
                            .event_source_arn = after.arn,
                            .event_start_time = start - absl::Minutes(1),
                            .event_end_time = start + absl::Minutes(10),
                            .destination_arn = bus->arn()})
              .ok());
  second.sim.RunFor(absl::Minutes(5));
  CHECK(again.DescribeReplay("again").value().state == "COMPLETED");
  CHECK(Bodies(*queue) ==
        std::vector<std::string>{R"({"keep":true,"n":1})", R"({"keep":true,"n":3})"});
  // A new event on the rebuilt bus is kept by the rebuilt archive.
  REQUIRE(again.GetEventBus("shop").value()->PutEvents({Shop(R"({"keep":true})")}).ok());
  CHECK(again.DescribeArchive("kept").value().event_count == 3);
}

TEST_CASE("A scheduled rule fires on the rebuilt hub's clock, without making up missed firings",
          "[events][recovery]") {
  auto log = std::make_shared<RecordingStorage>();
  Side first(log);
  auto ticks = Sqs(first.hub).CreateQueue("ticks").value();
  auto bus = Events(first.hub).GetEventBus("default").value();
  REQUIRE(bus->PutRule("tick", {.schedule_expression = "rate(5 minutes)"}).ok());
  REQUIRE(bus->PutTargets("tick", {{.id = "q", .arn = ticks->arn(), .input = R"("tick")"}}).ok());
  REQUIRE(bus->PutRule("quiet", {.schedule_expression = "rate(1 minute)"}).ok());
  REQUIRE(bus->PutTargets("quiet", {{.id = "q", .arn = ticks->arn(), .input = R"("quiet")"}}).ok());
  REQUIRE(bus->DisableRule("quiet").ok());

  // Down for an hour: twelve firings missed, none made up.
  Side second(log->Copy(), first.sim.Now() + absl::Hours(1));
  REQUIRE(second.hub.Recover().ok());
  auto queue = Sqs(second.hub).GetQueue("ticks").value();
  second.sim.RunFor(absl::Seconds(1));
  CHECK(Bodies(*queue).empty());
  second.sim.RunFor(absl::Minutes(10));
  CHECK(Bodies(*queue) == std::vector<std::string>{R"("tick")", R"("tick")"});
}

TEST_CASE("Schedule groups and schedules come back from the Scheduler records",
          "[events][recovery]") {
  auto log = std::make_shared<RecordingStorage>();
  Side first(log);
  SchedulerService& scheduler = Scheduler(first.hub);
  auto jobs = Sqs(first.hub).CreateQueue("jobs").value();
  const std::string group_arn = scheduler.CreateScheduleGroup("nightly", {{"team", "a"}}).value();
  REQUIRE(scheduler.TagResource(group_arn, {{"env", "test"}}).ok());
  REQUIRE(scheduler.CreateScheduleGroup("gone").ok());
  REQUIRE(scheduler
              .CreateSchedule("in-gone", {.group = "gone",
                                          .expression = "rate(1 hour)",
                                          .target = {.arn = jobs->arn(), .input = R"("x")"}})
              .ok());
  REQUIRE(scheduler.DeleteScheduleGroup("gone").ok());
  const absl::Time t0 = first.sim.Now();
  auto at = [&](absl::Duration d) {
    return "at(" + absl::FormatTime("%Y-%m-%dT%H:%M:%S", t0 + d, absl::UTCTimeZone()) + ")";
  };
  REQUIRE(scheduler
              .CreateSchedule("report", {.group = "nightly",
                                         .expression = "cron(0 2 * * ? *)",
                                         .time_zone = "Europe/Paris",
                                         .target = {.arn = jobs->arn(), .input = R"("report")"},
                                         .description = "nightly report"})
              .ok());
  // Fired before the restart: does not fire again.
  REQUIRE(scheduler
              .CreateSchedule("fired", {.expression = at(absl::Minutes(1)),
                                        .target = {.arn = jobs->arn(), .input = R"("fired")"}})
              .ok());
  // Fired before the restart and deleted by its completion.
  REQUIRE(scheduler
              .CreateSchedule("once-delete",
                              {.expression = at(absl::Minutes(1)),
                               .target = {.arn = jobs->arn(), .input = R"("once-delete")"},
                               .action_after_completion = "DELETE"})
              .ok());
  // Due while the process is down: fires at once after the restart.
  REQUIRE(scheduler
              .CreateSchedule("missed", {.expression = at(absl::Minutes(30)),
                                         .target = {.arn = jobs->arn(), .input = R"("missed")"}})
              .ok());
  REQUIRE(scheduler
              .CreateSchedule("paused", {.expression = "rate(1 minute)",
                                         .target = {.arn = jobs->arn(), .input = R"("paused")"},
                                         .state = "DISABLED"})
              .ok());
  REQUIRE(scheduler
              .CreateSchedule("deleted", {.expression = "rate(1 minute)",
                                          .target = {.arn = jobs->arn(), .input = R"("deleted")"}})
              .ok());
  REQUIRE(scheduler.DeleteSchedule("deleted").ok());
  first.sim.RunFor(absl::Minutes(2));
  std::vector<std::string> fired = Bodies(*jobs);
  std::sort(fired.begin(), fired.end());
  REQUIRE(fired == std::vector<std::string>{R"("fired")", R"("once-delete")"});
  const ScheduleDescription report = scheduler.GetSchedule("report", "nightly").value();

  Side second(log->Copy(), first.sim.Now() + absl::Hours(1));
  absl::Status recovered = second.hub.Recover();
  INFO(recovered.message());
  REQUIRE(recovered.ok());
  SchedulerService& again = Scheduler(second.hub);
  std::vector<std::string> groups;
  for (const ScheduleGroupDescription& g : again.ListScheduleGroups()) groups.push_back(g.name);
  CHECK(groups == std::vector<std::string>{"default", "nightly"});
  CHECK(again.ListTagsForResource(group_arn).value() ==
        SchedulerTagMap{{"env", "test"}, {"team", "a"}});
  std::vector<std::string> schedules;
  for (const ScheduleDescription& d : again.ListSchedules()) schedules.push_back(d.name);
  CHECK(schedules == std::vector<std::string>{"fired", "missed", "paused", "report"});
  const ScheduleDescription rebuilt = again.GetSchedule("report", "nightly").value();
  CHECK(rebuilt.spec.description == "nightly report");
  CHECK(rebuilt.spec.time_zone == "Europe/Paris");
  CHECK(rebuilt.creation_date == report.creation_date);
  CHECK(again.GetSchedule("paused").value().spec.state == "DISABLED");
  CHECK_FALSE(again.NextInvocation("fired").has_value());
  // 02:00 in Paris, the first one after the restart: as the first hub, an hour on, has it.
  first.sim.RunFor(absl::Hours(1));
  REQUIRE(first.sim.Now() == second.sim.Now());
  REQUIRE(again.NextInvocation("report", "nightly").has_value());
  CHECK(again.NextInvocation("report", "nightly") == scheduler.NextInvocation("report", "nightly"));

  auto queue = Sqs(second.hub).GetQueue("jobs").value();
  second.sim.RunFor(absl::Seconds(1));
  CHECK(Bodies(*queue) == std::vector<std::string>{R"("missed")"});
  second.sim.RunFor(absl::Hours(1));
  CHECK(Bodies(*queue).empty());  // "missed" fired once; "fired" and "paused" do not
}

TEST_CASE("A damaged EventBridge record fails recovery with DataLoss", "[events][recovery]") {
  auto log = std::make_shared<RecordingStorage>();
  {
    Side first(log);
    REQUIRE(Events(first.hub).CreateEventBus("shop").ok());
  }
  auto damaged = log->Copy();
  const std::string bad = R"({"op":"PutRule","bus":"shop"})";
  REQUIRE(damaged->Append("events", {&bad, 1}).ok());
  Side second(damaged);
  absl::Status recovered = second.hub.Recover();
  CHECK(recovered.code() == absl::StatusCode::kDataLoss);
  CHECK(recovered.message().find("EventBridge") != std::string_view::npos);
}

}  // namespace
}  // namespace courier
