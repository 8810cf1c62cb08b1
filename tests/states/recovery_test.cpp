// A hub rebuilt from the records its Step Functions service left (Hub::Recover) has the same
// state machines and Standard executions: the same descriptions and histories, and a running
// execution goes on where its events left it, as the original does.
#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "courier/hub.h"
#include "courier/json.h"
#include "courier/queue.h"
#include "courier/service.h"
#include "courier/sqs.h"
#include "courier/storage.h"
#include "courier/testing/simulation.h"
#include "recording_hub.h"

namespace courier {
namespace {

using Side = testing_support::RecordingSide;

Json Call(Hub& hub, std::string_view operation, const std::string& request) {
  absl::StatusOr<Json> r = Invoke(hub, "states", operation, ParseJson(request).value());
  if (!r.ok()) return JsonObject{{"error", std::string(r.status().message())}};
  return *r;
}

const std::string kMachine = "arn:aws:states:us-east-1:000000000000:stateMachine:";
const std::string kExecution = "arn:aws:states:us-east-1:000000000000:execution:";

// Assigns a variable, waits an hour, then uses the variable.
constexpr const char* kWaitAndUse = R"j({"StartAt":"Set","States":{
  "Set":{"Type":"Pass","Assign":{"greeting.$":"$.name"},"Next":"Wait"},
  "Wait":{"Type":"Wait","Seconds":3600,"Next":"Use"},
  "Use":{"Type":"Pass","Parameters":{"hello.$":"$greeting"},"End":true}}})j";
constexpr const char* kFails = R"j({"StartAt":"F","States":{
  "F":{"Type":"Fail","Error":"Broken","Cause":"on purpose"}}})j";

std::string CreateRequest(std::string_view name, std::string_view definition) {
  return ToJsonText(JsonObject{
      {"name", name}, {"definition", definition}, {"roleArn", "arn:aws:iam::000000000000:role/r"}});
}

// What both hubs must answer alike.
std::string Describe(Hub& hub) {
  std::string text = ToJsonText(Call(hub, "ListStateMachines", "{}")) + "\n";
  for (const char* machine : {"waits", "fails"}) {
    const std::string arn = kMachine + machine;
    text +=
        ToJsonText(Call(hub, "DescribeStateMachine", R"({"stateMachineArn":")" + arn + R"("})"));
    Json listed = Call(hub, "ListExecutions", R"({"stateMachineArn":")" + arn + R"("})");
    text += ToJsonText(listed) + "\n";
    if (!listed.as_object().contains("executions")) continue;
    for (const Json& e : listed.at("executions").as_array()) {
      const std::string execution(e.at("executionArn").as_string());
      text +=
          ToJsonText(Call(hub, "DescribeExecution", R"({"executionArn":")" + execution + R"("})"));
      text += ToJsonText(
                  Call(hub, "GetExecutionHistory", R"({"executionArn":")" + execution + R"("})")) +
              "\n";
    }
  }
  return text;
}

TEST_CASE("A hub recovered from its records has the same machines and executions, which go on",
          "[states][recovery]") {
  auto log = std::make_shared<RecordingStorage>();
  Side a(log);
  Call(a.hub, "CreateStateMachine", CreateRequest("waits", kWaitAndUse));
  Call(a.hub, "CreateStateMachine", CreateRequest("fails", kFails));
  Call(a.hub, "CreateStateMachine", CreateRequest("gone", kFails));
  Call(a.hub, "DeleteStateMachine", R"({"stateMachineArn":")" + kMachine + R"(gone"})");
  Call(a.hub, "StartExecution", R"({"stateMachineArn":")" + kMachine + R"(fails","name":"f1"})");
  Call(a.hub, "StartExecution",
       R"({"stateMachineArn":")" + kMachine +
           R"(waits","name":"early","input":"{\"name\":\"a\"}"})");
  a.sim.RunFor(absl::Seconds(10));
  Call(
      a.hub, "StartExecution",
      R"({"stateMachineArn":")" + kMachine + R"(waits","name":"late","input":"{\"name\":\"b\"}"})");
  Call(a.hub, "StartExecution",
       R"({"stateMachineArn":")" + kMachine + R"(waits","name":"stopped","input":"{}"})");
  a.sim.RunFor(absl::Seconds(5));
  Call(a.hub, "StopExecution",
       R"({"executionArn":")" + kExecution + R"(waits:stopped","error":"E","cause":"C"})");
  a.sim.RunFor(absl::Seconds(5));

  Side b(log->Copy(), a.sim.Now());
  REQUIRE(b.hub.Recover().ok());
  const std::string before = Describe(a.hub);
  CHECK(before.find("RUNNING") != std::string::npos);
  CHECK(Describe(b.hub) == before);

  // Both run on: each Wait ends at its original deadline, then the variable set before it is
  // used, on the original and on the recovered hub alike.
  a.sim.RunFor(absl::Hours(2));
  b.sim.RunFor(absl::Hours(2));
  const std::string after = Describe(a.hub);
  CHECK(after.find("RUNNING") == std::string::npos);
  CHECK(after.find(R"(\"hello\":\"b\")") != std::string::npos);
  CHECK(Describe(b.hub) == after);
}

TEST_CASE("A hub's end is not recorded: a hub recovered after it resumes the executions",
          "[states][recovery]") {
  auto log = std::make_shared<RecordingStorage>();
  absl::Time stopped;
  {
    Side a(log);
    Call(a.hub, "CreateStateMachine", CreateRequest("waits", kWaitAndUse));
    Call(a.hub, "StartExecution",
         R"({"stateMachineArn":")" + kMachine + R"(waits","name":"e","input":"{\"name\":\"x\"}"})");
    a.sim.RunFor(absl::Seconds(30));
    stopped = a.sim.Now();
  }  // the hub goes: its executions end as aborted there, which the log does not keep
  Side b(log, stopped + absl::Minutes(10));
  REQUIRE(b.hub.Recover().ok());
  const std::string arn = kExecution + "waits:e";
  Json running = Call(b.hub, "DescribeExecution", R"({"executionArn":")" + arn + R"("})");
  CHECK(running.at("status") == "RUNNING");
  b.sim.RunFor(absl::Hours(1));
  Json done = Call(b.hub, "DescribeExecution", R"({"executionArn":")" + arn + R"("})");
  CHECK(done.at("status") == "SUCCEEDED");
  CHECK(done.at("output") == R"({"hello":"x"})");
  // The Wait ended an hour after it began, not an hour after the recovery.
  Json history = Call(b.hub, "GetExecutionHistory", R"({"executionArn":")" + arn + R"("})");
  bool found = false;
  for (const Json& e : history.at("events").as_array()) {
    if (e.at("type") != "WaitStateExited") continue;
    found = true;
    const double at = e.at("timestamp").to_number<double>();
    CHECK(at ==
          absl::ToDoubleSeconds(ManualClock::DefaultStart() + absl::Hours(1) - absl::UnixEpoch()));
  }
  CHECK(found);
}

// Sends a task token to a queue and waits for it.
constexpr const char* kWaitsForToken = R"j({"StartAt":"Ask","States":{
  "Ask":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
         "Parameters":{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/000000000000/asks",
                       "MessageBody":{"token.$":"$$.Task.Token"}},"End":true}}})j";

TEST_CASE("A task token given out before a restart completes its task after it",
          "[states][recovery]") {
  auto log = std::make_shared<RecordingStorage>();
  Side a(log);
  auto asks = Sqs(a.hub).CreateQueue("asks").value();
  Call(a.hub, "CreateStateMachine", CreateRequest("asks", kWaitsForToken));
  Call(a.hub, "StartExecution", R"({"stateMachineArn":")" + kMachine + R"(asks","name":"e"})");
  a.sim.RunFor(absl::Seconds(1));
  auto got = asks->ReceiveMessage({.wait_time = absl::ZeroDuration()}).value();
  REQUIRE(got.size() == 1);
  const std::string token(ParseJson(got[0].body).value().at("token").as_string());

  Side b(log->Copy(), a.sim.Now() + absl::Minutes(5));
  REQUIRE(b.hub.Recover().ok());
  b.sim.RunFor(absl::Seconds(1));
  const std::string arn = kExecution + "asks:e";
  CHECK(Call(b.hub, "DescribeExecution", R"({"executionArn":")" + arn + R"("})").at("status") ==
        "RUNNING");
  Json sent = Call(b.hub, "SendTaskSuccess",
                   ToJsonText(JsonObject{{"taskToken", token}, {"output", R"({"ok":true})"}}));
  CHECK(sent == Json(JsonObject{}));
  b.sim.RunFor(absl::Seconds(1));
  Json done = Call(b.hub, "DescribeExecution", R"({"executionArn":")" + arn + R"("})");
  CHECK(done.at("status") == "SUCCEEDED");
  CHECK(done.at("output") == R"({"ok":true})");
  // Every message the queue holds for the task carries the same token: whichever a worker
  // takes, it completes the task (the resumed task sends its message again: at least once).
  auto queue = Sqs(b.hub).GetQueue("asks").value();
  const std::vector<Message> held =
      queue->ReceiveMessage({.max_number_of_messages = 10, .wait_time = absl::ZeroDuration()})
          .value();
  CHECK(!held.empty());
  for (const Message& m : held) CHECK(ParseJson(m.body).value().at("token") == Json(token));
}

TEST_CASE("A Step Functions record that cannot be read fails the recovery with DataLoss",
          "[states][recovery]") {
  auto log = std::make_shared<RecordingStorage>();
  const std::string bad = R"({"op":"StartExecution","arn":7})";
  REQUIRE(log->Append("states", std::span<const std::string>(&bad, 1)).ok());
  Side b(log);
  absl::Status st = b.hub.Recover();
  CHECK(st.code() == absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace courier
