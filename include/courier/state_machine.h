// StateMachine: an Amazon States Language definition, validated once into an immutable plan,
// whose executions run on the hub's executor with the hub's clock (Wait states, retries and
// timeouts are clock timers, so a testing::Simulation runs a one-year workflow at once).
//
// Example:
//   courier::testing::Simulation sim;
//   courier::Hub hub(sim.environment());
//   courier::Lambda(hub).RegisterFunction("charge", [](const courier::Json& in) ->
//   absl::StatusOr<courier::Json> {
//     return courier::Json{{"charged", true}};
//   });
//   auto machine = courier::StepFunctions(hub).CreateStateMachine("checkout", R"({
//     "StartAt": "Charge",
//     "States": {"Charge": {"Type": "Task", "End": true,
//                "Resource": "arn:aws:lambda:us-east-1:000000000000:function:charge"}}})").value();
//   auto exec = machine->StartExecution({.input = R"({"order": 1})"}).value();
//   sim.RunUntilIdle();
//   assert(exec->Describe().status == courier::ExecutionStatus::kSucceeded);
#ifndef COURIER_STATE_MACHINE_H_
#define COURIER_STATE_MACHINE_H_

#include <absl/status/statusor.h>
#include <absl/time/time.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "courier/asl_validation.h"
#include "courier/detail/mutex.h"
#include "courier/execution.h"
#include "courier/hub.h"
#include "courier/json.h"
#include "courier/lambda.h"
#include "courier/resource.h"
#include "courier/step_functions.h"

namespace courier {

enum class StateMachineType { kStandard, kExpress };

struct StateMachineOptions {
  // Standard: up to one year, exactly-once, history kept. Express: up to five minutes, no
  // history, no .sync / .waitForTaskToken.
  StateMachineType type = StateMachineType::kStandard;
  std::string role_arn = "arn:aws:iam::000000000000:role/courier";
};

struct StartExecutionRequest {
  // Unique among this machine's executions (1-80 characters); empty = a fresh UUID.
  std::string name;
  // The execution input, JSON text (at most 256 KiB).
  std::string input = "{}";
};

namespace states_internal {
struct Plan;
class Registry;
class ExecutionImpl;
}  // namespace states_internal

// As a MessageSink (an EventBridge target), a state machine starts an execution with the
// message's body as its input; the delivery succeeds, with the execution's name as MessageId,
// when the execution starts.
class StateMachine final : public MessageSink {
 public:
  ~StateMachine() override;

  StateMachineType type() const { return options_.type; }
  const StateMachineOptions& options() const { return options_; }
  // The current definition's text. Thread-safe.
  std::string definition() const;
  absl::Time creation_date() const { return creation_date_; }

  // StartExecution: validates the input and name, then runs the execution on the executor.
  // InvalidExecutionInput, InvalidName, ExecutionAlreadyExists. Thread-safe.
  absl::StatusOr<std::shared_ptr<Execution>> StartExecution(StartExecutionRequest request = {});
  // MessageSink: StartExecution({.input = request.body}).
  absl::StatusOr<SendMessageResult> SendMessage(SendMessageRequest request) override;
  // StartSyncExecution (Express only): runs to the end and describes the result.
  absl::StatusOr<ExecutionDescription> StartSyncExecution(StartExecutionRequest request = {});

  // By ARN or name; nullptr if unknown. Thread-safe.
  std::shared_ptr<Execution> FindExecution(std::string_view arn_or_name) const;
  // DescribeExecution / GetExecutionHistory / StopExecution by ARN or name:
  // ExecutionDoesNotExist if unknown. Thread-safe.
  absl::StatusOr<ExecutionDescription> DescribeExecution(std::string_view arn_or_name) const;
  absl::StatusOr<std::vector<HistoryEvent>> GetExecutionHistory(std::string_view arn_or_name) const;
  absl::Status StopExecution(std::string_view arn_or_name, std::string_view error = {},
                             std::string_view cause = {});
  // ListExecutions, newest first, optionally only those with `status`. Thread-safe.
  std::vector<ExecutionDescription> ListExecutions(
      std::optional<ExecutionStatus> status = std::nullopt) const;

  // UpdateStateMachine: new executions use the new definition; running ones keep theirs.
  // InvalidDefinition as CreateStateMachine. Thread-safe.
  absl::Status Update(std::string_view definition);

  // Graphviz DOT and Mermaid flowcharts of the definition; with an execution, states are
  // coloured by what happened to them (succeeded, failed, caught, retried, running).
  std::string ToDot(const Execution* execution = nullptr) const;
  std::string ToMermaid(const Execution* execution = nullptr) const;

 private:
  friend class StepFunctionsService;            // creates machines; aborts them when the hub goes
  friend class states_internal::ExecutionImpl;  // reads the hub
  StateMachine(Hub& hub, std::string name, std::string arn, StateMachineOptions options,
               std::shared_ptr<const states_internal::Plan> plan);
  std::shared_ptr<const states_internal::Plan> plan() const;  // the current one
  Hub& hub() const { return hub_; }
  // Ends every running execution as aborted with `cause`, then detaches all of them: no timer or
  // callback of theirs does anything afterwards.
  void AbortExecutions(std::string_view cause);

  Hub& hub_;
  StateMachineOptions options_;
  absl::Time creation_date_;
  mutable detail::Mutex mu_;
  std::shared_ptr<const states_internal::Plan> plan_ ABSL_GUARDED_BY(mu_);
  // Standard executions by name (Express executions are not kept: AWS cannot describe them).
  std::unordered_map<std::string, std::shared_ptr<states_internal::ExecutionImpl>> executions_
      ABSL_GUARDED_BY(mu_);
  // Express executions that may still run, for AbortExecutions.
  std::vector<std::weak_ptr<states_internal::ExecutionImpl>> express_ ABSL_GUARDED_BY(mu_);
  uint64_t starts_ ABSL_GUARDED_BY(mu_) = 0;  // every 1024 starts, expired executions go
};

}  // namespace courier

#endif  // COURIER_STATE_MACHINE_H_
