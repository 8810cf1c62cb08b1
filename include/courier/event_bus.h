// EventBus: one EventBridge event bus — its rules, their targets, and PutEvents.
//
// PutEvents fills each entry into EventBridge's envelope, matches it against every enabled rule
// of the bus in one pass of the pattern engine (pattern.h), and delivers it to each matching
// rule's targets: queues, FIFO queues, topics, other buses, state machines and Functions, found
// by ARN. A target's input is the event, a constant, a JSONPath of it, or an input transformer's
// output. A delivery that fails is retried on the hub's clock with exponential back-off, within
// the target's RetryPolicy, then given to its dead-letter queue; nothing is dropped silently
// (Metrics counts every outcome, by CloudWatch's names). Rules and targets are published in an
// immutable snapshot that PutRule and PutTargets build to the side and swap in: PutEvents never
// waits for them.
//
// Example:
//   auto bus = courier::Events(hub).GetEventBus("default").value();
//   bus->PutRule("big", {.event_pattern = R"({"detail":{"amount":[{"numeric":[">",100]}]}})"});
//   bus->PutTargets("big", {{.id = "q", .arn = orders->arn()}});
//   bus->PutEvents({{.source = "shop", .detail_type = "Order", .detail = R"({"amount":250})"}});
//   // orders now holds {"version":"0","id":"...","detail-type":"Order","source":"shop",...}
#ifndef COURIER_EVENT_BUS_H_
#define COURIER_EVENT_BUS_H_

#include <absl/status/status.h>
#include <absl/status/statusor.h>
#include <absl/time/time.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "courier/resource.h"

namespace courier {

class Hub;
class EventsService;
namespace events_internal {
struct BusAccess;
}  // namespace events_internal

// Tags and CloudWatch counters by name.
using EventsTagMap = std::map<std::string, std::string, std::less<>>;
using EventsMetrics = std::map<std::string, int64_t, std::less<>>;

// One PutEvents entry (spec §1). `detail` is the text of a JSON object.
struct PutEventsEntry {
  std::string source;
  std::string detail_type;
  std::string detail;
  std::vector<std::string> resources;
  std::optional<absl::Time> time;  // default: the hub's clock when the bus receives it
  // EventsService::PutEvents only: the bus's name or ARN (default: "default").
  std::string event_bus_name;
  std::optional<std::string> trace_header;
};

// One entry's outcome: `event_id`, or `error_code` and `error_message`.
struct PutEventsResultEntry {
  std::string event_id;
  std::string error_code;
  std::string error_message;
};

struct PutEventsResult {
  int failed_entry_count = 0;
  std::vector<PutEventsResultEntry> entries;  // one per request entry, in order
};

// PutRule's members. A rule has an event pattern, a schedule expression, or both.
struct RuleSpec {
  std::optional<std::string> event_pattern;
  std::optional<std::string> schedule_expression;
  std::string state = "ENABLED";  // ENABLED, DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_...
  std::string description;
  std::string role_arn;
  EventsTagMap tags;  // on creation only, as PutRule applies them
};

// DescribeRule's answer.
struct RuleDescription {
  std::string name;
  std::string arn;
  std::string event_bus_name;
  std::optional<std::string> event_pattern;
  std::optional<std::string> schedule_expression;
  std::string state;
  std::string description;
  std::string role_arn;
  std::string created_by;  // the account
};

struct InputTransformer {
  std::map<std::string, std::string> input_paths_map;
  std::string input_template;
};

// A target's RetryPolicy: at most `maximum_retry_attempts` (0-185) retries while the event is
// younger than `maximum_event_age` (60 s - 24 h).
struct TargetRetryPolicy {
  int maximum_retry_attempts = 185;
  absl::Duration maximum_event_age = absl::Hours(24);
};

// PutTargets' Target.
struct Target {
  std::string id;   // 1-64 of [.\-_A-Za-z0-9]
  std::string arn;  // a queue, topic, bus, state machine or Function of the process
  std::string role_arn;
  std::optional<std::string> input;       // constant JSON text
  std::optional<std::string> input_path;  // JSONPath into the event
  std::optional<InputTransformer> input_transformer;
  std::optional<std::string> message_group_id;  // SqsParameters (FIFO queues: required)
  std::optional<TargetRetryPolicy> retry_policy;
  std::optional<std::string> dead_letter_arn;  // DeadLetterConfig.Arn: a standard queue
};

// PutTargets and RemoveTargets: the entries that failed, each with AWS's error.
struct TargetsResult {
  struct Failure {
    std::string target_id;
    std::string error_code;
    std::string error_message;
  };
  int failed_entry_count = 0;
  std::vector<Failure> failed;
};

class EventBus final : public MessageSink {
 public:
  ~EventBus() override;

  // 1-10 entries totalling less than 256 KiB as EventBridge counts them; each entry succeeds or
  // fails on its own (MalformedDetail, InvalidArgument, ...). ValidationException for an
  // empty or too long request; ResourceNotFoundException once the bus is deleted. Thread-safe;
  // takes no lock against PutRule/PutTargets.
  absl::StatusOr<PutEventsResult> PutEvents(std::vector<PutEventsEntry> entries);

  // Creates or updates a rule; returns its ARN (arn:aws:events:<region>:<account>:rule/[bus/]
  // name). ValidationException for a bad name, state or schedule (schedules are for the default
  // bus only), InvalidEventPatternException for a bad pattern. Thread-safe.
  absl::StatusOr<std::string> PutRule(std::string_view name, const RuleSpec& rule);
  // Many rules with one rebuild of the matcher: the way to load thousands. Stops at the first
  // rule that fails, with the rules before it put. Thread-safe.
  absl::Status PutRules(const std::vector<std::pair<std::string, RuleSpec>>& rules);
  absl::StatusOr<RuleDescription> DescribeRule(std::string_view name) const;
  // Rules whose name starts with `prefix`, in name order.
  std::vector<RuleDescription> ListRules(std::string_view prefix = "") const;
  absl::Status EnableRule(std::string_view name);
  absl::Status DisableRule(std::string_view name);
  // ValidationException while the rule has targets, unless `force`. Deleting a rule that does
  // not exist succeeds, as in EventBridge.
  absl::Status DeleteRule(std::string_view name, bool force = false);
  // Rules with a target of this ARN, in name order.
  std::vector<std::string> ListRuleNamesByTarget(std::string_view target_arn) const;

  // Adds or replaces targets by id (at most 5 a rule: LimitExceededException). An invalid
  // target (a bad id or ARN, two inputs, a FIFO queue without a group id) fails the call with
  // ValidationException and changes nothing; ResourceNotFoundException if there is no such
  // rule. A target ARN that names nothing yet is accepted: its deliveries fail (NO_RESOURCE).
  absl::StatusOr<TargetsResult> PutTargets(std::string_view rule, std::vector<Target> targets);
  absl::StatusOr<TargetsResult> RemoveTargets(std::string_view rule,
                                              const std::vector<std::string>& ids);
  absl::StatusOr<std::vector<Target>> ListTargetsByRule(std::string_view rule) const;

  // A rule's counters (MatchedEvents, TriggeredRules, Invocations, FailedInvocations,
  // InvocationsSentToDlq, InvocationsFailedToBeSentToDlq, RetryInvocationAttempts), summed over
  // its targets. Thread-safe.
  absl::StatusOr<EventsMetrics> RuleMetrics(std::string_view rule) const;
  // The same for one target of a rule.
  absl::StatusOr<EventsMetrics> TargetMetrics(std::string_view rule,
                                              std::string_view target_id) const;

  // The bus's resource policy (PutPermission builds it); empty when it has none.
  std::string policy() const;
  std::string description() const;

  // MessageSink: the body is a whole event (a bus that is another bus's target, or a replay),
  // which this bus routes as it is. InvalidArgument if it is not an event. Thread-safe.
  absl::StatusOr<SendMessageResult> SendMessage(SendMessageRequest request) override;

  struct State;  // defined and used inside the EventBridge module only

 private:
  friend class EventsService;
  friend struct events_internal::BusAccess;
  EventBus(Hub& hub, std::string name, std::string arn);

  Hub& hub_;
  std::unique_ptr<State> state_;
};

}  // namespace courier

#endif  // COURIER_EVENT_BUS_H_
