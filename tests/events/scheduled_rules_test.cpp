// Scheduled rules (spec §8) on the simulated clock: the event EventBridge sends at each firing,
// rate schedules counted from the rule's creation, cron in UTC, disabling, re-scheduling and
// deleting, and a year of firings at once.
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

struct Fixture {
  testing::Simulation sim{Utc(2026, 1, 1)};
  Hub hub{sim.environment()};
  std::shared_ptr<EventBus> bus = Events(hub).GetEventBus("default").value();
  std::shared_ptr<Queue> queue = Sqs(hub).CreateQueue("ticks").value();

  void Schedule(const std::string& rule, const std::string& expression,
                const std::string& state = "ENABLED") {
    REQUIRE(bus->PutRule(rule, {.schedule_expression = expression, .state = state}).ok());
    REQUIRE(bus->PutTargets(rule, {{.id = "q", .arn = queue->arn()}})->failed_entry_count == 0);
  }
  // The events the queue holds, drained.
  std::vector<Json> Drain() {
    std::vector<Json> out;
    for (;;) {
      auto got =
          queue->ReceiveMessage({.max_number_of_messages = 10, .wait_time = absl::ZeroDuration()})
              .value();
      if (got.empty()) return out;
      for (const Message& m : got) {
        REQUIRE(queue->DeleteMessage(m.receipt_handle).ok());
        out.push_back(ParseJson(m.body).value());
      }
    }
  }
  std::vector<std::string> Times() {
    std::vector<std::string> out;
    for (const Json& e : Drain()) out.emplace_back(e.at("time").as_string());
    std::sort(out.begin(), out.end());
    return out;
  }
};

TEST_CASE("A scheduled rule sends EventBridge's Scheduled Event at each firing",
          "[events][schedule]") {
  Fixture f;
  f.Schedule("noon", "cron(0 12 * * ? *)");
  f.sim.RunFor(absl::Hours(24 * 3));
  std::vector<Json> events = f.Drain();
  REQUIRE(events.size() == 3);
  std::sort(events.begin(), events.end(), [](const Json& a, const Json& b) {
    return a.at("time").as_string() < b.at("time").as_string();
  });
  const Json& e = events[0];
  CHECK(e.at("version") == "0");
  CHECK(e.at("id").as_string().size() == 36);
  CHECK(e.at("detail-type") == "Scheduled Event");
  CHECK(e.at("source") == "aws.events");
  CHECK(e.at("account") == "000000000000");
  CHECK(e.at("region") == "us-east-1");
  CHECK(e.at("time") == "2026-01-01T12:00:00Z");
  CHECK(e.at("resources") == JsonArray{Json("arn:aws:events:us-east-1:000000000000:rule/noon")});
  CHECK(e.at("detail") == JsonObject{});
  CHECK(events[1].at("time") == "2026-01-02T12:00:00Z");
  CHECK(events[2].at("time") == "2026-01-03T12:00:00Z");
  CHECK(f.bus->RuleMetrics("noon")->at("MatchedEvents") == 3);
}

TEST_CASE("A rate counts from the rule's creation; disabling stops it, enabling restarts it",
          "[events][schedule]") {
  Fixture f;
  f.sim.RunFor(absl::Minutes(2));
  f.Schedule("every5", "rate(5 minutes)");
  f.sim.RunFor(absl::Minutes(16));
  CHECK(f.Times() == std::vector<std::string>{"2026-01-01T00:07:00Z", "2026-01-01T00:12:00Z",
                                              "2026-01-01T00:17:00Z"});
  // Putting the same rule again changes nothing in its rhythm.
  REQUIRE(f.bus->PutRule("every5", {.schedule_expression = "rate(5 minutes)"}).ok());
  f.sim.RunFor(absl::Minutes(5));
  CHECK(f.Times() == std::vector<std::string>{"2026-01-01T00:22:00Z"});
  REQUIRE(f.bus->DisableRule("every5").ok());
  f.sim.RunFor(absl::Hours(1));
  CHECK(f.Drain().empty());
  REQUIRE(f.bus->EnableRule("every5").ok());  // at 01:23: a new start
  f.sim.RunFor(absl::Minutes(11));
  CHECK(f.Times() == std::vector<std::string>{"2026-01-01T01:28:00Z", "2026-01-01T01:33:00Z"});
  // A new expression replaces the old rhythm.
  REQUIRE(f.bus->PutRule("every5", {.schedule_expression = "rate(1 hour)"}).ok());
  f.sim.RunFor(absl::Minutes(61));
  CHECK(f.Times() == std::vector<std::string>{"2026-01-01T02:34:00Z"});
  REQUIRE(f.bus->DeleteRule("every5", /*force=*/true).ok());
  f.sim.RunFor(absl::Hours(3));
  CHECK(f.Drain().empty());
}

TEST_CASE("A rule created disabled never fires until enabled", "[events][schedule]") {
  Fixture f;
  f.Schedule("later", "cron(0/10 * * * ? *)", "DISABLED");
  f.sim.RunFor(absl::Hours(1));
  CHECK(f.Drain().empty());
  REQUIRE(f.bus->EnableRule("later").ok());
  f.sim.RunFor(absl::Minutes(25));
  CHECK(f.Times() == std::vector<std::string>{"2026-01-01T01:10:00Z", "2026-01-01T01:20:00Z"});
}

TEST_CASE("Only the scheduled rule's targets receive its event", "[events][schedule]") {
  Fixture f;
  auto other = Sqs(f.hub).CreateQueue("other").value();
  REQUIRE(f.bus->PutRule("all-aws", {.event_pattern = R"({"source":["aws.events"]})"}).ok());
  REQUIRE(f.bus->PutTargets("all-aws", {{.id = "o", .arn = other->arn()}}).ok());
  f.Schedule("tick", "rate(1 minute)");
  f.sim.RunFor(absl::Minutes(3));
  CHECK(f.Drain().size() == 3);
  CHECK(other->ReceiveMessage({.wait_time = absl::ZeroDuration()})->empty());
}

TEST_CASE("A year of a weekday cron fires on each of 2026's 261 weekdays", "[events][schedule]") {
  Fixture f;
  f.Schedule("weekdays", "cron(0 9 ? * MON-FRI *)");
  // Drained every 3 days: the queue keeps a message 4 days.
  std::vector<std::string> times;
  for (int day = 0; day < 365; day += 3) {
    f.sim.RunFor(absl::Hours(24 * std::min(3, 365 - day)));
    for (std::string& t : f.Times()) times.push_back(std::move(t));
  }
  CHECK(f.sim.Now() == Utc(2027, 1, 1));
  REQUIRE(times.size() == 261);
  CHECK(times.front() == "2026-01-01T09:00:00Z");  // a Thursday
  CHECK(times[1] == "2026-01-02T09:00:00Z");
  CHECK(times[2] == "2026-01-05T09:00:00Z");  // the weekend skipped
  CHECK(times.back() == "2026-12-31T09:00:00Z");
  CHECK(f.bus->TargetMetrics("weekdays", "q")->at("Invocations") == 261);
}

TEST_CASE("Bad schedules are ValidationException and change nothing", "[events][schedule]") {
  Fixture f;
  for (const char* bad : {"rate(1 minutes)", "rate(0 hours)", "cron(0 12 * * *)",
                          "cron(0 12 * * * *)", "at(2026-02-01T00:00:00)", "every day"}) {
    INFO(bad);
    CHECK(ErrorName(f.bus->PutRule("r", {.schedule_expression = bad}).status()) ==
          "ValidationException");
  }
  CHECK(f.bus->ListRules("").empty());
  auto custom = Events(f.hub).CreateEventBus("custom").value();
  CHECK(ErrorName(custom->PutRule("r", {.schedule_expression = "rate(1 day)"}).status()) ==
        "ValidationException");
}

}  // namespace
}  // namespace courier
