// Scheduled rules (spec §8): each enabled rule with a ScheduleExpression has one timer on the
// hub's clock, armed for its next firing. A firing sends EventBridge's scheduled event to the
// rule's targets only (no other rule sees it) and arms the next. Disabling, re-scheduling or
// deleting the rule replaces its run, and the pending timer, finding that, stops.
#include <fmt/format.h>

#include "courier/detail/uuid.h"
#include "courier/hub.h"
#include "events/bus_state.h"

namespace courier::events_internal {
namespace {

// The event of a scheduled firing, as EventBridge sends it: its time is the firing's.
std::string ScheduledEvent(const Hub& hub, const Rule& rule, absl::Time when) {
  std::string resource;
  AppendJsonText(Json(rule.arn), resource);
  return fmt::format(
      R"({{"version":"0","id":"{}","detail-type":"Scheduled Event","source":"aws.events",)"
      R"("account":"{}","time":"{}","region":"{}","resources":[{}],"detail":{{}}}})",
      detail::NewUuid(), hub.environment().account, EventTime(when), hub.environment().region,
      resource);
}

void Fire(const std::weak_ptr<EventBus>& weak, const std::string& rule_name,
          const std::shared_ptr<const ScheduleRun>& run, absl::Time when) {
  std::shared_ptr<EventBus> bus = weak.lock();
  if (bus == nullptr || bus->deleted()) return;
  EventBus::State& st = BusAccess::Of(*bus);
  if (!st.alive->load(std::memory_order_acquire)) return;
  std::shared_ptr<const Rule> rule;
  {
    std::lock_guard lock(st.mu);
    auto it = st.rules.find(rule_name);
    if (it == st.rules.end() || it->second->schedule != run) return;  // a later run took over
    rule = it->second;
  }
  Hub& hub = BusAccess::HubOf(*bus);
  std::optional<Json> document;
  DeliverToTargets(hub, st.alive, rule,
                   std::make_shared<const std::string>(ScheduledEvent(hub, *rule, when)), document,
                   when);
  ArmSchedule(*bus, rule_name, run, when);
}

}  // namespace

void ArmSchedule(EventBus& bus, std::string rule_name, std::shared_ptr<const ScheduleRun> run,
                 absl::Time after) {
  std::optional<absl::Time> next = run->expression.NextAfter(after);
  if (!next) return;
  BusAccess::HubOf(bus).clock().ScheduleAt(
      *next, [weak = BusAccess::Of(bus).self, rule_name = std::move(rule_name),
              run = std::move(run), when = *next] { Fire(weak, rule_name, run, when); });
}

}  // namespace courier::events_internal
