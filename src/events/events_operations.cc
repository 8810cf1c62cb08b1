// The EventBridge operation table (events_operations.h): each operation reads its request members,
// calls the typed API and writes AWS's response shape. The typed API checks values; this file
// checks shapes (detail/json_request.h) and pages lists.
#include "events/events_operations.h"

#include <absl/strings/numbers.h>
#include <fmt/format.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "courier/detail/json_request.h"
#include "courier/events.h"
#include "courier/hub.h"
#include "courier/status.h"

namespace courier::events_internal {

using detail::EpochSeconds;
using detail::Member;
using detail::OptionalBool;
using detail::OptionalInt;
using detail::OptionalString;
using detail::OptionalTimestamp;
using detail::RequiredString;
using detail::StringList;
using detail::WrongType;

absl::StatusOr<EventsTagMap> TagsOf(const JsonObject& r, std::string_view name) {
  EventsTagMap out;
  const Json* v = Member(r, name);
  if (v == nullptr) return out;
  if (!v->is_array()) return WrongType(name, "a list of tags");
  for (const Json& tag : v->get_array()) {
    const JsonObject* t = tag.if_object();
    if (t == nullptr) return WrongType(name, "a list of tags");
    COURIER_ASSIGN_OR_RETURN(std::string key, RequiredString(*t, "Key", 128));
    COURIER_ASSIGN_OR_RETURN(std::optional<std::string> value, OptionalString(*t, "Value", 256, 0));
    if (!value) return detail::MissingMember("Value");
    out[key] = *value;
  }
  return out;
}

Json TagsJson(const EventsTagMap& tags) {
  JsonArray out;
  for (const auto& [k, v] : tags) out.push_back(JsonObject{{"Key", k}, {"Value", v}});
  return out;
}

absl::StatusOr<Json> Dispatch(const OperationTable& table, Hub& hub, std::string_view operation,
                              const Json& request, const Caller& caller) {
  auto it = table.find(operation);
  if (it == table.end()) {
    return AwsErrorF("UnknownOperationException", "Unknown operation {}", operation);
  }
  static const JsonObject kNoMembers;
  if (request.is_null()) return it->second(hub, kNoMembers, caller);
  if (!request.is_object()) {
    return AwsError("SerializationException",
                    "The request must be a JSON object of the operation's members.");
  }
  return it->second(hub, request.get_object(), caller);
}

absl::StatusOr<Page> PageOf(const JsonObject& r, size_t count, std::string_view limit_member) {
  COURIER_ASSIGN_OR_RETURN(std::optional<int64_t> limit, OptionalInt(r, limit_member, 1, 100));
  COURIER_ASSIGN_OR_RETURN(std::optional<std::string> token, OptionalString(r, "NextToken", 2048));
  Page page;
  if (token) {
    size_t offset = 0;
    if (!absl::SimpleAtoi(*token, &offset) || offset > count) {
      return AwsError("ValidationException", "The provided NextToken is not valid.");
    }
    page.begin = offset;
  }
  page.end = limit ? std::min(count, page.begin + static_cast<size_t>(*limit)) : count;
  if (page.end < count) page.next_token = std::to_string(page.end);
  return page;
}

namespace {

// ---- Request members ------------------------------------------------------------------------

absl::StatusOr<std::string> BusName(const JsonObject& r, std::string_view member = "EventBusName") {
  COURIER_ASSIGN_OR_RETURN(std::optional<std::string> name, OptionalString(r, member, 1600));
  return name.value_or("default");
}

absl::StatusOr<std::shared_ptr<EventBus>> BusOf(Hub& hub, const JsonObject& r) {
  COURIER_ASSIGN_OR_RETURN(std::string name, BusName(r));
  return Events(hub).GetEventBus(name);
}

// ---- PutEvents ------------------------------------------------------------------------------

absl::StatusOr<Json> PutEventsOp(Hub& hub, const JsonObject& r, const Caller&) {
  const Json* entries = Member(r, "Entries");
  if (entries == nullptr) return detail::MissingMember("entries");
  if (!entries->is_array()) return WrongType("Entries", "a list of entries");
  std::vector<PutEventsEntry> typed;
  for (const Json& e : entries->get_array()) {
    const JsonObject* o = e.if_object();
    if (o == nullptr) return WrongType("Entries", "a list of entries");
    PutEventsEntry entry;
    COURIER_ASSIGN_OR_RETURN(auto source, OptionalString(*o, "Source", 256, 0));
    COURIER_ASSIGN_OR_RETURN(auto detail_type, OptionalString(*o, "DetailType", 256, 0));
    COURIER_ASSIGN_OR_RETURN(auto detail, OptionalString(*o, "Detail", 262144, 0));
    COURIER_ASSIGN_OR_RETURN(auto bus, OptionalString(*o, "EventBusName", 1600));
    COURIER_ASSIGN_OR_RETURN(auto trace, OptionalString(*o, "TraceHeader", 500));
    COURIER_ASSIGN_OR_RETURN(entry.resources, StringList(*o, "Resources"));
    COURIER_ASSIGN_OR_RETURN(entry.time, OptionalTimestamp(*o, "Time"));
    entry.source = source.value_or("");
    entry.detail_type = detail_type.value_or("");
    entry.detail = detail.value_or("");
    entry.event_bus_name = bus.value_or("");
    entry.trace_header = trace;
    typed.push_back(std::move(entry));
  }
  COURIER_ASSIGN_OR_RETURN(PutEventsResult result, Events(hub).PutEvents(std::move(typed)));
  JsonArray out;
  for (const PutEventsResultEntry& e : result.entries) {
    if (e.error_code.empty()) {
      out.push_back(JsonObject{{"EventId", e.event_id}});
    } else {
      out.push_back(JsonObject{{"ErrorCode", e.error_code}, {"ErrorMessage", e.error_message}});
    }
  }
  return JsonObject{{"FailedEntryCount", result.failed_entry_count}, {"Entries", std::move(out)}};
}

// ---- Rules ----------------------------------------------------------------------------------

Json RuleJson(const RuleDescription& d) {
  JsonObject o{{"Name", d.name},
               {"Arn", d.arn},
               {"State", d.state},
               {"EventBusName", d.event_bus_name},
               {"CreatedBy", d.created_by}};
  if (d.event_pattern) o["EventPattern"] = *d.event_pattern;
  if (d.schedule_expression) o["ScheduleExpression"] = *d.schedule_expression;
  if (!d.description.empty()) o["Description"] = d.description;
  if (!d.role_arn.empty()) o["RoleArn"] = d.role_arn;
  return o;
}

absl::StatusOr<Json> PutRuleOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string name, RequiredString(r, "Name", 64));
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<EventBus> bus, BusOf(hub, r));
  RuleSpec spec;
  COURIER_ASSIGN_OR_RETURN(spec.event_pattern, OptionalString(r, "EventPattern", 4096));
  COURIER_ASSIGN_OR_RETURN(spec.schedule_expression, OptionalString(r, "ScheduleExpression", 256));
  COURIER_ASSIGN_OR_RETURN(auto state, OptionalString(r, "State", 64));
  COURIER_ASSIGN_OR_RETURN(auto description, OptionalString(r, "Description", 512, 0));
  COURIER_ASSIGN_OR_RETURN(auto role, OptionalString(r, "RoleArn", 1600));
  COURIER_ASSIGN_OR_RETURN(spec.tags, TagsOf(r, "Tags"));
  spec.state = state.value_or("ENABLED");
  spec.description = description.value_or("");
  spec.role_arn = role.value_or("");
  COURIER_ASSIGN_OR_RETURN(std::string arn, bus->PutRule(name, spec));
  return JsonObject{{"RuleArn", arn}};
}

absl::StatusOr<Json> DescribeRuleOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string name, RequiredString(r, "Name", 64));
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<EventBus> bus, BusOf(hub, r));
  COURIER_ASSIGN_OR_RETURN(RuleDescription d, bus->DescribeRule(name));
  return RuleJson(d);
}

absl::StatusOr<Json> ListRulesOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(auto prefix, OptionalString(r, "NamePrefix", 64));
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<EventBus> bus, BusOf(hub, r));
  return PagedList(r, "Rules", bus->ListRules(prefix.value_or("")), RuleJson);
}

template <absl::Status (EventBus::*Method)(std::string_view)>
absl::StatusOr<Json> RuleStateOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string name, RequiredString(r, "Name", 64));
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<EventBus> bus, BusOf(hub, r));
  COURIER_RETURN_IF_ERROR(((*bus).*Method)(name));
  return JsonObject{};
}

absl::StatusOr<Json> DeleteRuleOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string name, RequiredString(r, "Name", 64));
  COURIER_ASSIGN_OR_RETURN(std::optional<bool> force, OptionalBool(r, "Force"));
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<EventBus> bus, BusOf(hub, r));
  COURIER_RETURN_IF_ERROR(bus->DeleteRule(name, force.value_or(false)));
  return JsonObject{};
}

absl::StatusOr<Json> ListRuleNamesByTargetOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string arn, RequiredString(r, "TargetArn", 1600));
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<EventBus> bus, BusOf(hub, r));
  return PagedList(r, "RuleNames", bus->ListRuleNamesByTarget(arn),
                   [](const std::string& name) { return Json(name); });
}

absl::StatusOr<Json> TestEventPatternOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string pattern, RequiredString(r, "EventPattern"));
  COURIER_ASSIGN_OR_RETURN(std::string event, RequiredString(r, "Event"));
  COURIER_ASSIGN_OR_RETURN(bool result, Events(hub).TestEventPattern(pattern, event));
  return JsonObject{{"Result", result}};
}

// ---- Targets --------------------------------------------------------------------------------

absl::StatusOr<Target> TargetOf(const Json& v) {
  const JsonObject* o = v.if_object();
  if (o == nullptr) return WrongType("Targets", "a list of targets");
  Target t;
  COURIER_ASSIGN_OR_RETURN(t.id, RequiredString(*o, "Id", 64));
  COURIER_ASSIGN_OR_RETURN(t.arn, RequiredString(*o, "Arn", 1600));
  COURIER_ASSIGN_OR_RETURN(auto role, OptionalString(*o, "RoleArn", 1600));
  t.role_arn = role.value_or("");
  COURIER_ASSIGN_OR_RETURN(t.input, OptionalString(*o, "Input", 8192, 0));
  COURIER_ASSIGN_OR_RETURN(t.input_path, OptionalString(*o, "InputPath", 256, 0));
  if (const Json* it = Member(*o, "InputTransformer")) {
    const JsonObject* io = it->if_object();
    if (io == nullptr) return WrongType("InputTransformer", "a structure");
    InputTransformer transformer;
    COURIER_ASSIGN_OR_RETURN(transformer.input_template,
                             RequiredString(*io, "InputTemplate", 8192));
    if (const Json* paths = Member(*io, "InputPathsMap")) {
      if (!paths->is_object()) return WrongType("InputPathsMap", "a map of strings");
      for (const auto& [k, path] : paths->get_object()) {
        if (!path.is_string()) return WrongType("InputPathsMap", "a map of strings");
        transformer.input_paths_map[std::string(k)] = std::string(path.get_string());
      }
    }
    t.input_transformer = std::move(transformer);
  }
  if (const Json* sqs = Member(*o, "SqsParameters")) {
    const JsonObject* so = sqs->if_object();
    if (so == nullptr) return WrongType("SqsParameters", "a structure");
    COURIER_ASSIGN_OR_RETURN(t.message_group_id, OptionalString(*so, "MessageGroupId", 128));
  }
  if (const Json* retry = Member(*o, "RetryPolicy")) {
    const JsonObject* ro = retry->if_object();
    if (ro == nullptr) return WrongType("RetryPolicy", "a structure");
    TargetRetryPolicy policy;
    COURIER_ASSIGN_OR_RETURN(auto attempts, OptionalInt(*ro, "MaximumRetryAttempts", 0, 185));
    COURIER_ASSIGN_OR_RETURN(auto age, OptionalInt(*ro, "MaximumEventAgeInSeconds", 60, 86400));
    if (attempts) policy.maximum_retry_attempts = static_cast<int>(*attempts);
    if (age) policy.maximum_event_age = absl::Seconds(*age);
    t.retry_policy = policy;
  }
  if (const Json* dlq = Member(*o, "DeadLetterConfig")) {
    const JsonObject* d = dlq->if_object();
    if (d == nullptr) return WrongType("DeadLetterConfig", "a structure");
    COURIER_ASSIGN_OR_RETURN(t.dead_letter_arn, OptionalString(*d, "Arn", 1600));
  }
  return t;
}

Json TargetJson(const Target& t) {
  JsonObject o{{"Id", t.id}, {"Arn", t.arn}};
  if (!t.role_arn.empty()) o["RoleArn"] = t.role_arn;
  if (t.input) o["Input"] = *t.input;
  if (t.input_path) o["InputPath"] = *t.input_path;
  if (t.input_transformer) {
    JsonObject paths;
    for (const auto& [k, v] : t.input_transformer->input_paths_map) paths[k] = v;
    JsonObject transformer{{"InputTemplate", t.input_transformer->input_template}};
    if (!paths.empty()) transformer["InputPathsMap"] = std::move(paths);
    o["InputTransformer"] = std::move(transformer);
  }
  if (t.message_group_id) o["SqsParameters"] = JsonObject{{"MessageGroupId", *t.message_group_id}};
  if (t.retry_policy) {
    o["RetryPolicy"] = JsonObject{
        {"MaximumRetryAttempts", t.retry_policy->maximum_retry_attempts},
        {"MaximumEventAgeInSeconds", absl::ToInt64Seconds(t.retry_policy->maximum_event_age)}};
  }
  if (t.dead_letter_arn) o["DeadLetterConfig"] = JsonObject{{"Arn", *t.dead_letter_arn}};
  return o;
}

Json FailuresJson(const TargetsResult& result) {
  JsonArray failed;
  for (const auto& f : result.failed) {
    failed.push_back(JsonObject{
        {"TargetId", f.target_id}, {"ErrorCode", f.error_code}, {"ErrorMessage", f.error_message}});
  }
  return JsonObject{{"FailedEntryCount", result.failed_entry_count},
                    {"FailedEntries", std::move(failed)}};
}

absl::StatusOr<Json> PutTargetsOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string rule, RequiredString(r, "Rule", 64));
  const Json* targets = Member(r, "Targets");
  if (targets == nullptr) return detail::MissingMember("targets");
  if (!targets->is_array()) return WrongType("Targets", "a list of targets");
  std::vector<Target> typed;
  for (const Json& t : targets->get_array()) {
    COURIER_ASSIGN_OR_RETURN(Target target, TargetOf(t));
    typed.push_back(std::move(target));
  }
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<EventBus> bus, BusOf(hub, r));
  COURIER_ASSIGN_OR_RETURN(TargetsResult result, bus->PutTargets(rule, std::move(typed)));
  return FailuresJson(result);
}

absl::StatusOr<Json> RemoveTargetsOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string rule, RequiredString(r, "Rule", 64));
  COURIER_ASSIGN_OR_RETURN(std::vector<std::string> ids, StringList(r, "Ids"));
  if (ids.empty()) return detail::MissingMember("ids");
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<EventBus> bus, BusOf(hub, r));
  COURIER_ASSIGN_OR_RETURN(TargetsResult result, bus->RemoveTargets(rule, ids));
  return FailuresJson(result);
}

absl::StatusOr<Json> ListTargetsByRuleOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string rule, RequiredString(r, "Rule", 64));
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<EventBus> bus, BusOf(hub, r));
  COURIER_ASSIGN_OR_RETURN(std::vector<Target> targets, bus->ListTargetsByRule(rule));
  return PagedList(r, "Targets", targets, TargetJson);
}

// ---- Buses, permissions, tags ---------------------------------------------------------------

Json BusJson(const EventBusDescription& d) {
  JsonObject o{{"Name", d.name},
               {"Arn", d.arn},
               {"CreationTime", EpochSeconds(d.creation_time)},
               {"LastModifiedTime", EpochSeconds(d.last_modified_time)}};
  if (!d.description.empty()) o["Description"] = d.description;
  if (!d.policy.empty()) o["Policy"] = d.policy;
  return o;
}

absl::StatusOr<Json> CreateEventBusOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string name, RequiredString(r, "Name", 256));
  COURIER_ASSIGN_OR_RETURN(auto description, OptionalString(r, "Description", 512, 0));
  COURIER_ASSIGN_OR_RETURN(EventsTagMap tags, TagsOf(r, "Tags"));
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<EventBus> bus,
                           Events(hub).CreateEventBus(name, description.value_or(""), tags));
  JsonObject out{{"EventBusArn", bus->arn()}};
  if (description) out["Description"] = *description;
  return out;
}

absl::StatusOr<Json> DeleteEventBusOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string name, RequiredString(r, "Name", 256));
  COURIER_RETURN_IF_ERROR(Events(hub).DeleteEventBus(name));
  return JsonObject{};
}

absl::StatusOr<Json> DescribeEventBusOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string name, BusName(r, "Name"));
  COURIER_ASSIGN_OR_RETURN(EventBusDescription d, Events(hub).DescribeEventBus(name));
  return BusJson(d);
}

absl::StatusOr<Json> ListEventBusesOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(auto prefix, OptionalString(r, "NamePrefix", 256));
  return PagedList(r, "EventBuses", Events(hub).ListEventBuses(prefix.value_or("")), BusJson);
}

absl::StatusOr<Json> UpdateEventBusOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string name, BusName(r, "Name"));
  COURIER_ASSIGN_OR_RETURN(auto description, OptionalString(r, "Description", 512, 0));
  COURIER_RETURN_IF_ERROR(Events(hub).UpdateEventBus(name, description.value_or("")));
  COURIER_ASSIGN_OR_RETURN(EventBusDescription d, Events(hub).DescribeEventBus(name));
  return JsonObject{{"Arn", d.arn}, {"Name", d.name}, {"Description", d.description}};
}

absl::StatusOr<Json> PutPermissionOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string bus, BusName(r));
  COURIER_ASSIGN_OR_RETURN(auto policy, OptionalString(r, "Policy"));
  if (policy) {
    COURIER_RETURN_IF_ERROR(Events(hub).PutPolicy(bus, *policy));
    return JsonObject{};
  }
  COURIER_ASSIGN_OR_RETURN(std::string action, RequiredString(r, "Action", 64));
  COURIER_ASSIGN_OR_RETURN(std::string principal, RequiredString(r, "Principal", 12));
  COURIER_ASSIGN_OR_RETURN(std::string statement, RequiredString(r, "StatementId", 64));
  COURIER_RETURN_IF_ERROR(Events(hub).PutPermission(bus, statement, principal, action));
  return JsonObject{};
}

absl::StatusOr<Json> RemovePermissionOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string bus, BusName(r));
  COURIER_ASSIGN_OR_RETURN(auto statement, OptionalString(r, "StatementId", 64));
  COURIER_ASSIGN_OR_RETURN(auto all, OptionalBool(r, "RemoveAllPermissions"));
  COURIER_RETURN_IF_ERROR(
      Events(hub).RemovePermission(bus, statement.value_or(""), all.value_or(false)));
  return JsonObject{};
}

absl::StatusOr<Json> TagResourceOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string arn, RequiredString(r, "ResourceARN", 1600));
  COURIER_ASSIGN_OR_RETURN(EventsTagMap tags, TagsOf(r, "Tags"));
  COURIER_RETURN_IF_ERROR(Events(hub).TagResource(arn, tags));
  return JsonObject{};
}

absl::StatusOr<Json> UntagResourceOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string arn, RequiredString(r, "ResourceARN", 1600));
  COURIER_ASSIGN_OR_RETURN(std::vector<std::string> keys, StringList(r, "TagKeys"));
  COURIER_RETURN_IF_ERROR(Events(hub).UntagResource(arn, keys));
  return JsonObject{};
}

absl::StatusOr<Json> ListTagsForResourceOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string arn, RequiredString(r, "ResourceARN", 1600));
  COURIER_ASSIGN_OR_RETURN(EventsTagMap tags, Events(hub).ListTagsForResource(arn));
  return JsonObject{{"Tags", TagsJson(tags)}};
}

// ---- Archives and replays -------------------------------------------------------------------

Json ArchiveJson(const ArchiveDescription& d, bool full) {
  JsonObject o{{"ArchiveName", d.name},
               {"EventSourceArn", d.event_source_arn},
               {"State", d.state},
               {"RetentionDays", d.retention_days},
               {"SizeBytes", d.size_bytes},
               {"EventCount", d.event_count},
               {"CreationTime", EpochSeconds(d.creation_time)}};
  if (full) {
    o["ArchiveArn"] = d.arn;
    if (!d.description.empty()) o["Description"] = d.description;
    if (d.event_pattern) o["EventPattern"] = *d.event_pattern;
  }
  return o;
}

absl::StatusOr<ArchiveSpec> ArchiveSpecOf(const JsonObject& r, ArchiveSpec spec) {
  COURIER_ASSIGN_OR_RETURN(auto description, OptionalString(r, "Description", 512, 0));
  COURIER_ASSIGN_OR_RETURN(auto pattern, OptionalString(r, "EventPattern", 4096));
  COURIER_ASSIGN_OR_RETURN(auto retention,
                           OptionalInt(r, "RetentionDays", 0, std::numeric_limits<int>::max()));
  if (description) spec.description = *description;
  if (pattern) spec.event_pattern = *pattern;
  if (retention) spec.retention_days = static_cast<int>(*retention);
  return spec;
}

absl::StatusOr<Json> CreateArchiveOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string name, RequiredString(r, "ArchiveName", 48));
  COURIER_ASSIGN_OR_RETURN(std::string source, RequiredString(r, "EventSourceArn", 1600));
  COURIER_ASSIGN_OR_RETURN(ArchiveSpec spec, ArchiveSpecOf(r, {.event_source_arn = source}));
  COURIER_ASSIGN_OR_RETURN(std::string arn, Events(hub).CreateArchive(name, spec));
  COURIER_ASSIGN_OR_RETURN(ArchiveDescription d, Events(hub).DescribeArchive(name));
  return JsonObject{
      {"ArchiveArn", arn}, {"State", d.state}, {"CreationTime", EpochSeconds(d.creation_time)}};
}

absl::StatusOr<Json> DescribeArchiveOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string name, RequiredString(r, "ArchiveName", 48));
  COURIER_ASSIGN_OR_RETURN(ArchiveDescription d, Events(hub).DescribeArchive(name));
  return ArchiveJson(d, true);
}

absl::StatusOr<Json> ListArchivesOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(auto prefix, OptionalString(r, "NamePrefix", 48));
  COURIER_ASSIGN_OR_RETURN(auto source, OptionalString(r, "EventSourceArn", 1600));
  COURIER_ASSIGN_OR_RETURN(auto state, OptionalString(r, "State", 64));
  std::vector<ArchiveDescription> archives =
      Events(hub).ListArchives(prefix.value_or(""), source.value_or(""));
  if (state) std::erase_if(archives, [&](const auto& a) { return a.state != *state; });
  return PagedList(r, "Archives", archives,
                   [](const ArchiveDescription& d) { return ArchiveJson(d, false); });
}

absl::StatusOr<Json> UpdateArchiveOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string name, RequiredString(r, "ArchiveName", 48));
  COURIER_ASSIGN_OR_RETURN(ArchiveDescription now, Events(hub).DescribeArchive(name));
  COURIER_ASSIGN_OR_RETURN(ArchiveSpec spec,
                           ArchiveSpecOf(r, {.event_source_arn = now.event_source_arn,
                                             .event_pattern = now.event_pattern,
                                             .description = now.description,
                                             .retention_days = now.retention_days}));
  COURIER_RETURN_IF_ERROR(Events(hub).UpdateArchive(name, spec));
  return JsonObject{{"ArchiveArn", now.arn},
                    {"State", now.state},
                    {"CreationTime", EpochSeconds(now.creation_time)}};
}

absl::StatusOr<Json> DeleteArchiveOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string name, RequiredString(r, "ArchiveName", 48));
  COURIER_RETURN_IF_ERROR(Events(hub).DeleteArchive(name));
  return JsonObject{};
}

Json ReplayJson(const ReplayDescription& d, bool full) {
  JsonObject o{{"ReplayName", d.name},
               {"EventSourceArn", d.event_source_arn},
               {"State", d.state},
               {"EventStartTime", EpochSeconds(d.event_start_time)},
               {"EventEndTime", EpochSeconds(d.event_end_time)},
               {"ReplayStartTime", EpochSeconds(d.replay_start_time)}};
  if (!d.state_reason.empty()) o["StateReason"] = d.state_reason;
  if (d.event_last_replayed_time) {
    o["EventLastReplayedTime"] = EpochSeconds(*d.event_last_replayed_time);
  }
  if (d.replay_end_time) o["ReplayEndTime"] = EpochSeconds(*d.replay_end_time);
  if (full) {
    o["ReplayArn"] = d.arn;
    if (!d.description.empty()) o["Description"] = d.description;
    JsonObject destination{{"Arn", d.destination_arn}};
    if (!d.filter_arns.empty()) {
      JsonArray filters(d.filter_arns.begin(), d.filter_arns.end());
      destination["FilterArns"] = std::move(filters);
    }
    o["Destination"] = std::move(destination);
  }
  return o;
}

absl::StatusOr<Json> StartReplayOp(Hub& hub, const JsonObject& r, const Caller&) {
  ReplaySpec spec;
  COURIER_ASSIGN_OR_RETURN(spec.name, RequiredString(r, "ReplayName", 64));
  COURIER_ASSIGN_OR_RETURN(auto description, OptionalString(r, "Description", 512, 0));
  COURIER_ASSIGN_OR_RETURN(spec.event_source_arn, RequiredString(r, "EventSourceArn", 1600));
  COURIER_ASSIGN_OR_RETURN(auto start, OptionalTimestamp(r, "EventStartTime"));
  COURIER_ASSIGN_OR_RETURN(auto end, OptionalTimestamp(r, "EventEndTime"));
  if (!start) return detail::MissingMember("eventStartTime");
  if (!end) return detail::MissingMember("eventEndTime");
  const Json* destination = Member(r, "Destination");
  if (destination == nullptr) return detail::MissingMember("destination");
  if (!destination->is_object()) return WrongType("Destination", "a structure");
  COURIER_ASSIGN_OR_RETURN(spec.destination_arn,
                           RequiredString(destination->get_object(), "Arn", 1600));
  COURIER_ASSIGN_OR_RETURN(spec.filter_arns, StringList(destination->get_object(), "FilterArns"));
  spec.description = description.value_or("");
  spec.event_start_time = *start;
  spec.event_end_time = *end;
  COURIER_ASSIGN_OR_RETURN(ReplayDescription d, Events(hub).StartReplay(spec));
  return JsonObject{{"ReplayArn", d.arn},
                    {"State", d.state},
                    {"ReplayStartTime", EpochSeconds(d.replay_start_time)}};
}

absl::StatusOr<Json> DescribeReplayOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string name, RequiredString(r, "ReplayName", 64));
  COURIER_ASSIGN_OR_RETURN(ReplayDescription d, Events(hub).DescribeReplay(name));
  return ReplayJson(d, true);
}

absl::StatusOr<Json> ListReplaysOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(auto prefix, OptionalString(r, "NamePrefix", 64));
  COURIER_ASSIGN_OR_RETURN(auto state, OptionalString(r, "State", 64));
  COURIER_ASSIGN_OR_RETURN(auto source, OptionalString(r, "EventSourceArn", 1600));
  std::vector<ReplayDescription> replays = Events(hub).ListReplays(prefix.value_or(""));
  std::erase_if(replays, [&](const ReplayDescription& d) {
    return (state && d.state != *state) || (source && d.event_source_arn != *source);
  });
  return PagedList(r, "Replays", replays,
                   [](const ReplayDescription& d) { return ReplayJson(d, false); });
}

absl::StatusOr<Json> CancelReplayOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string name, RequiredString(r, "ReplayName", 64));
  COURIER_ASSIGN_OR_RETURN(ReplayDescription d, Events(hub).CancelReplay(name));
  return JsonObject{{"ReplayArn", d.arn}, {"State", d.state}};
}

const OperationTable& Operations() {
  static const auto* table = new OperationTable{
      {"PutEvents", PutEventsOp},
      {"PutRule", PutRuleOp},
      {"DescribeRule", DescribeRuleOp},
      {"ListRules", ListRulesOp},
      {"EnableRule", RuleStateOp<&EventBus::EnableRule>},
      {"DisableRule", RuleStateOp<&EventBus::DisableRule>},
      {"DeleteRule", DeleteRuleOp},
      {"ListRuleNamesByTarget", ListRuleNamesByTargetOp},
      {"TestEventPattern", TestEventPatternOp},
      {"PutTargets", PutTargetsOp},
      {"RemoveTargets", RemoveTargetsOp},
      {"ListTargetsByRule", ListTargetsByRuleOp},
      {"CreateEventBus", CreateEventBusOp},
      {"DeleteEventBus", DeleteEventBusOp},
      {"DescribeEventBus", DescribeEventBusOp},
      {"ListEventBuses", ListEventBusesOp},
      {"UpdateEventBus", UpdateEventBusOp},
      {"PutPermission", PutPermissionOp},
      {"RemovePermission", RemovePermissionOp},
      {"TagResource", TagResourceOp},
      {"UntagResource", UntagResourceOp},
      {"ListTagsForResource", ListTagsForResourceOp},
      {"CreateArchive", CreateArchiveOp},
      {"DescribeArchive", DescribeArchiveOp},
      {"ListArchives", ListArchivesOp},
      {"UpdateArchive", UpdateArchiveOp},
      {"DeleteArchive", DeleteArchiveOp},
      {"StartReplay", StartReplayOp},
      {"DescribeReplay", DescribeReplayOp},
      {"ListReplays", ListReplaysOp},
      {"CancelReplay", CancelReplayOp},
  };
  return *table;
}

}  // namespace

absl::StatusOr<Json> InvokeEvents(Hub& hub, std::string_view operation, const Json& request,
                                  const Caller& caller) {
  return Dispatch(Operations(), hub, operation, request, caller);
}

}  // namespace courier::events_internal
