// A definition rendered as Mermaid and Graphviz DOT, coloured by one execution's history
// (green succeeded, orange caught, blue retried, red failed); `courier render` does the same.
#include <cassert>
#include <cstdio>

#include "courier/function.h"
#include "courier/lambda.h"
#include "courier/state_machine.h"
#include "courier/step_functions.h"
#include "courier/testing/simulation.h"

int main() {
  courier::testing::Simulation sim;
  courier::Hub hub(sim.environment());
  auto fn1 = Lambda(hub).RegisterFunction(
      "ship", [](const courier::Json&) -> absl::StatusOr<courier::Json> {
        return courier::FunctionError("Carrier.Down", "no trucks today");
      });
  assert(fn1.ok());
  auto flow = StepFunctions(hub).CreateStateMachine("shipping", R"({
    "StartAt": "Ship",
    "States": {
      "Ship": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:000000000000:function:ship",
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Notify"}], "Next": "Delivered"},
      "Notify": {"Type": "Pass", "Next": "Delivered"},
      "Delivered": {"Type": "Succeed"}}})");
  assert(flow.ok());
  auto exec = (*flow)->StartExecution();
  sim.RunUntilIdle();

  std::string mermaid = (*flow)->ToMermaid(exec->get());
  std::string dot = (*flow)->ToDot(exec->get());
  assert(mermaid.find("class s0 caught") != std::string::npos);     // Ship failed, was caught
  assert(mermaid.find("class s1 succeeded") != std::string::npos);  // Notify ran
  assert(dot.find("s0 -> s1 [label=\"Catch States.ALL\"") != std::string::npos);
  std::printf("%s\n%s", mermaid.c_str(), dot.c_str());
}
