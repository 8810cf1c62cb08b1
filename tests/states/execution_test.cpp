// Executions: Start/Describe/Stop/List, history, limits, callbacks, nested .sync, integrations.
#include <catch2/catch.hpp>

#include "courier/detail/hub_registry.h"
#include "courier/event_bus.h"
#include "courier/events.h"
#include "courier/function.h"
#include "courier/lambda.h"
#include "courier/queue.h"
#include "courier/resource.h"
#include "courier/sqs.h"
#include "courier/step_functions.h"
#include "test_util.h"

using namespace courier;
using courier::states_internal::JsonEquals;
using courier::states_internal::test::Fixture;
using courier::states_internal::test::J;
using courier::states_internal::test::Text;

TEST_CASE("A Pass execution's history is Started, Entered, Exited, Succeeded with ids",
          "[states][history]") {
  Fixture fx;
  auto d = fx.Run(R"j({"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}})j", R"({"a":1})");
  REQUIRE(d.status == ExecutionStatus::kSucceeded);
  auto h = fx.last->History();
  REQUIRE(h.size() == 4);
  CHECK(h[0].type == "ExecutionStarted");
  CHECK(h[1].type == "PassStateEntered");
  CHECK(h[2].type == "PassStateExited");
  CHECK(h[3].type == "ExecutionSucceeded");
  for (size_t i = 0; i < h.size(); ++i) {
    CHECK(h[i].id == static_cast<int64_t>(i + 1));
    CHECK(h[i].previous_event_id == static_cast<int64_t>(i));
  }
  CHECK(h[1].DetailsKey() == "stateEnteredEventDetails");
  CHECK(h[1].details.at("name").as_string() == "P");
  CHECK(h[1].details.at("input").as_string() == R"({"a":1})");
  CHECK(h[3].ToJson().as_object().contains("executionSucceededEventDetails"));
}

TEST_CASE("Task history: LambdaFunction events, retries repeat Scheduled/Failed",
          "[states][history]") {
  Fixture fx;
  int calls = 0;
  REQUIRE(Lambda(fx.hub)
              .RegisterFunction("f",
                                [&](const Json& in) -> absl::StatusOr<Json> {
                                  if (++calls == 1) return FunctionError("Oops", "first");
                                  return in;
                                })
              .ok());
  auto d = fx.Run(R"j({"StartAt":"T","States":{"T":{"Type":"Task",
      "Resource":"arn:aws:lambda:us-east-1:000000000000:function:f",
      "Retry":[{"ErrorEquals":["Oops"]}],"End":true}}})j");
  REQUIRE(d.status == ExecutionStatus::kSucceeded);
  std::vector<std::string> want = {"ExecutionStarted",        "TaskStateEntered",
                                   "LambdaFunctionScheduled", "LambdaFunctionStarted",
                                   "LambdaFunctionFailed",    "LambdaFunctionScheduled",
                                   "LambdaFunctionStarted",   "LambdaFunctionSucceeded",
                                   "TaskStateExited",         "ExecutionSucceeded"};
  CHECK(fx.EventTypes() == want);
  CHECK(fx.last->History()[4].details.at("error").as_string() == "Oops");
}

TEST_CASE("StopExecution aborts; Describe, List and names behave as AWS", "[states][executions]") {
  Fixture fx;
  auto m =
      fx.Machine(R"j({"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}})j");
  auto e1 = m->StartExecution({.name = "one"});
  REQUIRE(e1.ok());
  CHECK(ErrorName(m->StartExecution({.name = "one"}).status()) == "ExecutionAlreadyExists");
  CHECK(ErrorName(m->StartExecution({.name = "bad name"}).status()) == "InvalidName");
  CHECK(ErrorName(m->StartExecution({.input = "{nope"}).status()) == "InvalidExecutionInput");
  auto e2 = m->StartExecution({.name = "two"});
  fx.sim.RunFor(absl::Seconds(10));
  CHECK(m->DescribeExecution("one")->status == ExecutionStatus::kRunning);
  REQUIRE(m->StopExecution((*e1)->arn(), "Cancelled", "by test").ok());
  auto d = m->DescribeExecution("one");
  REQUIRE(d.ok());
  CHECK(d->status == ExecutionStatus::kAborted);
  CHECK(d->error == "Cancelled");
  CHECK(m->ListExecutions(ExecutionStatus::kRunning).size() == 1);
  CHECK(m->ListExecutions().size() == 2);
  CHECK(ErrorName(m->DescribeExecution("nope").status()) == "ExecutionDoesNotExist");
  fx.sim.RunUntilIdle();
  CHECK((*e2)->Describe().status == ExecutionStatus::kSucceeded);
  CHECK((*e1)->History().back().type == "ExecutionAborted");
}

TEST_CASE("Standard executions end after one year; Express after five minutes",
          "[states][limits]") {
  Fixture fx;
  const char* def =
      R"j({"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":99999999,"End":true}}})j";
  auto d = fx.Run(def);
  CHECK(d.status == ExecutionStatus::kTimedOut);
  CHECK(*d.stop_date - d.start_date == absl::Hours(365 * 24));
  CHECK(!d.error.has_value());
  CHECK(fx.last->History().back().type == "ExecutionTimedOut");
  auto express = fx.Machine(def, "express", {.type = StateMachineType::kExpress});
  auto e = express->StartExecution();
  REQUIRE(e.ok());
  auto ed = (*e)->Await();
  CHECK(ed.status == ExecutionStatus::kTimedOut);
  CHECK(*ed.stop_date - ed.start_date == absl::Minutes(5));
  CHECK(!express->GetExecutionHistory((*e)->arn()).ok());
}

TEST_CASE("Express machines reject .waitForTaskToken and .sync", "[states][limits]") {
  Fixture fx;
  auto m = StepFunctions(fx.hub).CreateStateMachine(
      "x",
      R"j({"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","End":true}}})j",
      {.type = StateMachineType::kExpress});
  CHECK(ErrorName(m.status()) == "InvalidDefinition");
}

TEST_CASE("StartSyncExecution runs an Express execution to its end", "[states][executions]") {
  Fixture fx;
  auto m = fx.Machine(
      R"j({"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"ok":true},"End":true}}})j", "sync",
      {.type = StateMachineType::kExpress});
  auto d = m->StartSyncExecution({.input = "{}"});
  REQUIRE(d.ok());
  CHECK(d->status == ExecutionStatus::kSucceeded);
  CHECK(JsonEquals(*d->output, J(R"({"ok":true})")));
}

TEST_CASE("Callback pattern: waitForTaskToken with SendTaskSuccess/Failure/Heartbeat",
          "[states][callback]") {
  Fixture fx;
  std::vector<std::string> tokens;
  REQUIRE(Lambda(fx.hub)
              .RegisterFunction("notify",
                                [&](const Json& in) -> absl::StatusOr<Json> {
                                  tokens.emplace_back(in.at("token").as_string());
                                  return Json("ignored");
                                })
              .ok());
  const char* def = R"j({"StartAt":"T","States":{"T":{"Type":"Task",
      "Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
      "Parameters":{"FunctionName":"notify","Payload":{"token.$":"$$.Task.Token"}},
      "HeartbeatSeconds":60,"TimeoutSeconds":600,
      "Catch":[{"ErrorEquals":["Rejected"],"Next":"R"}],"End":true},
      "R":{"Type":"Pass","End":true}}})j";
  auto m = fx.Machine(def);
  auto e = m->StartExecution({.input = "{}"});
  fx.sim.RunFor(absl::Seconds(50));
  REQUIRE(tokens.size() == 1);
  CHECK((*e)->Describe().status == ExecutionStatus::kRunning);
  REQUIRE(StepFunctions(fx.hub).SendTaskHeartbeat(tokens[0]).ok());
  fx.sim.RunFor(absl::Seconds(50));  // 100 s in: alive thanks to the heartbeat at 50 s
  CHECK((*e)->Describe().status == ExecutionStatus::kRunning);
  REQUIRE(StepFunctions(fx.hub).SendTaskSuccess(tokens[0], R"({"approved":true})").ok());
  fx.sim.RunUntilIdle();
  auto d = (*e)->Describe();
  REQUIRE(d.status == ExecutionStatus::kSucceeded);
  CHECK(JsonEquals(*d.output, J(R"({"approved":true})")));
  CHECK(ErrorName(StepFunctions(fx.hub).SendTaskSuccess(tokens[0], "{}")) == "TaskDoesNotExist");
  CHECK(ErrorName(StepFunctions(fx.hub).SendTaskSuccess("garbage", "{}")) == "InvalidToken");

  auto e2 = m->StartExecution({.input = R"({"x":1})"});
  fx.sim.RunFor(absl::Seconds(1));
  REQUIRE(tokens.size() == 2);
  REQUIRE(StepFunctions(fx.hub).SendTaskFailure(tokens[1], "Rejected", "no").ok());
  fx.sim.RunUntilIdle();
  auto d2 = (*e2)->Describe();
  REQUIRE(d2.status == ExecutionStatus::kSucceeded);
  CHECK(JsonEquals(*d2.output, J(R"({"Error":"Rejected","Cause":"no"})")));

  auto e3 = m->StartExecution({.input = "{}"});
  fx.sim.RunUntilIdle();  // no heartbeat: times out after 60 s
  auto d3 = (*e3)->Describe();
  CHECK(d3.status == ExecutionStatus::kFailed);
  CHECK(d3.error == "States.Timeout");
  REQUIRE(tokens.size() == 3);
  CHECK(ErrorName(StepFunctions(fx.hub).SendTaskSuccess(tokens[2], "{}")) == "TaskTimedOut");
}

TEST_CASE("states:startExecution: plain, .sync and .sync:2", "[states][nested]") {
  Fixture fx;
  auto child = fx.Machine(R"j({"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[
      {"Variable":"$.fail","BooleanEquals":true,"Next":"F"}],"Default":"W"},
      "W":{"Type":"Wait","Seconds":5,"Next":"P"},
      "P":{"Type":"Pass","Parameters":{"doubled.$":"States.MathAdd($.n, $.n)"},"End":true},
      "F":{"Type":"Fail","Error":"ChildFailed","Cause":"asked to"}}})j",
                          "child");
  std::string parent = R"j({"StartAt":"S","States":{"S":{"Type":"Task",
      "Resource":"arn:aws:states:::states:startExecution.sync:2",
      "Parameters":{"StateMachineArn":")j" +
                       child->arn() + R"j(","Input":{"n.$":"$.n","fail.$":"$.fail"}},
      "ResultSelector":{"out.$":"$.Output","status.$":"$.Status"},"End":true}}})j";
  auto d = fx.Run(parent, R"({"n":21,"fail":false})");
  INFO(Text(d.output) << d.cause.value_or(""));
  REQUIRE(d.status == ExecutionStatus::kSucceeded);
  CHECK(JsonEquals(*d.output, J(R"({"out":{"doubled":42},"status":"SUCCEEDED"})")));
  auto f = fx.Run(parent, R"({"n":1,"fail":true})");
  CHECK(f.status == ExecutionStatus::kFailed);
  CHECK(f.error == "States.TaskFailed");
  CHECK(f.cause.value_or("").find("ChildFailed") != std::string::npos);
  std::string plain = R"j({"StartAt":"S","States":{"S":{"Type":"Task",
      "Resource":"arn:aws:states:::states:startExecution",
      "Parameters":{"StateMachineArn":")j" +
                      child->arn() + R"j(","Input":{"n":1,"fail":false}},"End":true}}})j";
  auto p = fx.Run(plain);
  REQUIRE(p.status == ExecutionStatus::kSucceeded);
  CHECK(p.output->at("ExecutionArn").as_string().starts_with("arn:aws:states:"));
}

namespace {
class FakeSink : public MessageSink {
 public:
  using MessageSink::MessageSink;
  absl::StatusOr<SendMessageResult> SendMessage(SendMessageRequest request) override {
    received.push_back(std::move(request));
    return SendMessageResult{.message_id = MessageId("m-" + std::to_string(received.size())),
                             .md5_of_message_body = Md5Hex("md5")};
  }
  std::vector<SendMessageRequest> received;
};
}  // namespace

TEST_CASE("sqs:sendMessage resolves the QueueUrl through the hub", "[states][integrations]") {
  Fixture fx;
  auto sink = std::make_shared<FakeSink>("orders", fx.hub.Arn("sqs", "orders"));
  REQUIRE(detail::AddResource(fx.hub, sink).ok());
  std::string def = R"j({"StartAt":"S","States":{"S":{"Type":"Task",
      "Resource":"arn:aws:states:::sqs:sendMessage",
      "Parameters":{"QueueUrl":")j" +
                    Sqs(fx.hub).QueueUrl("orders") + R"j(",
        "MessageBody":{"order.$":"$.id"},
        "MessageAttributes":{"kind":{"DataType":"String","StringValue":"new"}}},"End":true}}})j";
  auto d = fx.Run(def, R"({"id":7})");
  INFO(d.cause.value_or(""));
  REQUIRE(d.status == ExecutionStatus::kSucceeded);
  CHECK(JsonEquals(*d.output, J(R"({"MessageId":"m-1","MD5OfMessageBody":"md5"})")));
  REQUIRE(sink->received.size() == 1);
  CHECK(sink->received[0].body == R"({"order":7})");
  CHECK(sink->received[0].attributes.at("kind").string_value == "new");
  // A queue that does not exist, a topic that does not exist: clear task errors.
  auto missing = fx.Run(R"j({"StartAt":"S","States":{"S":{"Type":"Task",
      "Resource":"arn:aws:states:::sqs:sendMessage",
      "Parameters":{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/000000000000/nope","MessageBody":"x"},"End":true}}})j");
  CHECK(missing.error == "SQS.QueueDoesNotExistException");
  auto topic = fx.Run(R"j({"StartAt":"S","States":{"S":{"Type":"Task",
      "Resource":"arn:aws:states:::sns:publish",
      "Parameters":{"TopicArn":"arn:aws:sns:us-east-1:000000000000:t","Message":"x"},"End":true}}})j");
  CHECK(topic.error == "SNS.NotFoundException");
  // An entry EventBridge refuses (a bus that does not exist) fails the task.
  auto bus = fx.Run(R"j({"StartAt":"S","States":{"S":{"Type":"Task",
      "Resource":"arn:aws:states:::events:putEvents",
      "Parameters":{"Entries":[{"Detail":{"a":1},"DetailType":"t","Source":"s",
        "EventBusName":"nope"}]},"End":true}}})j");
  CHECK(bus.error == "EventBridge.FailedEntry");
  CHECK_THAT(bus.cause.value_or(""), Catch::Contains("\"FailedEntryCount\":1"));
}

TEST_CASE("events:putEvents puts the entries on the real bus", "[states][hub]") {
  Fixture fx;
  auto queue = Sqs(fx.hub).CreateQueue("seen").value();
  auto bus = Events(fx.hub).GetEventBus("default").value();
  REQUIRE(bus->PutRule("r", {.event_pattern = R"({"source":["orders"]})"}).ok());
  REQUIRE(bus->PutTargets("r", {{.id = "q", .arn = queue->arn()}})->failed_entry_count == 0);
  auto d = fx.Run(R"j({"StartAt":"S","States":{"S":{"Type":"Task",
      "Resource":"arn:aws:states:::events:putEvents",
      "Parameters":{"Entries":[{"Detail":{"id.$":"$.id"},"DetailType":"Placed",
        "Source":"orders","Resources":["arn:aws:s3:::b"]}]},"End":true}}})j",
                  R"({"id":7})");
  INFO(d.cause.value_or(""));
  REQUIRE(d.status == ExecutionStatus::kSucceeded);
  CHECK(d.output->at("FailedEntryCount") == 0);
  const std::string id(d.output->at("Entries").at(0).at("EventId").as_string());
  auto got =
      queue->ReceiveMessage({.max_number_of_messages = 10, .wait_time = absl::ZeroDuration()})
          .value();
  REQUIRE(got.size() == 1);
  Json event = J(got[0].body);
  CHECK(event.at("id") == id.c_str());
  CHECK(event.at("detail-type") == "Placed");
  CHECK(JsonEquals(event.at("detail"), J(R"({"id":7})")));
  CHECK(JsonEquals(event.at("resources"), J(R"(["arn:aws:s3:::b"])")));
}

TEST_CASE("Hub registry: functions, state machines, update and delete", "[states][hub]") {
  Fixture fx;
  REQUIRE(Lambda(fx.hub)
              .RegisterFunction("f", [](const Json& in) -> absl::StatusOr<Json> { return in; })
              .ok());
  CHECK(ErrorName(Lambda(fx.hub).RegisterFunction("f", nullptr).status()) ==
        "ResourceConflictException");
  CHECK(Lambda(fx.hub).FindFunction("f") != nullptr);
  CHECK(Lambda(fx.hub).FindFunction("arn:aws:lambda:eu-west-1:123456789012:function:f:prod") !=
        nullptr);
  auto m =
      fx.Machine(R"j({"StartAt":"P","States":{"P":{"Type":"Pass","Result":1,"End":true}}})j", "sm");
  CHECK(ErrorName(StepFunctions(fx.hub).CreateStateMachine("sm", m->definition()).status()) ==
        "StateMachineAlreadyExists");
  CHECK(StepFunctions(fx.hub).FindStateMachine(m->arn()) == m);
  CHECK(StepFunctions(fx.hub).ListStateMachines().size() == 1);
  REQUIRE(
      m->Update(R"j({"StartAt":"P","States":{"P":{"Type":"Pass","Result":2,"End":true}}})j").ok());
  CHECK(ErrorName(m->Update("{}")) == "InvalidDefinition");
  auto e = m->StartExecution();
  fx.sim.RunUntilIdle();
  CHECK((*e)->Describe().output->as_int64() == 2);
  REQUIRE(StepFunctions(fx.hub).DeleteStateMachine("sm").ok());
  CHECK(StepFunctions(fx.hub).FindStateMachine("sm") == nullptr);
  CHECK(ErrorName(StepFunctions(fx.hub).DeleteStateMachine("sm")) == "StateMachineDoesNotExist");
}

TEST_CASE("Executions run concurrently on a thread pool", "[states][threads]") {
  Hub hub(Environment{.clock = std::make_shared<ManualClock>(),
                      .executor = std::make_shared<ThreadPoolExecutor>(2)});
  REQUIRE(
      Lambda(hub)
          .RegisterFunction(
              "inc", [](const Json& in) -> absl::StatusOr<Json> { return Json(in.as_int64() + 1); })
          .ok());
  auto m =
      StepFunctions(hub).CreateStateMachine("p", R"j({"StartAt":"M","States":{"M":{"Type":"Map",
      "ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task",
        "Resource":"arn:aws:lambda:us-east-1:000000000000:function:inc","End":true}}},"End":true}}})j");
  REQUIRE(m.ok());
  std::vector<std::shared_ptr<Execution>> execs;
  for (int i = 0; i < 50; ++i) execs.push_back(*(*m)->StartExecution({.input = "[1,2,3,4]"}));
  for (auto& e : execs) {
    auto d = e->Await();
    REQUIRE(d.status == ExecutionStatus::kSucceeded);
    CHECK(JsonEquals(*d.output, J("[2,3,4,5]")));
  }
}

TEST_CASE("StopExecution records the running state's Aborted event", "[states][history]") {
  Fixture fx;
  auto m =
      fx.Machine(R"j({"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":60,"End":true}}})j");
  auto e = m->StartExecution();
  fx.sim.RunFor(absl::Seconds(1));
  REQUIRE((*e)->Stop().ok());
  auto h = (*e)->History();
  REQUIRE(h.size() == 4);
  CHECK(h[2].type == "WaitStateAborted");
  CHECK(h[3].type == "ExecutionAborted");
}

TEST_CASE("A JSONata evaluation error records EvaluationFailed", "[states][history]") {
  Fixture fx;
  auto d = fx.Run(R"j({"QueryLanguage":"JSONata","StartAt":"P","States":{
      "P":{"Type":"Pass","Output":"{% 1 + 'x' %}","End":true}}})j");
  CHECK(d.error == "States.QueryEvaluationError");
  auto types = fx.EventTypes();
  CHECK(std::find(types.begin(), types.end(), "EvaluationFailed") != types.end());
}

TEST_CASE("Closed Standard executions are kept for 90 days", "[states][executions]") {
  Fixture fx;
  auto m = fx.Machine(R"j({"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}})j");
  REQUIRE(m->StartExecution({.name = "old"}).ok());
  fx.sim.RunUntilIdle();
  fx.sim.RunFor(absl::Hours(24 * 91));
  for (int i = 0; i < 1100; ++i) REQUIRE(m->StartExecution().ok());
  fx.sim.RunUntilIdle();
  CHECK(ErrorName(m->DescribeExecution("old").status()) == "ExecutionDoesNotExist");
  CHECK(m->ListExecutions().size() == 1100);
}

TEST_CASE("StateExited carries assignedVariables", "[states][history][variables]") {
  Fixture fx;
  auto d = fx.Run(
      R"j({"StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"x":1,"y":"two"},"End":true}}})j");
  REQUIRE(d.status == ExecutionStatus::kSucceeded);
  auto h = fx.last->History();
  REQUIRE(h.size() == 4);
  CHECK(h[2].type == "PassStateExited");
  CHECK(JsonEquals(h[2].details.at("assignedVariables"), J(R"({"x":"1","y":"\"two\""})")));
}

TEST_CASE("StepFunctions(hub).FindExecution resolves an execution ARN", "[states][hub]") {
  Fixture fx;
  auto m = fx.Machine(R"j({"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}})j", "sm");
  auto e = m->StartExecution({.name = "run-1"});
  REQUIRE(e.ok());
  CHECK(StepFunctions(fx.hub).FindExecution((*e)->arn()) == *e);
  CHECK(StepFunctions(fx.hub).FindExecution(fx.hub.Arn("states", "execution:sm:nope")) == nullptr);
  CHECK(StepFunctions(fx.hub).FindExecution("garbage") == nullptr);
}
