// EventBus (spec/event-patterns.md §1, §6-10): PutEvents' checks and envelope, rules and their
// matching, targets of every kind, retries and dead-letter queues on the simulated clock, the
// CloudWatch counters, buses of other accounts, archives and replays.
#include "courier/event_bus.h"

#include <absl/strings/match.h>
#include <fmt/format.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "courier/detail/hub_registry.h"
#include "courier/events.h"
#include "courier/fifo_queue.h"
#include "courier/function.h"
#include "courier/hub.h"
#include "courier/json.h"
#include "courier/lambda.h"
#include "courier/queue.h"
#include "courier/sns.h"
#include "courier/sqs.h"
#include "courier/state_machine.h"
#include "courier/status.h"
#include "courier/step_functions.h"
#include "courier/testing/simulation.h"
#include "courier/topic.h"
#include "drain_queue.h"
#include "flaky_sink.h"

namespace courier {
namespace {

// A pattern for rules whose matching a test does not look at (AWS refuses "{}").
constexpr char kShop[] = R"({"source":["shop"]})";

using testing_support::Drain;
using testing_support::FlakySink;

struct Fixture {
  testing::Simulation sim;
  Hub hub{sim.environment()};
  EventsService& events = Events(hub);
  std::shared_ptr<EventBus> bus = events.GetEventBus("default").value();

  std::shared_ptr<Queue> NewQueue(const std::string& name) {
    return Sqs(hub).CreateQueue(name).value();
  }
  void Route(const std::string& rule, const std::string& pattern, const std::string& arn,
             Target extra = {}) {
    REQUIRE(bus->PutRule(rule, {.event_pattern = pattern}).ok());
    extra.id = extra.id.empty() ? "t" : extra.id;
    extra.arn = arn;
    auto r = bus->PutTargets(rule, {extra});
    REQUIRE(r.ok());
    REQUIRE(r->failed_entry_count == 0);
  }
  PutEventsResult Put(std::vector<PutEventsEntry> entries) {
    auto r = bus->PutEvents(std::move(entries));
    REQUIRE(r.ok());
    return *r;
  }
};

Json Parsed(std::string_view text) { return ParseJson(text).value(); }

PutEventsEntry Order(int amount, std::string source = "shop") {
  return {.source = std::move(source),
          .detail_type = "Order Placed",
          .detail = fmt::format(R"({{"amount": {}, "items": ["a", "b"]}})", amount)};
}

TEST_CASE("PutEvents fills EventBridge's envelope", "[events]") {
  Fixture f;
  auto q = f.NewQueue("all");
  f.Route("all", R"({"source":["shop"]})", q->arn());
  PutEventsEntry e = Order(5);
  e.resources = {"arn:aws:s3:::bucket"};
  PutEventsResult r = f.Put({e});
  REQUIRE(r.failed_entry_count == 0);
  REQUIRE(r.entries.size() == 1);
  REQUIRE(r.entries[0].event_id.size() == 36);
  std::vector<Message> got = Drain(*q);
  REQUIRE(got.size() == 1);
  Json event = Parsed(got[0].body);
  CHECK(event.at("version") == "0");
  CHECK(event.at("id") == r.entries[0].event_id.c_str());
  CHECK(event.at("detail-type") == "Order Placed");
  CHECK(event.at("source") == "shop");
  CHECK(event.at("account") == "000000000000");
  CHECK(event.at("time") == "2026-01-01T00:00:00Z");
  CHECK(event.at("region") == "us-east-1");
  CHECK(event.at("resources") == Parsed(R"(["arn:aws:s3:::bucket"])"));
  CHECK(event.at("detail") == Parsed(R"({"amount":5,"items":["a","b"]})"));
  // Compact, in EventBridge's member order.
  CHECK(got[0].body.starts_with(R"({"version":"0","id":")"));
  CHECK(got[0].body.ends_with(
      R"("resources":["arn:aws:s3:::bucket"],"detail":{"amount":5,"items":["a","b"]}})"));
}

TEST_CASE("An entry's own Time is kept; the clock gives it otherwise", "[events]") {
  Fixture f;
  auto q = f.NewQueue("all");
  f.Route("all", R"({"source":["shop"]})", q->arn());
  f.sim.RunFor(absl::Seconds(90));
  PutEventsEntry given = Order(1);
  given.time = absl::FromUnixSeconds(1700000000);
  f.Put({given, Order(2)});
  std::vector<Message> got = Drain(*q);
  REQUIRE(got.size() == 2);
  std::vector<std::string> times;
  for (const Message& m : got) times.emplace_back(Parsed(m.body).at("time").as_string());
  std::sort(times.begin(), times.end());
  CHECK(times == std::vector<std::string>{"2023-11-14T22:13:20Z", "2026-01-01T00:01:30Z"});
}

TEST_CASE("Entries fail alone, with EventBridge's codes", "[events]") {
  Fixture f;
  auto q = f.NewQueue("all");
  f.Route("all", R"({"detail-type":[{"exists":true}]})", q->arn());
  PutEventsResult r = f.Put({
      Order(1),
      {.source = "shop", .detail_type = "x", .detail = "[1,2]"},
      {.source = "shop", .detail_type = "x", .detail = "{\"a\":"},
      {.source = "", .detail_type = "x", .detail = "{}"},
      {.source = "shop", .detail_type = "", .detail = "{}"},
      {.source = "aws.ec2", .detail_type = "x", .detail = "{}"},
      {.source = "shop", .detail_type = "x", .detail = R"({"big": 99999999999999999999})"},
  });
  CHECK(r.failed_entry_count == 6);
  REQUIRE(r.entries.size() == 7);
  CHECK(r.entries[0].error_code.empty());
  CHECK(r.entries[1].error_code == "MalformedDetail");
  CHECK(r.entries[2].error_code == "MalformedDetail");
  CHECK(r.entries[3].error_code == "InvalidArgument");
  CHECK(r.entries[3].error_message ==
        "Parameter Source is not valid. Reason: Source is a required argument.");
  CHECK(r.entries[4].error_code == "InvalidArgument");
  CHECK(r.entries[5].error_code == "NotAuthorizedForSourceException");
  CHECK(r.entries[6].error_code == "MalformedDetail");
  CHECK(Drain(*q).size() == 1);  // only the good one went anywhere
}

// "PutEvents will only process nested JSON up to 1000 levels deep": a detail of 1000 levels is
// accepted, delivered whole, and matched past its deep member; one of 1001 is malformed.
TEST_CASE("A detail nested 1000 levels deep is accepted and matched; 1001 is not", "[events]") {
  Fixture f;
  auto q = f.NewQueue("deep");
  f.Route("kind", R"({"detail":{"kind":["deep"]}})", q->arn());
  auto nested = [](int levels) {  // the detail's own object is the first level
    std::string deep;
    for (int i = 2; i < levels; ++i) deep += i % 2 ? "[" : "{\"a\":";
    deep += "1";
    for (int i = levels - 1; i >= 2; --i) deep += i % 2 ? "]" : "}";
    return R"({"deep":)" + (levels > 1 ? "[" + deep + "]" : deep) + R"(,"kind":"deep"})";
  };
  PutEventsResult r = f.Put({{.source = "s", .detail_type = "t", .detail = nested(1000)},
                             {.source = "s", .detail_type = "t", .detail = nested(1001)}});
  REQUIRE(r.entries.size() == 2);
  CHECK(r.entries[0].error_code.empty());
  CHECK(r.entries[1].error_code == "MalformedDetail");
  std::vector<Message> got = Drain(*q);
  REQUIRE(got.size() == 1);
  CHECK(absl::StrContains(got[0].body, nested(1000)));
}

TEST_CASE("A request of 0 or 11 entries, or of 256 KiB, is refused whole", "[events]") {
  Fixture f;
  CHECK(ErrorName(f.bus->PutEvents({}).status()) == "ValidationException");
  std::vector<PutEventsEntry> eleven(11, Order(1));
  CHECK(ErrorName(f.bus->PutEvents(eleven).status()) == "ValidationException");
  // Source + DetailType + Detail + Resources, as EventBridge counts them.
  PutEventsEntry big{.source = "s", .detail_type = "t"};
  // 2 + 8 bytes of the detail's JSON around its string: exactly 256 KiB is too much.
  big.detail = "{\"x\":\"" + std::string(256 * 1024 - 10, 'a') + "\"}";
  CHECK(ErrorName(f.bus->PutEvents({big}).status()) == "ValidationException");
  big.detail = "{\"x\":\"" + std::string(256 * 1024 - 11, 'a') + "\"}";
  CHECK(f.bus->PutEvents({big}).ok());
}

TEST_CASE("Every matching rule gets the event, once per target", "[events]") {
  Fixture f;
  auto big = f.NewQueue("big");
  auto any = f.NewQueue("any");
  auto other = f.NewQueue("other");
  f.Route("big", R"({"detail":{"amount":[{"numeric":[">",100]}]}})", big->arn());
  f.Route("any", R"({"source":["shop"]})", any->arn());
  f.Route("other", R"({"source":["bank"]})", other->arn());
  f.Put({Order(250), Order(5), Order(500, "bank")});
  CHECK(Drain(*big).size() == 2);
  CHECK(Drain(*any).size() == 2);
  CHECK(Drain(*other).size() == 1);
  CHECK(f.bus->RuleMetrics("big")->at("MatchedEvents") == 2);
  CHECK(f.bus->RuleMetrics("big")->at("Invocations") == 2);
  CHECK(f.bus->RuleMetrics("other")->at("MatchedEvents") == 1);
}

TEST_CASE("Disabled rules match nothing; enabling them again does", "[events]") {
  Fixture f;
  auto q = f.NewQueue("q");
  f.Route("r", R"({"source":["shop"]})", q->arn());
  REQUIRE(f.bus->DisableRule("r").ok());
  CHECK(f.bus->DescribeRule("r")->state == "DISABLED");
  f.Put({Order(1)});
  CHECK(Drain(*q).empty());
  REQUIRE(f.bus->EnableRule("r").ok());
  f.Put({Order(1)});
  CHECK(Drain(*q).size() == 1);
  CHECK(ErrorName(f.bus->EnableRule("missing")) == "ResourceNotFoundException");
}

TEST_CASE("Rules: names, patterns, listing, deletion", "[events]") {
  Fixture f;
  CHECK(ErrorName(f.bus->PutRule("bad name", {.event_pattern = kShop}).status()) ==
        "ValidationException");
  CHECK(ErrorName(f.bus->PutRule("r", {}).status()) == "ValidationException");
  CHECK(ErrorName(f.bus->PutRule("r", {.event_pattern = R"({"source":"shop"})"}).status()) ==
        "InvalidEventPatternException");
  CHECK(ErrorName(f.bus->PutRule("r", {.event_pattern = kShop, .state = "ON"}).status()) ==
        "ValidationException");
  CHECK(f.bus->ListRules().empty());  // nothing was made by the failures
  auto arn = f.bus->PutRule("orders-big", {.event_pattern = R"({"source":["shop"]})"});
  REQUIRE(arn.ok());
  CHECK(*arn == "arn:aws:events:us-east-1:000000000000:rule/orders-big");
  REQUIRE(f.bus->PutRule("orders-small", {.event_pattern = R"({"source":["shop"]})"}).ok());
  REQUIRE(f.bus->PutRule("refunds", {.event_pattern = R"({"source":["shop"]})"}).ok());
  std::vector<RuleDescription> listed = f.bus->ListRules("orders");
  REQUIRE(listed.size() == 2);
  CHECK(listed[0].name == "orders-big");
  CHECK(listed[1].name == "orders-small");
  auto custom = f.events.CreateEventBus("custom").value();
  CHECK(custom->PutRule("r", {.event_pattern = kShop}).value() ==
        "arn:aws:events:us-east-1:000000000000:rule/custom/r");
  CHECK(ErrorName(custom->PutRule("s", {.schedule_expression = "rate(5 minutes)"}).status()) ==
        "ValidationException");

  auto q = f.NewQueue("q");
  REQUIRE(f.bus->PutTargets("refunds", {{.id = "q", .arn = q->arn()}}).ok());
  CHECK(f.bus->ListRuleNamesByTarget(q->arn()) == std::vector<std::string>{"refunds"});
  CHECK(ErrorName(f.bus->DeleteRule("refunds")) == "ValidationException");
  CHECK(f.bus->DescribeRule("refunds").ok());
  CHECK(f.bus->DeleteRule("refunds", /*force=*/true).ok());
  CHECK(ErrorName(f.bus->DescribeRule("refunds").status()) == "ResourceNotFoundException");
  CHECK(f.bus->DeleteRule("never-was").ok());
}

TEST_CASE("The rule quota is LimitExceededException", "[events]") {
  Fixture f;
  EventsQuotas q = f.events.quotas();
  q.rules_per_bus = 2;
  f.events.SetQuotas(q);
  REQUIRE(f.bus->PutRule("a", {.event_pattern = kShop}).ok());
  REQUIRE(f.bus->PutRule("b", {.event_pattern = kShop}).ok());
  CHECK(ErrorName(f.bus->PutRule("c", {.event_pattern = kShop}).status()) ==
        "LimitExceededException");
  CHECK(f.bus->PutRule("a", {.event_pattern = R"({"source":["x"]})"}).ok());  // an update
}

TEST_CASE("Targets: at most five, validated, replaced by id", "[events]") {
  Fixture f;
  REQUIRE(f.bus->PutRule("r", {.event_pattern = kShop}).ok());
  auto q = f.NewQueue("q");
  std::vector<Target> six;
  for (int i = 0; i < 6; ++i) six.push_back({.id = fmt::format("t{}", i), .arn = q->arn()});
  CHECK(ErrorName(f.bus->PutTargets("r", six).status()) == "LimitExceededException");
  CHECK(f.bus->ListTargetsByRule("r")->empty());
  CHECK(ErrorName(f.bus->PutTargets("r", {{.id = "bad id!", .arn = q->arn()}}).status()) ==
        "ValidationException");
  CHECK(ErrorName(f.bus->PutTargets("r", {{.id = "t", .arn = "queue"}}).status()) ==
        "ValidationException");
  CHECK(ErrorName(
            f.bus
                ->PutTargets(
                    "r", {{.id = "t", .arn = q->arn(), .input = "{}", .input_path = "$.detail"}})
                .status()) == "ValidationException");
  CHECK(
      ErrorName(
          f.bus->PutTargets("r", {{.id = "t", .arn = "arn:aws:sqs:us-east-1:000000000000:q.fifo"}})
              .status()) == "ValidationException");
  CHECK(ErrorName(f.bus
                      ->PutTargets(
                          "r", {{.id = "t",
                                 .arn = q->arn(),
                                 .retry_policy = TargetRetryPolicy{.maximum_retry_attempts = 186}}})
                      .status()) == "ValidationException");
  CHECK(ErrorName(f.bus->PutTargets("missing", {{.id = "t", .arn = q->arn()}}).status()) ==
        "ResourceNotFoundException");
  REQUIRE(f.bus->PutTargets("r", {{.id = "t", .arn = q->arn()}}).ok());
  REQUIRE(f.bus->PutTargets("r", {{.id = "t", .arn = q->arn(), .input = R"({"fixed":1})"}}).ok());
  auto listed = f.bus->ListTargetsByRule("r").value();
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].input == std::optional<std::string>(R"({"fixed":1})"));
  f.Put({Order(1)});
  std::vector<Message> got = Drain(*q);
  REQUIRE(got.size() == 1);
  CHECK(got[0].body == R"({"fixed":1})");
  REQUIRE(f.bus->RemoveTargets("r", {"t", "not-there"}).ok());
  CHECK(f.bus->ListTargetsByRule("r")->empty());
}

TEST_CASE("A FIFO queue target gets SqsParameters' group id", "[events]") {
  Fixture f;
  auto fifo =
      Sqs(f.hub).CreateFifoQueue("orders.fifo", {{"ContentBasedDeduplication", "true"}}).value();
  f.Route("r", R"({"source":["shop"]})", fifo->arn(), {.message_group_id = "g1"});
  f.Put({Order(1), Order(2), Order(3)});
  std::vector<Message> got =
      fifo->ReceiveMessage(
              {.max_number_of_messages = 10, .message_system_attribute_names = {"MessageGroupId"}})
          .value();
  REQUIRE(got.size() == 3);
  for (const Message& m : got) CHECK(m.attributes.at("MessageGroupId") == "g1");
  CHECK(Parsed(got[0].body).at("detail").at("amount") == 1);
  CHECK(Parsed(got[2].body).at("detail").at("amount") == 3);
}

TEST_CASE("Topics, Functions and state machines are targets too", "[events]") {
  Fixture f;
  auto topic = Sns(f.hub).CreateTopic("orders").value();
  auto via_topic = f.NewQueue("via-topic");
  REQUIRE(Sns(f.hub)
              .Subscribe(topic->arn(), "sqs", via_topic->arn(), {{"RawMessageDelivery", "true"}})
              .ok());
  std::vector<Json> seen;
  auto fn = Lambda(f.hub)
                .RegisterFunction("seen",
                                  [&](const Json& in) -> absl::StatusOr<Json> {
                                    seen.push_back(in);
                                    return Json(nullptr);
                                  })
                .value();
  auto machine = StepFunctions(f.hub)
                     .CreateStateMachine("m", R"({"StartAt":"P","States":{"P":{"Type":"Pass",
                                                 "End":true}}})")
                     .value();
  REQUIRE(f.bus->PutRule("r", {.event_pattern = R"({"source":["shop"]})"}).ok());
  REQUIRE(f.bus
              ->PutTargets("r", {{.id = "topic", .arn = topic->arn()},
                                 {.id = "fn", .arn = fn->arn()},
                                 {.id = "sm", .arn = machine->arn()}})
              .ok());
  f.Put({Order(7)});
  f.sim.RunUntilIdle();
  std::vector<Message> got = Drain(*via_topic);
  REQUIRE(got.size() == 1);
  CHECK(Parsed(got[0].body).at("detail").at("amount") == 7);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].at("detail-type") == "Order Placed");
  std::vector<ExecutionDescription> runs = machine->ListExecutions();
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].input.at("detail").at("amount") == 7);
  CHECK(f.bus->RuleMetrics("r")->at("Invocations") == 3);
  CHECK(f.bus->RuleMetrics("r")->at("FailedInvocations") == 0);
}

TEST_CASE("A failing target is retried with back-off on the clock, then succeeds", "[events]") {
  Fixture f;
  auto flaky =
      std::make_shared<FlakySink>(f.hub, "flaky", 3, AwsError("ServiceUnavailable", "try later"));
  REQUIRE(detail::AddResource(f.hub, flaky).ok());
  f.Route("r", R"({"source":["shop"]})", flaky->arn());
  f.Put({Order(1)});
  REQUIRE(flaky->tries.size() == 1);
  f.sim.RunUntilIdle();
  REQUIRE(flaky->tries.size() == 4);
  REQUIRE(flaky->received.size() == 1);
  // Each wait is longer than the one before (exponential, with jitter of at most half).
  for (size_t i = 1; i + 1 < flaky->tries.size(); ++i) {
    CHECK(flaky->tries[i + 1] - flaky->tries[i] > flaky->tries[i] - flaky->tries[i - 1]);
  }
  CHECK(flaky->tries[1] - flaky->tries[0] >= absl::Milliseconds(500));
  EventsMetrics m = f.bus->TargetMetrics("r", "t").value();
  CHECK(m.at("RetryInvocationAttempts") == 3);
  CHECK(m.at("Invocations") == 1);
  CHECK(m.at("FailedInvocations") == 0);
}

TEST_CASE("Retries end at MaximumRetryAttempts; the DLQ gets the event and why", "[events]") {
  Fixture f;
  auto flaky = std::make_shared<FlakySink>(f.hub, "down", 1000,
                                           AwsError("ServiceUnavailable", "down for good"));
  REQUIRE(detail::AddResource(f.hub, flaky).ok());
  auto dlq = f.NewQueue("dlq");
  f.Route("r", R"({"source":["shop"]})", flaky->arn(),
          {.retry_policy = TargetRetryPolicy{.maximum_retry_attempts = 2},
           .dead_letter_arn = dlq->arn()});
  PutEventsResult r = f.Put({Order(1)});
  f.sim.RunUntilIdle();
  CHECK(flaky->tries.size() == 3);  // the try and two retries
  std::vector<Message> dead = Drain(*dlq);
  REQUIRE(dead.size() == 1);
  CHECK(Parsed(dead[0].body).at("id") == r.entries[0].event_id.c_str());
  const MessageAttributes& a = dead[0].message_attributes;
  CHECK(a.at("ERROR_CODE").string_value == "INTERNAL_ERROR");
  CHECK(a.at("ERROR_MESSAGE").string_value == "down for good");
  CHECK(a.at("RULE_ARN").string_value == "arn:aws:events:us-east-1:000000000000:rule/r");
  CHECK(a.at("TARGET_ARN").string_value == flaky->arn());
  CHECK(a.at("RETRY_ATTEMPTS").string_value == "2");
  CHECK(a.at("EXHAUSTED_RETRY_CONDITION").string_value == "MaximumRetryAttempts");
  EventsMetrics m = f.bus->TargetMetrics("r", "t").value();
  CHECK(m.at("FailedInvocations") == 1);
  CHECK(m.at("InvocationsSentToDlq") == 1);
  CHECK(m.at("RetryInvocationAttempts") == 2);
}

TEST_CASE("Retries end at MaximumEventAgeInSeconds", "[events]") {
  Fixture f;
  auto flaky =
      std::make_shared<FlakySink>(f.hub, "down", 1000, AwsError("ServiceUnavailable", "down"));
  REQUIRE(detail::AddResource(f.hub, flaky).ok());
  auto dlq = f.NewQueue("dlq");
  f.Route("r", R"({"source":["shop"]})", flaky->arn(),
          {.retry_policy = TargetRetryPolicy{.maximum_retry_attempts = 185,
                                             .maximum_event_age = absl::Seconds(60)},
           .dead_letter_arn = dlq->arn()});
  const absl::Time start = f.sim.Now();
  f.Put({Order(1)});
  f.sim.RunUntilIdle();
  REQUIRE(flaky->tries.size() > 2);
  CHECK(flaky->tries.back() - start <= absl::Seconds(60));
  std::vector<Message> dead = Drain(*dlq);
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].message_attributes.at("EXHAUSTED_RETRY_CONDITION").string_value ==
        "MaximumEventAgeInSeconds");
}

TEST_CASE("A missing target is not retried: NO_RESOURCE to the DLQ at once", "[events]") {
  Fixture f;
  auto dlq = f.NewQueue("dlq");
  f.Route("r", R"({"source":["shop"]})", "arn:aws:sqs:us-east-1:000000000000:gone",
          {.dead_letter_arn = dlq->arn()});
  f.Put({Order(1)});
  std::vector<Message> dead = Drain(*dlq);
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].message_attributes.at("ERROR_CODE").string_value == "NO_RESOURCE");
  CHECK(dead[0].message_attributes.count("EXHAUSTED_RETRY_CONDITION") == 0);
  CHECK(f.bus->RuleMetrics("r")->at("RetryInvocationAttempts") == 0);
  CHECK(f.sim.clock().PendingTimers() == 0);
}

TEST_CASE("Without a DLQ a failure is counted, never silent", "[events]") {
  Fixture f;
  f.Route("r", R"({"source":["shop"]})", "arn:aws:sqs:us-east-1:000000000000:gone");
  f.Put({Order(1)});
  CHECK(f.bus->RuleMetrics("r")->at("FailedInvocations") == 1);
  CHECK(f.bus->RuleMetrics("r")->at("InvocationsFailedToBeSentToDlq") == 0);
}

TEST_CASE("A queue made after the target was put is found", "[events]") {
  Fixture f;
  f.Route("r", R"({"source":["shop"]})", "arn:aws:sqs:us-east-1:000000000000:later");
  auto q = f.NewQueue("later");
  f.Put({Order(1)});
  CHECK(Drain(*q).size() == 1);
}

TEST_CASE("Buses: create, describe, list, delete; default stays", "[events]") {
  Fixture f;
  auto bus = f.events.CreateEventBus("orders", "the orders", {{"team", "a"}});
  REQUIRE(bus.ok());
  CHECK((*bus)->arn() == "arn:aws:events:us-east-1:000000000000:event-bus/orders");
  CHECK(ErrorName(f.events.CreateEventBus("orders").status()) == "ResourceAlreadyExistsException");
  CHECK(ErrorName(f.events.CreateEventBus("default").status()) == "ResourceAlreadyExistsException");
  CHECK(ErrorName(f.events.CreateEventBus("bad name").status()) == "ValidationException");
  CHECK(ErrorName(f.events.CreateEventBus("aws.mine").status()) == "ValidationException");
  CHECK(f.events.DescribeEventBus("orders")->description == "the orders");
  CHECK(f.events.DescribeEventBus((*bus)->arn())->name == "orders");
  CHECK(f.events.ListTagsForResource((*bus)->arn())->at("team") == "a");
  std::vector<EventBusDescription> all = f.events.ListEventBuses();
  REQUIRE(all.size() == 2);
  CHECK(all[0].name == "default");
  CHECK(ErrorName(f.events.DeleteEventBus("default")) == "ValidationException");
  REQUIRE((*bus)->PutRule("r", {.event_pattern = kShop}).ok());
  REQUIRE(f.events.DeleteEventBus("orders").ok());
  CHECK(ErrorName(f.events.DescribeEventBus("orders").status()) == "ResourceNotFoundException");
  CHECK(ErrorName((*bus)->PutEvents({Order(1)}).status()) == "ResourceNotFoundException");
  CHECK(f.events.DeleteEventBus("orders").ok());
  // A new bus of the same name starts without the old one's rules.
  auto again = f.events.CreateEventBus("orders").value();
  CHECK(again->ListRules().empty());
}

TEST_CASE("EventsService::PutEvents sends each entry to the bus it names", "[events]") {
  Fixture f;
  auto custom = f.events.CreateEventBus("custom").value();
  auto qd = f.NewQueue("d");
  auto qc = f.NewQueue("c");
  f.Route("r", kShop, qd->arn());
  REQUIRE(custom->PutRule("r", {.event_pattern = kShop}).ok());
  REQUIRE(custom->PutTargets("r", {{.id = "t", .arn = qc->arn()}}).ok());
  PutEventsEntry to_custom = Order(1);
  to_custom.event_bus_name = custom->arn();
  PutEventsEntry to_missing = Order(2);
  to_missing.event_bus_name = "nope";
  PutEventsResult r = f.events.PutEvents({Order(0), to_custom, to_missing}).value();
  CHECK(r.failed_entry_count == 1);
  CHECK(r.entries[2].error_code == "ResourceNotFoundException");
  CHECK(Drain(*qd).size() == 1);
  CHECK(Drain(*qc).size() == 1);
}

TEST_CASE("A bus of another account receives only what its policy allows", "[events]") {
  testing::Simulation sim;
  Environment a = sim.environment();
  a.account = "111111111111";
  Environment b = sim.environment();
  b.account = "222222222222";
  Hub hub_a(a), hub_b(b);
  auto central = Events(hub_b).GetEventBus("default").value();
  auto inbox = Sqs(hub_b).CreateQueue("inbox").value();
  REQUIRE(central->PutRule("all", {.event_pattern = R"({"source":["shop"]})"}).ok());
  REQUIRE(central->PutTargets("all", {{.id = "q", .arn = inbox->arn()}}).ok());
  auto local = Events(hub_a).GetEventBus("default").value();
  REQUIRE(local->PutRule("fwd", {.event_pattern = R"({"source":["shop"]})"}).ok());
  REQUIRE(local->PutTargets("fwd", {{.id = "central", .arn = central->arn()}}).ok());

  REQUIRE(local->PutEvents({Order(1)}).ok());
  CHECK(Drain(*inbox).empty());
  CHECK(local->RuleMetrics("fwd")->at("FailedInvocations") == 1);

  REQUIRE(Events(hub_b).PutPermission("default", "from-a", "111111111111").ok());
  CHECK(Events(hub_b).DescribeEventBus("default")->policy.find("arn:aws:iam::111111111111:root") !=
        std::string::npos);
  REQUIRE(local->PutEvents({Order(2)}).ok());
  std::vector<Message> got = Drain(*inbox);
  REQUIRE(got.size() == 1);
  Json event = Parsed(got[0].body);
  CHECK(event.at("account") == "111111111111");  // the event as the sender's bus made it
  CHECK(event.at("detail").at("amount") == 2);

  REQUIRE(Events(hub_b).RemovePermission("default", "from-a").ok());
  CHECK(ErrorName(Events(hub_b).RemovePermission("default", "from-a")) ==
        "ResourceNotFoundException");
  REQUIRE(local->PutEvents({Order(3)}).ok());
  CHECK(Drain(*inbox).empty());
  CHECK(Events(hub_a).GetEventBus(central->arn()).value() == central);
}

TEST_CASE("Archives keep matching events; retention drops them on the clock", "[events]") {
  Fixture f;
  auto all = f.events.CreateArchive("all", {.event_source_arn = f.bus->arn()});
  REQUIRE(all.ok());
  CHECK(*all == "arn:aws:events:us-east-1:000000000000:archive/all");
  REQUIRE(
      f.events
          .CreateArchive("big", {.event_source_arn = f.bus->arn(),
                                 .event_pattern = R"({"detail":{"amount":[{"numeric":[">",10]}]}})",
                                 .retention_days = 1})
          .ok());
  CHECK(ErrorName(f.events.CreateArchive("all", {.event_source_arn = f.bus->arn()}).status()) ==
        "ResourceAlreadyExistsException");
  CHECK(ErrorName(
            f.events
                .CreateArchive(
                    "x", {.event_source_arn = "arn:aws:events:us-east-1:000000000000:event-bus/no"})
                .status()) == "ResourceNotFoundException");
  CHECK(ErrorName(
            f.events
                .CreateArchive("x", {.event_source_arn = f.bus->arn(), .event_pattern = "not json"})
                .status()) == "InvalidEventPatternException");
  f.Put({Order(5), Order(50), Order(500)});
  CHECK(f.events.DescribeArchive("all")->event_count == 3);
  CHECK(f.events.DescribeArchive("big")->event_count == 2);
  CHECK(f.events.DescribeArchive("big")->size_bytes > 0);
  f.sim.RunFor(absl::Hours(25));
  CHECK(f.events.DescribeArchive("big")->event_count == 0);
  CHECK(f.events.DescribeArchive("all")->event_count == 3);  // retention 0: forever
  CHECK(f.events.ListArchives().size() == 2);
  REQUIRE(f.events.DeleteArchive("big").ok());
  CHECK(ErrorName(f.events.DescribeArchive("big").status()) == "ResourceNotFoundException");
  f.Put({Order(500)});
  CHECK(f.events.DescribeArchive("all")->event_count == 4);
}

TEST_CASE("A replay sends the range again, marked, to the chosen rules", "[events]") {
  Fixture f;
  auto q1 = f.NewQueue("q1");
  auto q2 = f.NewQueue("q2");
  f.Route("one", R"({"source":["shop"]})", q1->arn());
  f.Route("two", R"({"source":["shop"]})", q2->arn());
  const std::string archive =
      f.events.CreateArchive("a", {.event_source_arn = f.bus->arn()}).value();
  const absl::Time t0 = f.sim.Now();
  f.Put({Order(1)});
  f.sim.RunFor(absl::Minutes(2));
  f.Put({Order(2)});
  f.sim.RunFor(absl::Minutes(2));
  f.Put({Order(3)});  // outside the range
  const absl::Time t1 = t0 + absl::Minutes(3);
  f.sim.RunFor(absl::Minutes(1));
  Drain(*q1);
  Drain(*q2);

  CHECK(ErrorName(f.events
                      .StartReplay({.name = "bad",
                                    .event_source_arn = archive,
                                    .event_start_time = t1,
                                    .event_end_time = t0,
                                    .destination_arn = f.bus->arn()})
                      .status()) == "ValidationException");
  auto started = f.events.StartReplay({.name = "again",
                                       .event_source_arn = archive,
                                       .event_start_time = t0,
                                       .event_end_time = t1,
                                       .destination_arn = f.bus->arn(),
                                       .filter_arns = {f.bus->DescribeRule("one")->arn}});
  REQUIRE(started.ok());
  CHECK(started->state == "STARTING");
  CHECK(ErrorName(f.events
                      .StartReplay({.name = "again",
                                    .event_source_arn = archive,
                                    .event_start_time = t0,
                                    .event_end_time = t1,
                                    .destination_arn = f.bus->arn()})
                      .status()) == "ResourceAlreadyExistsException");
  f.sim.RunUntilIdle();
  ReplayDescription done = f.events.DescribeReplay("again").value();
  CHECK(done.state == "COMPLETED");
  REQUIRE(done.replay_end_time.has_value());
  CHECK(done.event_last_replayed_time == t0 + absl::Minutes(2));
  std::vector<Message> replayed = Drain(*q1);
  REQUIRE(replayed.size() == 2);
  for (const Message& m : replayed) CHECK(Parsed(m.body).at("replay-name") == "again");
  CHECK(Parsed(replayed[0].body).at("detail").at("amount") == 1);
  CHECK(Parsed(replayed[1].body).at("detail").at("amount") == 2);
  CHECK(Drain(*q2).empty());                               // not among FilterArns
  CHECK(f.events.DescribeArchive("a")->event_count == 3);  // replays are not archived again
  CHECK(ErrorName(f.events.CancelReplay("again").status()) == "IllegalStatusException");
}

TEST_CASE("A replay cancelled before it runs ends CANCELLED", "[events]") {
  Fixture f;
  auto q = f.NewQueue("q");
  f.Route("r", R"({"source":["shop"]})", q->arn());
  const std::string archive =
      f.events.CreateArchive("a", {.event_source_arn = f.bus->arn()}).value();
  const absl::Time t0 = f.sim.Now();
  f.Put({Order(1)});
  f.sim.RunFor(absl::Minutes(5));
  Drain(*q);
  REQUIRE(f.events
              .StartReplay({.name = "r1",
                            .event_source_arn = archive,
                            .event_start_time = t0,
                            .event_end_time = f.sim.Now(),
                            .destination_arn = f.bus->arn()})
              .ok());
  CHECK(f.events.CancelReplay("r1")->state == "CANCELLING");
  f.sim.RunUntilIdle();
  CHECK(f.events.DescribeReplay("r1")->state == "CANCELLED");
  CHECK(Drain(*q).empty());
  CHECK(f.events.ListReplays().size() == 1);
}

TEST_CASE("TestEventPattern", "[events]") {
  Fixture f;
  const std::string event =
      R"({"id":"1","account":"1","source":"shop","time":"2026-01-01T00:00:00Z",
    "region":"us-east-1","detail-type":"x","detail":{"amount":5}})";
  CHECK(f.events.TestEventPattern(R"({"detail":{"amount":[5]}})", event).value());
  CHECK_FALSE(f.events.TestEventPattern(R"({"detail":{"amount":[6]}})", event).value());
  CHECK(ErrorName(f.events.TestEventPattern("[", event).status()) ==
        "InvalidEventPatternException");
  CHECK(ErrorName(f.events.TestEventPattern(kShop, R"({"source":"x"})").status()) ==
        "ValidationException");
}

TEST_CASE("Tags of buses and rules", "[events]") {
  Fixture f;
  const std::string rule =
      f.bus->PutRule("r", {.event_pattern = kShop, .tags = {{"k", "v"}}}).value();
  CHECK(f.events.ListTagsForResource(rule)->at("k") == "v");
  REQUIRE(f.events.TagResource(rule, {{"k2", "v2"}}).ok());
  REQUIRE(f.events.UntagResource(rule, {"k"}).ok());
  CHECK(*f.events.ListTagsForResource(rule) == EventsTagMap{{"k2", "v2"}});
  REQUIRE(f.events.TagResource(f.bus->arn(), {{"b", "1"}}).ok());
  CHECK(f.events.ListTagsForResource(f.bus->arn())->at("b") == "1");
  CHECK(ErrorName(f.events.TagResource("arn:aws:events:us-east-1:000000000000:rule/none", {})) ==
        "ResourceNotFoundException");
}

TEST_CASE("A bus that targets a bus routes the event unchanged", "[events]") {
  Fixture f;
  auto second = f.events.CreateEventBus("second").value();
  auto q = f.NewQueue("q");
  REQUIRE(second->PutRule("r", {.event_pattern = R"({"source":["shop"]})"}).ok());
  REQUIRE(second->PutTargets("r", {{.id = "q", .arn = q->arn()}}).ok());
  f.Route("fwd", R"({"source":["shop"]})", second->arn());
  PutEventsResult r = f.Put({Order(9)});
  std::vector<Message> got = Drain(*q);
  REQUIRE(got.size() == 1);
  CHECK(Parsed(got[0].body).at("id") == r.entries[0].event_id.c_str());
}

}  // namespace
}  // namespace courier
