// The inside of an event bus: its rules and targets as PutEvents reads them (an immutable
// snapshot swapped whole), the deliveries to targets with their retries, and the archives a bus
// feeds.
#ifndef COURIER_EVENTS_BUS_STATE_H_
#define COURIER_EVENTS_BUS_STATE_H_

#include <absl/time/time.h>

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "courier/clock.h"
#include "courier/detail/snapshot_cell.h"
#include "courier/event_bus.h"
#include "courier/json.h"
#include "courier/pattern.h"
#include "courier/schedule.h"
#include "events/events_records.h"
#include "events/retry_journal.h"
#include "events/target_input.h"

namespace courier {
class Hub;
}  // namespace courier

namespace courier::events_internal {

// A target's counters, by CloudWatch's names (EventsMetrics).
struct TargetCounters {
  std::atomic<int64_t> invocations{0};
  std::atomic<int64_t> failed{0};
  std::atomic<int64_t> retries{0};
  std::atomic<int64_t> sent_to_dlq{0};
  std::atomic<int64_t> failed_to_dlq{0};
  void AddTo(EventsMetrics& m) const;
};

struct CompiledTarget {
  Target spec;
  TargetInput input;
  TargetRetryPolicy retry;
  // The target's sink when the target was put, so that a delivery need not look it up in the
  // hub's registry (under its mutex); a sink created or re-created later is looked up there.
  std::weak_ptr<MessageSink> sink;
  std::shared_ptr<TargetCounters> counters = std::make_shared<TargetCounters>();
  // Where its deliveries waiting for a retry are recorded; null: they are not.
  std::shared_ptr<RetryJournal> journal;
};

struct RuleCounters {
  std::atomic<int64_t> matched{0};
};

// One run of a scheduled rule: made when the rule gets a schedule or is enabled again, so that
// a timer armed for an earlier run finds it replaced and stops.
struct ScheduleRun {
  ScheduleExpression expression;
};

// A rule as the snapshot holds it: replaced whole by PutRule, PutTargets, Enable/DisableRule.
struct Rule {
  std::string name;
  std::string arn;
  RuleSpec spec;  // tags live in the bus's tag map
  std::optional<EventPattern> pattern;
  std::shared_ptr<const ScheduleRun> schedule;  // null: no schedule, or the rule is disabled
  bool enabled = true;
  absl::Time created;
  std::vector<std::shared_ptr<const CompiledTarget>> targets;  // PutTargets order
  std::shared_ptr<RuleCounters> counters = std::make_shared<RuleCounters>();
};

// An archive's events, oldest first (by the time the bus received them).
struct ArchiveStore {
  struct Entry {
    absl::Time received;
    absl::Time event_time;  // the event's "time"
    std::string event;      // its text
  };
  std::mutex mu;
  std::deque<Entry> events;
  int64_t size_bytes = 0;
  absl::Duration retention = absl::ZeroDuration();  // zero: forever
  std::string name;                                 // the archive's
  std::shared_ptr<EventsLog> log;  // where each event kept is recorded; null: not recorded
  // Drops what retention has expired by `now`; call under mu.
  void Expire(absl::Time now);
};

// An archive as a bus feeds it.
struct ArchiveFeed {
  std::string name;
  std::optional<EventPattern> pattern;
  std::shared_ptr<ArchiveStore> store;
};

// The pattern automaton of a bus: built when patterns change, not when targets do.
struct Matcher {
  RuleSet::Snapshot rules;
  // Per rule index of `rules`: the rule's name, or an archive's (kArchivePrefix + name).
  std::vector<std::string> names;
};

// What the schema registry attaches to a bus (schema_registry.cc): a check of each entry before
// it is put (validation against a registered schema) and a look at each event put (discovery).
class BusHooks {
 public:
  virtual ~BusHooks() = default;
  // The entry's error, or nullopt to let it through.
  virtual std::optional<PutEventsResultEntry> Check(const PutEventsEntry& entry) const = 0;
  virtual void Observe(std::string_view event) = 0;
};

// What PutEvents reads, replaced whole.
struct BusSnapshot {
  std::shared_ptr<BusHooks> hooks;  // null: none (the usual case)
  std::shared_ptr<const Matcher> matcher;
  // Per rule index of the matcher: its rule, or nullptr for an archive's entry.
  std::vector<std::shared_ptr<const Rule>> rule_of;
  std::vector<const ArchiveFeed*> archive_of;  // per rule index, or nullptr
  std::vector<std::shared_ptr<const ArchiveFeed>> archives;
  std::vector<const ArchiveFeed*> unfiltered_archives;  // archives without a pattern
};

// Names of archives' entries in a matcher: rule names never hold ':'.
inline constexpr std::string_view kArchivePrefix = "archive:";

// One event on its way to one target.
// An event's text, made once and shared by every delivery of it and their retries.
using EventText = std::shared_ptr<const std::string>;

struct Delivery {
  Hub* hub = nullptr;
  std::shared_ptr<const std::atomic<bool>> alive;  // false once the hub shuts down
  std::shared_ptr<const Rule> rule;
  std::shared_ptr<const CompiledTarget> target;
  EventText event;  // as the dead-letter queue receives it
  EventText body;   // what the target receives (often `event` itself)
  absl::Time ingested;
  int attempts = 0;       // tries made
  uint64_t retry_id = 0;  // its RetryJournal id once a retry of it is recorded; 0: none
};

// A Delivery's parts, owned by someone else for as long as the view is used: a try made at
// once reads them in place, and only a delivery that must wait (a retry, an asynchronous
// target) copies them into a Delivery of its own.
struct DeliveryView {
  Hub* hub;
  const std::shared_ptr<const std::atomic<bool>>& alive;
  const std::shared_ptr<const Rule>& rule;
  const std::shared_ptr<const CompiledTarget>& target;
  const EventText& event;
  const EventText& body;
  absl::Time ingested;
  int attempts;
  uint64_t retry_id;
};
inline DeliveryView View(const Delivery& d) {
  return {d.hub, d.alive, d.rule, d.target, d.event, d.body, d.ingested, d.attempts, d.retry_id};
}
// An owned copy of `d`, having made `attempts` tries.
inline Delivery Own(const DeliveryView& d, int attempts) {
  return {d.hub, d.alive, d.rule, d.target, d.event, d.body, d.ingested, attempts, d.retry_id};
}

// Sends `event` (its text; `document` is it parsed, filled on first need) to each target of
// `rule`, each in its target's input form, and counts the match.
void DeliverToTargets(Hub& hub, const std::shared_ptr<const std::atomic<bool>>& alive,
                      const std::shared_ptr<const Rule>& rule, const EventText& event,
                      std::optional<Json>& document, absl::Time now);

// Arms the timer of a scheduled rule's `run` for its first firing after `after`. At each
// firing the rule's targets get EventBridge's "Scheduled Event"; then the next one is armed.
void ArmSchedule(EventBus& bus, std::string rule_name, std::shared_ptr<const ScheduleRun> run,
                 absl::Time after);

// Sends `d` to its target; retries a failure that can be retried on the hub's clock, within
// the target's RetryPolicy, then gives the event to the dead-letter queue. Counts every outcome.
void Deliver(const DeliveryView& d);

// The sink of a bus ARN in any hub of the process (another account or region); nullptr if none.
std::shared_ptr<MessageSink> FindBusAnywhere(Hub& hub, std::string_view arn);

// Whether the policy of `bus` (an EventBus) lets `account` call events:PutEvents on it.
bool AllowsPutEventsFrom(const MessageSink& bus, std::string_view account);

// FNV-1a of `text` and `n`: the same on every run and machine (absl::Hash is seeded per
// process), for jitter and offsets a test's clock must see again.
uint64_t StableHash(std::string_view text, int64_t n);

// An EventBridge timestamp: 2026-01-01T00:00:00Z.
std::string EventTime(absl::Time t);
// EventBridge's resource names: 1-64 of [.\-_A-Za-z0-9] (rules, targets' ids, archives...).
bool IsResourceName(std::string_view name, size_t max = 64);

}  // namespace courier::events_internal

namespace courier {

struct EventBus::State {
  std::shared_ptr<std::atomic<bool>> alive;
  std::weak_ptr<EventBus> self;  // for timers, which must not keep a deleted bus
  std::string description;
  std::string policy;
  absl::Time created;
  absl::Time modified;
  EventsTagMap tags;
  std::shared_ptr<events_internal::EventsLog> log;  // the hub's; null when nothing is recorded
  std::shared_ptr<events_internal::RetryJournal> journal;  // the hub's; null with `log`

  // Control plane; PutEvents never takes it.
  mutable std::mutex mu;
  std::map<std::string, std::shared_ptr<const events_internal::Rule>, std::less<>> rules;
  std::map<std::string, EventsTagMap, std::less<>> rule_tags;  // by rule ARN
  std::vector<std::shared_ptr<const events_internal::ArchiveFeed>> archives;
  std::shared_ptr<const events_internal::Matcher> matcher;  // the current one
  std::shared_ptr<events_internal::BusHooks> hooks;
  // Rebuilds the matcher (patterns or enabled states changed) and the snapshot; under mu.
  void RebuildMatcher();
  // Rebuilds only the snapshot's rule pointers (targets changed); under mu.
  void RebuildSnapshot();
  // The quotas the service enforces, shared with it.
  std::shared_ptr<const std::atomic<size_t>> rules_per_bus, targets_per_rule;

  // What PutEvents reads, without a lock.
  std::shared_ptr<const events_internal::BusSnapshot> LoadSnapshot() const {
    return snapshot.Load();
  }
  detail::SnapshotCell<events_internal::BusSnapshot> snapshot;
};

namespace events_internal {
// The EventBridge module's way inside an EventBus.
struct BusAccess {
  static EventBus::State& Of(const EventBus& bus) { return *bus.state_; }
  static Hub& HubOf(const EventBus& bus) { return bus.hub_; }
  // Attaches `hooks` (null: detaches them).
  static void SetHooks(EventBus& bus, std::shared_ptr<BusHooks> hooks);
  static std::shared_ptr<EventBus> Make(Hub& hub, std::string name, std::string arn);
  // Routes events already in the envelope: to every enabled matching rule (or, for a replay,
  // to the `only` rules' ARNs among them), and to the archives unless `replay`. Returns
  // nothing: each target's delivery counts its own outcome.
  // `snap` is the bus's snapshot, loaded once by the caller.
  static void Route(EventBus& bus, const BusSnapshot& snap, const std::vector<EventText>& events,
                    const std::vector<absl::Time>& event_times, bool replay,
                    const std::vector<std::string>* only);
};
}  // namespace events_internal

}  // namespace courier

#endif  // COURIER_EVENTS_BUS_STATE_H_
