// The Step Functions integration arn:aws:states:::sns:publish: it publishes through the SNS
// operation table (courier::Invoke(hub, "sns", "Publish", ...)), so the topic's rules, fan-out
// and errors are SNS's own.
#include <catch2/catch.hpp>

#include "courier/fifo_queue.h"
#include "courier/queue.h"
#include "courier/sns.h"
#include "courier/sqs.h"
#include "test_util.h"

namespace courier::states_internal::test {
namespace {

TEST_CASE("sns:publish publishes through the SNS operation table", "[states][sns]") {
  Fixture fx;
  auto topic = Sns(fx.hub).CreateTopic("events").value();
  auto queue = Sqs(fx.hub).CreateQueue("orders").value();
  REQUIRE(Sns(fx.hub)
              .Subscribe(topic->arn(), "sqs", queue->arn(),
                         {{"RawMessageDelivery", "true"}, {"FilterPolicy", R"({"kind":["new"]})"}})
              .ok());
  auto d = fx.Run(R"j({"StartAt":"S","States":{"S":{"Type":"Task",
      "Resource":"arn:aws:states:::sns:publish",
      "Parameters":{"TopicArn":")j" +
                      topic->arn() + R"j(","Message":{"order.$":"$.id"},
        "MessageAttributes":{"kind":{"DataType":"String","StringValue":"new"}}},"End":true}}})j",
                  R"({"id":7})");
  INFO(d.cause.value_or(""));
  REQUIRE(d.status == ExecutionStatus::kSucceeded);
  const std::string id(d.output->at("MessageId").as_string());
  CHECK(id.size() == 36);
  auto got = queue->ReceiveMessage({.message_attribute_names = {"All"}}).value();
  REQUIRE(got.size() == 1);
  CHECK(got[0].body == R"({"order":7})");
  CHECK(got[0].message_attributes.at("kind").string_value == "new");

  // SNS's errors, as Step Functions names them.
  auto missing = fx.Run(R"j({"StartAt":"S","States":{"S":{"Type":"Task",
      "Resource":"arn:aws:states:::sns:publish",
      "Parameters":{"TopicArn":"arn:aws:sns:us-east-1:000000000000:nope","Message":"x"},"End":true}}})j");
  CHECK(missing.error == "SNS.NotFoundException");
  CHECK(missing.cause == "Topic does not exist");
  auto empty = fx.Run(R"j({"StartAt":"S","States":{"S":{"Type":"Task",
      "Resource":"arn:aws:states:::sns:publish",
      "Parameters":{"TopicArn":")j" +
                      topic->arn() + R"j(","Message":""},"End":true}}})j");
  CHECK(empty.error == "SNS.InvalidParameterException");
  CHECK(empty.cause == "Invalid parameter: Empty message");

  // A FIFO topic returns its sequence number.
  auto fifo =
      Sns(fx.hub)
          .CreateTopic("flow.fifo", {{"FifoTopic", "true"}, {"ContentBasedDeduplication", "true"}})
          .value();
  auto ordered = fx.Run(R"j({"StartAt":"S","States":{"S":{"Type":"Task",
      "Resource":"arn:aws:states:::sns:publish",
      "Parameters":{"TopicArn":")j" +
                        fifo->arn() + R"j(","Message":"m","MessageGroupId":"g"},"End":true}}})j");
  REQUIRE(ordered.status == ExecutionStatus::kSucceeded);
  CHECK(ordered.output->at("SequenceNumber").as_string().size() == 20);
}

}  // namespace
}  // namespace courier::states_internal::test
