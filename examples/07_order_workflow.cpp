// An order workflow (Choice, Map, Retry/Catch, a one-day Wait) run in a Simulation:
// the day passes in virtual time and the whole program finishes at once.
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
  int charge_calls = 0;  // the payment service is flaky: the first call fails
  auto fn1 = Lambda(hub).RegisterFunction(
      "charge", [&](const courier::Json& in) -> absl::StatusOr<courier::Json> {
        if (++charge_calls == 1) return courier::FunctionError("Payment.Unavailable", "try again");
        return courier::Json{{"charged", in.at("total")}};
      });
  assert(fn1.ok());
  auto fn2 = Lambda(hub).RegisterFunction(
      "reserve", [](const courier::Json& item) -> absl::StatusOr<courier::Json> {
        if (item.at("qty").as_int64() > 10) return courier::FunctionError("OutOfStock", "too many");
        return courier::Json{{"sku", item.at("sku")}, {"reserved", true}};
      });
  assert(fn2.ok());
  auto flow = StepFunctions(hub).CreateStateMachine("orders", R"({
    "StartAt": "Validate",
    "States": {
      "Validate": {"Type": "Choice", "Default": "Rejected",
        "Choices": [{"Variable": "$.items[0]", "IsPresent": true, "Next": "Reserve"}]},
      "Reserve": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2,
        "ItemProcessor": {"StartAt": "One", "States": {"One": {"Type": "Task",
          "Resource": "arn:aws:lambda:us-east-1:000000000000:function:reserve", "End": true}}},
        "ResultPath": "$.reservations",
        "Catch": [{"ErrorEquals": ["OutOfStock"], "ResultPath": "$.error", "Next": "Rejected"}],
        "Next": "Charge"},
      "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:000000000000:function:charge",
        "Parameters": {"total.$": "$.total"}, "ResultPath": "$.payment",
        "Retry": [{"ErrorEquals": ["Payment.Unavailable"], "IntervalSeconds": 30, "MaxAttempts": 3}],
        "Next": "CoolingOff"},
      "CoolingOff": {"Type": "Wait", "Seconds": 86400, "Next": "Done"},
      "Done": {"Type": "Pass", "Parameters": {"order.$": "$.id", "paid.$": "$.payment.charged",
        "skus.$": "$.reservations[*].sku"}, "End": true},
      "Rejected": {"Type": "Fail", "Error": "OrderRejected", "Cause": "empty or out of stock"}
    }})");
  assert(flow.ok());

  auto good = (*flow)->StartExecution(
      {.input =
           R"({"id": "o-1", "total": 42, "items": [{"sku": "pen", "qty": 2}, {"sku": "ink", "qty": 1}]})"});
  auto bad = (*flow)->StartExecution(
      {.input = R"({"id": "o-2", "total": 9, "items": [{"sku": "pen", "qty": 99}]})"});
  sim.RunUntilIdle();  // a day and a retry later, in virtual time

  courier::ExecutionDescription d = (*good)->Describe();
  assert(d.status == courier::ExecutionStatus::kSucceeded);
  assert(d.output->at("paid").as_int64() == 42);
  assert(d.output->at("skus").as_array().size() == 2);
  assert(charge_calls == 2);                                         // one retry
  assert(*d.stop_date - d.start_date == absl::Seconds(86400 + 30));  // Wait + back-off
  assert((*bad)->Describe().error == "OrderRejected");
  std::printf("o-1: %s after %s of virtual time; o-2: %s\n",
              std::string(courier::ExecutionStatusName(d.status)).c_str(),
              absl::FormatDuration(*d.stop_date - d.start_date).c_str(),
              (*bad)->Describe().error->c_str());
}
