#include "events/events_records.h"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "courier/detail/record_reader.h"
#include "courier/json.h"

namespace courier::events_internal {
namespace {

void PutOptional(JsonObject& o, std::string_view key, const std::optional<std::string>& v) {
  if (v) o[key] = *v;
}

// Records keep what the typed API accepted, so their members are read without the request
// shapes' limits (events_operations.cc): a record is not a request.

void PutRetry(JsonObject& o, const std::optional<TargetRetryPolicy>& retry) {
  if (!retry) return;
  o["retries"] = retry->maximum_retry_attempts;
  o["max_age"] = absl::ToInt64Nanoseconds(retry->maximum_event_age);
}
std::optional<TargetRetryPolicy> RetryOf(detail::RecordReader& in) {
  if (in.Value("retries").is_null()) return std::nullopt;
  return TargetRetryPolicy{static_cast<int>(in.Int("retries")),
                           absl::Nanoseconds(in.Int("max_age"))};
}

// A nested record object's members, read by `read`; a problem inside marks `member`.
template <typename Read>
void ReadNested(detail::RecordReader& in, std::string_view member, const Json& v, Read read) {
  if (!v.is_object()) return in.Fail(member);
  detail::RecordReader nested(v.get_object());
  read(nested);
  if (!nested.bad().empty()) in.Fail(member);
}

Json TargetJson(const Target& t) {
  JsonObject o{{"id", t.id}, {"arn", t.arn}, {"role", t.role_arn}};
  PutOptional(o, "input", t.input);
  PutOptional(o, "input_path", t.input_path);
  if (t.input_transformer) {
    o["template"] = t.input_transformer->input_template;
    JsonObject paths;
    for (const auto& [k, v] : t.input_transformer->input_paths_map) paths[k] = v;
    o["paths"] = std::move(paths);
  }
  PutOptional(o, "group", t.message_group_id);
  PutRetry(o, t.retry_policy);
  PutOptional(o, "dlq", t.dead_letter_arn);
  return o;
}
Target TargetOf(detail::RecordReader& in) {
  Target t{.id = in.String("id"), .arn = in.String("arn"), .role_arn = in.String("role")};
  t.input = in.OptionalString("input");
  t.input_path = in.OptionalString("input_path");
  if (std::optional<std::string> input_template = in.OptionalString("template")) {
    InputTransformer transformer{.input_paths_map = {}, .input_template = *input_template};
    for (auto& [k, v] : in.StringMap("paths")) transformer.input_paths_map[k] = v;
    t.input_transformer = std::move(transformer);
  }
  t.message_group_id = in.OptionalString("group");
  t.retry_policy = RetryOf(in);
  t.dead_letter_arn = in.OptionalString("dlq");
  return t;
}

JsonObject ScheduleSpecJson(const ScheduleSpec& s) {
  const ScheduleTarget& t = s.target;
  JsonObject target{{"arn", t.arn}, {"role", t.role_arn}};
  PutOptional(target, "input", t.input);
  PutOptional(target, "group", t.message_group_id);
  PutOptional(target, "detail_type", t.detail_type);
  PutOptional(target, "source", t.source);
  PutRetry(target, t.retry_policy);
  PutOptional(target, "dlq", t.dead_letter_arn);
  JsonObject o{{"group", s.group},
               {"expression", s.expression},
               {"zone", s.time_zone},
               {"window", s.flexible_window_minutes},
               {"target", std::move(target)},
               {"state", s.state},
               {"after", s.action_after_completion},
               {"description", s.description}};
  if (s.start_date) o["start"] = absl::ToUnixNanos(*s.start_date);
  if (s.end_date) o["end"] = absl::ToUnixNanos(*s.end_date);
  return o;
}
ScheduleSpec ScheduleSpecOf(detail::RecordReader& in) {
  ScheduleSpec s{.group = in.String("group"),
                 .expression = in.String("expression"),
                 .time_zone = in.String("zone"),
                 .flexible_window_minutes = static_cast<int>(in.Int("window")),
                 .state = in.String("state"),
                 .action_after_completion = in.String("after"),
                 .description = in.String("description")};
  if (!in.Value("start").is_null()) s.start_date = absl::FromUnixNanos(in.Int("start"));
  if (!in.Value("end").is_null()) s.end_date = absl::FromUnixNanos(in.Int("end"));
  ReadNested(in, "target", in.Value("target"), [&](detail::RecordReader& t) {
    s.target = {.arn = t.String("arn"),
                .role_arn = t.String("role"),
                .input = t.OptionalString("input"),
                .message_group_id = t.OptionalString("group"),
                .detail_type = t.OptionalString("detail_type"),
                .source = t.OptionalString("source"),
                .retry_policy = RetryOf(t),
                .dead_letter_arn = t.OptionalString("dlq")};
  });
  return s;
}

JsonObject ToObject(const BusCreated& r) {
  return {{"op", "CreateEventBus"},
          {"name", r.name},
          {"description", r.description},
          {"tags", detail::StringMapJson(r.tags)},
          {"at", r.at_ns}};
}
JsonObject ToObject(const BusChanged& r) {
  return {{"op", "BusChanged"},
          {"name", r.name},
          {"description", r.description},
          {"policy", r.policy},
          {"at", r.at_ns}};
}
JsonObject ToObject(const BusDeleted& r) { return {{"op", "DeleteEventBus"}, {"name", r.name}}; }
JsonObject ToObject(const TagsSet& r) {
  return {{"op", "Tags"}, {"arn", r.arn}, {"tags", detail::StringMapJson(r.tags)}};
}
JsonObject ToObject(const RulePut& r) {
  JsonObject o{{"op", "PutRule"},
               {"bus", r.bus},
               {"name", r.name},
               {"state", r.spec.state},
               {"description", r.spec.description},
               {"role", r.spec.role_arn},
               {"tags", detail::StringMapJson(r.spec.tags)}};
  PutOptional(o, "pattern", r.spec.event_pattern);
  PutOptional(o, "schedule", r.spec.schedule_expression);
  return o;
}
JsonObject ToObject(const RuleEnabled& r) {
  return {{"op", "EnableRule"}, {"bus", r.bus}, {"name", r.name}, {"enabled", r.enabled}};
}
JsonObject ToObject(const RuleDeleted& r) {
  return {{"op", "DeleteRule"}, {"bus", r.bus}, {"name", r.name}};
}
JsonObject ToObject(const TargetsSet& r) {
  JsonArray targets;
  for (const Target& t : r.targets) targets.push_back(TargetJson(t));
  return {{"op", "Targets"}, {"bus", r.bus}, {"rule", r.rule}, {"targets", std::move(targets)}};
}
void PutArchiveSpec(JsonObject& o, const ArchiveSpec& spec) {
  o["source"] = spec.event_source_arn;
  PutOptional(o, "pattern", spec.event_pattern);
  o["description"] = spec.description;
  o["retention_days"] = spec.retention_days;
}
JsonObject ToObject(const ArchiveCreated& r) {
  JsonObject o{{"op", "CreateArchive"}, {"name", r.name}, {"at", r.at_ns}};
  PutArchiveSpec(o, r.spec);
  return o;
}
JsonObject ToObject(const ArchiveUpdated& r) {
  JsonObject o{{"op", "UpdateArchive"}, {"name", r.name}};
  PutArchiveSpec(o, r.spec);
  return o;
}
JsonObject ToObject(const ArchiveDeleted& r) { return {{"op", "DeleteArchive"}, {"name", r.name}}; }
JsonObject ToObject(const EventArchived& r) {
  return {{"op", "Archived"},
          {"archive", r.archive},
          {"event", r.event},
          {"received", r.received_ns},
          {"time", r.event_time_ns}};
}
JsonObject ToObject(const RetryWaiting& r) {
  JsonObject o{{"op", "RetryWaiting"},      {"id", static_cast<int64_t>(r.id)},
               {"rule", r.rule_arn},        {"target", TargetJson(r.target)},
               {"event", r.event},          {"ingested", r.ingested_ns},
               {"due", r.due_ns},           {"attempts", r.attempts},
               {"code", r.error_code},      {"error", r.error_name},
               {"message", r.error_message}};
  PutOptional(o, "body", r.body);
  return o;
}
JsonObject ToObject(const RetryEnded& r) {
  return {{"op", "RetryEnded"}, {"id", static_cast<int64_t>(r.id)}, {"rule", r.rule_arn}};
}

JsonObject ToObject(const SchedulePut& r) {
  return {{"op", "PutSchedule"},
          {"name", r.name},
          {"schedule", ScheduleSpecJson(r.spec)},
          {"created", r.created_ns},
          {"modified", r.modified_ns}};
}
JsonObject ToObject(const ScheduleCompleted& r) {
  return {{"op", "Completed"}, {"group", r.group}, {"name", r.name}};
}
JsonObject ToObject(const ScheduleDeleted& r) {
  return {{"op", "DeleteSchedule"}, {"group", r.group}, {"name", r.name}};
}
JsonObject ToObject(const GroupPut& r) {
  return {{"op", "PutGroup"},
          {"name", r.name},
          {"tags", detail::StringMapJson(r.tags)},
          {"created", r.created_ns},
          {"modified", r.modified_ns}};
}
JsonObject ToObject(const GroupDeleted& r) { return {{"op", "DeleteGroup"}, {"name", r.name}}; }

ArchiveSpec ArchiveSpecOf(detail::RecordReader& in) {
  return {.event_source_arn = in.String("source"),
          .event_pattern = in.OptionalString("pattern"),
          .description = in.String("description"),
          .retention_days = static_cast<int>(in.Int("retention_days"))};
}

std::vector<Target> TargetsOf(detail::RecordReader& in) {
  std::vector<Target> out;
  const Json targets = in.Value("targets");
  if (!targets.is_array()) {
    in.Fail("targets");
    return out;
  }
  for (const Json& t : targets.get_array()) {
    ReadNested(in, "targets", t,
               [&](detail::RecordReader& target) { out.push_back(TargetOf(target)); });
  }
  return out;
}

// Parses `text` as a record object and hands it to `decode`, which fills `out`; DataLoss (from
// `reader`'s name) for text that is no record, an unknown op or a member that cannot be read.
template <typename Record, typename Decode>
absl::StatusOr<Record> DecodeWith(std::string_view reader, std::string_view text, Decode decode) {
  absl::StatusOr<Json> parsed = ParseJson(text);
  if (!parsed.ok() || !parsed->is_object()) {
    return detail::UnreadableRecord(reader, text, "not a JSON object");
  }
  detail::RecordReader in(parsed->get_object());
  const std::string op = in.String("op");
  std::optional<Record> out = decode(op, in);
  if (!out) return detail::UnreadableRecord(reader, text, fmt::format("unknown op '{}'", op));
  if (!in.bad().empty()) {
    return detail::UnreadableRecord(reader, text, fmt::format("member '{}'", in.bad()));
  }
  return *std::move(out);
}

}  // namespace

std::string EncodeEventsRecord(const EventsRecord& record) {
  return std::visit([](const auto& r) { return ToJsonText(ToObject(r)); }, record);
}

absl::StatusOr<EventsRecord> DecodeEventsRecord(std::string_view text) {
  return DecodeWith<EventsRecord>(
      "An EventBridge", text,
      [](const std::string& op, detail::RecordReader& in) -> std::optional<EventsRecord> {
        if (op == "CreateEventBus") {
          return BusCreated{in.String("name"), in.String("description"), in.StringMap("tags"),
                            in.Int("at")};
        }
        if (op == "BusChanged") {
          return BusChanged{in.String("name"), in.String("description"), in.String("policy"),
                            in.Int("at")};
        }
        if (op == "DeleteEventBus") return BusDeleted{in.String("name")};
        if (op == "Tags") return TagsSet{in.String("arn"), in.StringMap("tags")};
        if (op == "PutRule") {
          return RulePut{.bus = in.String("bus"),
                         .name = in.String("name"),
                         .spec = {.event_pattern = in.OptionalString("pattern"),
                                  .schedule_expression = in.OptionalString("schedule"),
                                  .state = in.String("state"),
                                  .description = in.String("description"),
                                  .role_arn = in.String("role"),
                                  .tags = in.StringMap("tags")}};
        }
        if (op == "EnableRule") {
          return RuleEnabled{in.String("bus"), in.String("name"), in.Bool("enabled", true)};
        }
        if (op == "DeleteRule") return RuleDeleted{in.String("bus"), in.String("name")};
        if (op == "Targets") return TargetsSet{in.String("bus"), in.String("rule"), TargetsOf(in)};
        if (op == "CreateArchive") {
          return ArchiveCreated{in.String("name"), ArchiveSpecOf(in), in.Int("at")};
        }
        if (op == "UpdateArchive") return ArchiveUpdated{in.String("name"), ArchiveSpecOf(in)};
        if (op == "DeleteArchive") return ArchiveDeleted{in.String("name")};
        if (op == "Archived") {
          return EventArchived{in.String("archive"), in.String("event"), in.Int("received"),
                               in.Int("time")};
        }
        if (op == "RetryWaiting") {
          RetryWaiting w{.id = static_cast<uint64_t>(in.Int("id")),
                         .rule_arn = in.String("rule"),
                         .event = in.String("event"),
                         .body = in.OptionalString("body"),
                         .ingested_ns = in.Int("ingested"),
                         .due_ns = in.Int("due"),
                         .attempts = static_cast<int>(in.Int("attempts")),
                         .error_code = static_cast<int>(in.Int("code")),
                         .error_name = in.String("error"),
                         .error_message = in.String("message")};
          ReadNested(in, "target", in.Value("target"),
                     [&](detail::RecordReader& t) { w.target = TargetOf(t); });
          return w;
        }
        if (op == "RetryEnded") {
          return RetryEnded{static_cast<uint64_t>(in.Int("id")), in.String("rule")};
        }
        return std::nullopt;
      });
}

std::string EncodeSchedulerRecord(const SchedulerRecord& record) {
  return std::visit([](const auto& r) { return ToJsonText(ToObject(r)); }, record);
}

absl::StatusOr<SchedulerRecord> DecodeSchedulerRecord(std::string_view text) {
  return DecodeWith<SchedulerRecord>(
      "A Scheduler", text,
      [](const std::string& op, detail::RecordReader& in) -> std::optional<SchedulerRecord> {
        if (op == "PutSchedule") {
          SchedulePut put{.name = in.String("name"),
                          .created_ns = in.Int("created"),
                          .modified_ns = in.Int("modified")};
          ReadNested(in, "schedule", in.Value("schedule"),
                     [&](detail::RecordReader& spec) { put.spec = ScheduleSpecOf(spec); });
          return put;
        }
        if (op == "Completed") return ScheduleCompleted{in.String("group"), in.String("name")};
        if (op == "DeleteSchedule") return ScheduleDeleted{in.String("group"), in.String("name")};
        if (op == "PutGroup") {
          return GroupPut{in.String("name"), in.StringMap("tags"), in.Int("created"),
                          in.Int("modified")};
        }
        if (op == "DeleteGroup") return GroupDeleted{in.String("name")};
        return std::nullopt;
      });
}

}  // namespace courier::events_internal
