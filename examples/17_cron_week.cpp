// Schedules on a simulated clock: an EventBridge rule with cron (weekdays at 09:00 UTC) and an
// EventBridge Scheduler schedule in Paris time, run for a week in microseconds, with the time of
// each firing printed.
#include <absl/time/civil_time.h>

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <string>
#include <vector>

#include "courier/event_bus.h"
#include "courier/events.h"
#include "courier/hub.h"
#include "courier/json.h"
#include "courier/queue.h"
#include "courier/scheduler.h"
#include "courier/sqs.h"
#include "courier/testing/simulation.h"

int main() {
  // Thursday 2026-01-01, midnight UTC.
  courier::testing::Simulation sim(
      absl::FromCivil(absl::CivilDay(2026, 1, 1), absl::UTCTimeZone()));
  courier::Hub hub(sim.environment());
  // Kept 14 days (SQS's default is 4): the week is read at its end.
  auto ticks = courier::Sqs(hub)
                   .CreateQueue("ticks", {.message_retention_period = absl::Hours(24 * 14)})
                   .value();
  auto bus = courier::Events(hub).GetEventBus("default").value();
  //! [cron]
  bus->PutRule("weekdays", {.schedule_expression = "cron(0 9 ? * MON-FRI *)"}).value();
  bus->PutTargets("weekdays", {{.id = "q", .arn = ticks->arn()}}).value();
  courier::Scheduler(hub)
      .CreateSchedule(
          "paris-evening",
          {.expression = "cron(0 18 ? * SAT,SUN *)",
           .time_zone = "Europe/Paris",
           .target = {.arn = ticks->arn(), .input = R"({"at":"<aws.scheduler.scheduled-time>"})"}})
      .value();
  sim.RunFor(absl::Hours(24 * 7));
  //! [cron]
  std::vector<std::string> lines;
  for (;;) {
    auto got = ticks->ReceiveMessage({.max_number_of_messages = 10}).value();
    if (got.empty()) break;
    for (const auto& m : got) {
      courier::Json body = courier::ParseJson(m.body).value();
      lines.push_back(body.as_object().contains("time")
                          ? "rule      " + std::string(body.at("time").as_string())
                          : "scheduler " + std::string(body.at("at").as_string()));
      if (!ticks->DeleteMessage(m.receipt_handle).ok()) return 1;
    }
  }
  std::sort(lines.begin(), lines.end());
  for (const auto& l : lines) std::printf("%s\n", l.c_str());
  assert(lines.size() == 5 + 2);  // Thu, Fri, Mon, Tue, Wed; Sat and Sun at 18:00 in Paris
  assert(lines[0] == "rule      2026-01-01T09:00:00Z");
  assert(lines[4] == "rule      2026-01-07T09:00:00Z");
  assert(lines[5] == "scheduler 2026-01-03T17:00:00Z");  // 18:00 in Paris
  return 0;
}
