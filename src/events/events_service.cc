// The EventBridge control plane (events.h): buses as hub resources, their permissions and tags,
// archives and replays, and the registration of the "events" operation table.
#include <absl/strings/ascii.h>
#include <absl/strings/match.h>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <string_view>
#include <utility>

#include "courier/detail/hub_registry.h"
#include "courier/events.h"
#include "courier/hub.h"
#include "courier/service.h"
#include "courier/status.h"
#include "events/bus_state.h"
#include "events/events_operations.h"

namespace courier {

using events_internal::ArchiveCreated;
using events_internal::ArchiveDeleted;
using events_internal::ArchiveFeed;
using events_internal::ArchiveStore;
using events_internal::ArchiveUpdated;
using events_internal::BusAccess;
using events_internal::BusChanged;
using events_internal::BusCreated;
using events_internal::BusDeleted;
using events_internal::EventsLog;
using events_internal::EventsRecord;
using events_internal::EventText;
using events_internal::kEventsLog;
using events_internal::RetryJournal;
using events_internal::RetryWaiting;
using events_internal::TagsSet;

// ---- The hubs of the process
// ----------------------------------------------------------------------

namespace {

// Every live hub with an EventBridge module, so that a target or an ARN may name a bus of another
// account or region of the same process.
struct HubDirectory {
  std::mutex mu;
  std::vector<Hub*> hubs;
};

HubDirectory& Directory() {
  static auto* directory = new HubDirectory;  // outlives every hub, even static ones
  return *directory;
}

// Whether `v` is the JSON string `s`.
bool IsString(const Json* v, std::string_view s) {
  return v != nullptr && v->is_string() &&
         std::string_view(v->get_string().data(), v->get_string().size()) == s;
}

// Removes the policy statements whose Sid is `sid`; returns how many.
size_t EraseStatements(JsonArray& statements, std::string_view sid) {
  auto gone = std::remove_if(statements.begin(), statements.end(), [&](const Json& s) {
    const JsonObject* o = s.if_object();
    return o != nullptr && IsString(o->if_contains("Sid"), sid);
  });
  const size_t n = static_cast<size_t>(statements.end() - gone);
  statements.erase(gone, statements.end());
  return n;
}

bool IsEventBusArn(std::string_view arn) {
  return arn.starts_with("arn:aws:events:") && arn.find(":event-bus/") != std::string_view::npos;
}

}  // namespace

namespace events_internal {

std::shared_ptr<MessageSink> FindBusAnywhere(Hub& hub, std::string_view arn) {
  if (!IsEventBusArn(arn)) return nullptr;
  if (std::shared_ptr<MessageSink> own = hub.FindSink(arn)) return own;
  HubDirectory& d = Directory();
  std::lock_guard lock(d.mu);
  for (Hub* other : d.hubs) {
    if (other == &hub) continue;
    if (std::shared_ptr<MessageSink> sink = other->FindSink(arn)) return sink;
  }
  return nullptr;
}

namespace {

// Whether a policy statement's Principal names `account` (its id, its root, or anyone).
bool PrincipalAllows(const Json& principal, std::string_view account) {
  auto names = [&](const Json& v) {
    if (!v.is_string()) return false;
    std::string_view p = v.get_string();
    return p == "*" || p == account || p == fmt::format("arn:aws:iam::{}:root", account);
  };
  if (names(principal)) return true;
  const JsonObject* o = principal.if_object();
  const Json* aws = o == nullptr ? nullptr : o->if_contains("AWS");
  if (aws == nullptr) return false;
  if (const JsonArray* list = aws->if_array()) {
    return std::any_of(list->begin(), list->end(), names);
  }
  return names(*aws);
}

bool ActionAllows(const Json& action) {
  auto names = [](const Json& v) {
    return v.is_string() && (v.get_string() == "events:PutEvents" || v.get_string() == "events:*" ||
                             v.get_string() == "*");
  };
  if (const JsonArray* list = action.if_array()) {
    return std::any_of(list->begin(), list->end(), names);
  }
  return names(action);
}

}  // namespace

bool AllowsPutEventsFrom(const MessageSink& sink, std::string_view account) {
  const auto* bus = dynamic_cast<const EventBus*>(&sink);
  if (bus == nullptr) return false;
  absl::StatusOr<Json> policy = ParseJson(bus->policy());
  const JsonObject* o = policy.ok() ? policy->if_object() : nullptr;
  const Json* statements = o == nullptr ? nullptr : o->if_contains("Statement");
  if (statements == nullptr) return false;
  JsonArray one;
  const JsonArray* list = statements->if_array();
  if (list == nullptr) {
    one.push_back(*statements);
    list = &one;
  }
  bool allowed = false;
  for (const Json& s : *list) {
    const JsonObject* st = s.if_object();
    if (st == nullptr) continue;
    const Json* effect = st->if_contains("Effect");
    const Json* principal = st->if_contains("Principal");
    const Json* action = st->if_contains("Action");
    if (effect == nullptr || principal == nullptr || action == nullptr) continue;
    if (!PrincipalAllows(*principal, account) || !ActionAllows(*action)) continue;
    if (IsString(effect, "Deny")) return false;  // an explicit deny overrides every allow
    allowed = allowed || IsString(effect, "Allow");
  }
  return allowed;
}

}  // namespace events_internal

// ---- State ------------------------------------------------------------------------------------

namespace {

struct ArchiveRecord {
  ArchiveDescription description;  // its counts are read from the store
  std::shared_ptr<ArchiveStore> store;
  std::shared_ptr<const ArchiveFeed> feed;
};

struct ReplayRecord {
  ReplayDescription description;
  std::vector<ArchiveStore::Entry> events;  // the range, oldest event time first
  size_t next = 0;                          // the first not yet replayed
};

}  // namespace

struct EventsService::State {
  Hub* hub = nullptr;
  std::shared_ptr<std::atomic<bool>> alive = std::make_shared<std::atomic<bool>>(true);
  std::shared_ptr<std::atomic<size_t>> rules_per_bus = std::make_shared<std::atomic<size_t>>(300);
  std::shared_ptr<std::atomic<size_t>> targets_per_rule = std::make_shared<std::atomic<size_t>>(5);

  std::shared_ptr<EventsLog> log;         // null when the storage keeps no records
  std::shared_ptr<RetryJournal> journal;  // null with `log`
  mutable std::mutex mu;
  EventsQuotas quotas;
  std::map<std::string, std::shared_ptr<EventBus>, std::less<>> buses;
  std::map<std::string, ArchiveRecord, std::less<>> archives;
  std::map<std::string, std::shared_ptr<ReplayRecord>, std::less<>> replays;

  // The bus a name or ARN of this hub names; under mu.
  std::shared_ptr<EventBus> BusLocked(std::string_view name_or_arn) const {
    std::string_view name = name_or_arn;
    if (name.starts_with("arn:")) {
      const size_t at = name.find(":event-bus/");
      if (at == std::string_view::npos) return nullptr;
      if (name.substr(0, at) != hub->Arn("events", "").substr(0, at)) return nullptr;
      name.remove_prefix(at + std::string_view(":event-bus/").size());
    }
    auto it = buses.find(name);
    return it == buses.end() ? nullptr : it->second;
  }

  // Attaches (or re-attaches, with a new pattern) an archive's feed to its bus; under mu.
  void Attach(ArchiveRecord& a) {
    std::shared_ptr<EventBus> bus = BusLocked(a.description.event_source_arn);
    if (bus == nullptr) return;
    auto feed = std::make_shared<ArchiveFeed>();
    feed->name = a.description.name;
    if (a.description.event_pattern) {
      feed->pattern = EventPattern::Compile(*a.description.event_pattern).value();
    }
    feed->store = a.store;
    EventBus::State& st = BusAccess::Of(*bus);
    std::lock_guard lock(st.mu);
    std::erase_if(st.archives, [&](const auto& f) { return f->name == feed->name; });
    st.archives.push_back(feed);
    a.feed = std::move(feed);
    st.RebuildMatcher();
  }

  void Detach(const ArchiveRecord& a) {
    std::shared_ptr<EventBus> bus = BusLocked(a.description.event_source_arn);
    if (bus == nullptr) return;
    EventBus::State& st = BusAccess::Of(*bus);
    std::lock_guard lock(st.mu);
    std::erase_if(st.archives, [&](const auto& f) { return f->name == a.description.name; });
    st.RebuildMatcher();
  }

  void StepReplay(const std::shared_ptr<ReplayRecord>& replay);

  // Appends `record` to the log, if there is one; under the lock that orders its change.
  void Record(const EventsRecord& record) const {
    if (log != nullptr) log->Append(record);
  }
};

namespace {

absl::Status BusNotFound(std::string_view name) {
  return AwsErrorF("ResourceNotFoundException", "Event bus {} does not exist.", name);
}

absl::Status ArchiveNotFound(std::string_view name) {
  return AwsErrorF("ResourceNotFoundException", "Archive {} does not exist.", name);
}

absl::Status ReplayNotFound(std::string_view name) {
  return AwsErrorF("ResourceNotFoundException", "Replay {} does not exist.", name);
}

absl::Status LimitExceeded() {
  return AwsError("LimitExceededException",
                  "The requested resource exceeds the maximum number allowed.");
}

absl::Status PatternError(std::string_view member, std::string_view value, size_t max) {
  return AwsErrorF("ValidationException",
                   "1 validation error detected: Value '{}' at '{}' failed to satisfy "
                   "constraint: Member must satisfy regular expression pattern: "
                   "[\\.\\-_A-Za-z0-9]+, and length less than or equal to {}",
                   value, member, max);
}

bool IsBusName(std::string_view name) {
  if (name.empty() || name.size() > 256) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '.' || c == '-' ||
           c == '_';
  });
}

// Records the bus's description and policy as they are now; under its mu.
void RecordBusChanged(const EventBus& bus) {
  const EventBus::State& st = BusAccess::Of(bus);
  if (st.log == nullptr) return;
  st.log->Append(BusChanged{bus.name(), st.description, st.policy, absl::ToUnixNanos(st.modified)});
}

EventBusDescription DescribeBus(const EventBus& bus) {
  const EventBus::State& st = BusAccess::Of(bus);
  std::lock_guard lock(st.mu);
  return {.name = bus.name(),
          .arn = bus.arn(),
          .description = st.description,
          .policy = st.policy,
          .creation_time = st.created,
          .last_modified_time = st.modified};
}

ArchiveDescription DescribeArchiveRecord(const ArchiveRecord& a, absl::Time now) {
  ArchiveDescription d = a.description;
  std::lock_guard lock(a.store->mu);
  a.store->Expire(now);
  d.size_bytes = a.store->size_bytes;
  d.event_count = static_cast<int64_t>(a.store->events.size());
  return d;
}

bool IsTerminal(std::string_view state) {
  return state == "COMPLETED" || state == "CANCELLED" || state == "FAILED";
}

// The one-minute bucket an event time falls in: a replay sends bucket by bucket.
int64_t MinuteOf(absl::Time t) { return absl::ToUnixSeconds(t) / 60; }

// The event's text with "replay-name" as its last member, as a replayed event carries it.
std::string WithReplayName(std::string_view event, std::string_view replay) {
  std::string out(event.substr(0, event.rfind('}')));
  out += R"(,"replay-name":)";
  AppendJsonText(Json(replay), out);
  out.push_back('}');
  return out;
}

}  // namespace

// One bucket of a replay, then the next on the clock, until the range or a cancel ends it.
void EventsService::State::StepReplay(const std::shared_ptr<ReplayRecord>& replay) {
  if (!alive->load(std::memory_order_acquire)) return;
  std::shared_ptr<EventBus> bus;
  std::vector<EventText> events;
  std::vector<absl::Time> times;
  const absl::Time now = hub->clock().Now();
  {
    std::lock_guard lock(mu);
    ReplayDescription& d = replay->description;
    if (d.state == "CANCELLING") {
      d.state = "CANCELLED";
      d.replay_end_time = now;
      return;
    }
    bus = BusLocked(d.destination_arn);
    if (bus == nullptr) {
      d.state = "FAILED";
      d.state_reason = "The destination event bus does not exist.";
      d.replay_end_time = now;
      return;
    }
    d.state = "RUNNING";
    if (replay->next < replay->events.size()) {
      const int64_t minute = MinuteOf(replay->events[replay->next].event_time);
      while (replay->next < replay->events.size() &&
             MinuteOf(replay->events[replay->next].event_time) == minute) {
        const ArchiveStore::Entry& e = replay->events[replay->next++];
        events.push_back(std::make_shared<const std::string>(WithReplayName(e.event, d.name)));
        times.push_back(e.event_time);
        d.event_last_replayed_time = e.event_time;
      }
    }
  }
  if (!events.empty()) {
    BusAccess::Route(*bus, *BusAccess::Of(*bus).LoadSnapshot(), events, times, true,
                     &replay->description.filter_arns);
  }
  std::lock_guard lock(mu);
  ReplayDescription& d = replay->description;
  if (replay->next >= replay->events.size()) {
    if (d.state == "CANCELLING") {
      d.state = "CANCELLED";
    } else {
      d.state = "COMPLETED";
    }
    d.replay_end_time = now;
    replay->events.clear();
    return;
  }
  hub->clock().ScheduleAt(now, [this, replay] { StepReplay(replay); });
}

// ---- The service ----------------------------------------------------------------------------

EventsService::EventsService(Hub& hub) : hub_(hub), state_(std::make_unique<State>()) {
  state_->hub = &hub;
  if (auto log = detail::RecordLog::For(hub.environment().storage, std::string(kEventsLog))) {
    state_->log = std::make_shared<EventsLog>(std::move(log));
    state_->journal = std::make_shared<RetryJournal>(state_->log);
  }
  auto bus = BusAccess::Make(hub, "default", hub.Arn("events", "event-bus/default"));
  EventBus::State& st = BusAccess::Of(*bus);
  st.log = state_->log;
  st.journal = state_->journal;
  st.alive = state_->alive;
  st.rules_per_bus = state_->rules_per_bus;
  st.targets_per_rule = state_->targets_per_rule;
  (void)detail::AddResource(hub, bus);
  state_->buses.emplace("default", std::move(bus));
  HubDirectory& d = Directory();
  std::lock_guard lock(d.mu);
  d.hubs.push_back(&hub);
}

EventsService::~EventsService() { Shutdown(); }

void EventsService::Shutdown() {
  state_->alive->store(false, std::memory_order_release);
  HubDirectory& d = Directory();
  std::lock_guard lock(d.mu);
  std::erase(d.hubs, &hub_);
}

absl::StatusOr<std::shared_ptr<EventBus>> EventsService::CreateEventBus(
    std::string_view name, std::string_view description, const EventsTagMap& tags) {
  if (!IsBusName(name)) {
    return AwsErrorF("ValidationException",
                     "1 validation error detected: Value '{}' at 'name' failed to satisfy "
                     "constraint: Member must satisfy regular expression pattern: "
                     "[/\\.\\-_A-Za-z0-9]+",
                     name);
  }
  if (name.starts_with("aws.")) {
    return AwsError("ValidationException",
                    "Event bus name must not start with 'aws.': only partner event buses may.");
  }
  if (name.find('/') != std::string_view::npos) {
    return AwsError("ValidationException",
                    "Custom event bus names can't contain the / character: only partner event "
                    "bus names can.");
  }
  if (description.size() > 512) {
    return AwsError("ValidationException",
                    "1 validation error detected: Value at 'description' failed to satisfy "
                    "constraint: Member must have length less than or equal to 512");
  }
  State& s = *state_;
  std::unique_lock lock(s.mu);
  if (s.buses.contains(name)) {
    return AwsErrorF("ResourceAlreadyExistsException", "Event bus {} already exists.", name);
  }
  if (s.buses.size() - 1 >= s.quotas.buses) return LimitExceeded();
  auto bus = BusAccess::Make(hub_, std::string(name),
                             hub_.Arn("events", fmt::format("event-bus/{}", name)));
  EventBus::State& st = BusAccess::Of(*bus);
  st.alive = s.alive;
  st.rules_per_bus = s.rules_per_bus;
  st.targets_per_rule = s.targets_per_rule;
  st.description = std::string(description);
  st.tags = tags;
  st.log = s.log;
  st.journal = s.journal;
  COURIER_RETURN_IF_ERROR(detail::AddResource(hub_, bus));
  s.buses.emplace(std::string(name), bus);
  s.Record(
      BusCreated{std::string(name), std::string(description), tags, absl::ToUnixNanos(st.created)});
  // Archives of an earlier bus of this name feed the new one, as in EventBridge.
  for (auto& [archive_name, a] : s.archives) {
    if (a.description.event_source_arn == bus->arn()) s.Attach(a);
  }
  lock.unlock();
  absl::StatusOr<std::shared_ptr<EventBus>> result = std::move(bus);
  detail::Durable(result);
  return result;
}

absl::Status EventsService::DeleteEventBus(std::string_view name) {
  if (name == "default") {
    return AwsError("ValidationException", "Cannot delete event bus default.");
  }
  std::shared_ptr<EventBus> bus;
  {
    std::lock_guard lock(state_->mu);
    auto it = state_->buses.find(name);
    if (it == state_->buses.end()) return absl::OkStatus();
    bus = std::move(it->second);
    state_->buses.erase(it);
    state_->Record(BusDeleted{std::string(name)});
  }
  detail::RemoveResource(hub_, bus->arn());
  bus->MarkDeleted();
  // Its rules go with it.
  EventBus::State& st = BusAccess::Of(*bus);
  {
    std::lock_guard lock(st.mu);
    st.rules.clear();
    st.rule_tags.clear();
    st.archives.clear();
    st.RebuildMatcher();
  }
  return detail::Durable(absl::OkStatus());
}

absl::StatusOr<std::shared_ptr<EventBus>> EventsService::GetEventBus(
    std::string_view name_or_arn) const {
  {
    std::lock_guard lock(state_->mu);
    if (std::shared_ptr<EventBus> bus = state_->BusLocked(name_or_arn)) return bus;
  }
  if (name_or_arn.starts_with("arn:")) {
    std::shared_ptr<MessageSink> sink = events_internal::FindBusAnywhere(hub_, name_or_arn);
    if (auto bus = std::dynamic_pointer_cast<EventBus>(sink)) return bus;
  }
  return BusNotFound(name_or_arn);
}

absl::StatusOr<EventBusDescription> EventsService::DescribeEventBus(
    std::string_view name_or_arn) const {
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<EventBus> bus, GetEventBus(name_or_arn));
  return DescribeBus(*bus);
}

std::vector<EventBusDescription> EventsService::ListEventBuses(std::string_view prefix) const {
  std::vector<std::shared_ptr<EventBus>> buses;
  {
    std::lock_guard lock(state_->mu);
    for (const auto& [name, bus] : state_->buses) {
      if (name.starts_with(prefix)) buses.push_back(bus);
    }
  }
  std::vector<EventBusDescription> out;
  for (const auto& bus : buses) out.push_back(DescribeBus(*bus));
  return out;
}

absl::Status EventsService::UpdateEventBus(std::string_view name, std::string_view description) {
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<EventBus> bus, GetEventBus(name));
  EventBus::State& st = BusAccess::Of(*bus);
  {
    std::lock_guard lock(st.mu);
    st.description = std::string(description);
    st.modified = hub_.clock().Now();
    RecordBusChanged(*bus);
  }
  return detail::Durable(absl::OkStatus());
}

absl::StatusOr<PutEventsResult> EventsService::PutEvents(std::vector<PutEventsEntry> entries) {
  if (entries.empty() || entries.size() > 10) {
    // The bus gives the error, with AWS's words.
    COURIER_ASSIGN_OR_RETURN(std::shared_ptr<EventBus> bus, GetEventBus("default"));
    return bus->PutEvents(std::move(entries));
  }
  // Entries go to their buses in order, each bus's share in one call; one wait for all.
  detail::DeferredAwaits deferred;
  PutEventsResult result;
  result.entries.resize(entries.size());
  std::map<std::string, std::vector<size_t>> by_bus;
  for (size_t i = 0; i < entries.size(); ++i) {
    by_bus[entries[i].event_bus_name.empty() ? "default" : entries[i].event_bus_name].push_back(i);
  }
  for (auto& [name, indices] : by_bus) {
    absl::StatusOr<std::shared_ptr<EventBus>> bus = GetEventBus(name);
    if (!bus.ok()) {
      for (size_t i : indices) {
        result.entries[i] = {.event_id = "",
                             .error_code = "ResourceNotFoundException",
                             .error_message = fmt::format("Event bus {} does not exist.", name)};
      }
      continue;
    }
    std::vector<PutEventsEntry> mine;
    for (size_t i : indices) mine.push_back(std::move(entries[i]));
    COURIER_ASSIGN_OR_RETURN(PutEventsResult r, (*bus)->PutEvents(std::move(mine)));
    for (size_t k = 0; k < indices.size(); ++k) result.entries[indices[k]] = r.entries[k];
  }
  for (const auto& e : result.entries) result.failed_entry_count += !e.error_code.empty();
  COURIER_RETURN_IF_ERROR(deferred.Await());
  return result;
}

absl::StatusOr<bool> EventsService::TestEventPattern(std::string_view pattern,
                                                     std::string_view event) const {
  COURIER_ASSIGN_OR_RETURN(EventPattern compiled, EventPattern::Compile(pattern));
  absl::StatusOr<Json> doc = ParseJson(event);
  const JsonObject* o = doc.ok() ? doc->if_object() : nullptr;
  if (o == nullptr) {
    return AwsError("InvalidEventPatternException", "Event is not valid JSON.");
  }
  for (std::string_view member : {"id", "account", "source", "time", "region", "detail-type"}) {
    if (!o->contains(member)) {
      return AwsErrorF("ValidationException",
                       "Parameter Event is not valid. Reason: Provided Event is missing required "
                       "field {}.",
                       member);
    }
  }
  return compiled.Matches(event);
}

// ---- Permissions and tags -------------------------------------------------------------------

namespace {

bool IsStatementId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

bool IsAccountId(std::string_view s) {
  return s.size() == 12 && std::all_of(s.begin(), s.end(), [](char c) {
           return absl::ascii_isdigit(static_cast<unsigned char>(c));
         });
}

}  // namespace

absl::Status EventsService::PutPermission(std::string_view bus_name, std::string_view statement_id,
                                          std::string_view principal, std::string_view action) {
  if (action != "events:PutEvents") {
    return AwsError("ValidationException",
                    "Provided value in parameter 'action' is not supported.");
  }
  if (!IsStatementId(statement_id)) {
    return AwsErrorF("ValidationException",
                     "1 validation error detected: Value '{}' at 'statementId' failed to "
                     "satisfy constraint: Member must satisfy regular expression pattern: "
                     "[a-zA-Z0-9-_]+",
                     statement_id);
  }
  if (principal != "*" && !IsAccountId(principal)) {
    return AwsErrorF("ValidationException",
                     "1 validation error detected: Value '{}' at 'principal' failed to satisfy "
                     "constraint: Member must satisfy regular expression pattern: "
                     "(\\d{{12}}|\\*)",
                     principal);
  }
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<EventBus> bus,
                           GetEventBus(bus_name.empty() ? "default" : bus_name));
  EventBus::State& st = BusAccess::Of(*bus);
  std::unique_lock lock(st.mu);
  Json policy = st.policy.empty()
                    ? Json(JsonObject{{"Version", "2012-10-17"}, {"Statement", JsonArray{}}})
                    : ParseJson(st.policy).value();
  JsonArray& statements = policy.as_object()["Statement"].as_array();
  EraseStatements(statements, statement_id);
  JsonObject statement{{"Sid", statement_id}, {"Effect", "Allow"}};
  if (principal == "*") {
    statement["Principal"] = "*";
  } else {
    statement["Principal"] = JsonObject{{"AWS", fmt::format("arn:aws:iam::{}:root", principal)}};
  }
  statement["Action"] = action;
  statement["Resource"] = bus->arn();
  statements.push_back(std::move(statement));
  st.policy = ToJsonText(policy);
  st.modified = hub_.clock().Now();
  RecordBusChanged(*bus);
  lock.unlock();
  return detail::Durable(absl::OkStatus());
}

absl::Status EventsService::PutPolicy(std::string_view bus_name, std::string_view policy) {
  absl::StatusOr<Json> doc = ParseJson(policy);
  const JsonObject* o = doc.ok() ? doc->if_object() : nullptr;
  if (o == nullptr || !o->contains("Statement")) {
    return AwsError("ValidationException", "Parameter Policy is not valid.");
  }
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<EventBus> bus,
                           GetEventBus(bus_name.empty() ? "default" : bus_name));
  EventBus::State& st = BusAccess::Of(*bus);
  {
    std::lock_guard lock(st.mu);
    st.policy = ToJsonText(*doc);
    st.modified = hub_.clock().Now();
    RecordBusChanged(*bus);
  }
  return detail::Durable(absl::OkStatus());
}

absl::Status EventsService::RemovePermission(std::string_view bus_name,
                                             std::string_view statement_id, bool remove_all) {
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<EventBus> bus,
                           GetEventBus(bus_name.empty() ? "default" : bus_name));
  EventBus::State& st = BusAccess::Of(*bus);
  std::unique_lock lock(st.mu);
  if (st.policy.empty()) {
    return AwsError("ResourceNotFoundException", "EventBus does not have a policy.");
  }
  if (remove_all) {
    st.policy.clear();
    st.modified = hub_.clock().Now();
    RecordBusChanged(*bus);
    lock.unlock();
    return detail::Durable(absl::OkStatus());
  }
  Json policy = ParseJson(st.policy).value();
  JsonArray* statements = nullptr;
  if (Json* s = policy.as_object().if_contains("Statement")) statements = s->if_array();
  if (statements == nullptr || EraseStatements(*statements, statement_id) == 0) {
    return AwsError("ResourceNotFoundException", "Statement with the provided id does not exist.");
  }
  st.policy = statements->empty() ? std::string() : ToJsonText(policy);
  st.modified = hub_.clock().Now();
  RecordBusChanged(*bus);
  lock.unlock();
  return detail::Durable(absl::OkStatus());
}

namespace {

// The bus and, for a rule's ARN, the rule's name, of a bus or rule ARN of this hub.
struct TagTarget {
  std::shared_ptr<EventBus> bus;
  std::string rule;  // empty for the bus itself
};

absl::StatusOr<TagTarget> FindTagTarget(const EventsService& service, Hub& hub,
                                        std::string_view arn) {
  const std::string prefix = hub.Arn("events", "");
  auto missing = [&] {
    return AwsErrorF("ResourceNotFoundException", "Resource {} does not exist.", arn);
  };
  if (!arn.starts_with(prefix)) return missing();
  std::string_view rest = arn.substr(prefix.size());
  if (rest.starts_with("event-bus/")) {
    absl::StatusOr<std::shared_ptr<EventBus>> bus = service.GetEventBus(arn);
    if (!bus.ok()) return missing();
    return TagTarget{*std::move(bus), ""};
  }
  if (!rest.starts_with("rule/")) return missing();
  rest.remove_prefix(5);
  std::string_view bus_name = "default";
  if (size_t slash = rest.rfind('/'); slash != std::string_view::npos) {
    bus_name = rest.substr(0, slash);
    rest.remove_prefix(slash + 1);
  }
  absl::StatusOr<std::shared_ptr<EventBus>> bus = service.GetEventBus(bus_name);
  if (!bus.ok() || !(*bus)->DescribeRule(rest).ok()) return missing();
  return TagTarget{*std::move(bus), std::string(rest)};
}

}  // namespace

absl::Status EventsService::TagResource(std::string_view arn, const EventsTagMap& tags) {
  COURIER_ASSIGN_OR_RETURN(TagTarget t, FindTagTarget(*this, hub_, arn));
  EventBus::State& st = BusAccess::Of(*t.bus);
  {
    std::lock_guard lock(st.mu);
    EventsTagMap& mine = t.rule.empty() ? st.tags : st.rule_tags[std::string(arn)];
    EventsTagMap merged = mine;
    for (const auto& [k, v] : tags) merged[k] = v;
    if (merged.size() > 50) {  // and the tags stay as they were
      return AwsError("ValidationException", "A resource can have at most 50 tags.");
    }
    mine = std::move(merged);
    if (st.log != nullptr) st.log->Append(TagsSet{std::string(arn), mine});
  }
  return detail::Durable(absl::OkStatus());
}

absl::Status EventsService::UntagResource(std::string_view arn,
                                          const std::vector<std::string>& keys) {
  COURIER_ASSIGN_OR_RETURN(TagTarget t, FindTagTarget(*this, hub_, arn));
  EventBus::State& st = BusAccess::Of(*t.bus);
  {
    std::lock_guard lock(st.mu);
    EventsTagMap& mine = t.rule.empty() ? st.tags : st.rule_tags[std::string(arn)];
    for (const std::string& k : keys) mine.erase(k);
    if (st.log != nullptr) st.log->Append(TagsSet{std::string(arn), mine});
  }
  return detail::Durable(absl::OkStatus());
}

absl::StatusOr<EventsTagMap> EventsService::ListTagsForResource(std::string_view arn) const {
  COURIER_ASSIGN_OR_RETURN(TagTarget t, FindTagTarget(*this, hub_, arn));
  EventBus::State& st = BusAccess::Of(*t.bus);
  std::lock_guard lock(st.mu);
  if (t.rule.empty()) return st.tags;
  auto it = st.rule_tags.find(arn);
  return it == st.rule_tags.end() ? EventsTagMap{} : it->second;
}

// ---- Archives -------------------------------------------------------------------------------

absl::StatusOr<std::string> EventsService::CreateArchive(std::string_view name,
                                                         const ArchiveSpec& spec) {
  if (!events_internal::IsResourceName(name, 48)) return PatternError("archiveName", name, 48);
  if (spec.retention_days < 0) {
    return AwsError("ValidationException",
                    "1 validation error detected: Value at 'retentionDays' failed to satisfy "
                    "constraint: Member must have value greater than or equal to 0");
  }
  if (spec.event_pattern) {
    COURIER_RETURN_IF_ERROR(EventPattern::Compile(*spec.event_pattern).status());
  }
  State& s = *state_;
  std::unique_lock lock(s.mu);
  if (s.BusLocked(spec.event_source_arn) == nullptr || !spec.event_source_arn.starts_with("arn:")) {
    return BusNotFound(spec.event_source_arn);
  }
  if (s.archives.contains(name)) {
    return AwsErrorF("ResourceAlreadyExistsException", "Archive {} already exists.", name);
  }
  ArchiveRecord a;
  a.description = {.name = std::string(name),
                   .arn = hub_.Arn("events", fmt::format("archive/{}", name)),
                   .event_source_arn = spec.event_source_arn,
                   .event_pattern = spec.event_pattern,
                   .description = spec.description,
                   .state = "ENABLED",
                   .retention_days = spec.retention_days,
                   .size_bytes = 0,
                   .event_count = 0,
                   .creation_time = hub_.clock().Now()};
  a.store = std::make_shared<ArchiveStore>();
  a.store->retention = absl::Hours(24) * spec.retention_days;
  a.store->name = std::string(name);
  a.store->log = s.log;
  ArchiveRecord& added = s.archives.emplace(std::string(name), std::move(a)).first->second;
  s.Record(
      ArchiveCreated{std::string(name), spec, absl::ToUnixNanos(added.description.creation_time)});
  s.Attach(added);
  absl::StatusOr<std::string> arn = added.description.arn;
  lock.unlock();
  detail::Durable(arn);
  return arn;
}

absl::StatusOr<ArchiveDescription> EventsService::DescribeArchive(std::string_view name) const {
  std::lock_guard lock(state_->mu);
  auto it = state_->archives.find(name);
  if (it == state_->archives.end()) return ArchiveNotFound(name);
  return DescribeArchiveRecord(it->second, hub_.clock().Now());
}

std::vector<ArchiveDescription> EventsService::ListArchives(
    std::string_view prefix, std::string_view event_source_arn) const {
  std::lock_guard lock(state_->mu);
  std::vector<ArchiveDescription> out;
  for (const auto& [name, a] : state_->archives) {
    if (!name.starts_with(prefix)) continue;
    if (!event_source_arn.empty() && a.description.event_source_arn != event_source_arn) continue;
    out.push_back(DescribeArchiveRecord(a, hub_.clock().Now()));
  }
  return out;
}

absl::Status EventsService::UpdateArchive(std::string_view name, const ArchiveSpec& spec) {
  if (spec.retention_days < 0) {
    return AwsError("ValidationException",
                    "1 validation error detected: Value at 'retentionDays' failed to satisfy "
                    "constraint: Member must have value greater than or equal to 0");
  }
  if (spec.event_pattern) {
    COURIER_RETURN_IF_ERROR(EventPattern::Compile(*spec.event_pattern).status());
  }
  State& s = *state_;
  std::unique_lock lock(s.mu);
  auto it = s.archives.find(name);
  if (it == s.archives.end()) return ArchiveNotFound(name);
  ArchiveRecord& a = it->second;
  a.description.description = spec.description;
  a.description.retention_days = spec.retention_days;
  {
    std::lock_guard store_lock(a.store->mu);
    a.store->retention = absl::Hours(24) * spec.retention_days;
  }
  if (spec.event_pattern != a.description.event_pattern) {
    a.description.event_pattern = spec.event_pattern;
    s.Attach(a);
  }
  s.Record(ArchiveUpdated{std::string(name), spec});
  lock.unlock();
  return detail::Durable(absl::OkStatus());
}

absl::Status EventsService::DeleteArchive(std::string_view name) {
  State& s = *state_;
  {
    std::lock_guard lock(s.mu);
    auto it = s.archives.find(name);
    if (it == s.archives.end()) return ArchiveNotFound(name);
    s.Detach(it->second);
    s.archives.erase(it);
    s.Record(ArchiveDeleted{std::string(name)});
  }
  return detail::Durable(absl::OkStatus());
}

// ---- Replays --------------------------------------------------------------------------------

absl::StatusOr<ReplayDescription> EventsService::StartReplay(const ReplaySpec& spec) {
  if (!events_internal::IsResourceName(spec.name)) return PatternError("replayName", spec.name, 64);
  if (spec.event_start_time >= spec.event_end_time) {
    return AwsError("ValidationException",
                    "Parameter EventStartTime is not valid. Reason: EventStartTime must be "
                    "before EventEndTime.");
  }
  const absl::Time now = hub_.clock().Now();
  if (spec.event_end_time > now) {
    return AwsError("ValidationException",
                    "Parameter EventEndTime is not valid. Reason: EventEndTime must not be in "
                    "the future.");
  }
  State& s = *state_;
  std::shared_ptr<ReplayRecord> replay;
  {
    std::lock_guard lock(s.mu);
    if (s.replays.contains(spec.name)) {
      return AwsErrorF("ResourceAlreadyExistsException", "Replay {} already exists.", spec.name);
    }
    const ArchiveRecord* archive = nullptr;
    for (const auto& [name, a] : s.archives) {
      if (a.description.arn == spec.event_source_arn) archive = &a;
    }
    if (archive == nullptr) return ArchiveNotFound(spec.event_source_arn);
    if (spec.destination_arn != archive->description.event_source_arn) {
      return AwsError("ValidationException",
                      "Parameter Destination.Arn is not valid. Reason: Cross event bus replay "
                      "is not permitted.");
    }
    std::shared_ptr<EventBus> bus = s.BusLocked(spec.destination_arn);
    if (bus == nullptr) return BusNotFound(spec.destination_arn);
    for (const std::string& rule_arn : spec.filter_arns) {
      const std::string_view rule = std::string_view(rule_arn).substr(rule_arn.rfind('/') + 1);
      if (!rule_arn.starts_with(hub_.Arn("events", "rule/")) || !bus->DescribeRule(rule).ok()) {
        return AwsErrorF("ValidationException",
                         "Parameter Destination.FilterArns is not valid. Reason: Rule {} does "
                         "not exist on the destination event bus.",
                         rule_arn);
      }
    }
    const size_t running = std::count_if(s.replays.begin(), s.replays.end(), [](const auto& r) {
      return !IsTerminal(r.second->description.state);
    });
    if (running >= s.quotas.concurrent_replays) return LimitExceeded();
    replay = std::make_shared<ReplayRecord>();
    replay->description = {.name = spec.name,
                           .arn = hub_.Arn("events", fmt::format("replay/{}", spec.name)),
                           .description = spec.description,
                           .state = "STARTING",
                           .state_reason = "",
                           .event_source_arn = spec.event_source_arn,
                           .destination_arn = spec.destination_arn,
                           .filter_arns = spec.filter_arns,
                           .event_start_time = spec.event_start_time,
                           .event_end_time = spec.event_end_time,
                           .event_last_replayed_time = std::nullopt,
                           .replay_start_time = now,
                           .replay_end_time = std::nullopt};
    {
      std::lock_guard store_lock(archive->store->mu);
      archive->store->Expire(now);
      for (const ArchiveStore::Entry& e : archive->store->events) {
        if (e.event_time >= spec.event_start_time && e.event_time < spec.event_end_time) {
          replay->events.push_back(e);
        }
      }
    }
    std::stable_sort(replay->events.begin(), replay->events.end(),
                     [](const auto& a, const auto& b) { return a.event_time < b.event_time; });
    s.replays.emplace(spec.name, replay);
  }
  ReplayDescription started = replay->description;
  hub_.clock().ScheduleAt(now, [state = state_.get(), replay] { state->StepReplay(replay); });
  return started;
}

absl::StatusOr<ReplayDescription> EventsService::DescribeReplay(std::string_view name) const {
  std::lock_guard lock(state_->mu);
  auto it = state_->replays.find(name);
  if (it == state_->replays.end()) return ReplayNotFound(name);
  return it->second->description;
}

std::vector<ReplayDescription> EventsService::ListReplays(std::string_view prefix) const {
  std::lock_guard lock(state_->mu);
  std::vector<ReplayDescription> out;
  for (const auto& [name, r] : state_->replays) {
    if (name.starts_with(prefix)) out.push_back(r->description);
  }
  return out;
}

absl::StatusOr<ReplayDescription> EventsService::CancelReplay(std::string_view name) {
  std::lock_guard lock(state_->mu);
  auto it = state_->replays.find(name);
  if (it == state_->replays.end()) return ReplayNotFound(name);
  ReplayDescription& d = it->second->description;
  if (d.state != "STARTING" && d.state != "RUNNING") {
    return AwsErrorF("IllegalStatusException",
                     "Replay {} is not in a valid state for this operation.", name);
  }
  d.state = "CANCELLING";
  return d;
}

void EventsService::SetQuotas(const EventsQuotas& quotas) {
  std::lock_guard lock(state_->mu);
  state_->quotas = quotas;
  state_->rules_per_bus->store(quotas.rules_per_bus, std::memory_order_relaxed);
  state_->targets_per_rule->store(quotas.targets_per_rule, std::memory_order_relaxed);
}

EventsQuotas EventsService::quotas() const {
  std::lock_guard lock(state_->mu);
  return state_->quotas;
}

// ---- Recovery (Hub::Recover) -------------------------------------------------------------------

namespace {
absl::Status Unapplied(std::string_view what, std::string_view name, const absl::Status& why) {
  return absl::DataLossError(fmt::format("An EventBridge record cannot {} {}: {}", what, name,
                                         std::string(why.message())));
}
}  // namespace

namespace {
// After the rules and targets are back: each delivery still waiting for a retry is armed again
// on this hub's clock, at the time it was due.
void ResumeRetries(Hub& hub, EventsService::State& s,
                   std::map<std::pair<std::string, uint64_t>, RetryWaiting> waiting) {
  using events_internal::CompiledTarget;
  using events_internal::Rule;
  if (waiting.empty()) return;
  std::map<std::string, std::shared_ptr<const Rule>, std::less<>> rules;  // by ARN
  {
    std::lock_guard lock(s.mu);
    for (const auto& [name, bus] : s.buses) {
      EventBus::State& st = BusAccess::Of(*bus);
      std::lock_guard bus_lock(st.mu);
      for (const auto& [rule_name, rule] : st.rules) rules.emplace(rule->arn, rule);
    }
  }
  for (auto& [key, w] : waiting) {
    std::shared_ptr<const Rule> rule;
    std::shared_ptr<const CompiledTarget> target;
    if (auto it = rules.find(w.rule_arn); it != rules.end()) {
      rule = it->second;
      for (const auto& t : rule->targets) {
        if (t->spec.id == w.target.id && t->spec.arn == w.target.arn) target = t;
      }
    } else {
      auto gone = std::make_shared<Rule>();
      gone->arn = w.rule_arn;
      gone->name = w.rule_arn.substr(w.rule_arn.rfind('/') + 1);
      rule = std::move(gone);
    }
    // A rule or target removed since: the retry still goes to the target the delivery had, as
    // one waiting in memory when its target was removed does (a target gone: NO_RESOURCE and
    // its dead-letter queue).
    if (target == nullptr) {
      auto held = std::make_shared<CompiledTarget>();
      held->spec = w.target;
      held->retry = held->spec.retry_policy.value_or(TargetRetryPolicy{});
      held->journal = s.journal;
      target = std::move(held);
    }
    auto event = std::make_shared<const std::string>(std::move(w.event));
    events_internal::EventText body =
        w.body ? std::make_shared<const std::string>(std::move(*w.body)) : event;
    events_internal::ResumeRetry({.hub = &hub,
                                  .alive = s.alive,
                                  .rule = std::move(rule),
                                  .target = std::move(target),
                                  .event = event,
                                  .body = std::move(body),
                                  .ingested = absl::FromUnixNanos(w.ingested_ns),
                                  .attempts = w.attempts,
                                  .retry_id = w.id},
                                 absl::FromUnixNanos(w.due_ns), events_internal::FailureStatus(w));
  }
}
}  // namespace

absl::Status EventsService::Recover() {
  State& s = *state_;
  if (s.log == nullptr) return absl::OkStatus();
  // A record names a bus that a later record deletes: nothing to apply to, as in the original.
  auto bus_of = [&](std::string_view name) -> std::shared_ptr<EventBus> {
    std::lock_guard lock(s.mu);
    return s.BusLocked(name);
  };
  auto apply = [&](EventsRecord record) -> absl::Status {
    using namespace events_internal;  // NOLINT: the record types
    if (auto* r = std::get_if<BusCreated>(&record)) {
      absl::StatusOr<std::shared_ptr<EventBus>> bus =
          CreateEventBus(r->name, r->description, r->tags);
      if (!bus.ok()) return Unapplied("create the bus", r->name, bus.status());
      EventBus::State& st = BusAccess::Of(**bus);
      std::lock_guard lock(st.mu);
      st.created = st.modified = absl::FromUnixNanos(r->at_ns);
      return absl::OkStatus();
    }
    if (auto* r = std::get_if<BusChanged>(&record)) {
      if (std::shared_ptr<EventBus> bus = bus_of(r->name)) {
        EventBus::State& st = BusAccess::Of(*bus);
        std::lock_guard lock(st.mu);
        st.description = r->description;
        st.policy = r->policy;
        st.modified = absl::FromUnixNanos(r->at_ns);
      }
      return absl::OkStatus();
    }
    if (auto* r = std::get_if<BusDeleted>(&record)) return DeleteEventBus(r->name);
    if (auto* r = std::get_if<TagsSet>(&record)) {
      absl::StatusOr<TagTarget> t = FindTagTarget(*this, hub_, r->arn);
      if (!t.ok()) return absl::OkStatus();
      EventBus::State& st = BusAccess::Of(*t->bus);
      std::lock_guard lock(st.mu);
      (t->rule.empty() ? st.tags : st.rule_tags[r->arn]) = r->tags;
      return absl::OkStatus();
    }
    if (auto* r = std::get_if<RulePut>(&record)) {
      std::shared_ptr<EventBus> bus = bus_of(r->bus);
      if (bus == nullptr) return absl::OkStatus();
      absl::StatusOr<std::string> arn = bus->PutRule(r->name, r->spec);
      return arn.ok() ? absl::OkStatus() : Unapplied("put the rule", r->name, arn.status());
    }
    if (auto* r = std::get_if<RuleEnabled>(&record)) {
      std::shared_ptr<EventBus> bus = bus_of(r->bus);
      if (bus == nullptr) return absl::OkStatus();
      absl::Status st = r->enabled ? bus->EnableRule(r->name) : bus->DisableRule(r->name);
      return st.ok() ? st : Unapplied("enable or disable the rule", r->name, st);
    }
    if (auto* r = std::get_if<RuleDeleted>(&record)) {
      std::shared_ptr<EventBus> bus = bus_of(r->bus);
      return bus == nullptr ? absl::OkStatus() : bus->DeleteRule(r->name, /*force=*/true);
    }
    if (auto* r = std::get_if<TargetsSet>(&record)) {
      std::shared_ptr<EventBus> bus = bus_of(r->bus);
      if (bus == nullptr) return absl::OkStatus();
      absl::StatusOr<std::vector<Target>> before = bus->ListTargetsByRule(r->rule);
      if (!before.ok()) return Unapplied("set the targets of", r->rule, before.status());
      std::vector<std::string> ids;
      for (const Target& t : *before) ids.push_back(t.id);
      if (!ids.empty()) COURIER_RETURN_IF_ERROR(bus->RemoveTargets(r->rule, ids).status());
      if (r->targets.empty()) return absl::OkStatus();
      absl::StatusOr<TargetsResult> put = bus->PutTargets(r->rule, r->targets);
      return put.ok() ? absl::OkStatus() : Unapplied("set the targets of", r->rule, put.status());
    }
    if (auto* r = std::get_if<ArchiveCreated>(&record)) {
      absl::StatusOr<std::string> arn = CreateArchive(r->name, r->spec);
      if (!arn.ok()) return Unapplied("create the archive", r->name, arn.status());
      std::lock_guard lock(s.mu);
      s.archives.at(r->name).description.creation_time = absl::FromUnixNanos(r->at_ns);
      return absl::OkStatus();
    }
    if (auto* r = std::get_if<ArchiveUpdated>(&record)) {
      absl::Status st = UpdateArchive(r->name, r->spec);
      return st.ok() ? st : Unapplied("update the archive", r->name, st);
    }
    if (auto* r = std::get_if<ArchiveDeleted>(&record)) {
      absl::Status st = DeleteArchive(r->name);
      return st.ok() ? st : Unapplied("delete the archive", r->name, st);
    }
    if (auto* r = std::get_if<EventArchived>(&record)) {
      std::shared_ptr<ArchiveStore> store;
      {
        std::lock_guard lock(s.mu);
        auto it = s.archives.find(r->archive);
        // Gone: a PutEvents that loaded its bus before DeleteArchive kept the event after it.
        if (it == s.archives.end()) return absl::OkStatus();
        store = it->second.store;
      }
      std::lock_guard lock(store->mu);
      store->size_bytes += static_cast<int64_t>(r->event.size());
      store->events.push_back({absl::FromUnixNanos(r->received_ns),
                               absl::FromUnixNanos(r->event_time_ns), std::move(r->event)});
      return absl::OkStatus();
    }
    return absl::OkStatus();
  };
  // The deliveries still waiting for a retry, by (rule ARN, id).
  std::map<std::pair<std::string, uint64_t>, RetryWaiting> waiting;
  COURIER_RETURN_IF_ERROR(s.log->log().Replay([&](std::string_view text) -> absl::Status {
    COURIER_ASSIGN_OR_RETURN(EventsRecord record, events_internal::DecodeEventsRecord(text));
    if (auto* r = std::get_if<RetryWaiting>(&record)) {
      s.journal->KeepAbove(r->id);
      waiting[{r->rule_arn, r->id}] = std::move(*r);
      return absl::OkStatus();
    }
    if (auto* r = std::get_if<events_internal::RetryEnded>(&record)) {
      waiting.erase({r->rule_arn, r->id});
      return absl::OkStatus();
    }
    return apply(std::move(record));
  }));
  ResumeRetries(hub_, s, std::move(waiting));
  return absl::OkStatus();
}

// ---- Registration ---------------------------------------------------------------------------

class EventsOperations final : public Service {
 public:
  explicit EventsOperations(Hub& hub) : hub_(hub), events_(hub) {}
  std::string_view name() const override { return "events"; }
  absl::StatusOr<Json> Invoke(std::string_view operation, const Json& request,
                              const Caller& caller) override {
    return events_internal::InvokeEvents(hub_, operation, request, caller);
  }
  void Shutdown() override { events_.Shutdown(); }
  absl::Status Recover() override { return events_.Recover(); }
  const std::shared_ptr<RetryJournal>& journal() const { return events_.state_->journal; }
  EventsService& typed() { return events_; }

 private:
  Hub& hub_;
  EventsService events_;
};

namespace {
const ServiceRegistrar kRegistrar("events", [](Hub& hub) -> std::unique_ptr<Service> {
  return std::make_unique<EventsOperations>(hub);
});
}  // namespace
COURIER_SERVICE_ANCHOR(events);

std::shared_ptr<RetryJournal> events_internal::RetryJournalOf(Hub& hub) {
  return static_cast<EventsOperations*>(hub.FindService("events"))->journal();
}

EventsService& Events(Hub& hub) {
  return static_cast<EventsOperations*>(hub.FindService("events"))->typed();
}

}  // namespace courier
