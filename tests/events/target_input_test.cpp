// Target input (spec §9): Input, InputPath and InputTransformer as EventBridge renders them,
// the quoting of values inside and outside JSON strings, the predefined variables, and the
// limits and errors of PutTargets.
#include "events/target_input.h"

#include <absl/time/civil_time.h>

#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "courier/event_bus.h"
#include "courier/events.h"
#include "courier/hub.h"
#include "courier/queue.h"
#include "courier/sqs.h"
#include "courier/status.h"
#include "courier/testing/simulation.h"

namespace courier::events_internal {
namespace {

constexpr char kEvent[] =
    R"({"version":"0","id":"e-1","detail-type":"EC2 State","source":"aws.ec2",)"
    R"("account":"123","time":"2026-01-01T00:00:00Z","region":"us-east-1","resources":[],)"
    R"("detail":{"instance":"i-1","state":"running","count":3,"ok":true,)"
    R"("quote":"say \"hi\"","tags":{"a":"b"},"items":[{"n":"x"},{"n":"y"}]}})";

const absl::Time kIngested =
    absl::FromCivil(absl::CivilSecond(2026, 1, 1, 0, 0, 5), absl::UTCTimeZone());

std::string Render(const TargetInput::Spec& spec) {
  TargetInput input = TargetInput::Compile(spec).value();
  Json doc = input.needs_document() ? ParseJson(kEvent).value() : Json();
  return input.Render(doc, kEvent,
                      {.rule_arn = "arn:aws:events:us-east-1:123:rule/r",
                       .rule_name = "r",
                       .ingestion_time = kIngested});
}

std::string Transform(std::map<std::string, std::string> paths, std::string text) {
  return Render({.input_paths_map = std::move(paths), .input_template = std::move(text)});
}

std::string CompileError(const TargetInput::Spec& spec) {
  return std::string(ErrorName(TargetInput::Compile(spec).status()));
}

TEST_CASE("Without input settings the target gets the whole event", "[events][input]") {
  CHECK(Render({}) == kEvent);
}

TEST_CASE("Input is constant JSON; InputPath selects a part", "[events][input]") {
  CHECK(Render({.input = R"({"fixed": 1})"}) == R"({"fixed": 1})");
  CHECK(Render({.input_path = "$.detail.tags"}) == R"({"a":"b"})");
  CHECK(Render({.input_path = "$.detail.instance"}) == R"("i-1")");
  CHECK(Render({.input_path = "$"}) == kEvent);
  CHECK(Render({.input_path = "$.detail.items[1].n"}) == R"("y")");
  CHECK(Render({.input_path = "$.detail.items[*].n"}) == R"(["x","y"])");
  CHECK(Render({.input_path = "$.detail.missing"}) == "null");
}

TEST_CASE("A text template writes strings bare and other values as JSON", "[events][input]") {
  CHECK(Transform({{"instance", "$.detail.instance"}, {"state", "$.detail.state"}},
                  "<instance> is in state <state>") == "i-1 is in state running");
  CHECK(Transform({{"tags", "$.detail.tags"}, {"n", "$.detail.count"}}, "tags <tags> n <n>") ==
        R"(tags {"a":"b"} n 3)");
  CHECK(Transform({{"missing", "$.detail.none"}}, "(<missing>)") == "()");
}

TEST_CASE("A quoted template is a JSON string: values are escaped inside it", "[events][input]") {
  CHECK(Transform({{"instance", "$.detail.instance"}, {"state", "$.detail.state"}},
                  R"("<instance> is in state \"<state>\"")") == R"("i-1 is in state \"running\"")");
  CHECK(Transform({{"q", "$.detail.quote"}}, R"("<q>")") == R"("say \"hi\"")");
}

TEST_CASE("A JSON template quotes strings outside quotes and embeds objects", "[events][input]") {
  std::string out = Transform({{"instance", "$.detail.instance"},
                               {"state", "$.detail.state"},
                               {"count", "$.detail.count"},
                               {"ok", "$.detail.ok"},
                               {"tags", "$.detail.tags"},
                               {"names", "$.detail.items[*].n"},
                               {"missing", "$.detail.none"}},
                              R"({"i": <instance>, "s": "<instance> is <state>", "c": <count>, )"
                              R"("b": <ok>, "t": <tags>, "ts": "<tags>", "n": <names>, )"
                              R"("m": <missing>, "ms": "<missing>"})");
  CHECK(out == R"({"i": "i-1", "s": "i-1 is running", "c": 3, "b": true, "t": {"a":"b"}, )"
               R"("ts": "{\"a\":\"b\"}", "n": ["x","y"], "m": null, "ms": ""})");
  REQUIRE(ParseJson(out).ok());
}

TEST_CASE("The predefined variables", "[events][input]") {
  std::string out =
      Transform({}, R"({"arn": <aws.events.rule-arn>, "name": "<aws.events.rule-name>", )"
                    R"("at": <aws.events.event.ingestion-time>, )"
                    R"("event": <aws.events.event>, "text": <aws.events.event.json>})");
  Json doc = ParseJson(out).value();
  CHECK(doc.at("arn") == "arn:aws:events:us-east-1:123:rule/r");
  CHECK(doc.at("name") == "r");
  CHECK(doc.at("at") == "2026-01-01T00:00:05Z");
  CHECK(doc.at("event") == ParseJson(kEvent).value());
  CHECK(doc.at("text") == kEvent);
}

TEST_CASE("Text that only looks like a placeholder stays as it is", "[events][input]") {
  CHECK(Transform({{"a", "$.detail.state"}}, "<b> and <a> and a < b > c") ==
        "<b> and running and a < b > c");
}

TEST_CASE("Bad input settings are ValidationException", "[events][input]") {
  CHECK(CompileError({.input = "not json"}) == "ValidationException");
  CHECK(CompileError({.input_path = "detail"}) == "ValidationException");
  CHECK(CompileError({.input_path = "$..detail"}) == "ValidationException");
  CHECK(CompileError({.input_path = "$.detail[x]"}) == "ValidationException");
  CHECK(CompileError({.input_path = "$." + std::string(300, 'a')}) == "ValidationException");
  CHECK(CompileError({.input_paths_map = std::map<std::string, std::string>{},
                      .input_template = ""}) == "ValidationException");
  CHECK(CompileError({.input_paths_map = std::map<std::string, std::string>{},
                      .input_template = std::string(8193, 'a')}) == "ValidationException");
  CHECK(CompileError(
            {.input_paths_map = std::map<std::string, std::string>{{"aws.events.rule-arn", "$.id"}},
             .input_template = "x"}) == "ValidationException");
  CHECK(CompileError({.input_paths_map = std::map<std::string, std::string>{{"bad key", "$.id"}},
                      .input_template = "x"}) == "ValidationException");
  CHECK(CompileError({.input_paths_map = std::map<std::string, std::string>{{"a", "id"}},
                      .input_template = "x"}) == "ValidationException");
  // A placeholder as an object key, quoted or not.
  CHECK(CompileError({.input_paths_map = std::map<std::string, std::string>{{"a", "$.id"}},
                      .input_template = R"({<a>: 1})"}) == "ValidationException");
  CHECK(CompileError({.input_paths_map = std::map<std::string, std::string>{{"a", "$.id"}},
                      .input_template = R"({"<a>": 1})"}) == "ValidationException");
  // A JSON template that is not JSON once filled.
  CHECK(CompileError({.input_paths_map = std::map<std::string, std::string>{{"a", "$.id"}},
                      .input_template = R"({"x": <a>,})"}) == "ValidationException");
}

TEST_CASE("InputPathsMap holds at most 100 paths", "[events][input]") {
  std::map<std::string, std::string> paths;
  for (int i = 0; i < 100; ++i) paths["v" + std::to_string(i)] = "$.id";
  CHECK(TargetInput::Compile({.input_paths_map = paths, .input_template = "<v0>"}).ok());
  paths["v100"] = "$.id";
  CHECK(CompileError({.input_paths_map = paths, .input_template = "<v0>"}) ==
        "ValidationException");
}

TEST_CASE("A rule's target receives the transformed event", "[events][input]") {
  testing::Simulation sim;
  Hub hub{sim.environment()};
  auto queue = Sqs(hub).CreateQueue("q").value();
  auto bus = Events(hub).GetEventBus("default").value();
  REQUIRE(bus->PutRule("r", {.event_pattern = R"({"source":["shop"]})"}).ok());
  REQUIRE(bus->PutTargets(
                 "r", {{.id = "t",
                        .arn = queue->arn(),
                        .input_transformer =
                            InputTransformer{.input_paths_map = {{"amount", "$.detail.amount"}},
                                             .input_template = R"({"paid": <amount>, "rule": )"
                                                               R"("<aws.events.rule-name>"})"}}})
              .ok());
  REQUIRE(bus->PutEvents({{.source = "shop", .detail_type = "Order", .detail = R"({"amount":7})"}})
              ->failed_entry_count == 0);
  sim.RunUntilIdle();
  auto got =
      queue->ReceiveMessage({.max_number_of_messages = 10, .wait_time = absl::ZeroDuration()})
          .value();
  REQUIRE(got.size() == 1);
  CHECK(got[0].body == R"({"paid": 7, "rule": "r"})");
  CHECK(ErrorName(bus->PutTargets("r", {{.id = "t2",
                                         .arn = queue->arn(),
                                         .input_transformer =
                                             InputTransformer{.input_paths_map = {{"a", "$.x"}},
                                                              .input_template = "{<a>: 1}"}}})
                      .status()) == "ValidationException");
}

}  // namespace
}  // namespace courier::events_internal
