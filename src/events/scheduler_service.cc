// EventBridge Scheduler (scheduler.h). Each enabled schedule has one timer on the hub's clock,
// armed for its next invocation; a change to the schedule replaces its run, and a timer that
// finds its run replaced stops. An invocation goes through the EventBridge delivery
// (delivery.cc): the same retries, dead-letter queue and counters as a rule's target.
#include <absl/strings/ascii.h>
#include <absl/strings/str_replace.h>
#include <fmt/format.h>

#include <algorithm>
#include <mutex>

#include "courier/detail/uuid.h"
#include "courier/hub.h"
#include "courier/schedule.h"
#include "courier/scheduler.h"
#include "courier/service.h"
#include "courier/status.h"
#include "events/bus_state.h"
#include "events/events_operations.h"

namespace courier {

namespace {

using events_internal::CompiledTarget;
using events_internal::GroupDeleted;
using events_internal::GroupPut;
using events_internal::Rule;
using events_internal::ScheduleCompleted;
using events_internal::ScheduleDeleted;
using events_internal::SchedulePut;
using events_internal::SchedulerLog;
using events_internal::SchedulerRecord;

// One compiled version of a schedule; replaced whole by UpdateSchedule.
struct Run {
  ScheduleExpression expression;
  // The delivery's view of the schedule: a "rule" named for it with its one target.
  std::shared_ptr<const Rule> rule;
};

struct Schedule {
  ScheduleDescription description;
  std::shared_ptr<const Run> run;  // null while disabled or complete
  std::shared_ptr<events_internal::TargetCounters> counters =
      std::make_shared<events_internal::TargetCounters>();
};

struct Group {
  ScheduleGroupDescription description;
  SchedulerTagMap tags;
};

bool IsScheduleName(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

absl::Status NameError(std::string_view value, std::string_view member) {
  return AwsErrorF("ValidationException",
                   "1 validation error detected: Value '{}' at '{}' failed to satisfy "
                   "constraint: Member must satisfy regular expression pattern: [0-9a-zA-Z-_.]+",
                   value, member);
}

absl::Status GroupNotFound(std::string_view group) {
  return AwsErrorF("ResourceNotFoundException", "Schedule group {} does not exist.", group);
}

absl::Status ScheduleNotFound(std::string_view name) {
  return AwsErrorF("ResourceNotFoundException", "Schedule {} does not exist.", name);
}

}  // namespace

struct SchedulerService::State : std::enable_shared_from_this<SchedulerService::State> {
  Hub* hub = nullptr;
  std::shared_ptr<std::atomic<bool>> alive = std::make_shared<std::atomic<bool>>(true);
  std::shared_ptr<SchedulerLog> log;  // null when the storage keeps no records
  mutable std::mutex mu;
  std::map<std::string, Group, std::less<>> groups;
  std::map<std::pair<std::string, std::string>, Schedule> schedules;  // by (group, name)

  // Checks `spec` and compiles its run (nullptr when disabled); `created` anchors a rate.
  absl::StatusOr<std::shared_ptr<const Run>> Compile(std::string_view name,
                                                     const ScheduleSpec& spec, absl::Time now,
                                                     const std::shared_ptr<Schedule>& schedule);
  // The scheduled time of the first firing after `after`, within the dates; nullopt at the end.
  std::optional<absl::Time> NextScheduled(const Schedule& s, absl::Time after) const;
  absl::Time Flexed(const Schedule& s, absl::Time scheduled) const;
  // Arms the timer of the first firing after `after`, or completes the schedule (recorded).
  void Arm(std::pair<std::string, std::string> key, std::shared_ptr<const Run> run,
           absl::Time after);
  void Fire(const std::pair<std::string, std::string>& key, const std::shared_ptr<const Run>& run,
            absl::Time scheduled);
  std::string ScheduleArn(std::string_view group, std::string_view name) const {
    return hub->Arn("scheduler", fmt::format("schedule/{}/{}", group, name));
  }
  // Appends `record` to the log, if there is one; under mu.
  void Record(const SchedulerRecord& record) const {
    if (log != nullptr) log->Append(record);
  }
  void RecordGroup(const Group& g) const {
    Record(GroupPut{g.description.name, g.tags, absl::ToUnixNanos(g.description.creation_date),
                    absl::ToUnixNanos(g.description.last_modification_date)});
  }
};

SchedulerService::SchedulerService(Hub& hub) : hub_(hub), state_(std::make_shared<State>()) {
  state_->hub = &hub;
  if (auto log = detail::RecordLog::For(hub.environment().storage,
                                        std::string(events_internal::kSchedulerLog))) {
    state_->log = std::make_shared<SchedulerLog>(std::move(log));
  }
  const absl::Time now = hub.clock().Now();
  state_->groups["default"] =
      Group{.description = {.name = "default",
                            .arn = hub.Arn("scheduler", "schedule-group/default"),
                            .creation_date = now,
                            .last_modification_date = now},
            .tags = {}};
}

SchedulerService::~SchedulerService() { Shutdown(); }

void SchedulerService::Shutdown() { state_->alive->store(false, std::memory_order_release); }

absl::StatusOr<std::shared_ptr<const Run>> SchedulerService::State::Compile(
    std::string_view name, const ScheduleSpec& spec, absl::Time now,
    const std::shared_ptr<Schedule>& schedule) {
  if (!IsScheduleName(name)) return NameError(name, "name");
  if (spec.expression.empty() || spec.expression.size() > 256) {
    return AwsError("ValidationException", "Invalid Schedule Expression.");
  }
  const absl::Time anchor = spec.start_date.value_or(now);
  COURIER_ASSIGN_OR_RETURN(ScheduleExpression expression,
                           ScheduleExpression::Parse(spec.expression, spec.time_zone, anchor));
  if (spec.flexible_window_minutes < 0 || spec.flexible_window_minutes > 1440) {
    return AwsError("ValidationException",
                    "Invalid FlexibleTimeWindow: MaximumWindowInMinutes must be between 1 and "
                    "1440.");
  }
  if (spec.start_date && spec.end_date && *spec.start_date >= *spec.end_date) {
    return AwsError("ValidationException", "The StartDate must come before the EndDate.");
  }
  if (spec.end_date && *spec.end_date <= now) {
    return AwsError("ValidationException", "The EndDate must be in the future.");
  }
  if (spec.state != "ENABLED" && spec.state != "DISABLED") {
    return AwsErrorF("ValidationException", "Invalid State {}: ENABLED or DISABLED.", spec.state);
  }
  if (spec.action_after_completion != "NONE" && spec.action_after_completion != "DELETE") {
    return AwsErrorF("ValidationException", "Invalid ActionAfterCompletion {}: NONE or DELETE.",
                     spec.action_after_completion);
  }
  const ScheduleTarget& t = spec.target;
  if (!t.arn.starts_with("arn:")) {
    return AwsErrorF("ValidationException", "Invalid target ARN {}.", t.arn);
  }
  const bool bus = t.arn.starts_with("arn:aws:events:");
  if (bus && (!t.detail_type || !t.source)) {
    return AwsError("ValidationException",
                    "EventBridgeParameters with DetailType and Source are required for an "
                    "event bus target.");
  }
  if (t.arn.starts_with("arn:aws:sqs:") && t.arn.ends_with(".fifo") && !t.message_group_id) {
    return AwsError("ValidationException",
                    "SqsParameters.MessageGroupId is required for a FIFO queue target.");
  }
  if (t.retry_policy &&
      (t.retry_policy->maximum_retry_attempts < 0 || t.retry_policy->maximum_retry_attempts > 185 ||
       t.retry_policy->maximum_event_age < absl::Seconds(60) ||
       t.retry_policy->maximum_event_age > absl::Seconds(86400))) {
    return AwsError("ValidationException",
                    "Invalid RetryPolicy: MaximumRetryAttempts is 0-185 and "
                    "MaximumEventAgeInSeconds 60-86400.");
  }
  if (t.dead_letter_arn && !t.dead_letter_arn->starts_with("arn:aws:sqs:")) {
    return AwsError("ValidationException", "DeadLetterConfig.Arn must be an SQS queue.");
  }
  if (spec.state == "DISABLED") return std::shared_ptr<const Run>();

  auto rule = std::make_shared<Rule>();
  rule->name = std::string(name);
  rule->arn = ScheduleArn(spec.group, name);
  auto target = std::make_shared<CompiledTarget>();
  target->spec = Target{.id = std::string(name),
                        .arn = t.arn,
                        .role_arn = t.role_arn,
                        .input = t.input,
                        .message_group_id = t.message_group_id,
                        .retry_policy = t.retry_policy,
                        .dead_letter_arn = t.dead_letter_arn};
  target->retry = t.retry_policy.value_or(TargetRetryPolicy{});
  target->counters = schedule->counters;
  target->journal = events_internal::RetryJournalOf(*hub);  // its retries survive a restart
  rule->targets.push_back(std::move(target));
  return std::make_shared<const Run>(Run{std::move(expression), std::move(rule)});
}

std::optional<absl::Time> SchedulerService::State::NextScheduled(const Schedule& s,
                                                                 absl::Time after) const {
  const ScheduleSpec& spec = s.description.spec;
  const ScheduleExpression& e = s.run->expression;
  if (e.is_at()) {
    // A one-time schedule fires once, at its time, or at once when it is set for a time that
    // has passed.
    std::optional<absl::Time> at = e.NextAfter(absl::InfinitePast());
    if (!at) return std::nullopt;
    const absl::Time fire = std::max(*at, s.description.last_modification_date);
    return after < fire ? std::optional<absl::Time>(fire) : std::nullopt;
  }
  if (spec.start_date && after < *spec.start_date) after = *spec.start_date - absl::Nanoseconds(1);
  std::optional<absl::Time> next = e.NextAfter(after);
  if (next && spec.end_date && *next > *spec.end_date) return std::nullopt;
  return next;
}

absl::Time SchedulerService::State::Flexed(const Schedule& s, absl::Time scheduled) const {
  const int minutes = s.description.spec.flexible_window_minutes;
  if (minutes == 0) return scheduled;
  const uint64_t h = events_internal::StableHash(s.description.arn, absl::ToUnixSeconds(scheduled));
  return scheduled + absl::Seconds(static_cast<int64_t>(h % (uint64_t(minutes) * 60)));
}

void SchedulerService::State::Arm(std::pair<std::string, std::string> key,
                                  std::shared_ptr<const Run> run, absl::Time after) {
  // Under mu.
  auto it = schedules.find(key);
  if (it == schedules.end()) return;
  std::optional<absl::Time> scheduled = NextScheduled(it->second, after);
  if (!scheduled) {
    // Complete: the schedule stays (NONE) or goes (DELETE).
    it->second.run = nullptr;
    if (it->second.description.spec.action_after_completion == "DELETE") {
      Record(ScheduleDeleted{key.first, key.second});
      schedules.erase(it);
    } else {
      Record(ScheduleCompleted{key.first, key.second});
    }
    return;
  }
  const absl::Time when = Flexed(it->second, *scheduled);
  hub->clock().ScheduleAt(when, [weak = weak_from_this(), key = std::move(key),
                                 run = std::move(run), scheduled = *scheduled] {
    if (std::shared_ptr<State> st = weak.lock()) st->Fire(key, run, scheduled);
  });
}

void SchedulerService::State::Fire(const std::pair<std::string, std::string>& key,
                                   const std::shared_ptr<const Run>& run, absl::Time scheduled) {
  if (!alive->load(std::memory_order_acquire)) return;
  std::string body;
  {
    std::lock_guard lock(mu);
    auto it = schedules.find(key);
    if (it == schedules.end() || it->second.run != run) return;  // changed or deleted since
    const ScheduleTarget& t = it->second.description.spec.target;
    // Scheduler's context attributes, filled in the Input.
    const std::string input = absl::StrReplaceAll(
        t.input.value_or("{}"),
        {{"<aws.scheduler.schedule-arn>", it->second.description.arn},
         {"<aws.scheduler.scheduled-time>", events_internal::EventTime(scheduled)},
         {"<aws.scheduler.execution-id>", detail::NewUuid()},
         {"<aws.scheduler.attempt-number>", "1"}});
    if (t.arn.starts_with("arn:aws:events:")) {
      // To a bus: an event from the schedule, its Input as the detail.
      std::string text;
      auto quoted = [&](std::string_view s) {
        text.clear();
        AppendJsonText(Json(s), text);
        return text;
      };
      auto detail = ParseJson(input);
      body = fmt::format(
          R"({{"version":"0","id":"{}","detail-type":{},"source":{},"account":"{}","time":"{}",)"
          R"("region":"{}","resources":[{}],"detail":{}}})",
          detail::NewUuid(), quoted(*t.detail_type), quoted(*t.source), hub->environment().account,
          events_internal::EventTime(scheduled), hub->environment().region,
          quoted(it->second.description.arn),
          detail.ok() && detail->is_object() ? ToJsonText(*detail) : "{}");
    } else {
      body = input;
    }
  }
  const std::shared_ptr<const Rule>& rule = run->rule;
  auto text = std::make_shared<const std::string>(std::move(body));
  events_internal::Deliver({.hub = hub,
                            .alive = alive,
                            .rule = rule,
                            .target = rule->targets.front(),
                            .event = text,
                            .body = text,
                            .ingested = hub->clock().Now(),
                            .attempts = 0,
                            .retry_id = 0});
  // Armed (or completed) after the delivery, so that a crash between the two fires this one
  // again rather than never: at least once, as Scheduler invokes.
  std::lock_guard lock(mu);
  auto it = schedules.find(key);
  if (it != schedules.end() && it->second.run == run) Arm(key, run, scheduled);
}

// ---- Schedules ------------------------------------------------------------------------------

absl::StatusOr<std::string> SchedulerService::CreateSchedule(std::string_view name,
                                                             const ScheduleSpec& spec) {
  State& st = *state_;
  std::unique_lock lock(st.mu);
  if (!st.groups.contains(spec.group)) return GroupNotFound(spec.group);
  std::pair<std::string, std::string> key{spec.group, std::string(name)};
  if (st.schedules.contains(key)) {
    return AwsErrorF("ConflictException", "Schedule {} already exists.", name);
  }
  const absl::Time now = hub_.clock().Now();
  auto fresh = std::make_shared<Schedule>();
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<const Run> run, st.Compile(name, spec, now, fresh));
  fresh->description = {.name = std::string(name),
                        .arn = st.ScheduleArn(spec.group, name),
                        .spec = spec,
                        .creation_date = now,
                        .last_modification_date = now};
  fresh->run = run;
  absl::StatusOr<std::string> arn = fresh->description.arn;
  st.schedules.emplace(key, std::move(*fresh));
  st.Record(SchedulePut{std::string(name), spec, absl::ToUnixNanos(now), absl::ToUnixNanos(now)});
  if (run) st.Arm(key, run, now - absl::Nanoseconds(1));
  lock.unlock();
  detail::Durable(arn);
  return arn;
}

absl::StatusOr<std::string> SchedulerService::UpdateSchedule(std::string_view name,
                                                             const ScheduleSpec& spec) {
  State& st = *state_;
  std::unique_lock lock(st.mu);
  std::pair<std::string, std::string> key{spec.group, std::string(name)};
  auto it = st.schedules.find(key);
  if (it == st.schedules.end()) return ScheduleNotFound(name);
  const absl::Time now = hub_.clock().Now();
  auto holder = std::make_shared<Schedule>();
  holder->counters = it->second.counters;
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<const Run> run, st.Compile(name, spec, now, holder));
  Schedule& s = it->second;
  s.description.spec = spec;
  s.description.last_modification_date = now;
  s.run = run;  // a pending timer of the old run finds it replaced
  absl::StatusOr<std::string> arn = s.description.arn;
  st.Record(SchedulePut{std::string(name), spec, absl::ToUnixNanos(s.description.creation_date),
                        absl::ToUnixNanos(now)});
  if (run) st.Arm(key, run, now - absl::Nanoseconds(1));
  lock.unlock();
  detail::Durable(arn);
  return arn;
}

absl::StatusOr<ScheduleDescription> SchedulerService::GetSchedule(std::string_view name,
                                                                  std::string_view group) const {
  std::lock_guard lock(state_->mu);
  auto it = state_->schedules.find({std::string(group), std::string(name)});
  if (it == state_->schedules.end()) return ScheduleNotFound(name);
  return it->second.description;
}

absl::Status SchedulerService::DeleteSchedule(std::string_view name, std::string_view group) {
  {
    std::lock_guard lock(state_->mu);
    if (state_->schedules.erase({std::string(group), std::string(name)}) == 0) {
      return ScheduleNotFound(name);
    }
    state_->Record(ScheduleDeleted{std::string(group), std::string(name)});
  }
  return detail::Durable(absl::OkStatus());
}

std::vector<ScheduleDescription> SchedulerService::ListSchedules(std::string_view group,
                                                                 std::string_view name_prefix,
                                                                 std::string_view state) const {
  std::lock_guard lock(state_->mu);
  std::vector<ScheduleDescription> out;
  for (const auto& [key, s] : state_->schedules) {
    if (!group.empty() && key.first != group) continue;
    if (!key.second.starts_with(name_prefix)) continue;
    if (!state.empty() && s.description.spec.state != state) continue;
    out.push_back(s.description);
  }
  return out;
}

std::optional<absl::Time> SchedulerService::NextInvocation(std::string_view name,
                                                           std::string_view group) const {
  std::lock_guard lock(state_->mu);
  auto it = state_->schedules.find({std::string(group), std::string(name)});
  if (it == state_->schedules.end() || it->second.run == nullptr) return std::nullopt;
  std::optional<absl::Time> scheduled =
      state_->NextScheduled(it->second, hub_.clock().Now() - absl::Nanoseconds(1));
  if (!scheduled) return std::nullopt;
  return state_->Flexed(it->second, *scheduled);
}

absl::StatusOr<EventsMetrics> SchedulerService::ScheduleMetrics(std::string_view name,
                                                                std::string_view group) const {
  std::lock_guard lock(state_->mu);
  auto it = state_->schedules.find({std::string(group), std::string(name)});
  if (it == state_->schedules.end()) return ScheduleNotFound(name);
  EventsMetrics m;
  it->second.counters->AddTo(m);
  return m;
}

// ---- Groups and tags ------------------------------------------------------------------------

absl::StatusOr<std::string> SchedulerService::CreateScheduleGroup(std::string_view name,
                                                                  const SchedulerTagMap& tags) {
  if (!IsScheduleName(name)) return NameError(name, "name");
  std::unique_lock lock(state_->mu);
  if (state_->groups.contains(name)) {
    return AwsErrorF("ConflictException", "Schedule group {} already exists.", name);
  }
  const absl::Time now = hub_.clock().Now();
  Group g{.description = {.name = std::string(name),
                          .arn = hub_.Arn("scheduler", fmt::format("schedule-group/{}", name)),
                          .creation_date = now,
                          .last_modification_date = now},
          .tags = tags};
  absl::StatusOr<std::string> arn = g.description.arn;
  state_->RecordGroup(g);
  state_->groups.emplace(std::string(name), std::move(g));
  lock.unlock();
  detail::Durable(arn);
  return arn;
}

absl::StatusOr<ScheduleGroupDescription> SchedulerService::GetScheduleGroup(
    std::string_view name) const {
  std::lock_guard lock(state_->mu);
  auto it = state_->groups.find(name);
  if (it == state_->groups.end()) return GroupNotFound(name);
  return it->second.description;
}

absl::Status SchedulerService::DeleteScheduleGroup(std::string_view name) {
  if (name == "default") {
    return AwsError("ValidationException", "The default schedule group cannot be deleted.");
  }
  {
    std::lock_guard lock(state_->mu);
    auto it = state_->groups.find(name);
    if (it == state_->groups.end()) return GroupNotFound(name);
    state_->groups.erase(it);
    std::erase_if(state_->schedules, [&](const auto& entry) { return entry.first.first == name; });
    state_->Record(GroupDeleted{std::string(name)});
  }
  return detail::Durable(absl::OkStatus());
}

std::vector<ScheduleGroupDescription> SchedulerService::ListScheduleGroups(
    std::string_view prefix) const {
  std::lock_guard lock(state_->mu);
  std::vector<ScheduleGroupDescription> out;
  for (const auto& [name, g] : state_->groups) {
    if (name.starts_with(prefix)) out.push_back(g.description);
  }
  return out;
}

namespace {
template <typename Groups>
auto FindGroupByArn(Groups& groups, std::string_view arn) {
  return std::find_if(groups.begin(), groups.end(),
                      [&](const auto& entry) { return entry.second.description.arn == arn; });
}
absl::Status ArnNotFound(std::string_view arn) {
  return AwsErrorF("ResourceNotFoundException", "Resource {} does not exist.", arn);
}
}  // namespace

absl::Status SchedulerService::TagResource(std::string_view arn, const SchedulerTagMap& tags) {
  {
    std::lock_guard lock(state_->mu);
    auto it = FindGroupByArn(state_->groups, arn);
    if (it == state_->groups.end()) return ArnNotFound(arn);
    for (const auto& [k, v] : tags) it->second.tags[k] = v;
    state_->RecordGroup(it->second);
  }
  return detail::Durable(absl::OkStatus());
}

absl::Status SchedulerService::UntagResource(std::string_view arn,
                                             const std::vector<std::string>& keys) {
  {
    std::lock_guard lock(state_->mu);
    auto it = FindGroupByArn(state_->groups, arn);
    if (it == state_->groups.end()) return ArnNotFound(arn);
    for (const std::string& k : keys) it->second.tags.erase(k);
    state_->RecordGroup(it->second);
  }
  return detail::Durable(absl::OkStatus());
}

absl::StatusOr<SchedulerTagMap> SchedulerService::ListTagsForResource(std::string_view arn) const {
  std::lock_guard lock(state_->mu);
  auto it = FindGroupByArn(state_->groups, arn);
  if (it == state_->groups.end()) return ArnNotFound(arn);
  return it->second.tags;
}

// ---- Recovery (Hub::Recover) -------------------------------------------------------------------

absl::Status SchedulerService::Recover() {
  State& st = *state_;
  if (st.log == nullptr) return absl::OkStatus();
  // The last state of each group and schedule, then rebuilt in one go.
  std::map<std::string, GroupPut, std::less<>> groups;
  struct Recovered {
    SchedulePut put;
    bool completed = false;
  };
  std::map<std::pair<std::string, std::string>, Recovered> schedules;
  COURIER_RETURN_IF_ERROR(st.log->log().Replay([&](std::string_view text) -> absl::Status {
    COURIER_ASSIGN_OR_RETURN(SchedulerRecord record, events_internal::DecodeSchedulerRecord(text));
    if (auto* r = std::get_if<SchedulePut>(&record)) {
      std::pair<std::string, std::string> key{r->spec.group, r->name};
      schedules[std::move(key)] = {std::move(*r), false};
    } else if (auto* r = std::get_if<ScheduleCompleted>(&record)) {
      if (auto it = schedules.find({r->group, r->name}); it != schedules.end()) {
        it->second.completed = true;
      }
    } else if (auto* r = std::get_if<ScheduleDeleted>(&record)) {
      schedules.erase({r->group, r->name});
    } else if (auto* r = std::get_if<GroupPut>(&record)) {
      groups[r->name] = std::move(*r);
    } else if (auto* r = std::get_if<GroupDeleted>(&record)) {
      groups.erase(r->name);
      std::erase_if(schedules, [&](const auto& entry) { return entry.first.first == r->name; });
    }
    return absl::OkStatus();
  }));
  const absl::Time now = hub_.clock().Now();
  std::lock_guard lock(st.mu);
  for (auto& [name, g] : groups) {
    Group& group = st.groups[name];
    group.description = {.name = name,
                         .arn = hub_.Arn("scheduler", fmt::format("schedule-group/{}", name)),
                         .creation_date = absl::FromUnixNanos(g.created_ns),
                         .last_modification_date = absl::FromUnixNanos(g.modified_ns)};
    group.tags = std::move(g.tags);
  }
  for (auto& [key, r] : schedules) {
    const SchedulePut& put = r.put;
    const absl::Time modified = absl::FromUnixNanos(put.modified_ns);
    auto holder = std::make_shared<Schedule>();
    // Compiled as it was when it was put: a rate counts from then, its dates were valid then.
    absl::StatusOr<std::shared_ptr<const Run>> run =
        st.Compile(put.name, put.spec, modified, holder);
    if (!run.ok()) {
      return absl::DataLossError(fmt::format("A Scheduler record cannot put the schedule {}: {}",
                                             put.name, std::string(run.status().message())));
    }
    holder->description = {.name = put.name,
                           .arn = st.ScheduleArn(put.spec.group, put.name),
                           .spec = put.spec,
                           .creation_date = absl::FromUnixNanos(put.created_ns),
                           .last_modification_date = modified};
    holder->run = r.completed ? nullptr : *run;
    st.schedules.insert_or_assign(key, std::move(*holder));
    if (r.completed || *run == nullptr) continue;
    // A one-time schedule that had not fired fires now; a recurring one at its next time from
    // now: the firings it missed while the process was down are not made up.
    const bool once = (*run)->expression.is_at();
    st.Arm(key, *run, once ? modified - absl::Nanoseconds(1) : now - absl::Nanoseconds(1));
  }
  return absl::OkStatus();
}

// ---- Registration ---------------------------------------------------------------------------

class SchedulerOperations final : public Service {
 public:
  explicit SchedulerOperations(Hub& hub) : hub_(hub), scheduler_(hub) {}
  std::string_view name() const override { return "scheduler"; }
  absl::StatusOr<Json> Invoke(std::string_view operation, const Json& request,
                              const Caller& caller) override {
    return events_internal::InvokeScheduler(hub_, operation, request, caller);
  }
  void Shutdown() override { scheduler_.Shutdown(); }
  absl::Status Recover() override { return scheduler_.Recover(); }
  SchedulerService& typed() { return scheduler_; }

 private:
  Hub& hub_;
  SchedulerService scheduler_;
};

namespace {
const ServiceRegistrar kRegistrar("scheduler", [](Hub& hub) -> std::unique_ptr<Service> {
  return std::make_unique<SchedulerOperations>(hub);
});
}  // namespace
COURIER_SERVICE_ANCHOR(scheduler);

SchedulerService& Scheduler(Hub& hub) {
  return static_cast<SchedulerOperations*>(hub.FindService("scheduler"))->typed();
}

}  // namespace courier
