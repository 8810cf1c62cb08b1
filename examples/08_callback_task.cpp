// The callback pattern: a Task sends its task token in an SQS message (sqs:sendMessage
// .waitForTaskToken) and waits until the queue's consumer calls SendTaskSuccess.
#include <cassert>
#include <cstdio>

#include "courier/queue.h"
#include "courier/sqs.h"
#include "courier/state_machine.h"
#include "courier/step_functions.h"
#include "courier/testing/simulation.h"

int main() {
  courier::testing::Simulation sim;
  courier::Hub hub(sim.environment());
  auto approvals = Sqs(hub).CreateQueue("approvals").value();
  auto flow = StepFunctions(hub).CreateStateMachine("approval", R"({
    "StartAt": "AskForApproval",
    "States": {
      "AskForApproval": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": ")" + approvals->url() +
                                                                    R"(",
          "MessageBody": {"order.$": "$.order", "token.$": "$$.Task.Token"}},
        "HeartbeatSeconds": 3600, "ResultPath": "$.decision", "End": true}}})");
  assert(flow.ok());
  auto exec = (*flow)->StartExecution({.input = R"({"order": "o-7"})"});
  sim.RunFor(absl::Minutes(1));  // (RunUntilIdle would jump to the heartbeat deadline)
  assert((*exec)->Describe().status == courier::ExecutionStatus::kRunning);  // parked on the token

  // The consumer: receive the message, decide, answer with the token, delete the message.
  auto got = approvals->ReceiveMessage({.max_number_of_messages = 10}).value();
  assert(got.size() == 1);
  courier::Json body = *courier::ParseJson(got[0].body);
  assert(body.at("order") == "o-7");
  assert(StepFunctions(hub)
             .SendTaskSuccess(body.at("token").as_string(), R"({"approved": true})")
             .ok());
  assert(approvals->DeleteMessage(got[0].receipt_handle).ok());
  sim.RunUntilIdle();

  courier::ExecutionDescription d = (*exec)->Describe();
  assert(d.status == courier::ExecutionStatus::kSucceeded);
  assert(d.output->at("decision").at("approved").as_bool());
  std::printf("order o-7 approved through the callback token, consumed from an SQS queue\n");
}
