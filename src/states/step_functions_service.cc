// The Step Functions service: the hub's state machines (by ARN in the hub), their executions and
// task tokens.
#include <fmt/format.h>

#include <map>
#include <variant>

#include "courier/detail/hub_registry.h"
#include "courier/hub.h"
#include "courier/service.h"
#include "courier/state_machine.h"
#include "courier/status.h"
#include "courier/step_functions.h"
#include "states/execution_impl.h"
#include "states/plan.h"
#include "states/states_operations.h"

namespace courier {

using states_internal::Registry;

// The hub's "states" service: owns the typed control plane; its AWS operation table is
// states_operations.cc.
class StepFunctionsOperations final : public Service {
 public:
  explicit StepFunctionsOperations(Hub& hub) : hub_(hub), step_functions_(hub) {}
  std::string_view name() const override { return "states"; }
  absl::StatusOr<Json> Invoke(std::string_view operation, const Json& request,
                              const Caller& caller) override {
    return states_internal::InvokeStepFunctions(hub_, operation, request, caller);
  }
  void Shutdown() override {
    // Ending the hub is not a change to record: a hub recovered from its records resumes them.
    if (const auto& log = step_functions_.tokens_->log()) log->log().Close();
    step_functions_.AbortExecutions();
  }
  absl::Status Recover() override { return step_functions_.Recover(); }
  StepFunctionsService& typed() { return step_functions_; }

 private:
  Hub& hub_;
  StepFunctionsService step_functions_;
};

namespace {
const ServiceRegistrar kRegistrar("states", [](Hub& hub) -> std::unique_ptr<Service> {
  return std::make_unique<StepFunctionsOperations>(hub);
});
}  // namespace
COURIER_SERVICE_ANCHOR(states);

StepFunctionsService& StepFunctions(Hub& hub) {
  // Registered above, so every hub of a program that links this file has it.
  return static_cast<StepFunctionsOperations*>(hub.FindService("states"))->typed();
}

Registry& states_internal::TaskTokens(Hub& hub) { return *StepFunctions(hub).tokens_; }

StepFunctionsService::StepFunctionsService(Hub& hub)
    : hub_(hub), tokens_(std::make_unique<Registry>()) {
  if (auto log = detail::RecordLog::For(hub.environment().storage,
                                        std::string(states_internal::kStatesLog))) {
    tokens_->set_log(std::make_shared<states_internal::StatesLog>(std::move(log)));
  }
}
StepFunctionsService::~StepFunctionsService() = default;

void StepFunctionsService::AbortExecutions() {
  for (const auto& resource : hub_.ListResources(hub_.Arn("states", "stateMachine:"))) {
    if (auto machine = std::dynamic_pointer_cast<StateMachine>(resource)) {
      machine->AbortExecutions("The hub was destroyed");
    }
  }
}

absl::StatusOr<std::shared_ptr<StateMachine>> StepFunctionsService::CreateStateMachine(
    std::string_view name, std::string_view definition, const StateMachineOptions& options) {
  if (!states_internal::ValidName(name)) {
    return AwsErrorF("InvalidName", "Invalid Name: '{}'", name);
  }
  COURIER_ASSIGN_OR_RETURN(auto plan, states_internal::BuildPlan(definition, nullptr));
  if (options.type == StateMachineType::kExpress &&
      states_internal::UsesCallbackPatterns(*plan->root)) {
    return AwsError("InvalidDefinition",
                    "Express state machines do not support .sync or .waitForTaskToken");
  }
  std::string arn = hub_.Arn("states", fmt::format("stateMachine:{}", name));
  auto machine = std::shared_ptr<StateMachine>(
      new StateMachine(hub_, std::string(name), arn, options, std::move(plan)));
  auto exists = [&] {
    return AwsErrorF("StateMachineAlreadyExists", "State Machine Already Exists: '{}'", arn);
  };
  const std::shared_ptr<states_internal::StatesLog>& log = tokens_->log();
  std::unique_lock<std::mutex> catalog;
  if (log != nullptr) {  // recorded before anyone can start an execution of it
    catalog = std::unique_lock(log->catalog_mu());
    if (hub_.FindResource(arn) != nullptr) return exists();
    log->Append(
        states_internal::MachineCreated{.arn = arn,
                                        .name = std::string(name),
                                        .definition = std::string(definition),
                                        .role_arn = options.role_arn,
                                        .express = options.type == StateMachineType::kExpress,
                                        .created_ns = absl::ToUnixNanos(machine->creation_date())});
  }
  if (absl::Status st = detail::AddResource(hub_, machine); !st.ok()) return exists();
  if (catalog.owns_lock()) catalog.unlock();
  COURIER_RETURN_IF_ERROR(detail::AwaitRecords());
  return machine;
}

absl::StatusOr<std::shared_ptr<StateMachine>> StepFunctionsService::CreateStateMachine(
    std::string_view name, std::string_view definition) {
  return CreateStateMachine(name, definition, StateMachineOptions{});
}

std::shared_ptr<StateMachine> StepFunctionsService::FindStateMachine(
    std::string_view name_or_arn) const {
  std::string arn = name_or_arn.starts_with("arn:")
                        ? std::string(name_or_arn)
                        : hub_.Arn("states", fmt::format("stateMachine:{}", name_or_arn));
  return std::dynamic_pointer_cast<StateMachine>(hub_.FindResource(arn));
}

std::vector<std::shared_ptr<StateMachine>> StepFunctionsService::ListStateMachines() const {
  std::vector<std::shared_ptr<StateMachine>> out;
  for (auto& r : hub_.ListResources(hub_.Arn("states", "stateMachine:"))) {
    if (auto m = std::dynamic_pointer_cast<StateMachine>(r)) out.push_back(std::move(m));
  }
  return out;
}

std::shared_ptr<Execution> StepFunctionsService::FindExecution(
    std::string_view execution_arn) const {
  // arn:aws:states:<region>:<account>:execution:<machine>:<name>
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t colon = execution_arn.find(':', start);
    parts.push_back(execution_arn.substr(start, colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  if (parts.size() != 8 || parts[5] != "execution") return nullptr;
  auto machine = FindStateMachine(parts[6]);
  return machine ? machine->FindExecution(execution_arn) : nullptr;
}

absl::Status StepFunctionsService::DeleteStateMachine(std::string_view name_or_arn) {
  auto machine = FindStateMachine(name_or_arn);
  if (!machine) {
    return states_internal::StateMachineDoesNotExist(name_or_arn);
  }
  const std::shared_ptr<states_internal::StatesLog>& log = tokens_->log();
  std::unique_lock<std::mutex> catalog;
  if (log != nullptr) {
    catalog = std::unique_lock(log->catalog_mu());
    if (hub_.FindResource(machine->arn()) != machine) {
      return states_internal::StateMachineDoesNotExist(name_or_arn);  // deleted meanwhile
    }
    log->Append(states_internal::MachineDeleted{machine->arn()});
  }
  detail::RemoveResource(hub_, machine->arn());
  machine->MarkDeleted();
  if (catalog.owns_lock()) catalog.unlock();
  for (const auto& d : machine->ListExecutions(ExecutionStatus::kRunning)) {
    (void)machine->StopExecution(d.execution_arn, "States.Aborted",
                                 "The state machine was deleted");
  }
  return detail::Durable(absl::OkStatus());
}

namespace {
absl::StatusOr<Registry::Waiter> FindWaiter(Hub& hub, std::string_view token, bool take) {
  if (!token.starts_with(states_internal::kTokenPrefix)) {
    return AwsError("InvalidToken", "Invalid Token");
  }
  auto& registry = states_internal::TaskTokens(hub);
  auto w = take ? registry.Take(token) : registry.Find(token);
  if (!w) {
    if (registry.TimedOut(token)) {
      return AwsError("TaskTimedOut", "Task Timed Out");
    }
    return AwsError("TaskDoesNotExist", "Task Does Not Exist");
  }
  return *w;
}
}  // namespace

absl::Status StepFunctionsService::SendTaskSuccess(std::string_view task_token,
                                                   std::string_view output) {
  auto parsed = ParseJson(output);
  if (!parsed.ok()) {
    return AwsErrorF("InvalidOutput", "Invalid output: {}", std::string(parsed.status().message()));
  }
  COURIER_ASSIGN_OR_RETURN(Registry::Waiter w, FindWaiter(hub_, task_token, true));
  auto exec = w.execution.lock();
  if (!exec) return AwsError("TaskDoesNotExist", "Task Does Not Exist");
  exec->CompleteTask(w.frame, w.seq, *std::move(parsed));
  return absl::OkStatus();
}

absl::Status StepFunctionsService::SendTaskFailure(std::string_view task_token,
                                                   std::string_view error, std::string_view cause) {
  COURIER_ASSIGN_OR_RETURN(Registry::Waiter w, FindWaiter(hub_, task_token, true));
  auto exec = w.execution.lock();
  if (!exec) return AwsError("TaskDoesNotExist", "Task Does Not Exist");
  exec->CompleteTask(w.frame, w.seq, FunctionError(error, cause));
  return absl::OkStatus();
}

absl::Status StepFunctionsService::SendTaskHeartbeat(std::string_view task_token) {
  COURIER_ASSIGN_OR_RETURN(Registry::Waiter w, FindWaiter(hub_, task_token, false));
  auto exec = w.execution.lock();
  if (!exec) return AwsError("TaskDoesNotExist", "Task Does Not Exist");
  exec->Heartbeat(w.frame, w.seq);
  return absl::OkStatus();
}

// ---- Recovery (Hub::Recover) -------------------------------------------------------------------

absl::Status StepFunctionsService::Recover() {
  const std::shared_ptr<states_internal::StatesLog>& log = tokens_->log();
  if (log == nullptr) return absl::OkStatus();
  std::map<std::string, std::shared_ptr<states_internal::ExecutionImpl>, std::less<>> executions;
  auto unreadable = [](std::string_view what, const std::string& arn, const absl::Status& st) {
    return absl::DataLossError(fmt::format("A Step Functions record cannot {} {}: {}", what, arn,
                                           std::string(st.message())));
  };
  auto execution = [&](const std::string& arn) -> states_internal::ExecutionImpl* {
    auto it = executions.find(arn);
    return it == executions.end() ? nullptr : it->second.get();
  };
  auto apply = [&](states_internal::StatesRecord& record) -> absl::Status {
    if (auto* r = std::get_if<states_internal::MachineCreated>(&record)) {
      absl::StatusOr<std::shared_ptr<const states_internal::Plan>> plan =
          states_internal::BuildPlan(r->definition, nullptr);
      if (!plan.ok()) return unreadable("create", r->arn, plan.status());
      StateMachineOptions options{
          .type = r->express ? StateMachineType::kExpress : StateMachineType::kStandard,
          .role_arn = r->role_arn};
      auto machine = std::shared_ptr<StateMachine>(
          new StateMachine(hub_, r->name, r->arn, std::move(options), *std::move(plan)));
      machine->creation_date_ = absl::FromUnixNanos(r->created_ns);
      if (absl::Status st = detail::AddResource(hub_, machine); !st.ok()) {
        return unreadable("create", r->arn, st);
      }
    } else if (auto* r = std::get_if<states_internal::MachineUpdated>(&record)) {
      auto machine = FindStateMachine(r->arn);
      if (machine == nullptr) return absl::OkStatus();
      absl::StatusOr<std::shared_ptr<const states_internal::Plan>> plan =
          states_internal::BuildPlan(r->definition, nullptr);
      if (!plan.ok()) return unreadable("update", r->arn, plan.status());
      detail::MutexLock lock(&machine->mu_);
      machine->plan_ = *std::move(plan);
    } else if (auto* r = std::get_if<states_internal::MachineDeleted>(&record)) {
      auto machine = FindStateMachine(r->arn);
      if (machine == nullptr) return absl::OkStatus();
      detail::RemoveResource(hub_, machine->arn());
      machine->MarkDeleted();
      std::erase_if(executions,
                    [&](const auto& e) { return e.second->state_machine_arn() == machine->arn(); });
    } else if (auto* r = std::get_if<states_internal::ExecutionStarted>(&record)) {
      auto machine = FindStateMachine(r->machine_arn);
      if (machine == nullptr) return absl::OkStatus();
      absl::StatusOr<Json> input = ParseJson(r->input);
      if (!input.ok()) return unreadable("start", r->arn, input.status());
      auto e = std::make_shared<states_internal::ExecutionImpl>(*machine, machine->plan(), r->name,
                                                                r->arn, *std::move(input));
      e->RestoreStart(absl::FromUnixNanos(r->start_ns));
      detail::MutexLock lock(&machine->mu_);
      machine->executions_[r->name] = e;
      executions[r->arn] = std::move(e);
    } else if (auto* r = std::get_if<states_internal::ExecutionEvent>(&record)) {
      if (auto* e = execution(r->arn)) e->RestoreEvent(std::move(*r));
    } else if (auto* r = std::get_if<states_internal::TaskTokenIssued>(&record)) {
      if (auto* e = execution(r->arn)) e->RestoreTaskToken(std::move(r->token));
    } else if (auto* r = std::get_if<states_internal::ExecutionEnded>(&record)) {
      states_internal::ExecutionImpl* e = execution(r->arn);
      if (e == nullptr) return absl::OkStatus();
      std::optional<ExecutionStatus> status = ParseExecutionStatus(r->status);
      if (!status) return unreadable("end", r->arn, absl::DataLossError(r->status));
      std::optional<Json> output;
      if (r->output) {
        absl::StatusOr<Json> parsed = ParseJson(*r->output);
        if (!parsed.ok()) return unreadable("end", r->arn, parsed.status());
        output = *std::move(parsed);
      }
      e->RestoreEnd(*status, absl::FromUnixNanos(r->stop_ns), std::move(output),
                    std::move(r->error), std::move(r->cause));
    }
    return absl::OkStatus();
  };
  COURIER_RETURN_IF_ERROR(log->log().Replay([&](std::string_view text) -> absl::Status {
    COURIER_ASSIGN_OR_RETURN(states_internal::StatesRecord record,
                             states_internal::DecodeStatesRecord(text));
    return apply(record);
  }));
  for (auto& [arn, e] : executions) {
    if (!e->done()) e->Resume();
  }
  return absl::OkStatus();
}

}  // namespace courier
