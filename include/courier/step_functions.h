// StepFunctions: the hub's Step Functions control plane — create, find, list and delete state
// machines, find executions, and answer the callback pattern's task tokens.
//
// Each Hub has one StepFunctionsService (see service.h); `courier::StepFunctions(hub)` reaches it.
//
// Example:
//   auto flow = courier::StepFunctions(hub).CreateStateMachine("checkout", definition).value();
//   auto exec = flow->StartExecution(R"({"order":1})").value();
#ifndef COURIER_STEP_FUNCTIONS_H_
#define COURIER_STEP_FUNCTIONS_H_

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include <memory>
#include <string_view>
#include <vector>

namespace courier {

class Hub;
class StateMachine;
struct StateMachineOptions;
class Execution;
class StepFunctionsOperations;
namespace states_internal {
class Registry;
Registry& TaskTokens(Hub& hub);
}  // namespace states_internal

class StepFunctionsService {
 public:
  ~StepFunctionsService();
  StepFunctionsService(const StepFunctionsService&) = delete;
  StepFunctionsService& operator=(const StepFunctionsService&) = delete;

  // Validates the ASL definition (InvalidDefinition with the first problem and its location)
  // and creates arn:aws:states:<region>:<account>:stateMachine:<name>. Thread-safe.
  absl::StatusOr<std::shared_ptr<StateMachine>> CreateStateMachine(
      std::string_view name, std::string_view definition, const StateMachineOptions& options);
  absl::StatusOr<std::shared_ptr<StateMachine>> CreateStateMachine(std::string_view name,
                                                                   std::string_view definition);
  // By name or ARN; nullptr if none. Thread-safe.
  std::shared_ptr<StateMachine> FindStateMachine(std::string_view name_or_arn) const;
  // Every state machine, in ARN order. Thread-safe.
  std::vector<std::shared_ptr<StateMachine>> ListStateMachines() const;
  // An execution by its ARN (arn:aws:states:<region>:<account>:execution:<machine>:<name>),
  // as DescribeExecution/GetExecutionHistory/StopExecution take it; nullptr if unknown.
  // Thread-safe.
  std::shared_ptr<Execution> FindExecution(std::string_view execution_arn) const;
  // Removes the state machine; its running executions are stopped. StateMachineDoesNotExist
  // if there is none. Thread-safe.
  absl::Status DeleteStateMachine(std::string_view name_or_arn);

  // The callback pattern: complete, fail or keep alive the task waiting on `task_token`
  // ($$.Task.Token of a .waitForTaskToken task). InvalidToken for a malformed token,
  // TaskDoesNotExist for an unknown or closed one. Thread-safe; the task resumes on the executor.
  absl::Status SendTaskSuccess(std::string_view task_token, std::string_view output);
  absl::Status SendTaskFailure(std::string_view task_token, std::string_view error = {},
                               std::string_view cause = {});
  absl::Status SendTaskHeartbeat(std::string_view task_token);

 private:
  friend class StepFunctionsOperations;  // creates the hub's instance
  friend states_internal::Registry& states_internal::TaskTokens(Hub& hub);

  explicit StepFunctionsService(Hub& hub);
  // Before the hub goes: every running execution ends as aborted and does nothing more.
  void AbortExecutions();
  // Rebuilds machines and executions from the hub's records (Hub::Recover).
  absl::Status Recover();

  Hub& hub_;
  std::unique_ptr<states_internal::Registry> tokens_;
};

// The hub's Step Functions control plane.
StepFunctionsService& StepFunctions(Hub& hub);

}  // namespace courier

#endif  // COURIER_STEP_FUNCTIONS_H_
