// The Step Functions operation table: AWS's JSON protocol (AWS JSON 1.0, X-Amz-Target
// AWSStepFunctions.<Operation>) over the typed API of step_functions.h / state_machine.h /
// execution.h / asl_validation.h.
//
// Every AWS-JSON ⇄ typed conversion of Step Functions lives in states_operations.cc: request
// members (lowerCamelCase: stateMachineArn, roleArn, maxResults, ...) become typed calls, typed
// results become AWS's response shapes: timestamps as epoch seconds with a fraction
// (creationDate, startDate, stopDate, updateDate, an event's timestamp), inputs and outputs as
// JSON text, history events as {"timestamp","type","id","previousEventId","<type>EventDetails"},
// lists paged with maxResults / nextToken. The "states" Service that courier::Invoke reaches
// forwards here.
//
// Errors: a member missing or out of its model's range is ValidationException ("1 validation
// error detected: ..."), a member of the wrong JSON type SerializationException, a malformed ARN
// InvalidArn, UpdateStateMachine with nothing to change MissingRequiredParameter; everything
// else as the typed call fails (StateMachineDoesNotExist, ExecutionDoesNotExist,
// InvalidDefinition, InvalidName, ExecutionAlreadyExists, TaskDoesNotExist, InvalidToken, ...).
// Where AWS documents an idempotent call (CreateStateMachine with the same definition and type,
// StartExecution with the same name and input of a running Standard execution, DeleteStateMachine
// of a machine already gone), the table answers as AWS does.
//
// Accepted and checked but not kept, since the typed API has no place for them: tags,
// loggingConfiguration, tracingConfiguration, encryptionConfiguration, publish,
// versionDescription, traceHeader; UpdateStateMachine's roleArn.
//
// Example:
//   auto r = courier::states_internal::InvokeStepFunctions(hub, "CreateStateMachine",
//       courier::Json{{"name", "m"}, {"definition",
//       R"({"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}})"},
//       {"roleArn", "arn:aws:iam::000000000000:role/r"}}, {});
//   // r->at("stateMachineArn") == "arn:aws:states:us-east-1:000000000000:stateMachine:m"
#ifndef COURIER_STATES_STATES_OPERATIONS_H_
#define COURIER_STATES_STATES_OPERATIONS_H_

#include <absl/status/statusor.h>

#include <string_view>
#include <vector>

#include "courier/json.h"
#include "courier/service.h"

namespace courier {
class Hub;
}  // namespace courier

namespace courier::states_internal {

// One Step Functions operation by its AWS name ("StartExecution"). Unknown operations fail with
// UnknownOperationException. Thread-safe (as the typed calls are); StartSyncExecution blocks until
// the execution ends on the hub's clock.
absl::StatusOr<Json> InvokeStepFunctions(Hub& hub, std::string_view operation, const Json& request,
                                         const Caller& caller);

// The operations InvokeStepFunctions answers, in name order.
std::vector<std::string_view> StepFunctionsOperationNames();

}  // namespace courier::states_internal

#endif  // COURIER_STATES_STATES_OPERATIONS_H_
