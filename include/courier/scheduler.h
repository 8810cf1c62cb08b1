// courier::SchedulerService: EventBridge Scheduler in-process. A schedule is one-time
// (at(...)) or recurring (rate(...), cron(...)) in an IANA time zone, between optional start
// and end dates, fired on the hub's clock within its flexible time window, and invokes one
// target: a queue, a topic, a bus (with EventBridgeParameters), a state machine or a Function,
// with EventBridge's retries and dead-letter queue.
//
// Example:
//   courier::Scheduler(hub).CreateSchedule("nightly", {
//       .expression = "cron(0 2 * * ? *)", .time_zone = "Europe/Paris",
//       .target = {.arn = queue->arn(), .input = R"({"job":"report"})"}});
#ifndef COURIER_SCHEDULER_H_
#define COURIER_SCHEDULER_H_

#include <absl/status/statusor.h>
#include <absl/time/time.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "courier/event_bus.h"

namespace courier {

class Hub;

struct ScheduleTarget {
  std::string arn;
  std::string role_arn;
  std::optional<std::string> input;             // the body the target receives; "{}" when absent
  std::optional<std::string> message_group_id;  // SqsParameters (FIFO queues: required)
  // EventBridgeParameters, for a bus target (both required there).
  std::optional<std::string> detail_type, source;
  std::optional<TargetRetryPolicy> retry_policy;
  std::optional<std::string> dead_letter_arn;  // DeadLetterConfig.Arn: a standard queue
};

struct ScheduleSpec {
  std::string group = "default";
  std::string expression;  // at(...), rate(...) or cron(...)
  std::string time_zone = "UTC";
  std::optional<absl::Time> start_date, end_date;  // recurring schedules only
  // FlexibleTimeWindow: 0 is Mode OFF; 1-1440 minutes is FLEXIBLE, each firing at a time of the
  // window chosen from the schedule and the firing (the same on every run).
  int flexible_window_minutes = 0;
  ScheduleTarget target;
  std::string state = "ENABLED";                 // or DISABLED
  std::string action_after_completion = "NONE";  // or DELETE: removed after its last firing
  std::string description;
};

struct ScheduleDescription {
  std::string name;
  std::string arn;  // arn:aws:scheduler:<region>:<account>:schedule/<group>/<name>
  ScheduleSpec spec;
  absl::Time creation_date, last_modification_date;
};

struct ScheduleGroupDescription {
  std::string name;
  std::string arn;  // arn:aws:scheduler:<region>:<account>:schedule-group/<name>
  absl::Time creation_date, last_modification_date;
};

using SchedulerTagMap = EventsTagMap;

class SchedulerService {
 public:
  ~SchedulerService();
  SchedulerService(const SchedulerService&) = delete;
  SchedulerService& operator=(const SchedulerService&) = delete;

  // ValidationException for a bad name, expression, time zone, window, dates or target;
  // ResourceNotFoundException for a missing group; ConflictException if it exists. Returns its
  // ARN. Thread-safe.
  absl::StatusOr<std::string> CreateSchedule(std::string_view name, const ScheduleSpec& spec);
  // Replaces the whole schedule (as AWS does: members left out take their defaults).
  absl::StatusOr<std::string> UpdateSchedule(std::string_view name, const ScheduleSpec& spec);
  absl::StatusOr<ScheduleDescription> GetSchedule(std::string_view name,
                                                  std::string_view group = "default") const;
  absl::Status DeleteSchedule(std::string_view name, std::string_view group = "default");
  // By group ("" for all), name prefix and state ("" for any), in group then name order.
  std::vector<ScheduleDescription> ListSchedules(std::string_view group = "",
                                                 std::string_view name_prefix = "",
                                                 std::string_view state = "") const;
  // The next time the schedule will invoke its target, if any (flexible window applied).
  std::optional<absl::Time> NextInvocation(std::string_view name,
                                           std::string_view group = "default") const;

  // Groups: "default" always exists and cannot be deleted; deleting a group deletes its
  // schedules.
  absl::StatusOr<std::string> CreateScheduleGroup(std::string_view name,
                                                  const SchedulerTagMap& tags = {});
  absl::StatusOr<ScheduleGroupDescription> GetScheduleGroup(std::string_view name) const;
  absl::Status DeleteScheduleGroup(std::string_view name);
  std::vector<ScheduleGroupDescription> ListScheduleGroups(std::string_view prefix = "") const;

  // Tags of schedule groups, by ARN.
  absl::Status TagResource(std::string_view arn, const SchedulerTagMap& tags);
  absl::Status UntagResource(std::string_view arn, const std::vector<std::string>& keys);
  absl::StatusOr<SchedulerTagMap> ListTagsForResource(std::string_view arn) const;

  // Counters of a schedule's target, by CloudWatch's names (Invocations, FailedInvocations,
  // RetryInvocationAttempts, InvocationsSentToDlq, InvocationsFailedToBeSentToDlq).
  absl::StatusOr<EventsMetrics> ScheduleMetrics(std::string_view name,
                                                std::string_view group = "default") const;

  // Replays the hub's Scheduler log (Hub::Recover): groups and schedules come back, each at
  // its next firing from now on; a one-time schedule that had not fired fires at once.
  absl::Status Recover();

  struct State;  // defined and used inside the EventBridge module only

 private:
  friend class SchedulerOperations;  // creates the hub's instance
  explicit SchedulerService(Hub& hub);
  void Shutdown();

  Hub& hub_;
  std::shared_ptr<State> state_;
};

// The hub's EventBridge Scheduler.
SchedulerService& Scheduler(Hub& hub);

}  // namespace courier

#endif  // COURIER_SCHEDULER_H_
