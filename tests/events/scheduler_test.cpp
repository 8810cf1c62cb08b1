// EventBridge Scheduler on the simulated clock: one-time and recurring schedules in time zones
// (daylight saving both ways), start and end dates, flexible windows, completion, targets of
// each kind with retries and the dead-letter queue, and the errors of bad input.
#include "courier/scheduler.h"

#include <absl/time/civil_time.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "courier/event_bus.h"
#include "courier/events.h"
#include "courier/hub.h"
#include "courier/json.h"
#include "courier/queue.h"
#include "courier/sqs.h"
#include "courier/status.h"
#include "courier/testing/simulation.h"

namespace courier {
namespace {

absl::Time Utc(int y, int mo, int d, int h = 0, int mi = 0) {
  return absl::FromCivil(absl::CivilMinute(y, mo, d, h, mi), absl::UTCTimeZone());
}

std::string Iso(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

struct Fixture {
  testing::Simulation sim{Utc(2026, 3, 1)};
  Hub hub{sim.environment()};
  SchedulerService& scheduler = Scheduler(hub);
  std::shared_ptr<Queue> queue = Sqs(hub).CreateQueue("jobs").value();
  std::vector<absl::Time> arrivals;  // when each message reached the queue

  ScheduleSpec Spec(std::string expression, std::string zone = "UTC") {
    return {.expression = std::move(expression),
            .time_zone = std::move(zone),
            .target = {.arn = queue->arn(), .role_arn = "arn:aws:iam::000000000000:role/r"}};
  }
  // Runs `d` of simulated time a minute at a time, noting when messages arrive.
  void Run(absl::Duration d) {
    const absl::Time end = sim.Now() + d;
    while (sim.Now() < end) {
      sim.RunFor(std::min(absl::Minutes(1), end - sim.Now()));
      for (;;) {
        auto got =
            queue->ReceiveMessage({.max_number_of_messages = 10, .wait_time = absl::ZeroDuration()})
                .value();
        if (got.empty()) break;
        for (const Message& m : got) {
          bodies.push_back(m.body);
          arrivals.push_back(sim.Now());
          REQUIRE(queue->DeleteMessage(m.receipt_handle).ok());
        }
      }
    }
  }
  // Runs until `t`, forgetting what arrives (the queue keeps messages only 4 days).
  void Skip(absl::Time t) {
    while (sim.Now() < t) Run(std::min(absl::Hours(24), t - sim.Now()));
    arrivals.clear();
    bodies.clear();
  }
  std::vector<std::string> Arrivals() {
    std::vector<std::string> out;
    for (absl::Time t : arrivals) out.push_back(Iso(t));
    arrivals.clear();
    return out;
  }
  std::vector<std::string> bodies;
};

TEST_CASE("A one-time schedule fires once at its local time, then completes",
          "[events][scheduler]") {
  Fixture f;
  ScheduleSpec keep = f.Spec("at(2026-03-01T09:30:00)", "America/New_York");
  keep.target.input = R"({"job":"report"})";
  REQUIRE(f.scheduler.CreateSchedule("once", keep).ok());
  ScheduleSpec gone = f.Spec("at(2026-03-01T10:00:00)", "America/New_York");
  gone.action_after_completion = "DELETE";
  REQUIRE(f.scheduler.CreateSchedule("once-deleted", gone).ok());
  CHECK(f.scheduler.NextInvocation("once") == Utc(2026, 3, 1, 14, 30));  // EST is UTC-5
  f.Run(absl::Hours(48));
  CHECK(f.Arrivals() == std::vector<std::string>{"2026-03-01T14:30:00Z", "2026-03-01T15:00:00Z"});
  CHECK(f.bodies[0] == R"({"job":"report"})");
  CHECK(f.bodies[1] == "{}");                   // no Input
  CHECK(f.scheduler.GetSchedule("once").ok());  // NONE: it stays, with nothing left to do
  CHECK(f.scheduler.NextInvocation("once") == std::nullopt);
  CHECK(ErrorName(f.scheduler.GetSchedule("once-deleted").status()) == "ResourceNotFoundException");
}

TEST_CASE("The Input's context attributes are filled at each firing", "[events][scheduler]") {
  Fixture f;
  ScheduleSpec spec = f.Spec("rate(1 hour)");
  spec.target.input =
      R"({"arn":"<aws.scheduler.schedule-arn>",)"
      R"("at":"<aws.scheduler.scheduled-time>",)"
      R"("try":<aws.scheduler.attempt-number>,"id":"<aws.scheduler.execution-id>"})";
  const std::string arn = f.scheduler.CreateSchedule("ctx", spec).value();
  f.Run(absl::Minutes(61));
  REQUIRE(f.bodies.size() == 1);
  Json body = ParseJson(f.bodies[0]).value();
  CHECK(body.at("arn") == arn.c_str());
  CHECK(body.at("at") == "2026-03-01T01:00:00Z");
  CHECK(body.at("try") == 1);
  CHECK(body.at("id").as_string().size() == 36);
}

TEST_CASE("A cron schedule follows its time zone across daylight saving", "[events][scheduler]") {
  Fixture f;
  // London goes to BST on 2026-03-29 and back on 2026-10-25.
  REQUIRE(f.scheduler.CreateSchedule("london", f.Spec("cron(30 8 * * ? *)", "Europe/London")).ok());
  f.Skip(Utc(2026, 3, 27));
  f.Run(absl::Hours(24 * 4));
  CHECK(f.Arrivals() == std::vector<std::string>{"2026-03-27T08:30:00Z", "2026-03-28T08:30:00Z",
                                                 "2026-03-29T07:30:00Z", "2026-03-30T07:30:00Z"});
  f.Skip(Utc(2026, 10, 24));
  f.Run(absl::Hours(24 * 2));
  CHECK(f.Arrivals() == std::vector<std::string>{"2026-10-24T07:30:00Z", "2026-10-25T08:30:00Z"});
}

TEST_CASE("A local time that daylight saving skips fires at the jump", "[events][scheduler]") {
  Fixture f;
  // New York skips 02:00-03:00 on 2026-03-08: 02:30 runs at 03:00 EDT (07:00Z).
  REQUIRE(f.scheduler.CreateSchedule("ny", f.Spec("cron(30 2 * * ? *)", "America/New_York")).ok());
  f.Run(absl::Hours(24 * 9));
  std::vector<std::string> got = f.Arrivals();
  REQUIRE(got.size() == 9);
  CHECK(got[6] == "2026-03-07T07:30:00Z");
  CHECK(got[7] == "2026-03-08T07:00:00Z");
  CHECK(got[8] == "2026-03-09T06:30:00Z");
}

TEST_CASE("Start and end dates bound a recurring schedule", "[events][scheduler]") {
  Fixture f;
  ScheduleSpec spec = f.Spec("rate(1 hour)");
  spec.start_date = Utc(2026, 3, 1, 2);
  spec.end_date = Utc(2026, 3, 1, 5);
  REQUIRE(f.scheduler.CreateSchedule("bounded", spec).ok());
  f.Run(absl::Hours(10));
  CHECK(f.Arrivals() == std::vector<std::string>{"2026-03-01T03:00:00Z", "2026-03-01T04:00:00Z",
                                                 "2026-03-01T05:00:00Z"});
}

TEST_CASE("A flexible window spreads each firing inside it, the same on every run",
          "[events][scheduler]") {
  std::vector<std::string> runs[2];
  for (auto& run : runs) {
    Fixture f;
    ScheduleSpec spec = f.Spec("cron(0 12 * * ? *)");
    spec.flexible_window_minutes = 15;
    REQUIRE(f.scheduler.CreateSchedule("flex", spec).ok());
    f.Run(absl::Hours(24 * 10));
    for (size_t day = 0; day < f.arrivals.size(); ++day) {
      const absl::Time noon = Utc(2026, 3, 1 + static_cast<int>(day), 12);
      CHECK(f.arrivals[day] >= noon);
      CHECK(f.arrivals[day] <= noon + absl::Minutes(15));  // a minute's grain in Run
    }
    CHECK(f.arrivals.size() == 10);
    CHECK(std::any_of(f.arrivals.begin(), f.arrivals.end(),
                      [](absl::Time t) { return absl::ToUnixSeconds(t) % 3600 != 0; }));
    run = f.Arrivals();
  }
  CHECK(runs[0] == runs[1]);
}

TEST_CASE("Disabled schedules wait; an update replaces the schedule whole", "[events][scheduler]") {
  Fixture f;
  ScheduleSpec spec = f.Spec("rate(10 minutes)");
  spec.state = "DISABLED";
  REQUIRE(f.scheduler.CreateSchedule("s", spec).ok());
  f.Run(absl::Hours(1));
  CHECK(f.Arrivals().empty());
  spec.state = "ENABLED";
  REQUIRE(f.scheduler.UpdateSchedule("s", spec).ok());  // at 01:00: counts from the update
  f.Run(absl::Minutes(25));
  CHECK(f.Arrivals() == std::vector<std::string>{"2026-03-01T01:10:00Z", "2026-03-01T01:20:00Z"});
  REQUIRE(f.scheduler.DeleteSchedule("s").ok());
  f.Run(absl::Hours(1));
  CHECK(f.Arrivals().empty());
  CHECK(ErrorName(f.scheduler.DeleteSchedule("s")) == "ResourceNotFoundException");
}

TEST_CASE("A bus target gets an event with EventBridgeParameters and the Input as detail",
          "[events][scheduler]") {
  Fixture f;
  auto bus = Events(f.hub).GetEventBus("default").value();
  REQUIRE(bus->PutRule("jobs", {.event_pattern = R"({"source":["my.scheduler"]})"}).ok());
  REQUIRE(bus->PutTargets("jobs", {{.id = "q", .arn = f.queue->arn()}}).ok());
  ScheduleSpec spec = f.Spec("at(2026-03-01T00:05:00)");
  spec.target.arn = bus->arn();
  spec.target.detail_type = "Nightly Job";
  spec.target.source = "my.scheduler";
  spec.target.input = R"({"job":"report"})";
  std::string arn = f.scheduler.CreateSchedule("to-bus", spec).value();
  f.Run(absl::Minutes(10));
  REQUIRE(f.bodies.size() == 1);
  Json event = ParseJson(f.bodies[0]).value();
  CHECK(event.at("source") == "my.scheduler");
  CHECK(event.at("detail-type") == "Nightly Job");
  CHECK(event.at("time") == "2026-03-01T00:05:00Z");
  CHECK(event.at("resources") == JsonArray{Json(arn)});
  CHECK(event.at("detail") == ParseJson(R"({"job":"report"})").value());
}

TEST_CASE("A target that is missing goes to the dead-letter queue", "[events][scheduler]") {
  Fixture f;
  auto dlq = Sqs(f.hub).CreateQueue("dlq").value();
  ScheduleSpec spec = f.Spec("at(2026-03-01T00:01:00)");
  spec.target.arn = "arn:aws:sqs:us-east-1:000000000000:missing";
  spec.target.dead_letter_arn = dlq->arn();
  REQUIRE(f.scheduler.CreateSchedule("lost", spec).ok());
  f.Run(absl::Minutes(5));
  auto got = dlq->ReceiveMessage({.max_number_of_messages = 10,
                                  .wait_time = absl::ZeroDuration(),
                                  .message_attribute_names = {"All"}})
                 .value();
  REQUIRE(got.size() == 1);
  CHECK(got[0].message_attributes.at("ERROR_CODE").string_value == "NO_RESOURCE");
  EventsMetrics m = f.scheduler.ScheduleMetrics("lost").value();
  CHECK(m.at("FailedInvocations") == 1);
  CHECK(m.at("InvocationsSentToDlq") == 1);
}

TEST_CASE("Schedule groups: default stays, deleting a group deletes its schedules, tags",
          "[events][scheduler]") {
  Fixture f;
  std::string arn = f.scheduler.CreateScheduleGroup("team", {{"k", "v"}}).value();
  CHECK(arn == "arn:aws:scheduler:us-east-1:000000000000:schedule-group/team");
  CHECK(ErrorName(f.scheduler.CreateScheduleGroup("team").status()) == "ConflictException");
  ScheduleSpec spec = f.Spec("rate(1 minute)");
  spec.group = "team";
  CHECK(f.scheduler.CreateSchedule("s", spec).value() ==
        "arn:aws:scheduler:us-east-1:000000000000:schedule/team/s");
  CHECK(f.scheduler.ListSchedules("team").size() == 1);
  CHECK(f.scheduler.ListTagsForResource(arn)->at("k") == "v");
  REQUIRE(f.scheduler.TagResource(arn, {{"k2", "v2"}}).ok());
  REQUIRE(f.scheduler.UntagResource(arn, {"k"}).ok());
  CHECK(*f.scheduler.ListTagsForResource(arn) == SchedulerTagMap{{"k2", "v2"}});
  REQUIRE(f.scheduler.DeleteScheduleGroup("team").ok());
  CHECK(f.scheduler.ListSchedules().empty());
  f.Run(absl::Minutes(3));
  CHECK(f.Arrivals().empty());
  CHECK(ErrorName(f.scheduler.DeleteScheduleGroup("default")) == "ValidationException");
  CHECK(f.scheduler.ListScheduleGroups().size() == 1);
}

TEST_CASE("Bad schedules are refused and change nothing", "[events][scheduler]") {
  Fixture f;
  auto error = [&](ScheduleSpec spec, const std::string& name = "bad") {
    return std::string(ErrorName(f.scheduler.CreateSchedule(name, spec).status()));
  };
  CHECK(error(f.Spec("rate(5 minute)")) == "ValidationException");
  CHECK(error(f.Spec("cron(0 12 * * *)")) == "ValidationException");
  CHECK(error(f.Spec("at(2026-13-01T00:00:00)")) == "ValidationException");
  CHECK(error(f.Spec("rate(1 hour)", "Mars/Base")) == "ValidationException");
  CHECK(error(f.Spec("rate(1 hour)"), "bad name") == "ValidationException");
  ScheduleSpec window = f.Spec("rate(1 hour)");
  window.flexible_window_minutes = 1441;
  CHECK(error(window) == "ValidationException");
  ScheduleSpec dates = f.Spec("rate(1 hour)");
  dates.start_date = Utc(2026, 4, 2);
  dates.end_date = Utc(2026, 4, 1);
  CHECK(error(dates) == "ValidationException");
  ScheduleSpec bus = f.Spec("rate(1 hour)");
  bus.target.arn = "arn:aws:events:us-east-1:000000000000:event-bus/default";
  CHECK(error(bus) == "ValidationException");  // EventBridgeParameters required
  ScheduleSpec group = f.Spec("rate(1 hour)");
  group.group = "none";
  CHECK(error(group) == "ResourceNotFoundException");
  CHECK(f.scheduler.ListSchedules().empty());
  REQUIRE(f.scheduler.CreateSchedule("ok", f.Spec("rate(1 hour)")).ok());
  CHECK(error(f.Spec("rate(2 hours)"), "ok") == "ConflictException");
  CHECK(f.scheduler.GetSchedule("ok")->spec.expression == "rate(1 hour)");
}

}  // namespace
}  // namespace courier
