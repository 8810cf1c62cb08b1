// One delivery interface: queues, functions and state machines are all MessageSinks found by
// ARN, and each delivery completes once, with the sink's answer or its failure.
#include <catch2/catch.hpp>
#include <memory>
#include <optional>
#include <string>

#include "courier/function.h"
#include "courier/hub.h"
#include "courier/lambda.h"
#include "courier/queue.h"
#include "courier/sqs.h"
#include "courier/state_machine.h"
#include "courier/status.h"
#include "courier/step_functions.h"
#include "courier/testing/simulation.h"

namespace courier {
namespace {

// Delivers `body` to the sink named `arn` and returns what the completion reported, or nullopt
// while it has not been called; `calls` counts the completions.
struct Delivery {
  std::optional<absl::StatusOr<SendMessageResult>> result;
  int calls = 0;
};
std::shared_ptr<Delivery> Deliver(Hub& hub, const std::string& arn, std::string body) {
  auto d = std::make_shared<Delivery>();
  std::shared_ptr<MessageSink> sink = hub.FindSink(arn);
  REQUIRE(sink != nullptr);
  sink->Deliver({.body = std::move(body)}, [d](absl::StatusOr<SendMessageResult> r) {
    d->result = std::move(r);
    ++d->calls;
  });
  return d;
}

TEST_CASE("A queue, a function and a state machine take deliveries alike", "[states][sink]") {
  testing::Simulation sim;
  Hub hub(sim.environment());
  auto queue = Sqs(hub).CreateQueue("q").value();
  std::string seen;
  auto fn = Lambda(hub)
                .RegisterFunction("f",
                                  [&](const Json& in) -> absl::StatusOr<Json> {
                                    if (in.is_object() && in.get_object().contains("fail")) {
                                      return FunctionError("Refused", "no");
                                    }
                                    seen = ToJsonText(in);
                                    return Json(nullptr);
                                  })
                .value();
  auto machine =
      StepFunctions(hub)
          .CreateStateMachine("m", R"({"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}})")
          .value();

  auto to_queue = Deliver(hub, queue->arn(), "hello");
  REQUIRE(to_queue->calls == 1);
  REQUIRE(to_queue->result->ok());
  auto received = queue->ReceiveMessage({}).value();
  REQUIRE(received.size() == 1);
  CHECK(received[0].message_id == (*to_queue->result)->message_id);

  auto to_function = Deliver(hub, fn->arn(), R"({"a":1})");
  REQUIRE(to_function->calls == 1);
  CHECK(to_function->result->ok());
  CHECK(seen == R"({"a":1})");
  Deliver(hub, fn->arn(), "plain text");
  CHECK(seen == R"("plain text")");  // not JSON: the function gets it as a string
  auto refused = Deliver(hub, fn->arn(), R"({"fail":true})");
  REQUIRE(refused->calls == 1);
  CHECK(FunctionErrorName(refused->result->status()) == "Refused");

  auto to_machine = Deliver(hub, machine->arn(), R"({"order":7})");
  REQUIRE(to_machine->calls == 1);
  REQUIRE(to_machine->result->ok());
  sim.RunUntilIdle();
  auto execution = machine->FindExecution((*to_machine->result)->message_id.view());
  REQUIRE(execution != nullptr);
  CHECK(execution->Describe().status == ExecutionStatus::kSucceeded);
  CHECK(ToJsonText(execution->Describe().input) == R"({"order":7})");
  auto bad_input = Deliver(hub, machine->arn(), "not json");
  CHECK(ErrorName(bad_input->result->status()) == "InvalidExecutionInput");
}

TEST_CASE("An asynchronous function's delivery completes when its invocation does",
          "[states][sink]") {
  testing::Simulation sim;
  Hub hub(sim.environment());
  auto fn = Lambda(hub)
                .RegisterAsyncFunction("later",
                                       [&](const Json& in, FunctionCallback done) {
                                         hub.clock().ScheduleAfter(absl::Seconds(5),
                                                                   [in, done] { done(in); });
                                       })
                .value();
  auto d = Deliver(hub, fn->arn(), "{}");
  CHECK(d->calls == 0);
  sim.RunFor(absl::Seconds(4));
  CHECK(d->calls == 0);
  sim.RunFor(absl::Seconds(1));
  CHECK(d->calls == 1);
  CHECK(d->result->ok());
}

}  // namespace
}  // namespace courier
