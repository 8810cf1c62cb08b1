// A rule whose target is a state machine: each matching event starts an execution with the
// event as its input.
#include <cassert>
#include <cstdio>

#include "courier/event_bus.h"
#include "courier/events.h"
#include "courier/hub.h"
#include "courier/state_machine.h"
#include "courier/step_functions.h"
#include "courier/testing/simulation.h"

int main() {
  courier::testing::Simulation sim;
  courier::Hub hub(sim.environment());
  auto machine = courier::StepFunctions(hub)
                     .CreateStateMachine("fulfil", R"({"StartAt":"Pick","States":{
                        "Pick":{"Type":"Pass","Parameters":{"order.$":"$.detail.id"},"End":true}}})")
                     .value();
  auto bus = courier::Events(hub).GetEventBus("default").value();
  //! [state-machine]
  bus->PutRule("paid", {.event_pattern = R"({"detail-type":["Order Paid"]})"}).value();
  bus->PutTargets("paid", {{.id = "sfn", .arn = machine->arn()}}).value();
  bus->PutEvents({{.source = "shop", .detail_type = "Order Paid", .detail = R"({"id": 42})"}})
      .value();
  sim.RunUntilIdle();
  //! [state-machine]
  auto runs = machine->ListExecutions();
  assert(runs.size() == 1);
  assert(runs[0].status == courier::ExecutionStatus::kSucceeded);
  assert(runs[0].output->at("order") == 42);
  std::printf("execution %s: %s\n", runs[0].name.c_str(),
              courier::ToJsonText(*runs[0].output).c_str());
  return 0;
}
