#include "states/states_records.h"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "courier/detail/record_reader.h"

namespace courier::states_internal {
namespace {

void PutIf(JsonObject& o, std::string_view key, const std::optional<std::string>& v) {
  if (v) o[key] = *v;
}

JsonObject ToObject(const MachineCreated& r) {
  return {{"op", "CreateStateMachine"}, {"arn", r.arn},       {"name", r.name},
          {"definition", r.definition}, {"role", r.role_arn}, {"express", r.express},
          {"created", r.created_ns}};
}
JsonObject ToObject(const MachineUpdated& r) {
  return {{"op", "UpdateStateMachine"}, {"arn", r.arn}, {"definition", r.definition}};
}
JsonObject ToObject(const MachineDeleted& r) {
  return {{"op", "DeleteStateMachine"}, {"arn", r.arn}};
}
JsonObject ToObject(const ExecutionStarted& r) {
  return {{"op", "StartExecution"}, {"machine", r.machine_arn}, {"arn", r.arn},
          {"name", r.name},         {"input", r.input},         {"start", r.start_ns}};
}
JsonObject ToObject(const ExecutionEvent& r) {
  JsonObject o{{"op", "Event"},          {"arn", r.arn},         {"type", r.type},
               {"previous", r.previous}, {"at", r.timestamp_ns}, {"top", r.top}};
  PutIf(o, "state", r.state);
  if (r.kind != 0) {
    o["kind"] = r.kind;
    o["data"] = r.data;
  }
  if (r.index >= 0) o["index"] = r.index;
  if (!r.details.is_null()) o["details"] = r.details;
  return o;
}
JsonObject ToObject(const TaskTokenIssued& r) {
  return {{"op", "TaskToken"}, {"arn", r.arn}, {"token", r.token}};
}
JsonObject ToObject(const ExecutionEnded& r) {
  JsonObject o{{"op", "EndExecution"}, {"arn", r.arn}, {"status", r.status}, {"stop", r.stop_ns}};
  PutIf(o, "output", r.output);
  PutIf(o, "error", r.error);
  PutIf(o, "cause", r.cause);
  return o;
}

absl::Status Unreadable(std::string_view text, std::string_view why) {
  return detail::UnreadableRecord("A Step Functions", text, why);
}

}  // namespace

std::string EncodeStatesRecord(const StatesRecord& record) {
  return std::visit([](const auto& r) { return ToJsonText(ToObject(r)); }, record);
}

absl::StatusOr<StatesRecord> DecodeStatesRecord(std::string_view text) {
  absl::StatusOr<Json> parsed = ParseJson(text);
  if (!parsed.ok() || !parsed->is_object()) return Unreadable(text, "not a JSON object");
  const JsonObject& o = parsed->get_object();
  detail::RecordReader in(o);
  const std::string op = in.String("op");
  StatesRecord out;
  if (op == "CreateStateMachine") {
    out = MachineCreated{in.String("arn"),  in.String("name"),         in.String("definition"),
                         in.String("role"), in.Bool("express", false), in.Int("created")};
  } else if (op == "UpdateStateMachine") {
    out = MachineUpdated{in.String("arn"), in.String("definition")};
  } else if (op == "DeleteStateMachine") {
    out = MachineDeleted{in.String("arn")};
  } else if (op == "StartExecution") {
    out = ExecutionStarted{in.String("machine"), in.String("arn"), in.String("name"),
                           in.String("input"), in.Int("start")};
  } else if (op == "Event") {
    ExecutionEvent e;
    e.arn = in.String("arn");
    e.type = in.String("type");
    e.previous = in.Int("previous");
    e.timestamp_ns = in.Int("at");
    e.top = in.Bool("top", false);
    e.state = in.OptionalString("state");
    if (o.contains("kind")) {
      e.kind = static_cast<int>(in.Int("kind"));
      e.data = in.String("data");
      if (e.kind != 1 && e.kind != 2) in.Fail("kind");
    }
    if (o.contains("index")) e.index = in.Int("index");
    e.details = in.Value("details");
    out = std::move(e);
  } else if (op == "TaskToken") {
    out = TaskTokenIssued{in.String("arn"), in.String("token")};
  } else if (op == "EndExecution") {
    out = ExecutionEnded{in.String("arn"),
                         in.String("status"),
                         in.Int("stop"),
                         in.OptionalString("output"),
                         in.OptionalString("error"),
                         in.OptionalString("cause")};
  } else {
    return Unreadable(text, fmt::format("unknown op '{}'", op));
  }
  if (!in.bad().empty()) return Unreadable(text, fmt::format("member '{}'", in.bad()));
  return out;
}

}  // namespace courier::states_internal
