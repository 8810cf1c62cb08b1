// State machines and executions that outlive their hub: the machine answers
// StateMachineDoesNotExist, running executions end as aborted, and nothing they left on the clock
// (Wait states, task timeouts, callbacks) reaches the destroyed hub. Run under ASan.
#include <catch2/catch.hpp>
#include <memory>

#include "courier/hub.h"
#include "courier/sqs.h"
#include "courier/state_machine.h"
#include "courier/status.h"
#include "courier/step_functions.h"
#include "courier/testing/simulation.h"

namespace courier {
namespace {

// A Wait of an hour, then a message to a queue: if the execution ran on after its hub, the
// SendMessage would reach the destroyed hub.
constexpr const char* kWaitThenSend = R"j({"StartAt":"W","States":{
  "W":{"Type":"Wait","Seconds":3600,"Next":"S"},
  "S":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage",
       "Parameters":{"QueueUrl":"out","MessageBody":"late"},"End":true}}})j";

TEST_CASE("Executions that outlive their hub end as aborted and do nothing more",
          "[states][lifetime]") {
  testing::Simulation sim;
  auto hub = std::make_unique<Hub>(sim.environment());
  REQUIRE(Sqs(*hub).CreateQueue("out").ok());
  auto standard = StepFunctions(*hub).CreateStateMachine("standard", kWaitThenSend).value();
  auto express =
      StepFunctions(*hub)
          .CreateStateMachine("express", kWaitThenSend, {.type = StateMachineType::kExpress})
          .value();
  auto waiting = standard->StartExecution({.name = "w"}).value();
  auto fast = express->StartExecution({}).value();
  sim.RunFor(absl::Seconds(1));
  REQUIRE(waiting->status() == ExecutionStatus::kRunning);
  REQUIRE(fast->status() == ExecutionStatus::kRunning);

  hub.reset();
  CHECK(waiting->status() == ExecutionStatus::kAborted);
  CHECK(fast->status() == ExecutionStatus::kAborted);
  CHECK(waiting->Describe().cause == "The hub was destroyed");
  sim.RunFor(absl::Hours(2));  // the Wait states' timers fire
  CHECK(waiting->status() == ExecutionStatus::kAborted);
  CHECK(waiting->History().back().type == "ExecutionAborted");
  CHECK(waiting->Stop().ok());  // stopping an ended execution is a no-op, as before
  CHECK(waiting->Await().status == ExecutionStatus::kAborted);

  auto again = standard->StartExecution({});
  CHECK(ErrorName(again.status()) == "StateMachineDoesNotExist");
  CHECK(ErrorName(standard->Update(kWaitThenSend)) == "StateMachineDoesNotExist");
  CHECK(ErrorName(express->StartSyncExecution({}).status()) == "StateMachineDoesNotExist");
  CHECK(standard->DescribeExecution("w").ok());  // what it recorded stays readable
}

TEST_CASE("A deleted state machine starts no execution", "[states][lifetime]") {
  testing::Simulation sim;
  Hub hub(sim.environment());
  auto machine = StepFunctions(hub).CreateStateMachine("m", kWaitThenSend).value();
  REQUIRE(StepFunctions(hub).DeleteStateMachine("m").ok());
  CHECK(ErrorName(machine->StartExecution({}).status()) == "StateMachineDoesNotExist");
}

}  // namespace
}  // namespace courier
