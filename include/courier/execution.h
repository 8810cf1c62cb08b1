// Execution: one run of a state machine, with its status, output and history of AWS events.
//
// Example:
//   auto exec = machine->StartExecution({.input = R"({"order": 1})"}).value();
//   courier::ExecutionDescription d = exec->Await();      // in a Simulation: virtual time
//   assert(d.status == courier::ExecutionStatus::kSucceeded);
//   for (const courier::HistoryEvent& e : exec->History()) std::puts(e.type.c_str());
#ifndef COURIER_EXECUTION_H_
#define COURIER_EXECUTION_H_

#include <absl/status/status.h>
#include <absl/time/time.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "courier/json.h"

namespace courier {

enum class ExecutionStatus { kRunning, kSucceeded, kFailed, kTimedOut, kAborted };
// "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED".
std::string_view ExecutionStatusName(ExecutionStatus status);
// The inverse: the status of one of those names, else nullopt.
std::optional<ExecutionStatus> ParseExecutionStatus(std::string_view name);

// DescribeExecution's answer.
struct ExecutionDescription {
  std::string execution_arn;
  std::string state_machine_arn;
  std::string name;
  ExecutionStatus status = ExecutionStatus::kRunning;
  absl::Time start_date;
  std::optional<absl::Time> stop_date;
  Json input;
  std::optional<Json> output;        // SUCCEEDED only
  std::optional<std::string> error;  // FAILED / ABORTED, when known
  std::optional<std::string> cause;
  // The same, as DescribeExecution's JSON (executionArn, status, output as a string, ...).
  Json ToJson() const;
};

// One event of GetExecutionHistory.
struct HistoryEvent {
  int64_t id = 0;
  int64_t previous_event_id = 0;
  absl::Time timestamp;
  std::string type;  // "ExecutionStarted", "PassStateEntered", "TaskFailed", ...
  // The event's details object (its key is DetailsKey(): "stateEnteredEventDetails", ...);
  // inputs and outputs are JSON text, as AWS gives them.
  Json details;
  std::string DetailsKey() const;
  // {"id":..,"previousEventId":..,"timestamp":..,"type":..,"<detailsKey>":{..}}
  Json ToJson() const;
};

class Execution {
 public:
  virtual ~Execution() = default;

  virtual const std::string& arn() const = 0;
  virtual const std::string& name() const = 0;
  // DescribeExecution. Thread-safe.
  virtual ExecutionDescription Describe() const = 0;
  // GetExecutionHistory, oldest first (Standard executions; empty for Express). Thread-safe.
  virtual std::vector<HistoryEvent> History() const = 0;
  // StopExecution: ends a running execution as ABORTED with the given error and cause.
  // ExecutionDoesNotExist-style errors do not apply; stopping a finished one is a no-op.
  // Thread-safe.
  virtual absl::Status Stop(std::string_view error = {}, std::string_view cause = {}) = 0;
  // Whether the execution has ended, and its status: cheaper than Describe(). Thread-safe.
  virtual bool done() const = 0;
  virtual ExecutionStatus status() const = 0;
  // Blocks until the execution ends or `timeout` passes on the hub's clock (in a Simulation,
  // other work runs and virtual time advances meanwhile), then describes it. Thread-safe.
  virtual ExecutionDescription Await(absl::Duration timeout = absl::InfiniteDuration()) = 0;
};

}  // namespace courier

#endif  // COURIER_EXECUTION_H_
