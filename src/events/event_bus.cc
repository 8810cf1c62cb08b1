// EventBus (event_bus.h): PutEvents — its checks and the envelope — rules and targets, and the
// snapshot PutEvents reads.
#include <absl/strings/ascii.h>
#include <absl/strings/match.h>
#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "courier/detail/uuid.h"
#include "courier/hub.h"
#include "courier/status.h"
#include "events/bus_state.h"
#include "events/compact_detail.h"

namespace courier {
namespace events_internal {

namespace {

void AppendQuoted(std::string_view s, std::string& out) { AppendJsonText(Json(s), out); }

// PutEvents' size of an entry, as EventBridge counts it (spec §4).
size_t EntrySize(const PutEventsEntry& e) {
  size_t n = e.source.size() + e.detail_type.size() + e.detail.size() + (e.time ? 14 : 0);
  for (const std::string& r : e.resources) n += r.size();
  return n;
}

constexpr size_t kMaxPutEventsBytes = 256 * 1024;

// An entry's error, or OK.
PutEventsResultEntry EntryError(std::string_view code, std::string message) {
  return {.event_id = "", .error_code = std::string(code), .error_message = std::move(message)};
}

std::optional<PutEventsResultEntry> CheckEntry(const PutEventsEntry& e) {
  auto required = [](std::string_view name) {
    return EntryError("InvalidArgument", fmt::format("Parameter {0} is not valid. Reason: {0} is "
                                                     "a required argument.",
                                                     name));
  };
  if (e.source.empty()) return required("Source");
  if (e.detail_type.empty()) return required("DetailType");
  if (e.detail.empty()) return required("Detail");
  if (e.source.starts_with("aws.")) {
    return EntryError("NotAuthorizedForSourceException", "Not authorized for the source.");
  }
  return std::nullopt;
}

std::optional<PutEventsResultEntry> CheckResources(const PutEventsEntry& e) {
  for (const std::string& r : e.resources) {
    if (r.empty()) {
      return EntryError("InvalidArgument",
                        "Parameter Resources is not valid. Reason: Resources must not be empty "
                        "strings.");
    }
  }
  return std::nullopt;
}

// The event as EventBridge delivers it: compact JSON, its members in EventBridge's order; false
// if the detail is malformed.
bool AppendEnvelope(const PutEventsEntry& e, std::string_view id, std::string_view time,
                    std::string_view account, std::string_view region, std::string& out) {
  out.reserve(160 + e.source.size() + e.detail_type.size() + e.detail.size());
  out += R"({"version":"0","id":")";
  out += id;
  out += R"(","detail-type":)";
  AppendQuoted(e.detail_type, out);
  out += R"(,"source":)";
  AppendQuoted(e.source, out);
  out += R"(,"account":")";
  out += account;
  out += R"(","time":")";
  out += time;
  out += R"(","region":")";
  out += region;
  out += R"(","resources":[)";
  for (size_t i = 0; i < e.resources.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendQuoted(e.resources[i], out);
  }
  out += R"(],"detail":)";
  if (!AppendCompactDetail(e.detail, out)) return false;
  out.push_back('}');
  return true;
}

absl::Status BusNotFound(std::string_view name) {
  return AwsErrorF("ResourceNotFoundException", "Event bus {} does not exist.", name);
}

absl::Status RuleNotFound(std::string_view rule, std::string_view bus) {
  return AwsErrorF("ResourceNotFoundException", "Rule {} does not exist on EventBus {}.", rule,
                   bus);
}

absl::Status NameError(std::string_view value, std::string_view member) {
  return AwsErrorF("ValidationException",
                   "1 validation error detected: Value '{}' at '{}' failed to satisfy "
                   "constraint: Member must satisfy regular expression pattern: "
                   "[\\.\\-_A-Za-z0-9]+",
                   value, member);
}

RuleDescription Describe(const Rule& r, std::string_view bus, std::string_view account) {
  return {.name = r.name,
          .arn = r.arn,
          .event_bus_name = std::string(bus),
          .event_pattern = r.spec.event_pattern,
          .schedule_expression = r.spec.schedule_expression,
          .state = r.enabled ? r.spec.state : "DISABLED",
          .description = r.spec.description,
          .role_arn = r.spec.role_arn,
          .created_by = std::string(account)};
}

bool IsArn(std::string_view arn) {
  // arn:partition:service:region:account:resource
  return arn.starts_with("arn:") && std::count(arn.begin(), arn.end(), ':') >= 5;
}

// The service an ARN names ("sqs").
std::string_view ServiceOf(std::string_view arn) {
  std::string_view rest = arn.substr(arn.find(':', 4) + 1);
  return rest.substr(0, rest.find(':'));
}

absl::Status CheckTarget(const Target& t) {
  if (t.id.empty() || t.id.size() > 64) {
    return AwsErrorF("ValidationException",
                     "1 validation error detected: Value '{}' at 'targets.1.member.id' failed "
                     "to satisfy constraint: Member must have length less than or equal to 64",
                     t.id);
  }
  if (!IsResourceName(t.id)) return NameError(t.id, "targets.1.member.id");
  if (!IsArn(t.arn)) {
    return AwsErrorF("ValidationException", "Parameter {} is not valid.", t.arn);
  }
  int inputs = t.input.has_value() + t.input_path.has_value() + t.input_transformer.has_value();
  if (inputs > 1) {
    return AwsError("ValidationException",
                    "Only one of Input, InputPath, or InputTransformer must be provided.");
  }
  if (ServiceOf(t.arn) == "sqs" && t.arn.ends_with(".fifo") && !t.message_group_id) {
    return AwsError("ValidationException",
                    "Parameter(s) SqsParameters must be specified for FIFO queues.");
  }
  if (t.retry_policy) {
    if (t.retry_policy->maximum_retry_attempts < 0 ||
        t.retry_policy->maximum_retry_attempts > 185) {
      return AwsError("ValidationException",
                      "Parameter MaximumRetryAttempts is not valid. Reason: it must be between "
                      "0 and 185.");
    }
    if (t.retry_policy->maximum_event_age < absl::Seconds(60) ||
        t.retry_policy->maximum_event_age > absl::Seconds(86400)) {
      return AwsError("ValidationException",
                      "Parameter MaximumEventAgeInSeconds is not valid. Reason: it must be "
                      "between 60 and 86400.");
    }
  }
  if (t.dead_letter_arn && (!IsArn(*t.dead_letter_arn) || ServiceOf(*t.dead_letter_arn) != "sqs")) {
    return AwsError("ValidationException", "Parameter DeadLetterConfig.Arn is not valid.");
  }
  return absl::OkStatus();
}

}  // namespace

void TargetCounters::AddTo(EventsMetrics& m) const {
  m["Invocations"] += invocations.load(std::memory_order_relaxed);
  m["FailedInvocations"] += failed.load(std::memory_order_relaxed);
  m["RetryInvocationAttempts"] += retries.load(std::memory_order_relaxed);
  m["InvocationsSentToDlq"] += sent_to_dlq.load(std::memory_order_relaxed);
  m["InvocationsFailedToBeSentToDlq"] += failed_to_dlq.load(std::memory_order_relaxed);
}

void ArchiveStore::Expire(absl::Time now) {
  if (retention <= absl::ZeroDuration()) return;
  while (!events.empty() && events.front().received + retention <= now) {
    size_bytes -= static_cast<int64_t>(events.front().event.size());
    events.pop_front();
  }
}

std::string EventTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

bool IsResourceName(std::string_view name, size_t max) {
  if (name.empty() || name.size() > max) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
  });
}

uint64_t StableHash(std::string_view text, int64_t n) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](unsigned char c) { h = (h ^ c) * 1099511628211ull; };
  for (char c : text) mix(static_cast<unsigned char>(c));
  for (int i = 0; i < 8; ++i) mix(static_cast<unsigned char>(static_cast<uint64_t>(n) >> (8 * i)));
  return h;
}

std::shared_ptr<EventBus> BusAccess::Make(Hub& hub, std::string name, std::string arn) {
  auto bus = std::shared_ptr<EventBus>(new EventBus(hub, std::move(name), std::move(arn)));
  bus->state_->self = bus;
  return bus;
}

void BusAccess::Route(EventBus& bus, const BusSnapshot& snap, const std::vector<EventText>& events,
                      const std::vector<absl::Time>& event_times, bool replay,
                      const std::vector<std::string>* only) {
  EventBus::State& st = *bus.state_;
  const absl::Time now = bus.hub_.clock().Now();
  auto archive = [&](const ArchiveFeed& feed, size_t e) {
    std::lock_guard lock(feed.store->mu);
    feed.store->Expire(now);
    feed.store->events.push_back({now, event_times[e], *events[e]});
    feed.store->size_bytes += static_cast<int64_t>(events[e]->size());
    if (feed.store->log != nullptr) {
      feed.store->log->Append(EventArchived{.archive = feed.store->name,
                                            .event = *events[e],
                                            .received_ns = absl::ToUnixNanos(now),
                                            .event_time_ns = absl::ToUnixNanos(event_times[e])});
    }
  };
  if (!replay && snap.hooks != nullptr) {
    for (const EventText& e : events) snap.hooks->Observe(*e);
  }
  if (!replay) {
    for (const ArchiveFeed* feed : snap.unfiltered_archives) {
      for (size_t e = 0; e < events.size(); ++e) archive(*feed, e);
    }
  }
  if (snap.matcher == nullptr) return;
  std::vector<std::string_view> views;
  views.reserve(events.size());
  for (const EventText& e : events) views.emplace_back(*e);
  std::vector<std::optional<Json>> documents(events.size());
  snap.matcher->rules.ForEachMatchInBatch(views, [&](size_t e, size_t index) {
    if (const ArchiveFeed* feed = snap.archive_of[index]; feed != nullptr) {
      if (!replay) archive(*feed, e);
      return;
    }
    const std::shared_ptr<const Rule>& rule = snap.rule_of[index];
    if (only != nullptr && !only->empty() &&
        std::find(only->begin(), only->end(), rule->arn) == only->end()) {
      return;
    }
    DeliverToTargets(bus.hub_, st.alive, rule, events[e], documents[e], now);
  });
}

void BusAccess::SetHooks(EventBus& bus, std::shared_ptr<BusHooks> hooks) {
  EventBus::State& st = *bus.state_;
  std::lock_guard lock(st.mu);
  st.hooks = std::move(hooks);
  st.RebuildSnapshot();
}

void DeliverToTargets(Hub& hub, const std::shared_ptr<const std::atomic<bool>>& alive,
                      const std::shared_ptr<const Rule>& rule, const EventText& event,
                      std::optional<Json>& document, absl::Time now) {
  rule->counters->matched.fetch_add(1, std::memory_order_relaxed);
  const TargetInput::Context context{
      .rule_arn = rule->arn, .rule_name = rule->name, .ingestion_time = now};
  for (const std::shared_ptr<const CompiledTarget>& target : rule->targets) {
    EventText rendered;
    if (target->input.needs_document()) {
      if (!document) document = ParseJson(*event).value_or(Json());
      rendered =
          std::make_shared<const std::string>(target->input.Render(*document, *event, context));
    } else if (!target->input.is_whole_event()) {
      rendered = std::make_shared<const std::string>(target->input.Render(Json(), *event, context));
    }
    Deliver({.hub = &hub,
             .alive = alive,
             .rule = rule,
             .target = target,
             .event = event,
             .body = rendered != nullptr ? rendered : event,
             .ingested = now,
             .attempts = 0,
             .retry_id = 0});
  }
}

}  // namespace events_internal

using events_internal::BusSnapshot;
using events_internal::CompiledTarget;
using events_internal::Matcher;
using events_internal::Rule;
using events_internal::RuleDeleted;
using events_internal::RuleEnabled;
using events_internal::RulePut;
using events_internal::ScheduleRun;
using events_internal::TargetsSet;

// ---- Snapshot -----------------------------------------------------------------------------------

void EventBus::State::RebuildMatcher() {
  std::vector<std::pair<std::string, RuleSet::Rule>> patterns;
  for (const auto& [name, rule] : rules) {
    if (rule->enabled && rule->pattern) patterns.emplace_back(name, *rule->pattern);
  }
  for (const auto& feed : archives) {
    if (feed->pattern) {
      patterns.emplace_back(std::string(events_internal::kArchivePrefix) + feed->name,
                            *feed->pattern);
    }
  }
  auto next = std::make_shared<Matcher>();
  if (!patterns.empty()) {
    RuleSet set;
    set.Update(std::move(patterns));
    next->rules = set.snapshot();
    next->names.resize(next->rules.size());
    for (size_t i = 0; i < next->rules.size(); ++i) next->names[i] = next->rules.name(i);
  }
  matcher = std::move(next);
  RebuildSnapshot();
}

void EventBus::State::RebuildSnapshot() {
  auto next = std::make_shared<BusSnapshot>();
  next->hooks = hooks;
  next->archives = archives;
  for (const auto& feed : archives) {
    if (!feed->pattern) next->unfiltered_archives.push_back(feed.get());
  }
  if (matcher != nullptr && !matcher->names.empty()) {
    next->matcher = matcher;
    next->rule_of.resize(matcher->names.size());
    next->archive_of.resize(matcher->names.size());
    for (size_t i = 0; i < matcher->names.size(); ++i) {
      std::string_view name = matcher->names[i];
      if (name.starts_with(events_internal::kArchivePrefix)) {
        name.remove_prefix(events_internal::kArchivePrefix.size());
        for (const auto& feed : archives) {
          if (feed->name == name) next->archive_of[i] = feed.get();
        }
      } else {
        next->rule_of[i] = rules.find(name)->second;
      }
    }
  }
  snapshot.Store(std::move(next));
}

// ---- EventBus -----------------------------------------------------------------------------------

EventBus::EventBus(Hub& hub, std::string name, std::string arn)
    : MessageSink(std::move(name), std::move(arn)), hub_(hub), state_(std::make_unique<State>()) {
  state_->created = state_->modified = hub.clock().Now();
  std::lock_guard lock(state_->mu);
  state_->RebuildMatcher();
}

EventBus::~EventBus() = default;

absl::StatusOr<PutEventsResult> EventBus::PutEvents(std::vector<PutEventsEntry> entries) {
  if (deleted()) return events_internal::BusNotFound(name());
  if (entries.empty() || entries.size() > 10) {
    return AwsErrorF("ValidationException",
                     "1 validation error detected: Value at 'entries' failed to satisfy "
                     "constraint: Member must have length {} 10",
                     entries.empty() ? "greater than or equal to 1, and less than or equal to"
                                     : "less than or equal to");
  }
  size_t total = 0;
  for (const PutEventsEntry& e : entries) total += events_internal::EntrySize(e);
  if (total >= events_internal::kMaxPutEventsBytes) {
    return AwsError("ValidationException",
                    "Total size of the entries in the request is over the limit.");
  }
  const absl::Time now = hub_.clock().Now();
  const std::string now_text = events_internal::EventTime(now);
  const std::string& account = hub_.environment().account;
  const std::string& region = hub_.environment().region;
  PutEventsResult result;
  result.entries.reserve(entries.size());
  std::vector<events_internal::EventText> events;
  std::vector<absl::Time> times;
  events.reserve(entries.size());
  const std::shared_ptr<const BusSnapshot> snap = state_->LoadSnapshot();
  const events_internal::BusHooks* hooks = snap->hooks.get();
  for (const PutEventsEntry& e : entries) {
    char id[36];
    detail::WriteUuid(detail::NewRandomUuid(), id);
    const absl::Time time = e.time.value_or(now);
    auto event = std::make_shared<std::string>();
    std::optional<PutEventsResultEntry> error = events_internal::CheckEntry(e);
    if (!error &&
        !events_internal::AppendEnvelope(e, std::string_view(id, 36),
                                         e.time ? events_internal::EventTime(time) : now_text,
                                         account, region, *event)) {
      error = events_internal::EntryError("MalformedDetail", "Detail is malformed.");
    }
    if (!error) error = events_internal::CheckResources(e);
    if (!error && hooks != nullptr) error = hooks->Check(e);
    if (error) {
      result.entries.push_back(*std::move(error));
      ++result.failed_entry_count;
      continue;
    }
    events.push_back(std::move(event));
    times.push_back(time);
    result.entries.push_back({.event_id = std::string(id, 36)});
  }
  absl::StatusOr<PutEventsResult> out = std::move(result);
  if (!events.empty()) {
    // The archives' records and those of the deliveries to durable targets: one wait for all.
    detail::DeferredAwaits deferred;
    events_internal::BusAccess::Route(*this, *snap, events, times, false, nullptr);
    if (absl::Status kept = deferred.Await(); !kept.ok()) out = std::move(kept);
  }
  return out;
}

absl::StatusOr<SendMessageResult> EventBus::SendMessage(SendMessageRequest request) {
  if (deleted()) return events_internal::BusNotFound(name());
  absl::StatusOr<Json> event = ParseJson(request.body);
  const JsonObject* o = event.ok() ? event->if_object() : nullptr;
  auto text = [&](std::string_view key) -> const boost::json::string* {
    const Json* v = o == nullptr ? nullptr : o->if_contains(key);
    return v == nullptr ? nullptr : v->if_string();
  };
  if (o == nullptr || text("id") == nullptr || text("source") == nullptr ||
      text("detail-type") == nullptr || o->if_contains("detail") == nullptr) {
    return AwsError("InvalidArgument", "The message is not an EventBridge event.");
  }
  absl::Time time = hub_.clock().Now();
  if (const auto* t = text("time")) {
    std::string err;
    absl::ParseTime(absl::RFC3339_full, std::string(*t), &time, &err);
  }
  detail::DeferredAwaits deferred;
  events_internal::BusAccess::Route(*this, *state_->LoadSnapshot(),
                                    {std::make_shared<const std::string>(request.body)}, {time},
                                    false, nullptr);
  absl::StatusOr<SendMessageResult> result = SendMessageResult{};
  result->message_id = MessageId(std::string_view(*text("id")));
  if (absl::Status kept = deferred.Await(); !kept.ok()) result = std::move(kept);
  return result;
}

absl::StatusOr<std::string> EventBus::PutRule(std::string_view name, const RuleSpec& rule) {
  COURIER_RETURN_IF_ERROR(PutRules({{std::string(name), rule}}));
  std::lock_guard lock(state_->mu);
  return state_->rules.at(std::string(name))->arn;
}

namespace {
void Record(const EventBus::State& st, events_internal::EventsRecord record) {
  if (st.log != nullptr) st.log->Append(record);
}
// The rule's whole target list, as a TargetsSet record carries it.
TargetsSet TargetsRecord(const EventBus& bus, const Rule& rule) {
  TargetsSet r{.bus = bus.name(), .rule = rule.name, .targets = {}};
  for (const auto& t : rule.targets) r.targets.push_back(t->spec);
  return r;
}
}  // namespace

absl::Status EventBus::PutRules(const std::vector<std::pair<std::string, RuleSpec>>& rules) {
  if (deleted()) return events_internal::BusNotFound(this->name());
  State& st = *state_;
  std::unique_lock lock(st.mu);
  absl::Status status;
  for (const auto& [rule_name, spec] : rules) {
    if (!events_internal::IsResourceName(rule_name)) {
      status = events_internal::NameError(rule_name, "name");
      break;
    }
    if (!spec.event_pattern && !spec.schedule_expression) {
      status = AwsError("ValidationException",
                        "Parameter(s) EventPattern or ScheduleExpression must be specified.");
      break;
    }
    if (spec.schedule_expression && this->name() != "default") {
      status = AwsError("ValidationException",
                        "ScheduleExpression is supported only on the default event bus.");
      break;
    }
    if (spec.state != "ENABLED" && spec.state != "DISABLED" &&
        spec.state != "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS") {
      status = AwsErrorF("ValidationException",
                         "1 validation error detected: Value '{}' at 'state' failed to satisfy "
                         "constraint: Member must satisfy enum value set: [ENABLED, DISABLED, "
                         "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]",
                         spec.state);
      break;
    }
    auto next = std::make_shared<Rule>();
    if (spec.event_pattern) {
      absl::StatusOr<EventPattern> pattern = EventPattern::Compile(*spec.event_pattern);
      if (!pattern.ok()) {
        status = pattern.status();
        break;
      }
      next->pattern = *std::move(pattern);
    }
    auto it = st.rules.find(rule_name);
    std::optional<ScheduleExpression> schedule;
    if (spec.schedule_expression) {
      absl::StatusOr<ScheduleExpression> parsed =
          ScheduleExpression::Parse(*spec.schedule_expression, "UTC", hub_.clock().Now());
      if (parsed.ok() && parsed->is_at()) {
        parsed = AwsError("ValidationException",
                          "Parameter ScheduleExpression is not valid. Reason: rules take rate() "
                          "and cron(); at() is for EventBridge Scheduler.");
      }
      if (!parsed.ok()) {
        status = parsed.status();
        break;
      }
      schedule = *std::move(parsed);
    }
    if (it == st.rules.end() &&
        st.rules.size() >= st.rules_per_bus->load(std::memory_order_relaxed)) {
      status = AwsError("LimitExceededException",
                        "The requested resource exceeds the maximum number allowed.");
      break;
    }
    next->name = rule_name;
    next->arn = this->name() == "default"
                    ? hub_.Arn("events", "rule/" + rule_name)
                    : hub_.Arn("events", fmt::format("rule/{}/{}", this->name(), rule_name));
    next->spec = spec;
    next->spec.tags.clear();
    next->enabled = spec.state != "DISABLED";
    if (schedule && next->enabled) {
      // The same schedule, still enabled, keeps its run (a rate keeps counting from its start).
      const Rule* before = it != st.rules.end() ? it->second.get() : nullptr;
      if (before != nullptr && before->schedule != nullptr &&
          before->spec.schedule_expression == spec.schedule_expression) {
        next->schedule = before->schedule;
      } else {
        next->schedule = std::make_shared<const ScheduleRun>(ScheduleRun{*std::move(schedule)});
        events_internal::ArmSchedule(*this, rule_name, next->schedule, hub_.clock().Now());
      }
    }
    RulePut record{.bus = this->name(), .name = rule_name, .spec = next->spec};
    if (it != st.rules.end()) {
      next->created = it->second->created;
      next->targets = it->second->targets;
      next->counters = it->second->counters;
      it->second = std::move(next);
    } else {
      next->created = hub_.clock().Now();
      if (!spec.tags.empty()) st.rule_tags[next->arn] = spec.tags;
      record.spec.tags = spec.tags;
      st.rules.emplace(rule_name, std::move(next));
    }
    Record(st, std::move(record));
  }
  st.RebuildMatcher();
  lock.unlock();
  return detail::Durable(status);
}

absl::StatusOr<RuleDescription> EventBus::DescribeRule(std::string_view rule) const {
  std::lock_guard lock(state_->mu);
  auto it = state_->rules.find(rule);
  if (it == state_->rules.end()) return events_internal::RuleNotFound(rule, name());
  return events_internal::Describe(*it->second, name(), hub_.environment().account);
}

std::vector<RuleDescription> EventBus::ListRules(std::string_view prefix) const {
  std::lock_guard lock(state_->mu);
  std::vector<RuleDescription> out;
  for (auto it = state_->rules.lower_bound(prefix);
       it != state_->rules.end() && it->first.starts_with(prefix); ++it) {
    out.push_back(events_internal::Describe(*it->second, name(), hub_.environment().account));
  }
  return out;
}

namespace {
absl::Status SetEnabledLocked(EventBus& bus, Hub& hub, EventBus::State& st, std::string_view rule,
                              bool enabled) {
  auto it = st.rules.find(rule);
  if (it == st.rules.end()) return events_internal::RuleNotFound(rule, bus.name());
  auto next = std::make_shared<Rule>(*it->second);
  next->enabled = enabled;
  next->spec.state = enabled ? "ENABLED" : "DISABLED";
  if (!enabled) {
    next->schedule = nullptr;  // its timer finds the run replaced and stops
  } else if (next->schedule == nullptr && next->spec.schedule_expression) {
    const absl::Time now = hub.clock().Now();
    next->schedule = std::make_shared<const ScheduleRun>(ScheduleRun{
        ScheduleExpression::Parse(*next->spec.schedule_expression, "UTC", now).value()});
    events_internal::ArmSchedule(bus, next->name, next->schedule, now);
  }
  it->second = std::move(next);
  st.RebuildMatcher();
  return absl::OkStatus();
}

absl::Status SetEnabled(EventBus& bus, Hub& hub, EventBus::State& st, std::string_view rule,
                        bool enabled) {
  {
    std::lock_guard lock(st.mu);
    COURIER_RETURN_IF_ERROR(SetEnabledLocked(bus, hub, st, rule, enabled));
    Record(st, RuleEnabled{bus.name(), std::string(rule), enabled});
  }
  return detail::Durable(absl::OkStatus());
}
}  // namespace

absl::Status EventBus::EnableRule(std::string_view rule) {
  return SetEnabled(*this, hub_, *state_, rule, true);
}
absl::Status EventBus::DisableRule(std::string_view rule) {
  return SetEnabled(*this, hub_, *state_, rule, false);
}

absl::Status EventBus::DeleteRule(std::string_view rule, bool force) {
  {
    std::lock_guard lock(state_->mu);
    auto it = state_->rules.find(rule);
    if (it == state_->rules.end()) return absl::OkStatus();
    if (!it->second->targets.empty() && !force) {
      return AwsError("ValidationException", "Rule can't be deleted since it has targets.");
    }
    state_->rule_tags.erase(it->second->arn);
    state_->rules.erase(it);
    state_->RebuildMatcher();
    Record(*state_, RuleDeleted{name(), std::string(rule)});
  }
  return detail::Durable(absl::OkStatus());
}

std::vector<std::string> EventBus::ListRuleNamesByTarget(std::string_view target_arn) const {
  std::lock_guard lock(state_->mu);
  std::vector<std::string> out;
  for (const auto& [rule_name, rule] : state_->rules) {
    for (const auto& t : rule->targets) {
      if (t->spec.arn == target_arn) {
        out.push_back(rule_name);
        break;
      }
    }
  }
  return out;
}

absl::StatusOr<TargetsResult> EventBus::PutTargets(std::string_view rule,
                                                   std::vector<Target> targets) {
  if (targets.empty() || targets.size() > 10) {
    return AwsError("ValidationException",
                    "1 validation error detected: Value at 'targets' failed to satisfy "
                    "constraint: Member must have length less than or equal to 10");
  }
  std::vector<std::shared_ptr<CompiledTarget>> compiled;
  for (Target& t : targets) {
    COURIER_RETURN_IF_ERROR(events_internal::CheckTarget(t));
    events_internal::TargetInput::Spec spec{.input = t.input, .input_path = t.input_path};
    if (t.input_transformer) {
      spec.input_paths_map = t.input_transformer->input_paths_map;
      spec.input_template = t.input_transformer->input_template;
    }
    COURIER_ASSIGN_OR_RETURN(events_internal::TargetInput input,
                             events_internal::TargetInput::Compile(spec));
    auto c = std::make_shared<CompiledTarget>(CompiledTarget{.spec = std::move(t),
                                                             .input = std::move(input),
                                                             .retry = {},
                                                             .sink = {},
                                                             .counters = {},
                                                             .journal = {}});
    c->retry = c->spec.retry_policy.value_or(TargetRetryPolicy{});
    c->sink = events_internal::ServiceOf(c->spec.arn) == "events"
                  ? events_internal::FindBusAnywhere(hub_, c->spec.arn)
                  : hub_.FindSink(c->spec.arn);
    c->counters = std::make_shared<events_internal::TargetCounters>();
    c->journal = state_->journal;
    compiled.push_back(std::move(c));
  }
  State& st = *state_;
  std::unique_lock lock(st.mu);
  auto it = st.rules.find(rule);
  if (it == st.rules.end()) return events_internal::RuleNotFound(rule, name());
  auto next = std::make_shared<Rule>(*it->second);
  for (auto& c : compiled) {
    auto same = std::find_if(next->targets.begin(), next->targets.end(),
                             [&](const auto& t) { return t->spec.id == c->spec.id; });
    if (same != next->targets.end()) {
      c->counters = (*same)->counters;  // the same target, updated
      *same = std::move(c);
    } else {
      next->targets.push_back(std::move(c));
    }
  }
  if (next->targets.size() > st.targets_per_rule->load(std::memory_order_relaxed)) {
    return AwsError("LimitExceededException",
                    "The requested resource exceeds the maximum number allowed.");
  }
  Record(st, TargetsRecord(*this, *next));
  it->second = std::move(next);
  st.RebuildSnapshot();
  lock.unlock();
  absl::StatusOr<TargetsResult> result = TargetsResult{};
  detail::Durable(result);
  return result;
}

absl::StatusOr<TargetsResult> EventBus::RemoveTargets(std::string_view rule,
                                                      const std::vector<std::string>& ids) {
  State& st = *state_;
  std::unique_lock lock(st.mu);
  auto it = st.rules.find(rule);
  if (it == st.rules.end()) return events_internal::RuleNotFound(rule, name());
  auto next = std::make_shared<Rule>(*it->second);
  absl::StatusOr<TargetsResult> result = TargetsResult{};
  for (const std::string& id : ids) {
    auto same = std::find_if(next->targets.begin(), next->targets.end(),
                             [&](const auto& t) { return t->spec.id == id; });
    if (same == next->targets.end()) {
      // EventBridge answers success for an id the rule does not have.
      continue;
    }
    next->targets.erase(same);
  }
  Record(st, TargetsRecord(*this, *next));
  it->second = std::move(next);
  st.RebuildSnapshot();
  lock.unlock();
  detail::Durable(result);
  return result;
}

absl::StatusOr<std::vector<Target>> EventBus::ListTargetsByRule(std::string_view rule) const {
  std::lock_guard lock(state_->mu);
  auto it = state_->rules.find(rule);
  if (it == state_->rules.end()) return events_internal::RuleNotFound(rule, name());
  std::vector<Target> out;
  for (const auto& t : it->second->targets) out.push_back(t->spec);
  return out;
}

absl::StatusOr<EventsMetrics> EventBus::RuleMetrics(std::string_view rule) const {
  std::lock_guard lock(state_->mu);
  auto it = state_->rules.find(rule);
  if (it == state_->rules.end()) return events_internal::RuleNotFound(rule, name());
  const int64_t matched = it->second->counters->matched.load(std::memory_order_relaxed);
  EventsMetrics m{{"MatchedEvents", matched}, {"TriggeredRules", matched}};
  events_internal::TargetCounters{}.AddTo(m);  // every name present, at zero
  for (const auto& t : it->second->targets) t->counters->AddTo(m);
  return m;
}

absl::StatusOr<EventsMetrics> EventBus::TargetMetrics(std::string_view rule,
                                                      std::string_view target_id) const {
  std::lock_guard lock(state_->mu);
  auto it = state_->rules.find(rule);
  if (it == state_->rules.end()) return events_internal::RuleNotFound(rule, name());
  for (const auto& t : it->second->targets) {
    if (t->spec.id == target_id) {
      EventsMetrics m;
      t->counters->AddTo(m);
      return m;
    }
  }
  return AwsErrorF("ResourceNotFoundException", "Target {} does not exist on rule {}.", target_id,
                   rule);
}

std::string EventBus::policy() const {
  std::lock_guard lock(state_->mu);
  return state_->policy;
}

std::string EventBus::description() const {
  std::lock_guard lock(state_->mu);
  return state_->description;
}

}  // namespace courier
