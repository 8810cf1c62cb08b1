// The EventBridge Scheduler operation table (events_operations.h): request members in, the
// typed API, AWS's response shapes out. Timestamps are epoch seconds, as the JSON protocol has
// them.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "courier/detail/json_request.h"
#include "courier/hub.h"
#include "courier/scheduler.h"
#include "courier/status.h"
#include "events/events_operations.h"

namespace courier::events_internal {
namespace {

using detail::EpochSeconds;
using detail::Member;
using detail::OptionalEnum;
using detail::OptionalInt;
using detail::OptionalString;
using detail::OptionalTimestamp;
using detail::RequiredString;
using detail::StringList;
using detail::WrongType;

absl::StatusOr<const JsonObject*> RequiredObject(const JsonObject& r, std::string_view name) {
  const Json* v = Member(r, name);
  if (v == nullptr) return detail::MissingMember(name);
  if (!v->is_object()) return WrongType(name, "a structure");
  return &v->get_object();
}

absl::StatusOr<const JsonObject*> OptionalObject(const JsonObject& r, std::string_view name) {
  const Json* v = Member(r, name);
  if (v == nullptr) return nullptr;
  if (!v->is_object()) return WrongType(name, "a structure");
  return &v->get_object();
}

absl::StatusOr<ScheduleTarget> TargetOf(const JsonObject& o) {
  ScheduleTarget t;
  COURIER_ASSIGN_OR_RETURN(t.arn, RequiredString(o, "Arn", 1600));
  COURIER_ASSIGN_OR_RETURN(t.role_arn, RequiredString(o, "RoleArn", 1600));
  COURIER_ASSIGN_OR_RETURN(t.input, OptionalString(o, "Input", 8192));
  COURIER_ASSIGN_OR_RETURN(const JsonObject* sqs, OptionalObject(o, "SqsParameters"));
  if (sqs != nullptr) {
    COURIER_ASSIGN_OR_RETURN(t.message_group_id, OptionalString(*sqs, "MessageGroupId", 128));
  }
  COURIER_ASSIGN_OR_RETURN(const JsonObject* bus, OptionalObject(o, "EventBridgeParameters"));
  if (bus != nullptr) {
    COURIER_ASSIGN_OR_RETURN(std::string detail_type, RequiredString(*bus, "DetailType", 128));
    COURIER_ASSIGN_OR_RETURN(std::string source, RequiredString(*bus, "Source", 256));
    t.detail_type = std::move(detail_type);
    t.source = std::move(source);
  }
  COURIER_ASSIGN_OR_RETURN(const JsonObject* retry, OptionalObject(o, "RetryPolicy"));
  if (retry != nullptr) {
    COURIER_ASSIGN_OR_RETURN(auto attempts, OptionalInt(*retry, "MaximumRetryAttempts", 0, 185));
    COURIER_ASSIGN_OR_RETURN(auto age, OptionalInt(*retry, "MaximumEventAgeInSeconds", 60, 86400));
    TargetRetryPolicy policy;
    if (attempts) policy.maximum_retry_attempts = static_cast<int>(*attempts);
    if (age) policy.maximum_event_age = absl::Seconds(*age);
    t.retry_policy = policy;
  }
  COURIER_ASSIGN_OR_RETURN(const JsonObject* dlq, OptionalObject(o, "DeadLetterConfig"));
  if (dlq != nullptr) {
    COURIER_ASSIGN_OR_RETURN(t.dead_letter_arn, OptionalString(*dlq, "Arn", 1600));
  }
  return t;
}

Json TargetJson(const ScheduleTarget& t) {
  JsonObject o{{"Arn", t.arn}, {"RoleArn", t.role_arn}};
  if (t.input) o["Input"] = *t.input;
  if (t.message_group_id) o["SqsParameters"] = JsonObject{{"MessageGroupId", *t.message_group_id}};
  if (t.detail_type) {
    o["EventBridgeParameters"] =
        JsonObject{{"DetailType", *t.detail_type}, {"Source", t.source.value_or("")}};
  }
  const TargetRetryPolicy retry = t.retry_policy.value_or(TargetRetryPolicy{});
  o["RetryPolicy"] =
      JsonObject{{"MaximumRetryAttempts", retry.maximum_retry_attempts},
                 {"MaximumEventAgeInSeconds", absl::ToInt64Seconds(retry.maximum_event_age)}};
  if (t.dead_letter_arn) o["DeadLetterConfig"] = JsonObject{{"Arn", *t.dead_letter_arn}};
  return o;
}

// CreateSchedule's and UpdateSchedule's members (the same: an update replaces the whole).
absl::StatusOr<std::pair<std::string, ScheduleSpec>> ScheduleOf(const JsonObject& r) {
  COURIER_ASSIGN_OR_RETURN(std::string name, RequiredString(r, "Name", 64));
  ScheduleSpec spec;
  COURIER_ASSIGN_OR_RETURN(auto group, OptionalString(r, "GroupName", 64));
  spec.group = group.value_or("default");
  COURIER_ASSIGN_OR_RETURN(spec.expression, RequiredString(r, "ScheduleExpression", 256));
  COURIER_ASSIGN_OR_RETURN(auto zone, OptionalString(r, "ScheduleExpressionTimezone", 50));
  spec.time_zone = zone.value_or("UTC");
  COURIER_ASSIGN_OR_RETURN(spec.start_date, OptionalTimestamp(r, "StartDate"));
  COURIER_ASSIGN_OR_RETURN(spec.end_date, OptionalTimestamp(r, "EndDate"));
  COURIER_ASSIGN_OR_RETURN(const JsonObject* window, RequiredObject(r, "FlexibleTimeWindow"));
  COURIER_ASSIGN_OR_RETURN(auto mode, OptionalEnum(*window, "Mode", {"OFF", "FLEXIBLE"}));
  if (!mode) return detail::MissingMember("FlexibleTimeWindow.Mode");
  COURIER_ASSIGN_OR_RETURN(auto minutes, OptionalInt(*window, "MaximumWindowInMinutes", 1, 1440));
  if ((*mode == "FLEXIBLE") != minutes.has_value()) {
    return AwsError("ValidationException",
                    "MaximumWindowInMinutes is required with Mode FLEXIBLE and not allowed with "
                    "Mode OFF.");
  }
  spec.flexible_window_minutes = static_cast<int>(minutes.value_or(0));
  COURIER_ASSIGN_OR_RETURN(const JsonObject* target, RequiredObject(r, "Target"));
  COURIER_ASSIGN_OR_RETURN(spec.target, TargetOf(*target));
  COURIER_ASSIGN_OR_RETURN(auto state, OptionalEnum(r, "State", {"ENABLED", "DISABLED"}));
  spec.state = state.value_or("ENABLED");
  COURIER_ASSIGN_OR_RETURN(auto after,
                           OptionalEnum(r, "ActionAfterCompletion", {"NONE", "DELETE"}));
  spec.action_after_completion = after.value_or("NONE");
  COURIER_ASSIGN_OR_RETURN(auto description, OptionalString(r, "Description", 512, 0));
  spec.description = description.value_or("");
  return std::make_pair(std::move(name), std::move(spec));
}

absl::StatusOr<Json> CreateScheduleOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(auto named, ScheduleOf(r));
  COURIER_ASSIGN_OR_RETURN(std::string arn,
                           Scheduler(hub).CreateSchedule(named.first, named.second));
  return JsonObject{{"ScheduleArn", arn}};
}

absl::StatusOr<Json> UpdateScheduleOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(auto named, ScheduleOf(r));
  COURIER_ASSIGN_OR_RETURN(std::string arn,
                           Scheduler(hub).UpdateSchedule(named.first, named.second));
  return JsonObject{{"ScheduleArn", arn}};
}

absl::StatusOr<std::pair<std::string, std::string>> NameAndGroup(const JsonObject& r) {
  COURIER_ASSIGN_OR_RETURN(std::string name, RequiredString(r, "Name", 64));
  COURIER_ASSIGN_OR_RETURN(auto group, OptionalString(r, "GroupName", 64));
  return std::make_pair(std::move(name), group.value_or("default"));
}

absl::StatusOr<Json> GetScheduleOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(auto key, NameAndGroup(r));
  COURIER_ASSIGN_OR_RETURN(ScheduleDescription d,
                           Scheduler(hub).GetSchedule(key.first, key.second));
  const ScheduleSpec& s = d.spec;
  JsonObject o{{"Arn", d.arn},
               {"Name", d.name},
               {"GroupName", s.group},
               {"ScheduleExpression", s.expression},
               {"ScheduleExpressionTimezone", s.time_zone},
               {"State", s.state},
               {"ActionAfterCompletion", s.action_after_completion},
               {"Target", TargetJson(s.target)},
               {"CreationDate", EpochSeconds(d.creation_date)},
               {"LastModificationDate", EpochSeconds(d.last_modification_date)}};
  o["FlexibleTimeWindow"] =
      s.flexible_window_minutes == 0
          ? JsonObject{{"Mode", "OFF"}}
          : JsonObject{{"Mode", "FLEXIBLE"}, {"MaximumWindowInMinutes", s.flexible_window_minutes}};
  if (s.start_date) o["StartDate"] = EpochSeconds(*s.start_date);
  if (s.end_date) o["EndDate"] = EpochSeconds(*s.end_date);
  if (!s.description.empty()) o["Description"] = s.description;
  return o;
}

absl::StatusOr<Json> DeleteScheduleOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(auto key, NameAndGroup(r));
  COURIER_RETURN_IF_ERROR(Scheduler(hub).DeleteSchedule(key.first, key.second));
  return JsonObject{};
}

absl::StatusOr<Json> ListSchedulesOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(auto group, OptionalString(r, "GroupName", 64));
  COURIER_ASSIGN_OR_RETURN(auto prefix, OptionalString(r, "NamePrefix", 64));
  COURIER_ASSIGN_OR_RETURN(auto state, OptionalEnum(r, "State", {"ENABLED", "DISABLED"}));
  auto schedules =
      Scheduler(hub).ListSchedules(group.value_or(""), prefix.value_or(""), state.value_or(""));
  return PagedList(
      r, "Schedules", schedules,
      [](const ScheduleDescription& d) {
        return Json(JsonObject{{"Arn", d.arn},
                               {"Name", d.name},
                               {"GroupName", d.spec.group},
                               {"State", d.spec.state},
                               {"Target", JsonObject{{"Arn", d.spec.target.arn}}},
                               {"CreationDate", EpochSeconds(d.creation_date)},
                               {"LastModificationDate", EpochSeconds(d.last_modification_date)}});
      },
      "MaxResults");
}

Json GroupJson(const ScheduleGroupDescription& g) {
  return JsonObject{{"Arn", g.arn},
                    {"Name", g.name},
                    {"State", "ACTIVE"},
                    {"CreationDate", EpochSeconds(g.creation_date)},
                    {"LastModificationDate", EpochSeconds(g.last_modification_date)}};
}

absl::StatusOr<Json> CreateScheduleGroupOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string name, RequiredString(r, "Name", 64));
  COURIER_ASSIGN_OR_RETURN(EventsTagMap tags, TagsOf(r, "Tags"));
  COURIER_ASSIGN_OR_RETURN(std::string arn, Scheduler(hub).CreateScheduleGroup(name, tags));
  return JsonObject{{"ScheduleGroupArn", arn}};
}

absl::StatusOr<Json> GetScheduleGroupOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string name, RequiredString(r, "Name", 64));
  COURIER_ASSIGN_OR_RETURN(ScheduleGroupDescription g, Scheduler(hub).GetScheduleGroup(name));
  return GroupJson(g);
}

absl::StatusOr<Json> DeleteScheduleGroupOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string name, RequiredString(r, "Name", 64));
  COURIER_RETURN_IF_ERROR(Scheduler(hub).DeleteScheduleGroup(name));
  return JsonObject{};
}

absl::StatusOr<Json> ListScheduleGroupsOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(auto prefix, OptionalString(r, "NamePrefix", 64));
  return PagedList(r, "ScheduleGroups", Scheduler(hub).ListScheduleGroups(prefix.value_or("")),
                   GroupJson, "MaxResults");
}

absl::StatusOr<Json> TagResourceOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string arn, RequiredString(r, "ResourceArn", 1011));
  COURIER_ASSIGN_OR_RETURN(EventsTagMap tags, TagsOf(r, "Tags"));
  COURIER_RETURN_IF_ERROR(Scheduler(hub).TagResource(arn, tags));
  return JsonObject{};
}

absl::StatusOr<Json> UntagResourceOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string arn, RequiredString(r, "ResourceArn", 1011));
  COURIER_ASSIGN_OR_RETURN(std::vector<std::string> keys, StringList(r, "TagKeys"));
  COURIER_RETURN_IF_ERROR(Scheduler(hub).UntagResource(arn, keys));
  return JsonObject{};
}

absl::StatusOr<Json> ListTagsForResourceOp(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string arn, RequiredString(r, "ResourceArn", 1011));
  COURIER_ASSIGN_OR_RETURN(EventsTagMap tags, Scheduler(hub).ListTagsForResource(arn));
  return JsonObject{{"Tags", TagsJson(tags)}};
}

const OperationTable& Operations() {
  static const auto* table = new OperationTable{
      {"CreateSchedule", CreateScheduleOp},
      {"UpdateSchedule", UpdateScheduleOp},
      {"GetSchedule", GetScheduleOp},
      {"DeleteSchedule", DeleteScheduleOp},
      {"ListSchedules", ListSchedulesOp},
      {"CreateScheduleGroup", CreateScheduleGroupOp},
      {"GetScheduleGroup", GetScheduleGroupOp},
      {"DeleteScheduleGroup", DeleteScheduleGroupOp},
      {"ListScheduleGroups", ListScheduleGroupsOp},
      {"TagResource", TagResourceOp},
      {"UntagResource", UntagResourceOp},
      {"ListTagsForResource", ListTagsForResourceOp},
  };
  return *table;
}

}  // namespace

absl::StatusOr<Json> InvokeScheduler(Hub& hub, std::string_view operation, const Json& request,
                                     const Caller& caller) {
  return Dispatch(Operations(), hub, operation, request, caller);
}

}  // namespace courier::events_internal
