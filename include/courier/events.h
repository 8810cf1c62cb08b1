// Events: the EventBridge control plane of a hub — event buses, their permissions and tags,
// archives and replays — as EventBridge's API names these operations (spec/event-patterns.md).
//
// Each Hub has one EventsService (the EventBridge module registers it; see service.h) with the
// `default` bus of the hub's account and region; `courier::Events(hub)` reaches it, and
// `courier::Invoke(hub, "events", ...)` answers AWS's operation table over it. A bus of another
// hub of the same process (another account or region) is reached by its ARN.
//
// Example:
//   courier::EventsService& events = courier::Events(hub);
//   auto bus = events.CreateEventBus("orders").value();
//   events.CreateArchive("all-orders", {.event_source_arn = bus->arn()});
//   ...
//   events.StartReplay({.name = "again", .event_source_arn = archive_arn,
//                       .event_start_time = t0, .event_end_time = t1,
//                       .destination_arn = bus->arn()});
#ifndef COURIER_EVENTS_H_
#define COURIER_EVENTS_H_

#include <absl/status/status.h>
#include <absl/status/statusor.h>
#include <absl/time/time.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "courier/event_bus.h"

namespace courier {

class Hub;
class EventsOperations;

struct EventBusDescription {
  std::string name;
  std::string arn;
  std::string description;
  std::string policy;  // JSON text; empty without one
  absl::Time creation_time;
  absl::Time last_modified_time;
};

// CreateArchive's members (UpdateArchive's, without the source).
struct ArchiveSpec {
  std::string event_source_arn;  // the bus whose events it keeps
  std::optional<std::string> event_pattern;
  std::string description;
  int retention_days = 0;  // 0: kept forever
};

struct ArchiveDescription {
  std::string name;
  std::string arn;
  std::string event_source_arn;
  std::optional<std::string> event_pattern;
  std::string description;
  std::string state = "ENABLED";
  int retention_days = 0;
  int64_t size_bytes = 0;
  int64_t event_count = 0;
  absl::Time creation_time;
};

// StartReplay's members.
struct ReplaySpec {
  std::string name;  // 1-64 of [.\-_A-Za-z0-9]
  std::string description;
  std::string event_source_arn;  // the archive
  absl::Time event_start_time;
  absl::Time event_end_time;
  std::string destination_arn;           // the archive's own bus
  std::vector<std::string> filter_arns;  // rules of that bus; empty: all of them
};

struct ReplayDescription {
  std::string name;
  std::string arn;
  std::string description;
  // STARTING, RUNNING, CANCELLING, COMPLETED, CANCELLED, FAILED.
  std::string state;
  std::string state_reason;
  std::string event_source_arn;
  std::string destination_arn;
  std::vector<std::string> filter_arns;
  absl::Time event_start_time;
  absl::Time event_end_time;
  std::optional<absl::Time> event_last_replayed_time;
  absl::Time replay_start_time;
  std::optional<absl::Time> replay_end_time;
};

// EventBridge's quotas, enforced where AWS enforces them; a program may raise them.
struct EventsQuotas {
  size_t rules_per_bus = 300;  // LimitExceededException
  size_t targets_per_rule = 5;
  size_t buses = 100;  // custom buses per hub
  size_t concurrent_replays = 10;
};

class EventsService {
 public:
  ~EventsService();
  EventsService(const EventsService&) = delete;
  EventsService& operator=(const EventsService&) = delete;

  // arn:aws:events:<region>:<account>:event-bus/<name>; a name is 1-256 of [/\.\-_A-Za-z0-9]
  // (not "default", not starting "aws."). ResourceAlreadyExistsException if it exists.
  // Thread-safe.
  absl::StatusOr<std::shared_ptr<EventBus>> CreateEventBus(std::string_view name,
                                                           std::string_view description = "",
                                                           const EventsTagMap& tags = {});
  // The default bus cannot be deleted (ValidationException); deleting one that does not exist
  // succeeds. Its rules, targets and archives' link to it go with it. Thread-safe.
  absl::Status DeleteEventBus(std::string_view name);
  // By name or ARN; ResourceNotFoundException if none. An ARN of another account or region is
  // looked up among the process's other hubs.
  absl::StatusOr<std::shared_ptr<EventBus>> GetEventBus(std::string_view name_or_arn) const;
  absl::StatusOr<EventBusDescription> DescribeEventBus(std::string_view name_or_arn) const;
  std::vector<EventBusDescription> ListEventBuses(std::string_view prefix = "") const;
  // UpdateEventBus: its description.
  absl::Status UpdateEventBus(std::string_view name, std::string_view description);

  // Entries to the buses their event_bus_name names (default: the default bus), each entry's
  // result in order. Thread-safe.
  absl::StatusOr<PutEventsResult> PutEvents(std::vector<PutEventsEntry> entries);
  // TestEventPattern: InvalidEventPatternException for a bad pattern, InvalidEventException...
  // for an event that is not one (it must have id, account, source, time, region, detail-type).
  absl::StatusOr<bool> TestEventPattern(std::string_view pattern, std::string_view event) const;

  // PutPermission: lets `principal` (an account id or "*") call events:PutEvents on the bus,
  // under statement `statement_id`; or sets the whole policy. RemovePermission removes one
  // statement, or all of them. The policy decides whether a bus of another account may send
  // to this one. Thread-safe.
  absl::Status PutPermission(std::string_view bus, std::string_view statement_id,
                             std::string_view principal,
                             std::string_view action = "events:PutEvents");
  absl::Status PutPolicy(std::string_view bus, std::string_view policy);
  absl::Status RemovePermission(std::string_view bus, std::string_view statement_id,
                                bool remove_all = false);

  // Tags of buses and rules, by ARN (ResourceNotFoundException for another one).
  absl::Status TagResource(std::string_view arn, const EventsTagMap& tags);
  absl::Status UntagResource(std::string_view arn, const std::vector<std::string>& keys);
  absl::StatusOr<EventsTagMap> ListTagsForResource(std::string_view arn) const;

  // Archives: arn:aws:events:<region>:<account>:archive/<name>. An archive keeps the events of
  // its bus that match its pattern (all of them without one) for retention_days, then drops
  // them as the clock passes. Thread-safe.
  absl::StatusOr<std::string> CreateArchive(std::string_view name, const ArchiveSpec& spec);
  absl::StatusOr<ArchiveDescription> DescribeArchive(std::string_view name) const;
  std::vector<ArchiveDescription> ListArchives(std::string_view prefix = "",
                                               std::string_view event_source_arn = "") const;
  absl::Status UpdateArchive(std::string_view name, const ArchiveSpec& spec);
  absl::Status DeleteArchive(std::string_view name);

  // Replays: the archive's events whose time is in [start, end) go to the destination bus's
  // rules (or the FilterArns ones) again, marked with "replay-name", in one-minute buckets of
  // their time, on the hub's clock; they are not archived again. Thread-safe.
  absl::StatusOr<ReplayDescription> StartReplay(const ReplaySpec& spec);
  absl::StatusOr<ReplayDescription> DescribeReplay(std::string_view name) const;
  std::vector<ReplayDescription> ListReplays(std::string_view prefix = "") const;
  // Only a STARTING or RUNNING replay can be cancelled (IllegalStatusException).
  absl::StatusOr<ReplayDescription> CancelReplay(std::string_view name);

  void SetQuotas(const EventsQuotas& quotas);
  EventsQuotas quotas() const;

  // Replays the hub's EventBridge log (Hub::Recover): its buses, rules, targets and archives
  // with their events come back; scheduled rules fire from now on (missed firings are not made
  // up). Replays are not recorded.
  absl::Status Recover();

  struct State;  // defined and used inside the EventBridge module only

 private:
  friend class EventsOperations;  // creates the hub's instance
  explicit EventsService(Hub& hub);
  void Shutdown();  // the hub is going: no replay step, retry or schedule runs after it

  Hub& hub_;
  std::unique_ptr<State> state_;
};

// The hub's EventBridge control plane.
EventsService& Events(Hub& hub);

}  // namespace courier

#endif  // COURIER_EVENTS_H_
