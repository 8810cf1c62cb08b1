// The EventBridge and Scheduler services' mutation records (courier/storage.h): what a recovered
// hub needs to have its buses, rules, targets, archives (with their events), schedules and
// schedule groups back. Not API.
//
// EventBridge's records ("events" log) are written under the lock that orders their change and
// replayed through the operation that made it (EventsService::Recover); a record that sets a
// whole (a bus's policy, a resource's tags, a rule's targets) carries the whole, so the last one
// wins. Scheduler's records ("scheduler" log) carry a schedule's or group's whole state.
//
// A delivery to a target that failed and waits for a retry is recorded (RetryWaiting, again at
// each failed retry) until it ends (RetryEnded), so a recovered hub tries it again
// (retry_journal.h).
//
// Not recorded (a recovered hub starts them afresh): replays, counters, the schema registry.
#ifndef COURIER_SRC_EVENTS_EVENTS_RECORDS_H_
#define COURIER_SRC_EVENTS_EVENTS_RECORDS_H_

#include <absl/status/statusor.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "courier/detail/record_log.h"
#include "courier/event_bus.h"
#include "courier/events.h"
#include "courier/scheduler.h"

namespace courier::events_internal {

inline constexpr std::string_view kEventsLog = "events";
inline constexpr std::string_view kSchedulerLog = "scheduler";

// ---- EventBridge ----

struct BusCreated {
  std::string name, description;
  EventsTagMap tags;
  int64_t at_ns = 0;
};
struct BusChanged {  // UpdateEventBus, PutPermission, RemovePermission: the bus after it
  std::string name, description, policy;
  int64_t at_ns = 0;
};
struct BusDeleted {
  std::string name;
};
struct TagsSet {  // a bus's or rule's whole tag set after TagResource or UntagResource
  std::string arn;
  EventsTagMap tags;
};
struct RulePut {
  std::string bus, name;
  RuleSpec spec;  // tags only when the rule was created by it
};
struct RuleEnabled {
  std::string bus, name;
  bool enabled = true;
};
struct RuleDeleted {
  std::string bus, name;
};
struct TargetsSet {  // the rule's whole target list after PutTargets or RemoveTargets
  std::string bus, rule;
  std::vector<Target> targets;
};
struct ArchiveCreated {
  std::string name;
  ArchiveSpec spec;
  int64_t at_ns = 0;
};
struct ArchiveUpdated {
  std::string name;
  ArchiveSpec spec;
};
struct ArchiveDeleted {
  std::string name;
};
struct EventArchived {
  std::string archive, event;
  int64_t received_ns = 0, event_time_ns = 0;
};

// A delivery waiting for its next try, keyed by (rule_arn, id): the last record of a key wins.
struct RetryWaiting {
  uint64_t id = 0;
  std::string rule_arn;
  Target target;  // the whole target, as the delivery held it
  std::string event;
  std::optional<std::string> body;  // what the target receives, when not `event`
  int64_t ingested_ns = 0, due_ns = 0;
  int attempts = 0;  // tries made
  // The last try's failure, for the dead-letter queue's attributes.
  int error_code = 0;
  std::string error_name, error_message;
};
struct RetryEnded {  // delivered, given to the dead-letter queue, or dropped
  uint64_t id = 0;
  std::string rule_arn;
};

using EventsRecord = std::variant<BusCreated, BusChanged, BusDeleted, TagsSet, RulePut, RuleEnabled,
                                  RuleDeleted, TargetsSet, ArchiveCreated, ArchiveUpdated,
                                  ArchiveDeleted, EventArchived, RetryWaiting, RetryEnded>;

std::string EncodeEventsRecord(const EventsRecord& record);
// DataLoss for text that is not a record this version wrote.
absl::StatusOr<EventsRecord> DecodeEventsRecord(std::string_view text);

// The hub's EventBridge log; nullptr when its storage keeps no records.
using EventsLog = detail::TypedLog<EventsRecord, EncodeEventsRecord>;

// ---- Scheduler ----

struct SchedulePut {  // CreateSchedule, UpdateSchedule: the whole schedule
  std::string name;
  ScheduleSpec spec;
  int64_t created_ns = 0, modified_ns = 0;
};
struct ScheduleCompleted {  // its last firing made (ActionAfterCompletion NONE)
  std::string group, name;
};
struct ScheduleDeleted {  // DeleteSchedule, or completed with ActionAfterCompletion DELETE
  std::string group, name;
};
struct GroupPut {  // CreateScheduleGroup, its tags changed: the whole group
  std::string name;
  SchedulerTagMap tags;
  int64_t created_ns = 0, modified_ns = 0;
};
struct GroupDeleted {
  std::string name;
};

using SchedulerRecord =
    std::variant<SchedulePut, ScheduleCompleted, ScheduleDeleted, GroupPut, GroupDeleted>;

std::string EncodeSchedulerRecord(const SchedulerRecord& record);
absl::StatusOr<SchedulerRecord> DecodeSchedulerRecord(std::string_view text);

using SchedulerLog = detail::TypedLog<SchedulerRecord, EncodeSchedulerRecord>;

}  // namespace courier::events_internal

#endif  // COURIER_SRC_EVENTS_EVENTS_RECORDS_H_
