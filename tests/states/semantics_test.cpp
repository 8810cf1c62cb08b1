// Data flow, Choice, intrinsics, Retry/Catch, Map and Parallel, variables.
#include <catch2/catch.hpp>

#include "courier/function.h"
#include "courier/lambda.h"
#include "courier/step_functions.h"
#include "test_util.h"

using namespace courier;
using courier::states_internal::JsonEquals;
using courier::states_internal::test::Fixture;
using courier::states_internal::test::J;
using courier::states_internal::test::Text;

namespace {
void CheckOutput(const ExecutionDescription& d, std::string_view want) {
  INFO("status " << ExecutionStatusName(d.status) << " error " << d.error.value_or("-") << " cause "
                 << d.cause.value_or("-") << " output " << Text(d.output));
  REQUIRE(d.status == ExecutionStatus::kSucceeded);
  CHECK(JsonEquals(*d.output, J(want)));
}
void CheckFailure(const ExecutionDescription& d, std::string_view error) {
  INFO("status " << ExecutionStatusName(d.status) << " output " << Text(d.output) << " cause "
                 << d.cause.value_or("-"));
  REQUIRE(d.status == ExecutionStatus::kFailed);
  CHECK(d.error.value_or("") == error);
}
}  // namespace

TEST_CASE("JSONPath data flow: InputPath, Parameters, ResultSelector, ResultPath, OutputPath",
          "[states][dataflow]") {
  Fixture fx;
  REQUIRE(
      Lambda(fx.hub)
          .RegisterFunction(
              "add",
              [](const Json& in) -> absl::StatusOr<Json> {
                return Json{{"sum", in.at("a").as_int64() + in.at("b").as_int64()}, {"meta", "x"}};
              })
          .ok());
  auto d = fx.Run(R"j({"StartAt":"T","States":{"T":{"Type":"Task",
      "Resource":"arn:aws:lambda:us-east-1:000000000000:function:add",
      "InputPath":"$.numbers",
      "Parameters":{"a.$":"$.x","b.$":"$.y","const":1},
      "ResultSelector":{"total.$":"$.sum"},
      "ResultPath":"$.result.inner",
      "OutputPath":"$.result",
      "End":true}}})j",
                  R"({"numbers":{"x":2,"y":3}})");
  CheckOutput(d, R"({"inner":{"total":5}})");
}

TEST_CASE("Indefinite paths return arrays; filters, slices, deep scan", "[states][dataflow]") {
  Fixture fx;
  auto d = fx.Run(R"j({"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{
      "big.$":"$.items[?(@.n >= 2)].n",
      "last.$":"$.items[-1:]",
      "names.$":"$..name",
      "first.$":"$.items[0].n",
      "none.$":"$.items[?(@.n > 100)]",
      "quoted.$":"$['a key']"},"End":true}}})j",
                  R"({"items":[{"n":1,"name":"a"},{"n":2,"name":"b"},{"n":3}],"a key":true})");
  CheckOutput(
      d, R"({"big":[2,3],"last":[{"n":3}],"names":["a","b"],"first":1,"none":[],"quoted":true})");
}

TEST_CASE("InputPath/OutputPath null give {}; ResultPath null keeps the input",
          "[states][dataflow]") {
  Fixture fx;
  CheckOutput(
      fx.Run(R"j({"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":null,"End":true}}})j",
             R"({"a":1})"),
      "{}");
  CheckOutput(
      fx.Run(R"j({"StartAt":"P","States":{"P":{"Type":"Pass","OutputPath":null,"End":true}}})j",
             R"({"a":1})"),
      "{}");
  CheckOutput(
      fx.Run(
          R"j({"StartAt":"P","States":{"P":{"Type":"Pass","Result":5,"ResultPath":null,"End":true}}})j",
          R"({"a":1})"),
      R"({"a":1})");
  // ResultPath into a non-object input.
  CheckFailure(
      fx.Run(
          R"j({"StartAt":"P","States":{"P":{"Type":"Pass","Result":5,"ResultPath":"$.x","End":true}}})j",
          "[1]"),
      "States.ResultPathMatchFailure");
}

TEST_CASE("Context object fields", "[states][dataflow]") {
  Fixture fx;
  auto d = fx.Run(R"j({"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{
      "id.$":"$$.Execution.Id","sm.$":"$$.StateMachine.Name","state.$":"$$.State.Name",
      "entered.$":"$$.State.EnteredTime","start.$":"$$.Execution.StartTime"},"End":true}}})j");
  REQUIRE(d.status == ExecutionStatus::kSucceeded);
  CHECK(d.output->at("id").as_string() == d.execution_arn);
  CHECK(d.output->at("sm").as_string() == "m0");
  CHECK(d.output->at("state").as_string() == "P");
  CHECK(d.output->at("entered").as_string() == "2026-01-01T00:00:00.000Z");
}

TEST_CASE("Choice: every comparison, Path forms, boolean rules, type mismatches",
          "[states][choice]") {
  Fixture fx;
  struct Case {
    const char* rule;
    bool match;
  };
  const Case cases[] = {
      {R"("Variable":"$.s","StringEquals":"abc")", true},
      {R"("Variable":"$.s","StringLessThan":"abd")", true},
      {R"("Variable":"$.s","StringGreaterThanEquals":"abc")", true},
      {R"("Variable":"$.s","StringEqualsPath":"$.s2")", true},
      {R"("Variable":"$.s","StringMatches":"a*c")", true},
      {R"("Variable":"$.star","StringMatches":"a\\*b")", true},
      {R"("Variable":"$.s","StringMatches":"a?c")", false},
      {R"("Variable":"$.n","NumericEquals":1)", true},
      {R"("Variable":"$.n","NumericLessThanPath":"$.big")", true},
      {R"("Variable":"$.f","NumericGreaterThan":1.25)", true},
      {R"("Variable":"$.n","StringEquals":"1")", false},
      {R"("Variable":"$.s","NumericEquals":1)", false},
      {R"("Variable":"$.b","BooleanEquals":true)", true},
      {R"("Variable":"$.b","BooleanEqualsPath":"$.b")", true},
      {R"("Variable":"$.t","TimestampEquals":"2016-03-14T02:59:00+01:00")", true},
      {R"("Variable":"$.t","TimestampLessThan":"2016-03-14T01:59:00.5Z")", true},
      {R"("Variable":"$.t","TimestampGreaterThanPath":"$.early")", true},
      {R"("Variable":"$.s","TimestampEquals":"2016-03-14T01:59:00Z")", false},
      {R"("Variable":"$.nul","IsNull":true)", true},
      {R"("Variable":"$.missing","IsPresent":false)", true},
      {R"("Variable":"$.nul","IsPresent":true)", true},
      {R"("Variable":"$.s","IsNumeric":false)", true},
      {R"("Variable":"$.s","IsString":true)", true},
      {R"("Variable":"$.b","IsBoolean":true)", true},
      {R"("Variable":"$.t","IsTimestamp":true)", true},
      {R"("And":[{"Variable":"$.n","NumericEquals":1},{"Variable":"$.b","BooleanEquals":true}])",
       true},
      {R"("Or":[{"Variable":"$.n","NumericEquals":2},{"Variable":"$.b","BooleanEquals":false}])",
       false},
      {R"("Not":{"Variable":"$.n","NumericEquals":2})", true},
  };
  std::string input = R"({"s":"abc","s2":"abc","star":"a*b","n":1,"big":10,"f":1.5,"b":true,
      "t":"2016-03-14T01:59:00Z","early":"2000-01-01T00:00:00Z","nul":null})";
  for (const Case& c : cases) {
    std::string def =
        std::string(R"({"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{)") + c.rule +
        R"(,"Next":"Yes"}],"Default":"No"},"Yes":{"Type":"Pass","Result":"yes","End":true},)"
        R"("No":{"Type":"Pass","Result":"no","End":true}}})";
    INFO(c.rule);
    auto d = fx.Run(def, input);
    REQUIRE(d.status == ExecutionStatus::kSucceeded);
    CHECK(d.output->as_string() == (c.match ? "yes" : "no"));
  }
}

TEST_CASE("Choice: missing variable is States.Runtime; no match is States.NoChoiceMatched",
          "[states][choice]") {
  Fixture fx;
  CheckFailure(fx.Run(R"j({"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[
      {"Variable":"$.x","NumericEquals":1,"Next":"Y"}],"Default":"Y"},"Y":{"Type":"Succeed"}}})j"),
               "States.Runtime");
  CheckFailure(fx.Run(R"j({"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[
      {"Variable":"$.x","NumericEquals":1,"Next":"Y"}]},"Y":{"Type":"Succeed"}}})j",
                      R"({"x":2})"),
               "States.NoChoiceMatched");
}

TEST_CASE("Intrinsic functions", "[states][intrinsics]") {
  Fixture fx;
  auto d = fx.Run(R"j({"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{
      "format.$":"States.Format('{} has {}', $.name, $.obj)",
      "array.$":"States.Array(1, 'two', $.n)",
      "partition.$":"States.ArrayPartition(States.ArrayRange(1, 5, 1), 2)",
      "contains.$":"States.ArrayContains($.list, $.list[0])",
      "range.$":"States.ArrayRange(10, 0, -5)",
      "item.$":"States.ArrayGetItem($.list, 1)",
      "length.$":"States.ArrayLength($.list)",
      "unique.$":"States.ArrayUnique(States.Array(1, 1.0, 2, 'x', 'x'))",
      "merge.$":"States.JsonMerge($.obj, States.StringToJson('{\"b\":2,\"c\":3}'), false)",
      "add.$":"States.MathAdd(1.49, 1.5)",
      "neg.$":"States.MathAdd(-1.5, 0)",
      "split.$":"States.StringSplit(', , ,', ',')",
      "random.$":"States.MathRandom(5, 5)",
      "uuid.$":"States.UUID()",
      "json.$":"States.JsonToString($.obj)"},"End":true}}})j",
                  R"({"name":"Bob","obj":{"a":1,"b":[]},"n":3,"list":[{"a":1},2]})");
  INFO(Text(d.output) << d.cause.value_or(""));
  REQUIRE(d.status == ExecutionStatus::kSucceeded);
  const Json& o = *d.output;
  CHECK(o.at("format").as_string() == "Bob has {a=1, b=[]}");
  CHECK(JsonEquals(o.at("array"), J(R"([1,"two",3])")));
  CHECK(JsonEquals(o.at("partition"), J("[[1,2],[3,4],[5]]")));
  CHECK(o.at("contains").as_bool());
  CHECK(JsonEquals(o.at("range"), J("[10,5,0]")));
  CHECK(o.at("item").as_int64() == 2);
  CHECK(o.at("length").as_int64() == 2);
  CHECK(JsonEquals(o.at("unique"), J(R"([1,2,"x"])")));
  CHECK(JsonEquals(o.at("merge"), J(R"({"a":1,"b":2,"c":3})")));
  CHECK(o.at("add").as_int64() == 3);
  CHECK(o.at("neg").as_int64() == -1);
  CHECK(JsonEquals(o.at("split"), J(R"([" "," "])")));
  CHECK(o.at("random").as_int64() == 5);
  CHECK(o.at("uuid").as_string().size() == 36);
  CHECK(o.at("json").as_string() == R"({"a":1,"b":[]})");
}

TEST_CASE("Intrinsic failures fail the state with States.IntrinsicFailure",
          "[states][intrinsics]") {
  Fixture fx;
  for (const char* call : {"States.ArrayGetItem($.l, 5)", "States.Format('{} {}', 1)",
                           "States.ArrayRange(1, 2000, 1)", "States.Hash('x', 'SHA-3')",
                           "States.JsonMerge($.o, $.o, true)", "States.StringToJson('{bad')"}) {
    INFO(call);
    std::string def =
        std::string(R"({"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"x.$":")") + call +
        R"("},"End":true}}})";
    CheckFailure(fx.Run(def, R"({"l":[1],"o":{}})"), "States.IntrinsicFailure");
  }
}

TEST_CASE("Retry backoff follows IntervalSeconds x BackoffRate^k capped by MaxDelaySeconds",
          "[states][retry]") {
  Fixture fx;
  std::vector<absl::Time> calls;
  REQUIRE(Lambda(fx.hub)
              .RegisterFunction("flaky",
                                [&](const Json&) -> absl::StatusOr<Json> {
                                  calls.push_back(fx.hub.clock().Now());
                                  if (calls.size() < 5) return FunctionError("Busy", "try later");
                                  return Json("ok");
                                })
              .ok());
  auto d = fx.Run(R"j({"StartAt":"T","States":{"T":{"Type":"Task",
      "Resource":"arn:aws:lambda:us-east-1:000000000000:function:flaky",
      "Retry":[{"ErrorEquals":["Busy"],"IntervalSeconds":2,"BackoffRate":3,"MaxAttempts":5,
                "MaxDelaySeconds":10}],"End":true}}})j");
  CheckOutput(d, R"("ok")");
  REQUIRE(calls.size() == 5);
  CHECK(calls[1] - calls[0] == absl::Seconds(2));
  CHECK(calls[2] - calls[1] == absl::Seconds(6));
  CHECK(calls[3] - calls[2] == absl::Seconds(10));
  CHECK(calls[4] - calls[3] == absl::Seconds(10));
}

TEST_CASE("States.Runtime is neither retried nor caught; DataLimitExceeded escapes States.ALL",
          "[states][errors]") {
  Fixture fx;
  CheckFailure(fx.Run(R"j({"StartAt":"T","States":{"T":{"Type":"Parallel","Branches":[
      {"StartAt":"X","States":{"X":{"Type":"Pass","InputPath":"$.nope","End":true}}}],
      "Retry":[{"ErrorEquals":["States.ALL"]}],
      "Catch":[{"ErrorEquals":["States.Runtime"],"Next":"C"}],"End":true},
      "C":{"Type":"Succeed"}}})j"),
               "States.Runtime");
  REQUIRE(Lambda(fx.hub)
              .RegisterFunction("huge",
                                [](const Json&) -> absl::StatusOr<Json> {
                                  return Json(std::string(300000, 'x'));
                                })
              .ok());
  CheckFailure(fx.Run(R"j({"StartAt":"T","States":{"T":{"Type":"Task",
      "Resource":"arn:aws:lambda:us-east-1:000000000000:function:huge",
      "Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}],"End":true},"C":{"Type":"Succeed"}}})j"),
               "States.DataLimitExceeded");
}

TEST_CASE("Task heartbeat timeout is States.Timeout and matches States.HeartbeatTimeout",
          "[states][timeouts]") {
  Fixture fx;
  REQUIRE(Lambda(fx.hub).RegisterAsyncFunction("never", [](const Json&, FunctionCallback) {}).ok());
  auto d = fx.Run(R"j({"StartAt":"T","States":{"T":{"Type":"Task",
      "Resource":"arn:aws:lambda:us-east-1:000000000000:function:never",
      "TimeoutSeconds":100,"HeartbeatSeconds":10,
      "Catch":[{"ErrorEquals":["States.HeartbeatTimeout"],"ResultPath":"$.e","Next":"C"}],"End":true},
      "C":{"Type":"Pass","End":true}}})j");
  CheckOutput(d, R"({"e":{"Error":"States.Timeout","Cause":""}})");
  CHECK(*d.stop_date - d.start_date == absl::Seconds(10));
}

TEST_CASE("Parallel: outputs in branch order; a failing branch fails with its own error",
          "[states][parallel]") {
  Fixture fx;
  CheckOutput(fx.Run(R"j({"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[
      {"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":5,"Next":"A"},"A":{"Type":"Pass","Result":1,"End":true}}},
      {"StartAt":"B","States":{"B":{"Type":"Pass","Result":2,"End":true}}}],"End":true}}})j"),
              "[1,2]");
  CheckFailure(fx.Run(R"j({"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[
      {"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":5,"End":true}}},
      {"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Boom","Cause":"b"}}}],"End":true}}})j"),
               "Boom");
}

TEST_CASE("Map: ItemSelector with $$.Map.Item, MaxConcurrency, tolerated failures",
          "[states][map]") {
  Fixture fx;
  CheckOutput(fx.Run(R"j({"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.xs",
      "MaxConcurrency":2,
      "ItemSelector":{"v.$":"$$.Map.Item.Value","i.$":"$$.Map.Item.Index","k.$":"$.k"},
      "ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},
      "ResultSelector":{"all.$":"$[*].v"},"End":true}}})j",
                     R"({"xs":["a","b","c"],"k":7})"),
              R"({"all":["a","b","c"]})");
  // Three of four items fail: a 50% tolerance is exceeded.
  CheckFailure(
      fx.Run(R"j({"StartAt":"M","States":{"M":{"Type":"Map","ToleratedFailurePercentage":50,
      "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},
        "StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$","NumericEquals":0,"Next":"Ok"}],
        "Default":"F"},"Ok":{"Type":"Succeed"},"F":{"Type":"Fail","Error":"Bad"}}},"End":true}}})j",
             "[0,1,2,3]"),
      "States.ExceedToleratedFailureThreshold");
  // One of four fails: within a count of 1.
  auto d = fx.Run(R"j({"StartAt":"M","States":{"M":{"Type":"Map","ToleratedFailureCount":1,
      "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},
        "StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$","NumericEquals":3,"Next":"F"}],
        "Default":"Ok"},"Ok":{"Type":"Succeed"},"F":{"Type":"Fail","Error":"Bad"}}},"End":true}}})j",
                  "[0,1,2,3]");
  CheckOutput(d, R"([0,1,2,{"Error":"Bad","Cause":""}])");
}

TEST_CASE("Variables: Assign, visibility after the state, scopes of Map iterations",
          "[states][variables]") {
  Fixture fx;
  auto d = fx.Run(R"j({"StartAt":"A","States":{
      "A":{"Type":"Pass","Assign":{"x":1,"y.$":"$.in","z.$":"States.MathAdd($.in, 1)"},"Next":"B"},
      "B":{"Type":"Pass","Assign":{"x":2,"old.$":"$x"},"Next":"M"},
      "M":{"Type":"Map","ItemsPath":"$.items","ItemProcessor":{"StartAt":"I","States":{
         "I":{"Type":"Pass","Assign":{"x":99},"Parameters":{"outer.$":"$x","y.$":"$y"},"End":true}}},
         "ResultPath":"$.mapped","Next":"C"},
      "C":{"Type":"Pass","Parameters":{"x.$":"$x","old.$":"$old","z.$":"$z","mapped.$":"$.mapped"},"End":true}}})j",
                  R"({"in":5,"items":[1]})");
  CheckOutput(d, R"({"x":2,"old":1,"z":6,"mapped":[{"outer":2,"y":5}]})");
}

TEST_CASE("Wait: Seconds, SecondsPath, Timestamp in the past, TimestampPath", "[states][wait]") {
  Fixture fx;
  auto d = fx.Run(R"j({"StartAt":"A","States":{
      "A":{"Type":"Wait","Seconds":30,"Next":"B"},
      "B":{"Type":"Wait","SecondsPath":"$.s","Next":"C"},
      "C":{"Type":"Wait","Timestamp":"2000-01-01T00:00:00Z","Next":"D"},
      "D":{"Type":"Wait","TimestampPath":"$.t","End":true}}})j",
                  R"({"s":10,"t":"2026-01-01T01:00:00Z"})");
  REQUIRE(d.status == ExecutionStatus::kSucceeded);
  CHECK(*d.stop_date == absl::FromUnixSeconds(1767229200));
}

TEST_CASE("Choice: a matching rule's Assign applies, the state's Assign on Default",
          "[states][choice][variables]") {
  Fixture fx;
  const char* def = R"j({"StartAt":"C","States":{
      "C":{"Type":"Choice","Assign":{"path":"default"},
           "Choices":[{"Variable":"$.n","NumericGreaterThan":5,"Next":"R","Assign":{"path":"big"}}],
           "Default":"R"},
      "R":{"Type":"Pass","Parameters":{"path.$":"$path"},"End":true}}})j";
  CheckOutput(fx.Run(def, R"({"n":9})"), R"({"path":"big"})");
  CheckOutput(fx.Run(def, R"({"n":1})"), R"({"path":"default"})");
}
