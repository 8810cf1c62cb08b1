// The Step Functions operation table (states_operations.h): each AWS operation reads its request
// members, calls the typed API and writes AWS's response shape. The typed API does the checks of
// values it knows (names, definitions, inputs, tokens); this file checks shapes, the model's
// ranges and ARNs, and pages lists.
#include "states/states_operations.h"

#include <absl/strings/escaping.h>
#include <absl/time/time.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "courier/asl_validation.h"
#include "courier/detail/json_request.h"
#include "courier/execution.h"
#include "courier/hub.h"
#include "courier/state_machine.h"
#include "courier/status.h"
#include "courier/step_functions.h"
#include "states/execution_impl.h"
#include "states/json_util.h"

namespace courier::states_internal {
namespace {

// ---- Request members ----------------------------------------------------------------------------

using detail::EpochSeconds;
using detail::Member;
using detail::MissingMember;
using detail::OptionalBool;
using detail::OptionalEnum;
using detail::OptionalString;
using detail::RequiredString;
using detail::WrongType;

// maxResults: 0 (or absent) is the default page size, at most `max`.
absl::StatusOr<size_t> MaxResults(const JsonObject& o, int64_t max, int64_t fallback) {
  const Json* v = Member(o, "maxResults");
  if (v == nullptr) return static_cast<size_t>(fallback);
  if (!v->is_int64() && !v->is_uint64()) return WrongType("maxResults", "an integer");
  if (v->is_uint64() || v->get_int64() > max) {
    return detail::InvalidMember(
        ToJsonText(*v), "maxResults",
        fmt::format("Member must have value less than or equal to {}", max));
  }
  if (v->get_int64() < 0) {
    return detail::InvalidMember(ToJsonText(*v), "maxResults",
                                 "Member must have value greater than or equal to 0");
  }
  return static_cast<size_t>(v->get_int64() == 0 ? fallback : v->get_int64());
}

// ---- ARNs ---------------------------------------------------------------------------------------

absl::Status InvalidArn(std::string_view detail) {
  return AwsErrorF("InvalidArn", "Invalid Arn: '{}'", detail);
}

std::vector<std::string_view> ArnParts(std::string_view arn) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t colon = arn.find(':', start);
    parts.push_back(arn.substr(start, colon - start));
    if (colon == std::string_view::npos) return parts;
    start = colon + 1;
  }
}

bool IsAccount(std::string_view s) {
  return s.size() == 12 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// arn:<partition>:states:<region>:<account>:<type>:<name>...: the resource type, checked against
// `types`, and the number of name parts after it (`names`, or up to `max_names`).
absl::Status CheckStatesArn(std::string_view arn, const std::vector<std::string_view>& types,
                            size_t names, size_t max_names = 0) {
  const std::vector<std::string_view> parts = ArnParts(arn);
  if (parts.size() < 6 || parts[0] != "arn" || parts[1].empty()) {
    return InvalidArn(fmt::format("Invalid ARN prefix: {}", arn));
  }
  if (parts[2] != "states") return InvalidArn(fmt::format("Invalid ARN service: {}", arn));
  if (parts[3].empty() || !IsAccount(parts[4])) return InvalidArn(arn);
  if (std::find(types.begin(), types.end(), parts[5]) == types.end()) {
    return InvalidArn(fmt::format("Resource type not valid in this context: {}", parts[5]));
  }
  if (parts.size() < 6 + names || parts.size() > 6 + std::max(names, max_names)) {
    return InvalidArn(arn);
  }
  for (size_t i = 6; i < parts.size(); ++i) {
    if (parts[i].empty()) return InvalidArn(arn);
  }
  return absl::OkStatus();
}

// A role ARN: arn:<partition>:iam::<account>:role/<path and name>.
absl::Status CheckRoleArn(std::string_view arn) {
  const std::vector<std::string_view> parts = ArnParts(arn);
  if (parts.size() < 6 || parts[0] != "arn" || parts[1].empty()) {
    return InvalidArn(fmt::format("Invalid ARN prefix: {}", arn));
  }
  if (parts.size() != 6 || parts[2] != "iam" || !parts[3].empty() || !IsAccount(parts[4]) ||
      !parts[5].starts_with("role/") || parts[5].size() == 5) {
    return InvalidArn(arn);
  }
  return absl::OkStatus();
}

// A state machine ARN, plain or qualified (<machine>:<version or alias>); where AWS refuses
// qualified ones (`unqualified`), one is a ValidationException.
absl::Status CheckMachineArn(std::string_view arn, bool unqualified) {
  COURIER_RETURN_IF_ERROR(CheckStatesArn(arn, {"stateMachine"}, 1, 2));
  if (unqualified && ArnParts(arn).size() == 8) {
    return AwsErrorF("ValidationException",
                     "This operation does not take a qualified state machine ARN: '{}'", arn);
  }
  return absl::OkStatus();
}

// Reads stateMachineArn and finds the machine. A qualified ARN names none: courier has no
// versions or aliases.
absl::StatusOr<std::shared_ptr<StateMachine>> FindMachine(Hub& hub, const JsonObject& r,
                                                          bool unqualified = false) {
  COURIER_ASSIGN_OR_RETURN(std::string arn, RequiredString(r, "stateMachineArn", 256));
  COURIER_RETURN_IF_ERROR(CheckMachineArn(arn, unqualified));
  const bool qualified = ArnParts(arn).size() == 8;
  std::shared_ptr<StateMachine> machine =
      qualified ? nullptr : StepFunctions(hub).FindStateMachine(arn);
  if (machine == nullptr || machine->deleted()) return StateMachineDoesNotExist(arn);
  return machine;
}

// Reads executionArn and finds the execution (Standard ones: AWS keeps no Express execution).
absl::StatusOr<std::shared_ptr<Execution>> FindExecution(Hub& hub, const JsonObject& r) {
  COURIER_ASSIGN_OR_RETURN(std::string arn, RequiredString(r, "executionArn", 256));
  COURIER_RETURN_IF_ERROR(CheckStatesArn(arn, {"execution", "express"}, 2));
  std::shared_ptr<Execution> execution = StepFunctions(hub).FindExecution(arn);
  if (execution == nullptr) return ExecutionDoesNotExist(arn);
  return execution;
}

// ---- Response values ----------------------------------------------------------------------------

std::string_view TypeName(StateMachineType type) {
  return type == StateMachineType::kExpress ? "EXPRESS" : "STANDARD";
}

// An entry of ListExecutions: what every description of an execution starts with.
JsonObject ListEntry(const ExecutionDescription& d) {
  JsonObject o{{"executionArn", d.execution_arn},
               {"stateMachineArn", d.state_machine_arn},
               {"name", d.name},
               {"status", ExecutionStatusName(d.status)},
               {"startDate", EpochSeconds(d.start_date)}};
  if (d.stop_date) o["stopDate"] = EpochSeconds(*d.stop_date);
  return o;
}

// DescribeExecution's and StartSyncExecution's shape; `data`: with input and output.
JsonObject ToJson(const ExecutionDescription& d, bool data) {
  JsonObject o = ListEntry(d);
  if (data) {
    o["input"] = ToJsonText(d.input);
    o["inputDetails"] = JsonObject{{"included", true}};
    if (d.output) {
      o["output"] = ToJsonText(*d.output);
      o["outputDetails"] = JsonObject{{"included", true}};
    }
  }
  if (d.error) o["error"] = *d.error;
  if (d.cause) o["cause"] = *d.cause;
  return o;
}

// An event of GetExecutionHistory; without `data`, its input and output are left out.
Json ToJson(const HistoryEvent& e, bool data) {
  JsonObject o{{"timestamp", EpochSeconds(e.timestamp)},
               {"type", e.type},
               {"id", e.id},
               {"previousEventId", e.previous_event_id}};
  if (e.details.is_object() && !e.details.get_object().empty()) {
    JsonObject details = e.details.get_object();
    if (!data) {
      for (const char* key : {"input", "inputDetails", "output", "outputDetails"}) {
        details.erase(key);
      }
    }
    o[e.DetailsKey()] = std::move(details);
  }
  return o;
}

// ---- Paging -------------------------------------------------------------------------------------

// A list in the order AWS gives it: each entry with a key that sorts in that order.
using Entries = std::vector<std::pair<std::string, Json>>;

absl::Status InvalidToken(std::string_view token) {
  return AwsErrorF("InvalidToken", "Invalid Token: '{}'", token);
}

// One page of `entries` under `key` (list member name): those after nextToken, at most
// maxResults; nextToken when more follow. A token holds `context` (what was listed) and the last
// key given, so a page survives entries added or removed since the previous one.
absl::StatusOr<JsonObject> Page(Entries entries, const JsonObject& request, std::string_view key,
                                std::string_view context, int64_t max = 1000,
                                int64_t fallback = 100) {
  COURIER_ASSIGN_OR_RETURN(size_t page, MaxResults(request, max, fallback));
  COURIER_ASSIGN_OR_RETURN(std::optional<std::string> token,
                           OptionalString(request, "nextToken", 1024));
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  auto begin = entries.begin();
  if (token) {
    std::string text;
    const std::string prefix = std::string(context) + "\n";
    if (!absl::WebSafeBase64Unescape(*token, &text) || !text.starts_with(prefix)) {
      return InvalidToken(*token);
    }
    const std::string after = text.substr(prefix.size());
    begin = std::upper_bound(entries.begin(), entries.end(), after,
                             [](const std::string& k, const auto& e) { return k < e.first; });
  }
  const auto end = begin + static_cast<ptrdiff_t>(std::min<size_t>(page, entries.end() - begin));
  JsonArray list;
  for (auto it = begin; it != end; ++it) list.push_back(std::move(it->second));
  JsonObject out{{key, std::move(list)}};
  if (end != entries.end()) {
    out["nextToken"] = absl::WebSafeBase64Escape(fmt::format("{}\n{}", context, (end - 1)->first));
  }
  return out;
}

// A key that sorts newest first, then by `tie`.
std::string NewestFirst(absl::Time t, std::string_view tie) {
  return fmt::format("{:020}|{}", std::numeric_limits<int64_t>::max() - absl::ToUnixNanos(t), tie);
}

// ---- State machines -----------------------------------------------------------------------------

using Handler = absl::StatusOr<Json> (*)(Hub&, const JsonObject&, const Caller&);

constexpr size_t kMaxDefinition = 1048576;
constexpr size_t kMaxName = 80;
constexpr size_t kMaxArn = 256;

// The members AWS accepts that the typed API has no place for: shapes checked, values dropped.
absl::Status CheckUnkeptMembers(const JsonObject& r) {
  for (const char* name :
       {"loggingConfiguration", "tracingConfiguration", "encryptionConfiguration"}) {
    if (const Json* v = Member(r, name); v && !v->is_object())
      return WrongType(name, "a structure");
  }
  COURIER_RETURN_IF_ERROR(OptionalBool(r, "publish").status());
  return OptionalString(r, "versionDescription", 256, 0).status();
}

// tags: [{"key": k, "value": v}], at most 50.
absl::Status CheckTags(const JsonObject& r) {
  const Json* tags = Member(r, "tags");
  if (tags == nullptr) return absl::OkStatus();
  if (!tags->is_array()) return WrongType("tags", "a list");
  for (const Json& tag : tags->get_array()) {
    if (!tag.is_object()) return WrongType("tags", "a list of structures");
    COURIER_RETURN_IF_ERROR(OptionalString(tag.get_object(), "key", 128).status());
    COURIER_RETURN_IF_ERROR(OptionalString(tag.get_object(), "value", 256, 0).status());
  }
  if (tags->get_array().size() > 50) {
    return AwsErrorF("TooManyTags", "Too many tags: {} (at most 50)", tags->get_array().size());
  }
  return absl::OkStatus();
}

absl::StatusOr<Json> CreateStateMachine(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string name, RequiredString(r, "name", kMaxName));
  COURIER_ASSIGN_OR_RETURN(std::string definition, RequiredString(r, "definition", kMaxDefinition));
  COURIER_ASSIGN_OR_RETURN(std::string role, RequiredString(r, "roleArn", kMaxArn));
  COURIER_ASSIGN_OR_RETURN(auto type, OptionalEnum(r, "type", {"STANDARD", "EXPRESS"}));
  COURIER_RETURN_IF_ERROR(CheckTags(r));
  COURIER_RETURN_IF_ERROR(CheckUnkeptMembers(r));
  COURIER_RETURN_IF_ERROR(CheckRoleArn(role));
  StateMachineOptions options;
  options.type = type == "EXPRESS" ? StateMachineType::kExpress : StateMachineType::kStandard;
  options.role_arn = role;
  auto created = StepFunctions(hub).CreateStateMachine(name, definition, options);
  std::shared_ptr<StateMachine> machine;
  if (created.ok()) {
    machine = *std::move(created);
  } else {
    // AWS: the same name, definition and type again is the same machine (a different role or
    // tags are ignored); anything else is StateMachineAlreadyExists.
    if (ErrorName(created.status()) != "StateMachineAlreadyExists") return created.status();
    machine = StepFunctions(hub).FindStateMachine(name);
    auto parsed = ParseJson(definition);
    if (machine == nullptr || machine->type() != options.type || !parsed.ok() ||
        ToJsonText(*parsed) != machine->definition()) {
      return created.status();
    }
  }
  return JsonObject{{"stateMachineArn", machine->arn()},
                    {"creationDate", EpochSeconds(machine->creation_date())}};
}

absl::StatusOr<Json> DescribeStateMachine(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<StateMachine> m, FindMachine(hub, r));
  return JsonObject{
      {"stateMachineArn", m->arn()},
      {"name", m->name()},
      {"status", "ACTIVE"},
      {"definition", m->definition()},
      {"roleArn", m->options().role_arn},
      {"type", TypeName(m->type())},
      {"creationDate", EpochSeconds(m->creation_date())},
      {"loggingConfiguration", JsonObject{{"level", "OFF"}, {"includeExecutionData", false}}},
      {"tracingConfiguration", JsonObject{{"enabled", false}}},
  };
}

absl::StatusOr<Json> ListStateMachines(Hub& hub, const JsonObject& r, const Caller&) {
  Entries entries;
  for (const auto& m : StepFunctions(hub).ListStateMachines()) {
    entries.emplace_back(m->arn(), JsonObject{{"stateMachineArn", m->arn()},
                                              {"name", m->name()},
                                              {"type", TypeName(m->type())},
                                              {"creationDate", EpochSeconds(m->creation_date())}});
  }
  COURIER_ASSIGN_OR_RETURN(JsonObject page,
                           Page(std::move(entries), r, "stateMachines", "ListStateMachines"));
  return page;
}

absl::StatusOr<Json> UpdateStateMachine(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string arn, RequiredString(r, "stateMachineArn", kMaxArn));
  COURIER_RETURN_IF_ERROR(CheckMachineArn(arn, /*unqualified=*/true));
  COURIER_ASSIGN_OR_RETURN(auto definition, OptionalString(r, "definition", kMaxDefinition));
  COURIER_ASSIGN_OR_RETURN(auto role, OptionalString(r, "roleArn", kMaxArn));
  COURIER_RETURN_IF_ERROR(CheckUnkeptMembers(r));
  if (!definition && !role && !Member(r, "loggingConfiguration") &&
      !Member(r, "tracingConfiguration") && !Member(r, "encryptionConfiguration")) {
    return AwsError("MissingRequiredParameter",
                    "Either the definition, the role ARN, the LoggingConfiguration, the "
                    "EncryptionConfiguration or the TracingConfiguration must be specified");
  }
  if (role) COURIER_RETURN_IF_ERROR(CheckRoleArn(*role));
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<StateMachine> m, FindMachine(hub, r, true));
  if (definition) COURIER_RETURN_IF_ERROR(m->Update(*definition));
  return JsonObject{{"updateDate", EpochSeconds(hub.clock().Now())}};
}

absl::StatusOr<Json> DeleteStateMachine(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string arn, RequiredString(r, "stateMachineArn", kMaxArn));
  COURIER_RETURN_IF_ERROR(CheckMachineArn(arn, /*unqualified=*/true));
  absl::Status deleted = StepFunctions(hub).DeleteStateMachine(arn);
  // AWS's DeleteStateMachine has no "does not exist": deleting what is gone succeeds.
  if (!deleted.ok() && ErrorName(deleted) != "StateMachineDoesNotExist") return deleted;
  return JsonObject();
}

absl::StatusOr<Json> ValidateStateMachineDefinition(Hub&, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string definition, RequiredString(r, "definition", kMaxDefinition));
  COURIER_RETURN_IF_ERROR(OptionalEnum(r, "type", {"STANDARD", "EXPRESS"}).status());
  COURIER_ASSIGN_OR_RETURN(auto severity, OptionalEnum(r, "severity", {"ERROR", "WARNING"}));
  COURIER_ASSIGN_OR_RETURN(size_t max, MaxResults(r, 100, 100));
  const ValidationResult result = courier::ValidateStateMachineDefinition(definition);
  JsonArray diagnostics;
  bool truncated = false;
  for (const ValidationDiagnostic& d : result.diagnostics) {
    // severity ERROR (the default) gives errors only; WARNING both.
    if (severity.value_or("ERROR") == "ERROR" && d.severity != "ERROR") continue;
    if (diagnostics.size() == max) {
      truncated = true;
      break;
    }
    JsonObject o{{"severity", d.severity}, {"code", d.code}, {"message", d.message}};
    if (!d.location.empty()) o["location"] = d.location;
    diagnostics.push_back(std::move(o));
  }
  return JsonObject{
      {"result", result.result}, {"diagnostics", std::move(diagnostics)}, {"truncated", truncated}};
}

// ---- Executions ---------------------------------------------------------------------------------

absl::StatusOr<StartExecutionRequest> StartRequestOf(const JsonObject& r) {
  StartExecutionRequest request;
  COURIER_ASSIGN_OR_RETURN(auto name, OptionalString(r, "name", kMaxName));
  COURIER_ASSIGN_OR_RETURN(auto input, OptionalString(r, "input", 262144, 0));
  COURIER_RETURN_IF_ERROR(OptionalString(r, "traceHeader", 256, 0).status());
  if (name) request.name = *std::move(name);
  if (input) request.input = *std::move(input);
  return request;
}

absl::StatusOr<Json> StartExecution(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(StartExecutionRequest request, StartRequestOf(r));
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<StateMachine> m, FindMachine(hub, r));
  const std::string name = request.name, input = request.input;
  auto started = m->StartExecution(std::move(request));
  if (!started.ok()) {
    // AWS: a Standard execution started again with the same name and input while it runs is
    // the same execution; once it has ended, or with another input, ExecutionAlreadyExists.
    if (ErrorName(started.status()) != "ExecutionAlreadyExists") return started.status();
    auto same = m->FindExecution(name);
    auto parsed = ParseJson(input.empty() ? "{}" : input);
    if (same == nullptr || !parsed.ok()) return started.status();
    const ExecutionDescription d = same->Describe();
    if (d.status != ExecutionStatus::kRunning || !JsonEquals(d.input, *parsed)) {
      return started.status();
    }
    return JsonObject{{"executionArn", d.execution_arn}, {"startDate", EpochSeconds(d.start_date)}};
  }
  const std::shared_ptr<Execution>& e = *started;
  return JsonObject{{"executionArn", e->arn()},
                    {"startDate", EpochSeconds(e->Describe().start_date)}};
}

// includedData: ALL_DATA (the default) or METADATA_ONLY (no input, no output).
absl::StatusOr<bool> IncludedData(const JsonObject& r) {
  COURIER_ASSIGN_OR_RETURN(auto included,
                           OptionalEnum(r, "includedData", {"ALL_DATA", "METADATA_ONLY"}));
  return included.value_or("ALL_DATA") == "ALL_DATA";
}

absl::StatusOr<Json> StartSyncExecution(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(StartExecutionRequest request, StartRequestOf(r));
  COURIER_ASSIGN_OR_RETURN(bool data, IncludedData(r));
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<StateMachine> m, FindMachine(hub, r));
  COURIER_ASSIGN_OR_RETURN(ExecutionDescription d, m->StartSyncExecution(std::move(request)));
  return ToJson(d, data);
}

absl::StatusOr<Json> DescribeExecution(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(bool data, IncludedData(r));
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<Execution> e, FindExecution(hub, r));
  return ToJson(e->Describe(), data);
}

absl::StatusOr<Json> ListExecutions(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(auto filter, OptionalEnum(r, "statusFilter",
                                                     {"RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT",
                                                      "ABORTED", "PENDING_REDRIVE"}));
  COURIER_RETURN_IF_ERROR(OptionalEnum(r, "redriveFilter", {"REDRIVEN", "NOT_REDRIVEN"}).status());
  COURIER_ASSIGN_OR_RETURN(auto map_run, OptionalString(r, "mapRunArn", 2000));
  if (Member(r, "stateMachineArn") == nullptr) {
    if (!map_run) {
      return AwsError("ValidationException", "Must provide a StateMachine ARN or MapRun ARN");
    }
    // courier runs every Map inline: no map run exists.
    COURIER_RETURN_IF_ERROR(CheckStatesArn(*map_run, {"mapRun"}, 2));
    return AwsErrorF("ResourceNotFound", "Resource not found: '{}'", *map_run);
  }
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<StateMachine> m, FindMachine(hub, r));
  if (m->type() == StateMachineType::kExpress) {
    return AwsError("StateMachineTypeNotSupported",
                    "This operation is not supported by this type of state machine");
  }
  Entries entries;
  // No execution is redriven in courier: PENDING_REDRIVE lists none.
  if (filter != "PENDING_REDRIVE") {
    std::optional<ExecutionStatus> status = filter ? ParseExecutionStatus(*filter) : std::nullopt;
    for (const ExecutionDescription& d : m->ListExecutions(status)) {
      entries.emplace_back(NewestFirst(d.start_date, d.execution_arn), ListEntry(d));
    }
  }
  COURIER_ASSIGN_OR_RETURN(
      JsonObject page, Page(std::move(entries), r, "executions",
                            fmt::format("ListExecutions {} {}", m->arn(), filter.value_or(""))));
  return page;
}

absl::StatusOr<Json> GetExecutionHistory(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(auto reverse, OptionalBool(r, "reverseOrder"));
  COURIER_ASSIGN_OR_RETURN(auto data, OptionalBool(r, "includeExecutionData"));
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<Execution> e, FindExecution(hub, r));
  Entries entries;
  for (const HistoryEvent& event : e->History()) {
    // Ids from 1: zero-padded they sort oldest first; reversed, newest first.
    const int64_t order =
        reverse.value_or(false) ? std::numeric_limits<int64_t>::max() - event.id : event.id;
    entries.emplace_back(fmt::format("{:020}", order), ToJson(event, data.value_or(true)));
  }
  COURIER_ASSIGN_OR_RETURN(JsonObject page, Page(std::move(entries), r, "events",
                                                 fmt::format("GetExecutionHistory {} {}", e->arn(),
                                                             reverse.value_or(false))));
  return page;
}

absl::StatusOr<Json> StopExecution(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(auto error, OptionalString(r, "error", 256, 0));
  COURIER_ASSIGN_OR_RETURN(auto cause, OptionalString(r, "cause", 32768, 0));
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<Execution> e, FindExecution(hub, r));
  COURIER_RETURN_IF_ERROR(e->Stop(error.value_or(""), cause.value_or("")));
  // The stop may still be on its way to the execution's strand: then it stops now.
  const std::optional<absl::Time> stopped = e->Describe().stop_date;
  return JsonObject{{"stopDate", EpochSeconds(stopped.value_or(hub.clock().Now()))}};
}

// ---- Task tokens --------------------------------------------------------------------------------

constexpr size_t kMaxToken = 2048;

absl::StatusOr<Json> Empty(const absl::Status& status) {
  if (!status.ok()) return status;
  return JsonObject();
}

absl::StatusOr<Json> SendTaskSuccess(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string token, RequiredString(r, "taskToken", kMaxToken));
  COURIER_ASSIGN_OR_RETURN(std::string output, RequiredString(r, "output", 262144));
  return Empty(StepFunctions(hub).SendTaskSuccess(token, output));
}

absl::StatusOr<Json> SendTaskFailure(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string token, RequiredString(r, "taskToken", kMaxToken));
  COURIER_ASSIGN_OR_RETURN(auto error, OptionalString(r, "error", 256, 0));
  COURIER_ASSIGN_OR_RETURN(auto cause, OptionalString(r, "cause", 32768, 0));
  return Empty(StepFunctions(hub).SendTaskFailure(token, error.value_or(""), cause.value_or("")));
}

absl::StatusOr<Json> SendTaskHeartbeat(Hub& hub, const JsonObject& r, const Caller&) {
  COURIER_ASSIGN_OR_RETURN(std::string token, RequiredString(r, "taskToken", kMaxToken));
  return Empty(StepFunctions(hub).SendTaskHeartbeat(token));
}

// The AWSStepFunctions operations the typed API supports.
const std::map<std::string_view, Handler>& Operations() {
  static const auto* table = new std::map<std::string_view, Handler>{
      {"CreateStateMachine", CreateStateMachine},
      {"DeleteStateMachine", DeleteStateMachine},
      {"DescribeExecution", DescribeExecution},
      {"DescribeStateMachine", DescribeStateMachine},
      {"GetExecutionHistory", GetExecutionHistory},
      {"ListExecutions", ListExecutions},
      {"ListStateMachines", ListStateMachines},
      {"SendTaskFailure", SendTaskFailure},
      {"SendTaskHeartbeat", SendTaskHeartbeat},
      {"SendTaskSuccess", SendTaskSuccess},
      {"StartExecution", StartExecution},
      {"StartSyncExecution", StartSyncExecution},
      {"StopExecution", StopExecution},
      {"UpdateStateMachine", UpdateStateMachine},
      {"ValidateStateMachineDefinition", ValidateStateMachineDefinition},
  };
  return *table;
}

}  // namespace

absl::StatusOr<Json> InvokeStepFunctions(Hub& hub, std::string_view operation, const Json& request,
                                         const Caller& caller) {
  auto it = Operations().find(operation);
  if (it == Operations().end()) {
    return AwsErrorF("UnknownOperationException",
                     "The operation {} is not supported by AWSStepFunctions.", operation);
  }
  static const JsonObject kNoMembers;
  if (request.is_null()) return it->second(hub, kNoMembers, caller);
  if (!request.is_object()) {
    return AwsError("SerializationException",
                    "The request must be a JSON object of the operation's members.");
  }
  return it->second(hub, request.get_object(), caller);
}

std::vector<std::string_view> StepFunctionsOperationNames() {
  std::vector<std::string_view> names;
  for (const auto& [name, handler] : Operations()) names.push_back(name);
  return names;
}

}  // namespace courier::states_internal
