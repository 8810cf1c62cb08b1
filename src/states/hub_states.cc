// The hub's Functions and Step Functions section, task tokens and the service integrations.
#include "courier/detail/uuid.h"
#include "courier/function.h"
#include "courier/hub.h"
#include "courier/lambda.h"
#include "courier/service.h"
#include "courier/state_machine.h"
#include "courier/step_functions.h"
#include "states/execution_impl.h"
#include "states/json_util.h"

namespace courier {

using states_internal::ExecutionImpl;
using states_internal::Registry;

// ---------------------------------------------------------------------------------------------
// Task tokens.

namespace states_internal {

std::string Registry::NewToken(Waiter waiter, std::string token) {
  if (token.empty()) token = std::string(kTokenPrefix) + detail::NewUuid();
  detail::MutexLock lock(&mu_);
  waiters_[token] = std::move(waiter);
  return token;
}

std::optional<Registry::Waiter> Registry::Find(std::string_view token) {
  detail::MutexLock lock(&mu_);
  auto it = waiters_.find(std::string(token));
  if (it == waiters_.end()) return std::nullopt;
  return it->second;
}

std::optional<Registry::Waiter> Registry::Take(std::string_view token) {
  detail::MutexLock lock(&mu_);
  auto it = waiters_.find(std::string(token));
  if (it == waiters_.end()) return std::nullopt;
  Waiter w = std::move(it->second);
  waiters_.erase(it);
  return w;
}

void Registry::MarkTimedOut(std::string_view token) {
  detail::MutexLock lock(&mu_);
  if (!timed_out_.insert(std::string(token)).second) return;
  timed_out_order_.emplace_back(token);
  if (timed_out_order_.size() > 100000) {
    timed_out_.erase(timed_out_order_.front());
    timed_out_order_.pop_front();
  }
}

bool Registry::TimedOut(std::string_view token) {
  detail::MutexLock lock(&mu_);
  return timed_out_.contains(std::string(token));
}

void Registry::Drop(std::string_view token) {
  detail::MutexLock lock(&mu_);
  waiters_.erase(std::string(token));
}

// ---------------------------------------------------------------------------------------------
// Service integrations.

bool IsLambdaArn(std::string_view resource) {
  return resource.starts_with("arn:aws:lambda:") &&
         resource.find(":function:") != std::string_view::npos;
}

namespace {

const Json* Field(const Json& payload, std::string_view name) {
  return payload.is_object() ? payload.get_object().if_contains(name) : nullptr;
}

std::string TextOf(const Json& v) {
  return v.is_string() ? std::string(v.get_string()) : ToJsonText(v);
}

absl::Status MissingParameter(std::string_view service, std::string_view name) {
  return FunctionError(fmt::format("{}.ValidationException", service),
                       fmt::format("The parameter '{}' is required", name));
}

// A task's call to a service's operation table (courier::Invoke), on behalf of its state
// machine. A failure becomes "<prefix>.<AWS error name>", as Step Functions names the errors of
// its SDK integrations, with the SDK exception names it uses for the ones that have them.
absl::StatusOr<Json> CallService(Hub& hub, std::string_view service, std::string_view operation,
                                 std::string_view prefix, const Json& request,
                                 const TaskCall& call) {
  Caller caller;
  if (call.execution) caller.source_arn = call.execution->state_machine_arn();
  auto result = Invoke(hub, service, operation, request, caller);
  if (result.ok()) return result;
  std::string name(ErrorName(result.status()));
  if (name == "QueueDoesNotExist") name = "QueueDoesNotExistException";
  if (name == "MissingParameter") name = "ValidationException";
  // SNS's SDK exceptions are its error codes with "Exception" (NotFound -> NotFoundException).
  if (prefix == "SNS" && !name.empty() && !name.ends_with("Exception")) name += "Exception";
  if (name.empty()) name = "ServiceException";
  return FunctionError(fmt::format("{}.{}", prefix, name), ErrorMessage(result.status()));
}

// Step Functions sends a member given as JSON (MessageBody, Message, Detail) as its JSON text.
Json WithTextMember(Json request, std::string_view member) {
  if (JsonObject* o = request.if_object()) {
    if (Json* v = o->if_contains(member); v && !v->is_string() && !v->is_null()) {
      *v = ToJsonText(*v);
    }
  }
  return request;
}

// Step Functions fails the task when any entry failed, with the response as its cause.
absl::StatusOr<Json> PutEventsResult(absl::StatusOr<Json> r) {
  if (!r.ok()) return r;
  const Json* failed = Field(*r, "FailedEntryCount");
  if (failed != nullptr && ((failed->is_int64() && failed->as_int64() > 0) ||
                            (failed->is_uint64() && failed->as_uint64() > 0))) {
    return FunctionError("EventBridge.FailedEntry", ToJsonText(*r));
  }
  return r;
}

absl::StatusOr<Json> LambdaInvokeResult(absl::StatusOr<Json> r) {
  if (!r.ok()) return r;
  return Json(
      JsonObject{{"ExecutedVersion", "$LATEST"}, {"Payload", *std::move(r)}, {"StatusCode", 200}});
}

Json DescribeForTask(const ExecutionDescription& d, bool json_io) {
  JsonObject o;
  o["ExecutionArn"] = d.execution_arn;
  o["StateMachineArn"] = d.state_machine_arn;
  o["Name"] = d.name;
  o["Status"] = std::string(ExecutionStatusName(d.status));
  o["StartDate"] = states_internal::FormatTimestamp(d.start_date);
  if (d.stop_date) o["StopDate"] = states_internal::FormatTimestamp(*d.stop_date);
  o["Input"] = json_io ? d.input : Json(ToJsonText(d.input));
  o["InputDetails"] = JsonObject{{"Included", true}};
  if (d.output) {
    o["Output"] = json_io ? *d.output : Json(ToJsonText(*d.output));
    o["OutputDetails"] = JsonObject{{"Included", true}};
  }
  if (d.error) o["Error"] = *d.error;
  if (d.cause) o["Cause"] = *d.cause;
  return o;
}

void StartNestedExecution(Hub& hub, const Json& p, std::string_view pattern,
                          std::function<void(absl::StatusOr<Json>)> done) {
  const Json* arn = Field(p, "StateMachineArn");
  if (!arn || !arn->is_string()) return done(MissingParameter("StepFunctions", "StateMachineArn"));
  std::shared_ptr<StateMachine> machine = StepFunctions(hub).FindStateMachine(arn->get_string());
  if (!machine) {
    return done(FunctionError(
        "StepFunctions.StateMachineDoesNotExistException",
        fmt::format("State Machine Does Not Exist: '{}'", std::string(arn->get_string()))));
  }
  StartExecutionRequest request;
  if (const Json* in = Field(p, "Input"))
    request.input = in->is_string() ? TextOf(*in) : ToJsonText(*in);
  if (const Json* n = Field(p, "Name"); n && n->is_string()) request.name = n->get_string();
  auto exec = machine->StartExecution(std::move(request));
  if (!exec.ok()) {
    return done(FunctionError(fmt::format("StepFunctions.{}", ErrorName(exec.status())),
                              ErrorMessage(exec.status())));
  }
  if (pattern == "sync" || pattern == "sync:2") {
    bool json_io = pattern == "sync:2";
    std::static_pointer_cast<ExecutionImpl>(*exec)->OnDone(
        [done, json_io](const ExecutionDescription& d) {
          Json out = DescribeForTask(d, json_io);
          if (d.status == ExecutionStatus::kSucceeded) return done(out);
          std::string error =
              d.status == ExecutionStatus::kTimedOut ? "States.Timeout" : "States.TaskFailed";
          done(FunctionError(error, ToJsonText(out)));
        });
    return;
  }
  done(Json(JsonObject{
      {"ExecutionArn", (*exec)->arn()},
      {"StartDate", states_internal::FormatTimestamp(
                        std::static_pointer_cast<ExecutionImpl>(*exec)->start_time())}}));
}

}  // namespace

void InvokeResource(Hub& hub, const TaskCall& call,
                    std::function<void(absl::StatusOr<Json>)> done) {
  std::string_view r = call.resource;
  std::string_view pattern;
  // Split "arn:aws:states:::service:action[.pattern]".
  std::string_view base = r;
  for (std::string_view p : {".waitForTaskToken", ".sync:2", ".sync"}) {
    if (r.ends_with(p)) {
      pattern = p.substr(1);
      base = r.substr(0, r.size() - p.size());
      break;
    }
  }
  bool wait_token = pattern == "waitForTaskToken";
  // With .waitForTaskToken the call's own result is dropped: SendTaskSuccess completes the task.
  auto finish = [done, wait_token](absl::StatusOr<Json> result) {
    if (wait_token && result.ok()) return;
    done(std::move(result));
  };
  if (IsLambdaArn(base)) {
    std::shared_ptr<Function> fn = Lambda(hub).FindFunction(base);
    if (!fn) {
      return done(FunctionError("Lambda.ResourceNotFoundException",
                                fmt::format("Function not found: {}", std::string(base))));
    }
    return fn->InvokeAsync(call.payload, finish);
  }
  constexpr std::string_view kPrefix = "arn:aws:states:::";
  if (!base.starts_with(kPrefix)) {
    return done(
        FunctionError("States.Runtime", fmt::format("Unsupported resource: {}", std::string(r))));
  }
  std::string_view api = base.substr(kPrefix.size());
  if (api == "lambda:invoke") {
    const Json* name = Field(call.payload, "FunctionName");
    if (!name || !name->is_string()) return done(MissingParameter("Lambda", "FunctionName"));
    std::shared_ptr<Function> fn = Lambda(hub).FindFunction(name->get_string());
    if (!fn) {
      return done(
          FunctionError("Lambda.ResourceNotFoundException",
                        fmt::format("Function not found: {}", std::string(name->get_string()))));
    }
    const Json* payload = Field(call.payload, "Payload");
    return fn->InvokeAsync(
        payload ? *payload : Json(JsonObject()),
        [finish](absl::StatusOr<Json> r) { finish(LambdaInvokeResult(std::move(r))); });
  }
  if (api == "sqs:sendMessage") {
    return finish(CallService(hub, "sqs", "SendMessage", "SQS",
                              WithTextMember(call.payload, "MessageBody"), call));
  }
  if (api == "sns:publish") {
    return finish(
        CallService(hub, "sns", "Publish", "SNS", WithTextMember(call.payload, "Message"), call));
  }
  if (api == "events:putEvents") {
    Json request = call.payload;
    if (JsonObject* o = request.if_object()) {
      if (Json* entries = o->if_contains("Entries"); entries && entries->is_array()) {
        for (Json& e : entries->get_array()) e = WithTextMember(e, "Detail");
      }
    }
    return finish(
        PutEventsResult(CallService(hub, "events", "PutEvents", "EventBridge", request, call)));
  }
  if (api == "states:startExecution") {
    return StartNestedExecution(hub, call.payload, pattern, finish);
  }
  done(FunctionError("States.Runtime", fmt::format("Unsupported resource: {}", std::string(r))));
}

}  // namespace states_internal

// ---------------------------------------------------------------------------------------------
// Public value types.

std::string_view ExecutionStatusName(ExecutionStatus status) {
  switch (status) {
    case ExecutionStatus::kRunning:
      return "RUNNING";
    case ExecutionStatus::kSucceeded:
      return "SUCCEEDED";
    case ExecutionStatus::kFailed:
      return "FAILED";
    case ExecutionStatus::kTimedOut:
      return "TIMED_OUT";
    case ExecutionStatus::kAborted:
      return "ABORTED";
  }
  return "";
}

std::optional<ExecutionStatus> ParseExecutionStatus(std::string_view name) {
  for (ExecutionStatus s :
       {ExecutionStatus::kRunning, ExecutionStatus::kSucceeded, ExecutionStatus::kFailed,
        ExecutionStatus::kTimedOut, ExecutionStatus::kAborted}) {
    if (ExecutionStatusName(s) == name) return s;
  }
  return std::nullopt;
}

Json ExecutionDescription::ToJson() const {
  JsonObject o;
  o["executionArn"] = execution_arn;
  o["stateMachineArn"] = state_machine_arn;
  o["name"] = name;
  o["status"] = std::string(ExecutionStatusName(status));
  o["startDate"] = states_internal::FormatTimestamp(start_date);
  if (stop_date) o["stopDate"] = states_internal::FormatTimestamp(*stop_date);
  o["input"] = ToJsonText(input);
  if (output) o["output"] = ToJsonText(*output);
  if (error) o["error"] = *error;
  if (cause) o["cause"] = *cause;
  return o;
}

std::string HistoryEvent::DetailsKey() const {
  if (type.ends_with("StateEntered")) return "stateEnteredEventDetails";
  if (type.ends_with("StateExited")) return "stateExitedEventDetails";
  std::string key = type;
  if (!key.empty()) key[0] = static_cast<char>(std::tolower(key[0]));
  return key + "EventDetails";
}

Json HistoryEvent::ToJson() const {
  JsonObject o;
  o["id"] = id;
  o["previousEventId"] = previous_event_id;
  o["timestamp"] = states_internal::FormatTimestamp(timestamp);
  o["type"] = type;
  if (details.is_object() && !details.get_object().empty()) o[DetailsKey()] = details;
  return o;
}

// ---------------------------------------------------------------------------------------------
// StateMachine.

StateMachine::StateMachine(Hub& hub, std::string name, std::string arn, StateMachineOptions options,
                           std::shared_ptr<const states_internal::Plan> plan)
    : MessageSink(std::move(name), std::move(arn)),
      hub_(hub),
      options_(std::move(options)),
      creation_date_(hub.clock().Now()),
      plan_(std::move(plan)) {}

StateMachine::~StateMachine() {
  for (auto& [name, e] : executions_) e->Detach();
}

void StateMachine::AbortExecutions(std::string_view cause) {
  std::vector<std::shared_ptr<states_internal::ExecutionImpl>> executions;
  {
    detail::MutexLock lock(&mu_);
    for (auto& [name, e] : executions_) executions.push_back(e);
    for (auto& weak : express_) {
      if (auto e = weak.lock()) executions.push_back(std::move(e));
    }
  }
  for (auto& e : executions) (void)e->Stop("States.Aborted", cause);
  for (auto& e : executions) e->Detach();
}

std::shared_ptr<const states_internal::Plan> StateMachine::plan() const {
  detail::MutexLock lock(&mu_);
  return plan_;
}

std::string StateMachine::definition() const { return ToJsonText(plan()->definition); }

namespace states_internal {

absl::Status StateMachineDoesNotExist(std::string_view name_or_arn) {
  return AwsErrorF("StateMachineDoesNotExist", "State Machine Does Not Exist: '{}'", name_or_arn);
}

absl::Status ExecutionDoesNotExist(std::string_view name_or_arn) {
  return AwsErrorF("ExecutionDoesNotExist", "Execution Does Not Exist: '{}'", name_or_arn);
}

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 80) return false;
  for (char c : name) {
    if (std::isspace(static_cast<unsigned char>(c)) ||
        std::string_view("<>{}[]?*\"#%\\^|~`$&,;:/").find(c) != std::string_view::npos ||
        static_cast<unsigned char>(c) < 0x20) {
      return false;
    }
  }
  return true;
}

bool UsesCallbackPatterns(const states_internal::Scope& scope) {
  for (const auto& s : scope.states) {
    if (s.resource.ends_with(".waitForTaskToken") ||
        s.resource.find(".sync") != std::string::npos) {
      return true;
    }
    for (const auto& b : s.branches) {
      if (UsesCallbackPatterns(*b)) return true;
    }
    if (s.processor && UsesCallbackPatterns(*s.processor)) return true;
  }
  return false;
}

}  // namespace states_internal

absl::StatusOr<std::shared_ptr<Execution>> StateMachine::StartExecution(
    StartExecutionRequest request) {
  if (deleted()) return states_internal::StateMachineDoesNotExist(arn());
  if (request.name.empty()) request.name = detail::NewUuid();
  if (!states_internal::ValidName(request.name)) {
    return AwsErrorF("InvalidName", "Invalid Name: '{}'", request.name);
  }
  if (request.input.size() > 262144) {
    return AwsError("InvalidExecutionInput", "The input exceeds the maximum size of 262144 bytes");
  }
  auto input = ParseJson(request.input.empty() ? "{}" : request.input);
  if (!input.ok()) {
    return AwsErrorF("InvalidExecutionInput", "Invalid execution input: {}",
                     std::string(input.status().message()));
  }
  std::string arn = fmt::format(
      "arn:aws:states:{}:{}:{}:{}:{}", hub_.environment().region, hub_.environment().account,
      options_.type == StateMachineType::kExpress ? "express" : "execution", name(), request.name);
  std::shared_ptr<ExecutionImpl> exec;
  {
    detail::MutexLock lock(&mu_);
    if (executions_.contains(request.name)) {
      return AwsErrorF("ExecutionAlreadyExists", "Execution Already Exists: '{}'", arn);
    }
    exec = std::make_shared<ExecutionImpl>(*this, plan_, request.name, arn, *std::move(input));
    if (options_.type == StateMachineType::kStandard) {
      executions_.emplace(request.name, exec);
      if (const auto& log = states_internal::TaskTokens(hub_).log()) {
        log->Append(
            states_internal::ExecutionStarted{.machine_arn = this->arn(),
                                              .arn = arn,
                                              .name = request.name,
                                              .input = request.input.empty() ? "{}" : request.input,
                                              .start_ns = absl::ToUnixNanos(exec->start_time())});
      }
    } else {
      express_.push_back(exec);
    }
    if (++starts_ % 1024 == 0) {
      std::erase_if(express_, [](const auto& weak) {
        auto e = weak.lock();
        return e == nullptr || e->done();
      });
      // AWS keeps a closed Standard execution for 90 days; so does courier.
      absl::Time horizon = hub_.clock().Now() - absl::Hours(24 * 90);
      std::erase_if(executions_, [horizon](const auto& entry) {
        std::optional<absl::Time> stop = entry.second->stop_time();
        return stop && *stop < horizon;
      });
    }
  }
  exec->Start();
  absl::StatusOr<std::shared_ptr<Execution>> started(std::move(exec));
  detail::Durable(started);
  return started;
}

absl::StatusOr<SendMessageResult> StateMachine::SendMessage(SendMessageRequest request) {
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<Execution> execution,
                           StartExecution({.input = std::move(request.body)}));
  SendMessageResult result;
  result.message_id = MessageId(execution->name());
  return result;
}

absl::StatusOr<ExecutionDescription> StateMachine::StartSyncExecution(
    StartExecutionRequest request) {
  if (options_.type != StateMachineType::kExpress) {
    return AwsError("StateMachineTypeNotSupported",
                    "StartSyncExecution is only supported for EXPRESS state machines");
  }
  COURIER_ASSIGN_OR_RETURN(std::shared_ptr<Execution> exec, StartExecution(std::move(request)));
  return exec->Await();
}

std::shared_ptr<Execution> StateMachine::FindExecution(std::string_view arn_or_name) const {
  detail::MutexLock lock(&mu_);
  std::string_view name = arn_or_name;
  if (name.starts_with("arn:")) name = name.substr(name.rfind(':') + 1);
  auto it = executions_.find(std::string(name));
  if (it == executions_.end() ||
      (arn_or_name.starts_with("arn:") && it->second->arn() != arn_or_name)) {
    return nullptr;
  }
  return it->second;
}

absl::StatusOr<ExecutionDescription> StateMachine::DescribeExecution(
    std::string_view arn_or_name) const {
  auto e = FindExecution(arn_or_name);
  if (!e) return states_internal::ExecutionDoesNotExist(arn_or_name);
  return e->Describe();
}

absl::StatusOr<std::vector<HistoryEvent>> StateMachine::GetExecutionHistory(
    std::string_view arn_or_name) const {
  auto e = FindExecution(arn_or_name);
  if (!e) return states_internal::ExecutionDoesNotExist(arn_or_name);
  if (options_.type == StateMachineType::kExpress) {
    return AwsError("InvalidArn", "GetExecutionHistory is not supported for EXPRESS executions");
  }
  return e->History();
}

absl::Status StateMachine::StopExecution(std::string_view arn_or_name, std::string_view error,
                                         std::string_view cause) {
  auto e = FindExecution(arn_or_name);
  if (!e) return states_internal::ExecutionDoesNotExist(arn_or_name);
  return e->Stop(error, cause);
}

std::vector<ExecutionDescription> StateMachine::ListExecutions(
    std::optional<ExecutionStatus> status) const {
  std::vector<std::shared_ptr<ExecutionImpl>> all;
  {
    detail::MutexLock lock(&mu_);
    for (const auto& [arn, e] : executions_) all.push_back(e);
  }
  std::vector<ExecutionDescription> out;
  for (const auto& e : all) {
    ExecutionDescription d = e->Describe();
    if (!status || d.status == *status) out.push_back(std::move(d));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.start_date > b.start_date; });
  return out;
}

absl::Status StateMachine::Update(std::string_view definition) {
  if (deleted()) return states_internal::StateMachineDoesNotExist(arn());
  COURIER_ASSIGN_OR_RETURN(auto plan, states_internal::BuildPlan(definition, nullptr));
  if (options_.type == StateMachineType::kExpress && UsesCallbackPatterns(*plan->root)) {
    return AwsError("InvalidDefinition",
                    "Express state machines do not support .sync or .waitForTaskToken");
  }
  {
    detail::MutexLock lock(&mu_);
    plan_ = std::move(plan);
    if (const auto& log = states_internal::TaskTokens(hub_).log()) {
      log->Append(states_internal::MachineUpdated{arn(), std::string(definition)});
    }
  }
  return detail::Durable(absl::OkStatus());
}

}  // namespace courier
