// The Topic and the SNS control plane against spec/sqs-sns.md §9-10, on a manual clock: topics,
// subscriptions, Publish's checks, the envelope SQS receives, raw delivery and filter policies.
#include "courier/topic.h"

#include <absl/strings/escaping.h>

#include <catch2/catch.hpp>
#include <regex>
#include <string>

#include "courier/fifo_queue.h"
#include "courier/hub.h"
#include "courier/json.h"
#include "courier/queue.h"
#include "courier/sns.h"
#include "courier/sqs.h"
#include "courier/status.h"
#include "courier/testing/simulation.h"

namespace courier {
namespace {

struct Fixture {
  testing::Simulation sim;
  Hub hub{sim.environment()};
  SnsService& sns = Sns(hub);
  std::shared_ptr<Topic> topic = sns.CreateTopic("events").value();

  std::shared_ptr<Queue> MakeQueue(const std::string& name) {
    return Sqs(hub).CreateQueue(name).value();
  }
  std::string Subscribe(const std::shared_ptr<Queue>& q, const SnsAttributeMap& a = {}) {
    return sns.Subscribe(topic->arn(), "sqs", q->arn(), a).value();
  }
  static std::vector<Message> Receive(const std::shared_ptr<Queue>& q) {
    return q->ReceiveMessage({.max_number_of_messages = 10, .message_attribute_names = {"All"}})
        .value();
  }
};

TEST_CASE("CreateTopic: names, idempotency, FIFO, GetTopic, ListTopics, DeleteTopic", "[topic]") {
  Fixture f;
  CHECK(f.topic->arn() == "arn:aws:sns:us-east-1:000000000000:events");
  CHECK(f.sns.CreateTopic("events").value() == f.topic);
  CHECK(f.sns.CreateTopic("events", {{"DisplayName", ""}}).status().message() ==
        "InvalidParameter: Invalid parameter: Attributes Reason: Topic already exists with "
        "different attributes");
  REQUIRE(f.topic->SetAttribute("DisplayName", "Events").ok());
  CHECK(f.sns.CreateTopic("events", {{"DisplayName", "Events"}}).ok());
  CHECK(ErrorMessage(f.sns.CreateTopic("events", {}, {{"team", "a"}}).status()) ==
        "Invalid parameter: Tags Reason: Topic already exists with different tags");
  CHECK(f.sns.CreateTopic("tagged", {}, {{"team", "a"}}).ok());
  CHECK(f.sns.CreateTopic("tagged", {}, {{"team", "a"}}).ok());

  for (std::string bad : {std::string(), std::string(257, 'a'), std::string("a.b"),
                          std::string("x.fifo"), std::string("sp ace")}) {
    INFO(bad);
    CHECK(ErrorMessage(f.sns.CreateTopic(bad).status()) == "Invalid parameter: Topic Name");
  }
  CHECK(f.sns.CreateTopic(std::string(256, 'a')).ok());
  CHECK(f.sns.CreateTopic("Az09_-").ok());
  auto fifo = f.sns.CreateTopic("orders.fifo", {{"FifoTopic", "true"}});
  REQUIRE(fifo.ok());
  CHECK((*fifo)->fifo());
  CHECK(ErrorName(f.sns.CreateTopic("orders", {{"FifoTopic", "true"}}).status()) ==
        "InvalidParameter");
  CHECK(ErrorName(f.sns.CreateTopic("cbd", {{"ContentBasedDeduplication", "true"}}).status()) ==
        "InvalidParameter");
  CHECK(ErrorName(f.sns.CreateTopic("u", {{"Bogus", "1"}}).status()) == "InvalidParameter");

  CHECK(f.sns.GetTopic("events").value() == f.topic);
  CHECK(f.sns.GetTopic(f.topic->arn()).value() == f.topic);
  CHECK(f.sns.GetTopic("nope").status().message() == "NotFound: Topic does not exist");
  CHECK(f.sns.ListTopics().size() == 5);

  REQUIRE(f.sns.DeleteTopic(f.topic->arn()).ok());
  CHECK(f.sns.DeleteTopic(f.topic->arn()).ok());  // as AWS: no error for a missing topic
  CHECK(ErrorName(f.sns.GetTopic("events").status()) == "NotFound");
  CHECK(ErrorName(f.topic->Publish({.message = "x"}).status()) == "NotFound");
  CHECK(ErrorName(f.topic->GetAttributes().status()) == "NotFound");
}

TEST_CASE("Topic attributes: defaults, settable ones, FIFO ones, counters", "[topic]") {
  Fixture f;
  auto a = f.topic->GetAttributes().value();
  CHECK(a["TopicArn"] == f.topic->arn());
  CHECK(a["Owner"] == "000000000000");
  CHECK(a["DisplayName"] == "");
  CHECK(a["SubscriptionsConfirmed"] == "0");
  CHECK(a["SubscriptionsPending"] == "0");
  CHECK(a["SubscriptionsDeleted"] == "0");
  CHECK(!a.contains("FifoTopic"));
  CHECK(ParseJson(a["Policy"]).ok());
  CHECK(a["Policy"].find("__default_policy_ID") != std::string::npos);
  CHECK(ParseJson(a["EffectiveDeliveryPolicy"]).ok());

  CHECK(f.topic->SetAttribute("SignatureVersion", "2").ok());
  CHECK(ErrorName(f.topic->SetAttribute("SignatureVersion", "3")) == "InvalidParameter");
  CHECK(f.topic->SetAttribute("TracingConfig", "Active").ok());
  CHECK(ErrorName(f.topic->SetAttribute("TracingConfig", "On")) == "InvalidParameter");
  CHECK(ErrorName(f.topic->SetAttribute("Policy", "not json")) == "InvalidParameter");
  CHECK(f.topic->SetAttribute("KmsMasterKeyId", "alias/aws/sns").ok());
  CHECK(ErrorMessage(f.topic->SetAttribute("FifoTopic", "true")) ==
        "Invalid parameter: AttributeName");
  CHECK(ErrorName(f.topic->SetAttribute("ContentBasedDeduplication", "true")) ==
        "InvalidParameter");
  CHECK(ErrorName(f.topic->SetAttribute("Nope", "1")) == "InvalidParameter");
  a = f.topic->GetAttributes().value();
  CHECK(a["SignatureVersion"] == "2");
  CHECK(a["TracingConfig"] == "Active");

  auto fifo = f.sns.CreateTopic("t.fifo", {{"FifoTopic", "true"}}).value();
  a = fifo->GetAttributes().value();
  CHECK(a["FifoTopic"] == "true");
  CHECK(a["ContentBasedDeduplication"] == "false");
  CHECK(a["FifoThroughputScope"] == "Topic");
  CHECK(fifo->SetAttribute("ContentBasedDeduplication", "true").ok());
  CHECK(fifo->SetAttribute("FifoThroughputScope", "MessageGroup").ok());
  CHECK(ErrorName(fifo->SetAttribute("FifoThroughputScope", "Queue")) == "InvalidParameter");
  a = fifo->GetAttributes().value();
  CHECK(a["ContentBasedDeduplication"] == "true");
  CHECK(a["FifoThroughputScope"] == "MessageGroup");

  auto q = f.MakeQueue("q");
  const std::string sub = f.Subscribe(q);
  REQUIRE(f.sns.Subscribe(f.topic->arn(), "email", "a@example.com").ok());
  a = f.topic->GetAttributes().value();
  CHECK(a["SubscriptionsConfirmed"] == "1");
  CHECK(a["SubscriptionsPending"] == "1");
  REQUIRE(f.sns.Unsubscribe(sub).ok());
  a = f.topic->GetAttributes().value();
  CHECK(a["SubscriptionsConfirmed"] == "0");
  CHECK(a["SubscriptionsDeleted"] == "1");
}

TEST_CASE("Subscribe: protocols, endpoints, idempotency, FIFO rules, attributes", "[topic]") {
  Fixture f;
  auto q = f.MakeQueue("q");
  const std::string arn = f.Subscribe(q);
  CHECK(arn.starts_with(f.topic->arn() + ":"));
  CHECK(f.Subscribe(q) == arn);                                     // idempotent
  CHECK(f.Subscribe(q, {{"RawMessageDelivery", "false"}}) == arn);  // the default, given
  CHECK(ErrorMessage(
            f.sns.Subscribe(f.topic->arn(), "sqs", q->arn(), {{"RawMessageDelivery", "true"}})
                .status()) ==
        "Invalid parameter: Attributes Reason: Subscription already exists with different "
        "attributes");
  CHECK(ErrorMessage(f.sns.Subscribe(f.topic->arn(), "carrier-pigeon", "x").status()) ==
        "Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon");
  CHECK(ErrorName(f.sns.Subscribe(f.topic->arn(), "sqs", q->url()).status()) ==
        "InvalidParameter");  // the endpoint is the ARN, not the URL
  CHECK(ErrorName(f.sns.Subscribe(f.topic->arn(), "email", "nobody").status()) ==
        "InvalidParameter");
  CHECK(ErrorName(f.sns.Subscribe(f.topic->arn(), "sms", "phone").status()) == "InvalidParameter");
  CHECK(ErrorName(f.sns.Subscribe(f.topic->arn() + "x", "sqs", q->arn()).status()) == "NotFound");

  auto fq = Sqs(f.hub).CreateFifoQueue("q.fifo").value();
  CHECK(ErrorMessage(f.sns.Subscribe(f.topic->arn(), "sqs", fq->arn()).status()) ==
        "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be "
        "subscribed to standard SNS topics");
  auto fifo = f.sns.CreateTopic("t.fifo", {{"FifoTopic", "true"}}).value();
  CHECK(f.sns.Subscribe(fifo->arn(), "sqs", fq->arn()).ok());
  CHECK(f.sns.Subscribe(fifo->arn(), "sqs", q->arn()).ok());  // best-effort order
  CHECK(
      ErrorName(
          f.sns.Subscribe(fifo->arn(), "lambda", "arn:aws:lambda:us-east-1:000000000000:function:f")
              .status()) == "InvalidParameter");
  CHECK(ErrorMessage(
            f.sns
                .Subscribe(fifo->arn(), "sqs", fq->arn() + "2",
                           {{"RedrivePolicy", R"({"deadLetterTargetArn":")" + q->arn() + R"("})"}})
                .status()) ==
        "Invalid parameter: Attributes Reason: must use a FIFO queue as DLQ for a FIFO "
        "Subscription to a FIFO Topic.");

  // Attributes: checked at Subscribe and at SetSubscriptionAttributes, with their wordings.
  CHECK(ErrorMessage(f.sns
                         .Subscribe(f.topic->arn(), "sqs", q->arn() + "2",
                                    {{"FilterPolicy", R"({"a":[{"wildcard":"x*"}]})"}})
                         .status())
            .starts_with("Invalid parameter: Attributes Reason: FilterPolicy: "));
  CHECK(ErrorMessage(f.sns.SetSubscriptionAttributes(arn, "FilterPolicy", R"({"a":{"b":["c"]}})"))
            .starts_with("Invalid parameter: "));
  CHECK(ErrorMessage(f.sns.SetSubscriptionAttributes(arn, "FilterPolicyScope", "Everything")) ==
        "Invalid parameter: FilterPolicyScope: Invalid value [Everything]. Please use either "
        "MessageBody or MessageAttributes");
  CHECK(ErrorName(f.sns.SetSubscriptionAttributes(arn, "RawMessageDelivery", "yes")) ==
        "InvalidParameter");
  CHECK(ErrorName(f.sns.SetSubscriptionAttributes(arn, "Protocol", "http")) == "InvalidParameter");
  CHECK(f.sns.SetSubscriptionAttributes(arn, "FilterPolicyScope", "MessageBody").ok());
  CHECK(f.sns.SetSubscriptionAttributes(arn, "FilterPolicy", R"({"a":{"b":["c"]}})").ok());
  CHECK(f.sns.SetSubscriptionAttributes(arn, "RawMessageDelivery", "true").ok());
  // Subscribe again: what it leaves out is no difference; what it gives must be as set.
  CHECK(f.Subscribe(q) == arn);
  CHECK(f.Subscribe(q, {{"RawMessageDelivery", "true"}}) == arn);
  CHECK(
      ErrorName(f.sns.Subscribe(f.topic->arn(), "sqs", q->arn(), {{"RawMessageDelivery", "false"}})
                    .status()) == "InvalidParameter");
  auto a = f.sns.GetSubscriptionAttributes(arn).value();
  CHECK(a["SubscriptionArn"] == arn);
  CHECK(a["TopicArn"] == f.topic->arn());
  CHECK(a["Protocol"] == "sqs");
  CHECK(a["Endpoint"] == q->arn());
  CHECK(a["Owner"] == "000000000000");
  CHECK(a["PendingConfirmation"] == "false");
  CHECK(a["RawMessageDelivery"] == "true");
  CHECK(a["FilterPolicy"] == R"({"a":{"b":["c"]}})");
  CHECK(a["FilterPolicyScope"] == "MessageBody");
  CHECK(ErrorName(f.sns.GetSubscriptionAttributes(f.topic->arn() + ":nope").status()) ==
        "NotFound");

  // Lambda and email do not take raw delivery.
  CHECK(ErrorMessage(f.sns
                         .Subscribe(f.topic->arn(), "lambda",
                                    "arn:aws:lambda:us-east-1:000000000000:function:f",
                                    {{"RawMessageDelivery", "true"}})
                         .status()) ==
        "Invalid parameter: Attributes Reason: Delivery protocol [lambda] does not support raw "
        "message delivery.");

  // Listing and unsubscribing.
  auto subs = f.sns.ListSubscriptionsByTopic(f.topic->arn()).value();
  REQUIRE(subs.size() == 1);
  CHECK(subs[0].subscription_arn == arn);
  CHECK(f.sns.ListSubscriptions().size() == 3);
  REQUIRE(f.sns.Unsubscribe(arn).ok());
  CHECK(f.sns.Unsubscribe(arn).message() == "NotFound: Subscription does not exist");
  CHECK(f.sns.ListSubscriptionsByTopic(f.topic->arn())->empty());
}

TEST_CASE("Publish: the checks of spec §9, nothing delivered when one fails", "[topic]") {
  Fixture f;
  auto q = f.MakeQueue("q");
  f.Subscribe(q, {{"RawMessageDelivery", "true"}});
  CHECK(f.topic->Publish({.message = ""}).status().message() ==
        "InvalidParameter: Invalid parameter: Empty message");
  CHECK(ErrorMessage(f.topic->Publish({.message = std::string(262145, 'x')}).status()) ==
        "Invalid parameter: Message too long");
  CHECK(f.topic->Publish({.message = std::string(262144, 'x')}).ok());
  CHECK(ErrorMessage(f.topic
                         ->Publish({.message = std::string(262140, 'x'),
                                    .attributes = {{"a", MessageAttribute::String("bc")}}})
                         .status()) == "Invalid parameter: Message too long");
  f.sns.SetMaxMessageBytes(1 << 20);  // SNS's newer limit (spec §9 [?])
  CHECK(f.topic->Publish({.message = std::string(262145, 'x')}).ok());
  f.sns.SetMaxMessageBytes(262144);

  CHECK(ErrorMessage(f.topic->Publish({.message = "m", .subject = ""}).status()) ==
        "Invalid parameter: Subject");
  CHECK(ErrorName(f.topic->Publish({.message = "m", .subject = std::string(101, 's')}).status()) ==
        "InvalidParameter");
  CHECK(ErrorName(f.topic->Publish({.message = "m", .subject = "two\nlines"}).status()) ==
        "InvalidParameter");
  CHECK(f.topic->Publish({.message = "m", .subject = std::string(100, 's')}).ok());

  CHECK(
      ErrorMessage(
          f.topic->Publish({.message = R"({"sqs":"x"})", .message_structure = "json"}).status()) ==
      "Invalid parameter: Message Structure - No default entry in JSON message body");
  CHECK(ErrorMessage(
            f.topic->Publish({.message = "not json", .message_structure = "json"}).status()) ==
        "Invalid parameter: Message Structure - JSON message body failed to parse");
  CHECK(ErrorName(f.topic->Publish({.message = "m", .message_structure = "xml"}).status()) ==
        "InvalidParameter");

  auto attr = [&](std::string name, MessageAttribute a) {
    return f.topic->Publish({.message = "m", .attributes = {{std::move(name), std::move(a)}}})
        .status();
  };
  CHECK(ErrorName(attr("AWS.x", MessageAttribute::String("v"))) == "ParameterValueInvalid");
  CHECK(ErrorName(attr("a..b", MessageAttribute::String("v"))) == "ParameterValueInvalid");
  CHECK(ErrorName(attr("a", MessageAttribute::String(""))) == "ParameterValueInvalid");
  CHECK(ErrorName(attr("a", MessageAttribute::Number("abc"))) == "ParameterValueInvalid");
  CHECK(ErrorName(attr("a", {.data_type = "Date", .string_value = "x"})) ==
        "ParameterValueInvalid");
  CHECK(ErrorName(attr("a", {.data_type = "String.Array", .string_value = "x"})) ==
        "ParameterValueInvalid");
  CHECK(attr("a", {.data_type = "String.Array", .string_value = R"(["x",1,true])"}).ok());
  CHECK(attr("a", MessageAttribute::Number("1.5e3")).ok());
  CHECK(attr("a", MessageAttribute::Number("-.5")).ok());
  CHECK(attr("a", MessageAttribute::Number("+7")).ok());
  CHECK(ErrorName(attr("a", MessageAttribute::Number("1e"))) == "ParameterValueInvalid");
  CHECK(ErrorName(attr("a", MessageAttribute::Number("."))) == "ParameterValueInvalid");
  CHECK(ErrorName(attr("Amazon.x", MessageAttribute::String("v"))) == "ParameterValueInvalid");
  CHECK(attr("a", MessageAttribute::Binary("\x01\x02")).ok());

  CHECK(
      ErrorMessage(f.topic->Publish({.message = "m", .message_deduplication_id = "d"}).status()) ==
      "Invalid parameter: MessageDeduplicationId Reason: The request includes "
      "MessageDeduplicationId parameter that is not valid for this topic type");
  // What succeeded reached the queue; what failed did not.
  CHECK(f.topic->Metrics()["NumberOfMessagesPublished"] == 8);
  int received = 0;
  for (auto got = Fixture::Receive(q); !got.empty(); got = Fixture::Receive(q)) {
    received += static_cast<int>(got.size());
  }
  CHECK(received == 8);
}

TEST_CASE("Delivery to SQS: the envelope exactly as SNS writes it", "[topic]") {
  Fixture f;
  auto q = f.MakeQueue("q");
  const std::string sub = f.Subscribe(q);
  const absl::Time at = f.sim.Now() + absl::Milliseconds(123);
  f.sim.RunFor(absl::Milliseconds(123));
  auto sent = f.topic->Publish(
      {.message = "hello \"world\"\n",
       .subject = "Greeting",
       .attributes = {{"kind", MessageAttribute::String("new")},
                      {"n", MessageAttribute::Number("3")},
                      {"raw", MessageAttribute::Binary(std::string("\x00\xff", 2))},
                      {"tags", {.data_type = "String.Array", .string_value = R"(["a","b"])"}}}});
  REQUIRE(sent.ok());
  auto got = Fixture::Receive(q);
  REQUIRE(got.size() == 1);
  const std::string& body = got[0].body;
  INFO(body);
  const std::string id(sent->message_id.view());
  const std::string timestamp = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", at, absl::UTCTimeZone());
  CHECK(timestamp.ends_with(".123Z"));
  // Field order, spacing and names; the signature is 256 bytes in base64.
  const std::regex shape(
      "\\{\n"
      "  \"Type\" : \"Notification\",\n"
      "  \"MessageId\" : \"" +
      id +
      "\",\n"
      "  \"TopicArn\" : \"arn:aws:sns:us-east-1:000000000000:events\",\n"
      "  \"Subject\" : \"Greeting\",\n"
      "  \"Message\" : \"hello \\\\\"world\\\\\"\\\\n\",\n"
      "  \"Timestamp\" : \"" +
      timestamp +
      "\",\n"
      "  \"SignatureVersion\" : \"1\",\n"
      "  \"Signature\" : \"[A-Za-z0-9+/]{342}==\",\n"
      "  \"SigningCertURL\" : \"https://sns\\.us-east-1\\.amazonaws\\.com/"
      "SimpleNotificationService-[0-9a-f]{32}\\.pem\",\n"
      "  \"UnsubscribeURL\" : \"https://sns\\.us-east-1\\.amazonaws\\.com/"
      "\\?Action=Unsubscribe&SubscriptionArn=" +
      sub +
      "\",\n"
      "  \"MessageAttributes\" : \\{\n"
      "    \"kind\" : \\{\"Type\":\"String\",\"Value\":\"new\"\\},\n"
      "    \"n\" : \\{\"Type\":\"Number\",\"Value\":\"3\"\\},\n"
      "    \"raw\" : \\{\"Type\":\"Binary\",\"Value\":\"AP8=\"\\},\n"
      "    \"tags\" : "
      "\\{\"Type\":\"String.Array\",\"Value\":\"\\[\\\\\"a\\\\\",\\\\\"b\\\\\"\\]\"\\}\n"
      "  \\}\n"
      "\\}");
  CHECK(std::regex_match(body, shape));
  // It is JSON, and the message comes back as published.
  auto parsed = ParseJson(body).value();
  CHECK(parsed.at("Message").as_string() == "hello \"world\"\n");
  CHECK(got[0].message_attributes.empty());  // attributes travel inside the envelope

  // Without a subject or attributes those members are absent; SignatureVersion 2 is named.
  REQUIRE(f.topic->SetAttribute("SignatureVersion", "2").ok());
  REQUIRE(f.topic->Publish({.message = "plain"}).ok());
  got = Fixture::Receive(q);
  REQUIRE(got.size() == 1);
  auto plain = ParseJson(got[0].body).value().as_object();
  CHECK(!plain.contains("Subject"));
  CHECK(!plain.contains("MessageAttributes"));
  CHECK(plain.at("SignatureVersion").as_string() == "2");
}

TEST_CASE("Raw delivery: the body as is, attributes as SQS attributes, at most 10", "[topic]") {
  Fixture f;
  auto q = f.MakeQueue("q");
  auto dlq = f.MakeQueue("dlq");
  const std::string sub =
      f.Subscribe(q, {{"RawMessageDelivery", "true"},
                      {"RedrivePolicy", R"({"deadLetterTargetArn":")" + dlq->arn() + R"("})"}});
  REQUIRE(f.topic
              ->Publish({.message = "raw body",
                         .attributes = {{"kind", MessageAttribute::String("new")},
                                        {"bin", MessageAttribute::Binary("\x01")}}})
              .ok());
  auto got = Fixture::Receive(q);
  REQUIRE(got.size() == 1);
  CHECK(got[0].body == "raw body");
  CHECK(got[0].message_attributes.at("kind") == MessageAttribute::String("new"));
  CHECK(got[0].message_attributes.at("bin") == MessageAttribute::Binary("\x01"));

  // Eleven attributes: a client-side failure, not retried, straight to the DLQ.
  MessageAttributes many;
  for (int i = 0; i < 11; ++i) many["a" + std::to_string(i)] = MessageAttribute::String("v");
  REQUIRE(f.topic->Publish({.message = "too many", .attributes = many}).ok());
  CHECK(Fixture::Receive(q).empty());
  auto dead = Fixture::Receive(dlq);
  REQUIRE(dead.size() == 1);
  // SQS cannot take 11 attributes: the DLQ gets the envelope, which carries them all.
  auto envelope = ParseJson(dead[0].body).value();
  CHECK(envelope.at("Message").as_string() == "too many");
  CHECK(envelope.at("MessageAttributes").as_object().size() == 11);
  auto m = f.sns.SubscriptionMetrics(sub).value();
  CHECK(m["NumberOfNotificationsDelivered"] == 1);
  CHECK(m["NumberOfNotificationsFailed"] == 1);
  CHECK(m["NumberOfNotificationsRedrivenToDlq"] == 1);
}

TEST_CASE("MessageStructure=json: each protocol's own text", "[topic]") {
  Fixture f;
  auto q = f.MakeQueue("q");
  auto raw = f.MakeQueue("raw");
  f.Subscribe(q);
  f.Subscribe(raw, {{"RawMessageDelivery", "true"}});
  const std::string sms = f.sns.Subscribe(f.topic->arn(), "sms", "+15555550100").value();
  REQUIRE(f.topic
              ->Publish({.message = R"({"default":"for all","sqs":"for queues"})",
                         .message_structure = "json"})
              .ok());
  CHECK(ParseJson(Fixture::Receive(q).at(0).body)->at("Message").as_string() == "for queues");
  CHECK(Fixture::Receive(raw).at(0).body == "for queues");
  CHECK(f.sns.Outbox(sms).value().at(0).body == "for all");
}

TEST_CASE("Fan-out and filter policies: attribute and body scope in one pass", "[topic]") {
  Fixture f;
  auto all = f.MakeQueue("all");
  auto news = f.MakeQueue("news");
  auto big = f.MakeQueue("big");
  auto eu = f.MakeQueue("eu");
  auto tagged = f.MakeQueue("tagged");
  const std::string all_sub = f.Subscribe(all);
  const std::string news_sub =
      f.Subscribe(news, {{"FilterPolicy", R"({"kind":["new"]})"}, {"RawMessageDelivery", "true"}});
  f.Subscribe(big, {{"FilterPolicy", R"({"amount":[{"numeric":[">",100]}]})"},
                    {"RawMessageDelivery", "true"}});
  f.Subscribe(eu, {{"FilterPolicy", R"({"order":{"region":["eu-west-1"]}})"},
                   {"FilterPolicyScope", "MessageBody"},
                   {"RawMessageDelivery", "true"}});
  f.Subscribe(tagged, {{"FilterPolicy", R"({"tags":["b"]})"}, {"RawMessageDelivery", "true"}});

  auto publish = [&](std::string body, MessageAttributes a) {
    REQUIRE(f.topic->Publish({.message = std::move(body), .attributes = std::move(a)}).ok());
  };
  publish("1", {{"kind", MessageAttribute::String("new")}});
  publish("2",
          {{"kind", MessageAttribute::String("old")}, {"amount", MessageAttribute::Number("250")}});
  publish(R"({"order":{"region":"eu-west-1"}})", {});
  publish(R"({"order":{"region":"us-east-1"}})", {{"kind", MessageAttribute::Binary("new")}});
  publish("not json", {{"tags", {.data_type = "String.Array", .string_value = R"(["a","b"])"}}});

  auto bodies = [](const std::shared_ptr<Queue>& q) {
    std::vector<std::string> out;
    for (auto got = Fixture::Receive(q); !got.empty(); got = Fixture::Receive(q)) {
      for (auto& m : got) out.push_back(m.body);
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  CHECK(bodies(all).size() == 5);
  CHECK(bodies(news) == std::vector<std::string>{"1"});  // Binary attributes are ignored
  CHECK(bodies(big) == std::vector<std::string>{"2"});
  CHECK(bodies(eu) == std::vector<std::string>{R"({"order":{"region":"eu-west-1"}})"});
  CHECK(bodies(tagged) == std::vector<std::string>{"not json"});

  auto m = f.topic->Metrics();
  CHECK(m["NumberOfMessagesPublished"] == 5);
  CHECK(m["NumberOfNotificationsDelivered"] == 9);
  CHECK(m["NumberOfNotificationsFilteredOut"] == 16);
  CHECK(f.sns.SubscriptionMetrics(news_sub).value()["NumberOfNotificationsFilteredOut"] == 4);
  CHECK(f.sns.SubscriptionMetrics(all_sub).value()["NumberOfNotificationsFilteredOut"] == 0);

  // A policy set later applies to later messages; removing it delivers everything again.
  REQUIRE(f.sns.SetSubscriptionAttributes(news_sub, "FilterPolicy", R"({"kind":["old"]})").ok());
  publish("3", {{"kind", MessageAttribute::String("old")}});
  CHECK(bodies(news) == std::vector<std::string>{"3"});
  REQUIRE(f.sns.SetSubscriptionAttributes(news_sub, "FilterPolicy", "").ok());
  publish("4", {});
  CHECK(bodies(news) == std::vector<std::string>{"4"});
}

TEST_CASE("1,000 subscriptions with distinct policies: the 100 that match get a copy", "[topic]") {
  Fixture f;
  f.sns.SetQuotas({.filter_policies_per_topic = 1000});  // AWS's 200, raised
  std::vector<std::shared_ptr<Queue>> queues;
  for (int i = 0; i < 1000; ++i) {
    queues.push_back(f.MakeQueue("q" + std::to_string(i)));
    f.Subscribe(queues.back(),
                {{"RawMessageDelivery", "true"},
                 {"FilterPolicy", R"({"kind":["v)" + std::to_string(i % 10) + R"(","only-)" +
                                      std::to_string(i) + R"("]})"}});
  }
  REQUIRE(
      f.topic->Publish({.message = "m", .attributes = {{"kind", MessageAttribute::String("v3")}}})
          .ok());
  REQUIRE(f.topic
              ->Publish(
                  {.message = "only", .attributes = {{"kind", MessageAttribute::String("only-7")}}})
              .ok());
  for (int i = 0; i < 1000; ++i) {
    auto got = Fixture::Receive(queues[i]);
    std::vector<std::string> bodies;
    for (auto& m : got) bodies.push_back(m.body);
    std::vector<std::string> want;
    if (i % 10 == 3) want.push_back("m");
    if (i == 7) want.push_back("only");
    INFO(i);
    CHECK(bodies == want);
  }
  CHECK(f.topic->Metrics()["NumberOfNotificationsDelivered"] == 101);
}

TEST_CASE("PublishBatch: ids, limits, per-entry failures", "[topic]") {
  Fixture f;
  auto q = f.MakeQueue("q");
  f.Subscribe(q, {{"RawMessageDelivery", "true"}});
  CHECK(ErrorName(f.topic->PublishBatch({}).status()) == "EmptyBatchRequest");
  std::vector<PublishBatchEntry> eleven(11);
  for (int i = 0; i < 11; ++i) eleven[i] = {.id = std::to_string(i), .request = {.message = "m"}};
  CHECK(ErrorName(f.topic->PublishBatch(eleven).status()) == "TooManyEntriesInBatchRequest");
  CHECK(ErrorName(f.topic
                      ->PublishBatch({{.id = "a", .request = {.message = "m"}},
                                      {.id = "a", .request = {.message = "m"}}})
                      .status()) == "BatchEntryIdsNotDistinct");
  CHECK(ErrorName(f.topic->PublishBatch({{.id = "a b", .request = {.message = "m"}}}).status()) ==
        "InvalidBatchEntryId");
  CHECK(ErrorName(f.topic
                      ->PublishBatch({{.id = "a", .request = {.message = std::string(200000, 'x')}},
                                      {.id = "b", .request = {.message = std::string(70000, 'x')}}})
                      .status()) == "BatchRequestTooLong");
  auto r = f.topic->PublishBatch({{.id = "ok", .request = {.message = "first"}},
                                  {.id = "empty", .request = {.message = ""}},
                                  {.id = "ok2", .request = {.message = "second"}}});
  REQUIRE(r.ok());
  REQUIRE(r->successful.size() == 2);
  CHECK(r->successful[0].id == "ok");
  REQUIRE(r->failed.size() == 1);
  CHECK(r->failed[0].id == "empty");
  CHECK(r->failed[0].code == "InvalidParameter");
  CHECK(r->failed[0].message == "Invalid parameter: Empty message");
  CHECK(r->failed[0].sender_fault);
  auto got = Fixture::Receive(q);
  CHECK(got.size() == 2);
}

TEST_CASE("Outboxes: sms, email with confirmation, http, and direct publish to a phone",
          "[topic]") {
  Fixture f;
  const std::string sms = f.sns.Subscribe(f.topic->arn(), "sms", "+15555550100").value();
  const std::string mail = f.sns.Subscribe(f.topic->arn(), "email", "a@example.com").value();
  const std::string http =
      f.sns.Subscribe(f.topic->arn(), "https", "https://example.com/hook").value();
  // email and https wait for confirmation; their outbox holds the request with its token.
  CHECK(f.sns.GetSubscriptionAttributes(mail).value()["PendingConfirmation"] == "true");
  auto subs = f.sns.ListSubscriptionsByTopic(f.topic->arn()).value();
  CHECK(subs[1].subscription_arn == "PendingConfirmation");
  auto confirm = f.sns.Outbox(mail).value();
  REQUIRE(confirm.size() == 1);
  CHECK(confirm[0].type == "SubscriptionConfirmation");
  CHECK(confirm[0].token.size() == 128);
  CHECK(ErrorName(f.sns.ConfirmSubscription(f.topic->arn(), "wrong").status()) ==
        "InvalidParameter");
  REQUIRE(f.topic->Publish({.message = "before"}).ok());  // not for the pending ones
  CHECK(f.sns.ConfirmSubscription(f.topic->arn(), confirm[0].token).value() == mail);
  CHECK(f.sns.SubscriptionMetrics(mail).value()["NumberOfNotificationsFilteredOut"] == 0);

  REQUIRE(f.topic->Publish({.message = "code 1234", .subject = "Your code"}).ok());
  auto texts = f.sns.Outbox(sms).value();
  REQUIRE(texts.size() == 2);
  CHECK(texts[0].body == "before");
  CHECK(texts[1].protocol == "sms");
  CHECK(texts[1].endpoint == "+15555550100");
  CHECK(texts[1].body == "code 1234");
  auto mails = f.sns.Outbox(mail).value();
  REQUIRE(mails.size() == 2);
  CHECK(mails[1].subject == "Your code");
  CHECK(mails[1].body == "code 1234");
  CHECK(f.sns.Outbox(http).value().size() == 1);  // still only the confirmation request
  // HTTP(S) endpoints get the confirmation request as SNS's JSON.
  auto request = ParseJson(f.sns.Outbox(http).value().at(0).body).value().as_object();
  CHECK(request.at("Type").as_string() == "SubscriptionConfirmation");
  CHECK(request.at("TopicArn").as_string() == f.topic->arn());
  CHECK(request.at("Token").as_string() == f.sns.Outbox(http).value().at(0).token);
  CHECK(request.at("SubscribeURL").as_string().find("Action=ConfirmSubscription") !=
        std::string::npos);
  CHECK(request.at("Signature").as_string().size() == 344);

  // A queue of another account confirms too (its owner receives the token); one of this
  // account is confirmed at once.
  const std::string foreign =
      f.sns.Subscribe(f.topic->arn(), "sqs", "arn:aws:sqs:us-east-1:123456789012:theirs").value();
  CHECK(f.sns.GetSubscriptionAttributes(foreign).value()["PendingConfirmation"] == "true");
  CHECK(f.sns.ConfirmSubscription(f.topic->arn(), f.sns.Outbox(foreign).value().at(0).token)
            .value() == foreign);
  CHECK(f.sns.GetSubscriptionAttributes(foreign).value()["PendingConfirmation"] == "false");

  // Publish straight to a phone number or a platform endpoint.
  auto direct = f.sns.Publish({.phone_number = "+15555550199", .request = {.message = "hi"}});
  REQUIRE(direct.ok());
  auto sent = f.sns.Outbox("+15555550199").value();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].body == "hi");
  CHECK(sent[0].message_id == direct->message_id);
  CHECK(ErrorName(f.sns.Publish({.phone_number = "nope", .request = {.message = "hi"}}).status()) ==
        "InvalidParameter");
  CHECK(ErrorName(f.sns.Publish({.request = {.message = "hi"}}).status()) == "InvalidParameter");
  const std::string endpoint = "arn:aws:sns:us-east-1:000000000000:endpoint/GCM/app/1";
  REQUIRE(f.sns.Publish({.target_arn = endpoint, .request = {.message = "push"}}).ok());
  CHECK(f.sns.Outbox(endpoint).value().at(0).body == "push");
  CHECK(ErrorName(f.sns.Outbox("+1999").status()) == "NotFound");
}

TEST_CASE("A phone number that answered STOP gets nothing until it opts in again", "[topic]") {
  Fixture f;
  const std::string phone = "+15555550123";
  const std::string sub = f.sns.Subscribe(f.topic->arn(), "sms", phone).value();
  REQUIRE(f.sns.OptOutPhoneNumber(phone).ok());
  CHECK(f.sns.IsPhoneNumberOptedOut(phone).value());
  CHECK(f.sns.ListPhoneNumbersOptedOut() == std::vector<std::string>{phone});
  // Accepted, not sent: neither through the subscription nor straight to the number.
  REQUIRE(f.topic->Publish({.message = "offer"}).ok());
  REQUIRE(f.sns.Publish({.phone_number = phone, .request = {.message = "direct"}}).ok());
  CHECK(f.sns.Outbox(sub).value().empty());
  CHECK(f.sns.Outbox(phone).status().code() == absl::StatusCode::kNotFound);
  CHECK(f.sns.SubscriptionMetrics(sub).value()["NumberOfNotificationsFailed"] == 1);
  CHECK(f.sim.RunUntilIdle() == 0);  // a client error: not retried

  REQUIRE(f.sns.OptInPhoneNumber(phone).ok());
  CHECK_FALSE(f.sns.IsPhoneNumberOptedOut(phone).value());
  REQUIRE(f.topic->Publish({.message = "welcome back"}).ok());
  REQUIRE(f.sns.Outbox(sub).value().size() == 1);
  CHECK(f.sns.Outbox(sub).value()[0].body == "welcome back");
  CHECK(ErrorName(f.sns.OptOutPhoneNumber("call me")) == "InvalidParameter");
}

TEST_CASE("SMS sandbox: the code sent to a number verifies it", "[topic]") {
  Fixture f;
  const std::string phone = "+15555550142";
  REQUIRE(f.sns.CreateSmsSandboxPhoneNumber(phone, "en-US").ok());
  auto sent = f.sns.Outbox(phone).value();
  REQUIRE(sent.size() == 1);
  const std::string code = sent[0].body.substr(sent[0].body.size() - 6);
  REQUIRE(code.find_first_not_of("0123456789") == std::string::npos);
  CHECK(ErrorName(f.sns.VerifySmsSandboxPhoneNumber(phone, "000000x")) == "VerificationException");
  REQUIRE(f.sns.VerifySmsSandboxPhoneNumber(phone, code).ok());
  auto numbers = f.sns.ListSmsSandboxPhoneNumbers();
  REQUIRE(numbers.size() == 1);
  CHECK(numbers[0].status == "Verified");
}

TEST_CASE("Quotas: topics, FIFO subscriptions, filter policies per topic", "[topic]") {
  Fixture f;
  f.sns.SetQuotas({.standard_topics = 3,
                   .fifo_topics = 1,
                   .subscriptions_per_fifo_topic = 2,
                   .filter_policies_per_topic = 2});
  CHECK(f.sns.CreateTopic("b").ok());
  CHECK(f.sns.CreateTopic("c").ok());
  CHECK(ErrorName(f.sns.CreateTopic("d").status()) == "TopicLimitExceeded");
  CHECK(f.sns.CreateTopic("c").ok());  // an existing one is no new topic
  auto fifo = f.sns.CreateTopic("f.fifo", {{"FifoTopic", "true"}}).value();
  CHECK(ErrorName(f.sns.CreateTopic("g.fifo", {{"FifoTopic", "true"}}).status()) ==
        "TopicLimitExceeded");
  for (int i = 0; i < 2; ++i) {
    CHECK(
        f.sns
            .Subscribe(fifo->arn(), "sqs",
                       Sqs(f.hub).CreateFifoQueue("q" + std::to_string(i) + ".fifo").value()->arn())
            .ok());
  }
  auto third =
      f.sns.Subscribe(fifo->arn(), "sqs", Sqs(f.hub).CreateFifoQueue("x.fifo").value()->arn());
  CHECK(ErrorName(third.status()) == "SubscriptionLimitExceeded");

  const std::string policy = R"({"a":["b"]})";
  CHECK(f.sns.Subscribe(f.topic->arn(), "sqs", f.MakeQueue("p1")->arn(), {{"FilterPolicy", policy}})
            .ok());
  CHECK(f.sns.Subscribe(f.topic->arn(), "sqs", f.MakeQueue("p2")->arn(), {{"FilterPolicy", policy}})
            .ok());
  CHECK(ErrorName(f.sns
                      .Subscribe(f.topic->arn(), "sqs", f.MakeQueue("p3")->arn(),
                                 {{"FilterPolicy", policy}})
                      .status()) == "FilterPolicyLimitExceeded");
  const std::string plain =
      f.sns.Subscribe(f.topic->arn(), "sqs", f.MakeQueue("p4")->arn()).value();
  CHECK(ErrorName(f.sns.SetSubscriptionAttributes(plain, "FilterPolicy", policy)) ==
        "FilterPolicyLimitExceeded");
  CHECK(f.sns.GetSubscriptionAttributes(plain).value().count("FilterPolicy") == 0);  // unchanged
}

TEST_CASE("Tags: TagResource, UntagResource, ListTagsForResource", "[topic]") {
  Fixture f;
  REQUIRE(f.sns.TagResource(f.topic->arn(), {{"team", "a"}, {"env", "test"}}).ok());
  CHECK(f.sns.ListTagsForResource(f.topic->arn()).value() ==
        SnsAttributeMap{{"env", "test"}, {"team", "a"}});
  REQUIRE(f.sns.UntagResource(f.topic->arn(), {"env"}).ok());
  CHECK(f.sns.ListTagsForResource(f.topic->arn()).value() == SnsAttributeMap{{"team", "a"}});
  CHECK(ErrorName(f.sns.TagResource(f.topic->arn() + "x", {{"a", "b"}})) == "ResourceNotFound");
  SnsAttributeMap many;
  for (int i = 0; i < 50; ++i) many["k" + std::to_string(i)] = "v";
  CHECK(ErrorName(f.sns.TagResource(f.topic->arn(), many)) == "TagLimitExceeded");
  CHECK(f.sns.ListTagsForResource(f.topic->arn()).value().size() == 1);  // unchanged
  many["k50"] = "v";
  CHECK(ErrorName(f.sns.CreateTopic("many", {}, many).status()) == "TagLimitExceeded");
  CHECK(ErrorName(f.sns.GetTopic("many").status()) == "NotFound");
}

}  // namespace
}  // namespace courier
