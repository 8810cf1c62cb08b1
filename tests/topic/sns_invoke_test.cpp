// The SNS operation table against the scripts in tests/conformance/sns: each *.jsonl file is a
// `courier invoke` script (one hub, a manual clock) whose lines also say what AWS answers. The
// line format and the runner: tests/invoke_script.h. What a script cannot say (a page of 100
// topics, the envelope's text) is checked here in C++.
#include <absl/strings/escaping.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "courier/hub.h"
#include "courier/service.h"
#include "courier/sns.h"
#include "courier/sqs.h"
#include "courier/testing/simulation.h"
#include "invoke_script.h"

namespace courier {
namespace {

namespace fs = std::filesystem;
using testing_support::RunScript;
using testing_support::Scripts;
using testing_support::ScriptsUse;

const fs::path kScripts = fs::path(COURIER_TEST_DATA_DIR) / "conformance" / "sns";

TEST_CASE("The SNS operation table answers as AWS does (tests/conformance/sns)",
          "[topic][invoke]") {
  const std::vector<fs::path> scripts = Scripts(kScripts);
  REQUIRE(!scripts.empty());
  for (const fs::path& script : scripts) {
    DYNAMIC_SECTION(script.filename().string()) { RunScript(script); }
  }
}

TEST_CASE("The scripts use every operation of the SNS table", "[topic][invoke]") {
  const std::vector<std::string> operations = {"ConfirmSubscription",
                                               "CreateTopic",
                                               "DeleteTopic",
                                               "GetSubscriptionAttributes",
                                               "GetTopicAttributes",
                                               "ListSubscriptions",
                                               "ListSubscriptionsByTopic",
                                               "ListTagsForResource",
                                               "ListTopics",
                                               "Publish",
                                               "PublishBatch",
                                               "SetSubscriptionAttributes",
                                               "SetTopicAttributes",
                                               "Subscribe",
                                               "TagResource",
                                               "Unsubscribe",
                                               "UntagResource"};
  for (const std::string& op : operations) {
    INFO(op);
    CHECK(ScriptsUse(kScripts, op));
  }
}

TEST_CASE("ListTopics and ListSubscriptions page by 100 with NextToken", "[topic][invoke]") {
  testing::Simulation sim;
  Hub hub(sim.environment());
  for (int i = 0; i < 250; ++i) {
    REQUIRE(Sns(hub).CreateTopic(fmt::format("t{:03}", i)).ok());
  }
  std::vector<std::string> seen;
  Json request = JsonObject();
  for (int page = 0;; ++page) {
    auto r = Invoke(hub, "sns", "ListTopics", request);
    REQUIRE(r.ok());
    for (const Json& t : r->at("Topics").as_array()) {
      seen.emplace_back(t.at("TopicArn").as_string());
    }
    const JsonObject& o = r->as_object();
    if (!o.contains("NextToken")) {
      CHECK(page == 2);
      break;
    }
    CHECK(r->at("Topics").as_array().size() == 100);
    request = JsonObject{{"NextToken", o.at("NextToken")}};
  }
  REQUIRE(seen.size() == 250);
  CHECK(seen.front() == "arn:aws:sns:us-east-1:000000000000:t000");
  CHECK(seen.back() == "arn:aws:sns:us-east-1:000000000000:t249");
  CHECK(ErrorName(Invoke(hub, "sns", "ListTopics", JsonObject{{"NextToken", "???"}}).status()) ==
        "InvalidParameter");

  for (int i = 0; i < 120; ++i) {
    REQUIRE(
        Sns(hub).Subscribe(hub.Arn("sns", "t000"), "sms", fmt::format("+1555555{:04}", i)).ok());
  }
  auto first = Invoke(hub, "sns", "ListSubscriptionsByTopic",
                      JsonObject{{"TopicArn", hub.Arn("sns", "t000")}});
  REQUIRE(first.ok());
  CHECK(first->at("Subscriptions").as_array().size() == 100);
  auto second = Invoke(
      hub, "sns", "ListSubscriptionsByTopic",
      JsonObject{{"TopicArn", hub.Arn("sns", "t000")}, {"NextToken", first->at("NextToken")}});
  REQUIRE(second.ok());
  CHECK(second->at("Subscriptions").as_array().size() == 20);
  CHECK(!second->as_object().contains("NextToken"));
}

TEST_CASE("Invoke reaches the typed API: the envelope and outboxes through JSON",
          "[topic][invoke]") {
  testing::Simulation sim;
  Hub hub(sim.environment());
  auto call = [&](std::string_view service, std::string_view op, Json request) {
    auto r = Invoke(hub, service, op, request);
    INFO(op << ": " << r.status().ToString());
    REQUIRE(r.ok());
    return *r;
  };
  call("sns", "CreateTopic", JsonObject{{"Name", "t"}});
  call("sqs", "CreateQueue", JsonObject{{"QueueName", "q"}});
  const std::string topic = hub.Arn("sns", "t");
  const std::string sub(
      call("sns", "Subscribe",
           JsonObject{{"TopicArn", topic}, {"Protocol", "sqs"}, {"Endpoint", hub.Arn("sqs", "q")}})
          .at("SubscriptionArn")
          .as_string());
  const std::string id(
      call("sns", "Publish",
           JsonObject{
               {"TopicArn", topic},
               {"Message", "m"},
               {"MessageAttributes",
                JsonObject{{"b", JsonObject{{"DataType", "Binary"}, {"BinaryValue", "AAE="}}}}}})
          .at("MessageId")
          .as_string());
  Json got = call("sqs", "ReceiveMessage", JsonObject{{"QueueUrl", Sqs(hub).QueueUrl("q")}});
  auto envelope = ParseJson(got.at("Messages").at(0).at("Body").as_string()).value();
  CHECK(envelope.at("MessageId").as_string() == id);
  CHECK(envelope.at("TopicArn").as_string() == topic);
  CHECK(envelope.at("MessageAttributes").at("b").at("Type").as_string() == "Binary");
  CHECK(envelope.at("MessageAttributes").at("b").at("Value").as_string() == "AAE=");
  CHECK(envelope.at("UnsubscribeURL").as_string().ends_with("SubscriptionArn=" + sub));
}

}  // namespace
}  // namespace courier
