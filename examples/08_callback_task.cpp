// The callback pattern: a Task sends its task token in an SQS message (sqs:sendMessage
// .waitForTaskToken) and waits until the queue's consumer calls SendTaskSuccess.
#include <cassert>
#include <cstdio>
#include <deque>

#include "courier/state_machine.h"
#include "courier/testing/simulation.h"

// A small in-process queue standing in for an SQS queue: any MessageSink works here.
class Inbox : public courier::MessageSink {
 public:
  using MessageSink::MessageSink;
  absl::StatusOr<courier::SendMessageResult> SendMessage(
      courier::SendMessageRequest request) override {
    messages.push_back(std::move(request.body));
    return courier::SendMessageResult{.message_id = std::to_string(messages.size())};
  }
  std::deque<std::string> messages;
};

int main() {
  courier::testing::Simulation sim;
  courier::Hub hub(sim.environment());
  auto inbox = std::make_shared<Inbox>("approvals", hub.Arn("sqs", "approvals"));
  assert(hub.AddResource(inbox).ok());
  auto flow = hub.CreateStateMachine("approval", R"({
    "StartAt": "AskForApproval",
    "States": {
      "AskForApproval": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": ")" + hub.QueueUrl("approvals") +
                                                     R"(",
          "MessageBody": {"order.$": "$.order", "token.$": "$$.Task.Token"}},
        "HeartbeatSeconds": 3600, "ResultPath": "$.decision", "End": true}}})");
  assert(flow.ok());
  auto exec = (*flow)->StartExecution({.input = R"({"order": "o-7"})"});
  sim.RunFor(absl::Minutes(1));  // (RunUntilIdle would jump to the heartbeat deadline)
  assert((*exec)->Describe().status == courier::ExecutionStatus::kRunning);  // parked on the token

  // The consumer: read the message, decide, answer with the token.
  assert(inbox->messages.size() == 1);
  courier::Json body = *courier::ParseJson(inbox->messages.front());
  inbox->messages.pop_front();
  assert(body.at("order") == "o-7");
  assert(hub.SendTaskSuccess(body.at("token").as_string(), R"({"approved": true})").ok());
  sim.RunUntilIdle();

  courier::ExecutionDescription d = (*exec)->Describe();
  assert(d.status == courier::ExecutionStatus::kSucceeded);
  assert(d.output->at("decision").at("approved").as_bool());
  std::printf("order o-7 approved through the callback token\n");
}
